#include "kernel-model/modules.hpp"

#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <system_error>
#include <utility>

#include "kernel-model/elf_file.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/module_sources.hpp"

namespace kdive {

bool Module::contains(VirtAddr a) const {
  return std::any_of(regions.begin(), regions.end(), [&](const ModuleRegion& r) { return r.contains(a); });
}

VirtAddr Module::core_end() const {
  VirtAddr end = text_base;
  for (const auto& r : regions) {
    if (r.kind.rfind("init", 0) != 0 && r.size > 0) end = std::max(end, r.base + r.size);
  }
  return end;
}

const Module* ModuleTable::find(std::string_view name) const {
  for (const auto& m : modules_) {
    if (m.layout_known && m.name == name) return &m;
  }
  return nullptr;
}

Module* ModuleTable::find(std::string_view name) { return const_cast<Module*>(std::as_const(*this).find(name)); }

const Module* ModuleTable::containing(VirtAddr address) const {
  for (const auto& m : modules_) {
    if (m.contains(address)) return &m;
  }
  return nullptr;
}

std::optional<SymbolHit> ModuleTable::symbol_at(VirtAddr address) const {
  const Module* m = containing(address);
  if (m == nullptr) return std::nullopt;
  return m->symbols().containing(address);
}

const Symbol* ModuleTable::find_symbol(std::string_view name) const {
  for (const auto& m : modules_) {
    if (const Symbol* s = m.symbols().find(name)) return s;
  }
  return nullptr;
}

namespace {

// mod->kallsyms->symtab holds the ELF ABI's symbol records.
static_assert(sizeof(Elf64_Sym) == 24);
constexpr size_t kMaxModuleSymbols = 1u << 20;
constexpr size_t kMaxSymbolName = 512;

// The regions of a module. Since 6.4 (commit ac3b43283923, "module: replace
// module_layout with module_memory") each kind of memory is its own
// allocation in mod->mem[]; before, core_layout and init_layout each cover one
// allocation that starts with the text.
void read_regions(const Kernel& k, const Object& mod, Module& m) {
  if (mod.has_member("mem")) {
    static constexpr std::pair<const char*, const char*> kKinds[] = {{"MOD_TEXT", "text"},
                                                                     {"MOD_DATA", "data"},
                                                                     {"MOD_RODATA", "rodata"},
                                                                     {"MOD_RO_AFTER_INIT", "ro_after_init"},
                                                                     {"MOD_INIT_TEXT", "init_text"},
                                                                     {"MOD_INIT_DATA", "init_data"},
                                                                     {"MOD_INIT_RODATA", "init_rodata"}};
    Object mem = mod["mem"];
    for (auto [enumerator, kind] : kKinds) {
      auto index = k.types().enumerator(enumerator);
      if (!index) continue;
      Object region = mem.at(static_cast<uint64_t>(*index));
      VirtAddr base = region["base"].pointer();
      uint64_t size = region["size"].as_u64();
      if (std::string_view(enumerator) == "MOD_TEXT") m.text_base = base;
      m.size += size;
      if (!base.is_null() && size != 0) m.regions.push_back({kind, base, size});
    }
    return;
  }
  for (const char* kind : {"core", "init"}) {
    Object layout = mod[std::string(kind) + "_layout"];
    VirtAddr base = layout["base"].pointer();
    uint64_t size = layout["size"].as_u64();
    if (std::string_view(kind) == "core") m.text_base = base;
    m.size += size;
    if (!base.is_null() && size != 0) m.regions.push_back({kind, base, size});
  }
}

// The kernel keeps a copy of each module's symbol table (mod->kallsyms) for
// /proc/kallsyms. The type letters live in typetab since 5.0 (commit
// 1c7651f43777); before, the kernel overwrote st_info with the letter.
void read_kallsyms(const Kernel& k, const Object& mod, Module& m) {
  if (!mod.has_member("kallsyms")) return;
  Object ks = mod["kallsyms"];
  if (ks.is_null()) return;
  VirtAddr symtab = ks["symtab"].pointer();
  uint64_t count = ks["num_symtab"].as_u64();
  VirtAddr strtab = ks["strtab"].pointer();
  VirtAddr typetab = ks.has_member("typetab") ? ks["typetab"].pointer() : VirtAddr{};
  if (symtab.is_null() || strtab.is_null() || count == 0) return;
  if (count > kMaxModuleSymbols) {
    throw Error(Error::Kind::BadData, fmt::format("module {}: implausible symbol count {}", m.name, count));
  }
  // One read for the whole table: a module has thousands of symbols.
  std::vector<Elf64_Sym> syms(count);
  k.memory().read(symtab, {reinterpret_cast<std::byte*>(syms.data()), syms.size() * sizeof(Elf64_Sym)});
  std::vector<std::byte> types;
  if (!typetab.is_null()) {
    types.resize(count);
    k.memory().read(typetab, types);
  }
  for (uint64_t i = 1; i < count; ++i) {  // entry 0 is the null symbol
    const Elf64_Sym& sym = syms[i];
    if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
    std::string name = k.memory().read_cstring(strtab + sym.st_name, kMaxSymbolName);
    if (name.empty()) continue;
    char type = !typetab.is_null() ? static_cast<char>(types[i]) : static_cast<char>(sym.st_info);
    if (!std::isalpha(static_cast<unsigned char>(type))) type = '?';
    m.names->push_back(std::move(name));
    m.kallsyms_symbols.add({m.names->back(), VirtAddr{sym.st_value}, sym.st_size, type, m.names->front()});
  }
  m.kallsyms_symbols.finish();
  m.has_kallsyms = true;
}

// Section addresses from mod->sect_attrs (what /sys/module/NAME/sections shows).
// The name moved into the embedded bin_attribute in 5.8 (commit ed66f991bb19).
void read_sections(const Object& mod, Module& m) {
  if (!mod.has_member("sect_attrs")) return;
  Object attrs = mod["sect_attrs"];
  if (attrs.is_null()) return;
  uint64_t n = attrs["nsections"].as_u64();
  Object list = attrs["attrs"];
  for (uint64_t i = 0; i < n && i < 4096; ++i) {
    Object a = list.at(i);
    Object name = a.has_member("name") ? a["name"] : a["battr.attr.name"];
    VirtAddr address = a.has_member("address") ? VirtAddr{a["address"].as_u64()} : a["battr.private"].pointer();
    m.sections.emplace(name.string(128), address);
  }
}

// The GNU build-ID note stays loaded with the module: it tells whether an
// object file is the very one the kernel loaded.
void read_build_id(const Kernel& k, Module& m) {
  auto it = m.sections.find(".note.gnu.build-id");
  if (it == m.sections.end() || it->second.is_null()) return;
  // One note: namesz, descsz, type, "GNU\0", then the ID (at most 64 bytes).
  std::vector<uint8_t> note(16 + 64);
  k.memory().read(it->second, std::as_writable_bytes(std::span(note).first(16)));
  uint32_t descsz;
  std::memcpy(&descsz, note.data() + 4, 4);
  if (descsz > 64) return;
  note.resize(16 + descsz);
  k.memory().read(it->second + 16, std::as_writable_bytes(std::span(note).subspan(16)));
  m.build_id = gnu_build_id(note);
}

}  // namespace

bool plausible_module_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7f && c != '/'; });
}

namespace {

// The name as it sits in char name[MODULE_NAME_LEN], quoted with C escapes
// for a message when it is not a name.
std::string escaped(std::string_view bytes) {
  std::string out = "\"";
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out + "\"";
}

// struct module.name, checked: a module's identity, so garbage there means
// the struct is not (or no longer) a module.
std::string read_name(const Object& mod) {
  std::vector<std::byte> raw = mod["name"].bytes();
  auto nul = std::find(raw.begin(), raw.end(), std::byte{0});
  std::string name(reinterpret_cast<const char*>(raw.data()), static_cast<size_t>(nul - raw.begin()));
  if (nul == raw.end()) {
    throw Error(Error::Kind::BadData, fmt::format("name {} has no end within {} bytes", escaped(name), raw.size()));
  }
  if (!plausible_module_name(name)) {
    throw Error(Error::Kind::BadData, fmt::format("name {} is not a module name", escaped(name)));
  }
  return name;
}

// Reads what it can of one module: each part that fails adds to `damage`
// and the next part is still tried.
Module read_module(const Kernel& k, const Object& mod) {
  Module m;
  m.address = mod.address();
  // names->front() is the module's name: symbols point at it (stable across moves).
  m.names->push_back("");
  std::vector<std::string> damage;
  try {
    m.name = read_name(mod);
    *m.names->begin() = m.name;
    read_regions(k, mod, m);
    if (mod.has_member("taints")) m.taints = mod["taints"].as_u64();
    m.layout_known = true;
  } catch (const ModelError& e) {
    damage.push_back(e.what());
  }
  if (m.layout_known) {
    auto part = [&](const char* what, auto&& read) {
      try {
        read();
      } catch (const ModelError& e) {
        damage.push_back(fmt::format("{}: {}", what, e.what()));
      }
    };
    part("symbols", [&] { read_kallsyms(k, mod, m); });
    part("sections", [&] { read_sections(mod, m); });
    part("build ID", [&] { read_build_id(k, m); });
  }
  for (const auto& d : damage) m.damage += (m.damage.empty() ? "" : "; ") + d;
  return m;
}

std::string named(const Module& m) {
  return fmt::format("module at {:x}{}", m.address.value(), m.name.empty() ? "" : " (" + m.name + ")");
}

}  // namespace

size_t ModuleTable::damaged() const {
  return static_cast<size_t>(
      std::count_if(modules_.begin(), modules_.end(), [](const Module& m) { return !m.damage.empty(); }));
}

ModuleTable read_modules(const Kernel& k) {
  ModuleTable table;
  ModuleSources sources = find_module_sources(k);
  for (const WalkBreak& b : sources.list.breaks) table.problems.push_back("modules list broken at " + b.describe());
  if (sources.tree) {
    for (const WalkBreak& b : sources.tree->breaks) {
      table.problems.push_back("module address tree broken at " + b.describe());
    }
  }
  if (sources.modules.empty()) return table;
  const Type& type = k.types().require("struct module");
  for (const FoundModule& found : sources.modules) {
    Module m = read_module(k, Object(k, found.address, &type));
    m.on_list = found.on_list;
    m.in_tree = found.in_tree;
    // A module the list does not reach although the walk found no break was
    // unlinked around; one the complete tree lacks is missing from it.
    if (!m.on_list) {
      table.problems.push_back(fmt::format("{} is in the module address tree but not on the modules list", named(m)));
    } else if (sources.tree && sources.tree->complete() && !m.in_tree) {
      table.problems.push_back(fmt::format("{} is on the modules list but not in the module address tree", named(m)));
    }
    table.all().push_back(std::move(m));
  }
  return table;
}

std::vector<std::filesystem::path> default_module_roots(const std::string& release) {
  std::vector<std::filesystem::path> roots;
  for (const char* prefix :
       {"/usr/lib/debug/lib/modules/", "/usr/lib/debug/usr/lib/modules/", "/lib/modules/", "/usr/lib/modules/"}) {
    roots.emplace_back(std::string(prefix) + release);
  }
  return roots;
}

std::map<std::string, std::filesystem::path> index_module_objects(const std::vector<std::filesystem::path>& roots) {
  std::map<std::string, std::filesystem::path> found;
  for (const auto& root : roots) {
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) continue;
    std::map<std::string, std::filesystem::path> here;
    auto options = std::filesystem::directory_options::skip_permission_denied;
    for (auto it = std::filesystem::recursive_directory_iterator(root, options, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::string file = it->path().filename().string();
      size_t dot = file.find(".ko");
      if (dot == std::string::npos) continue;
      std::string rest = file.substr(dot);
      if (rest != ".ko" && rest != ".ko.xz" && rest != ".ko.zst") continue;
      std::string name = file.substr(0, dot);
      std::replace(name.begin(), name.end(), '-', '_');
      here.emplace(name, it->path());
    }
    for (auto& [name, path] : here) found.emplace(name, path);  // earlier roots keep theirs
  }
  return found;
}

}  // namespace kdive
