// Loading a module's object file (mod -s): the .ko's symbol table placed where
// the kernel loaded each of its sections. Part of modules.hpp's interface.
#include <elf.h>
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>
#include <lzma.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include "kernel-model/elf_file.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/modules.hpp"
#include "kernel-model/vmlinux.hpp"

namespace kdive {
namespace {

constexpr size_t kMaxObject = size_t{1} << 31;

std::vector<char> read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(Error::Kind::Os, fmt::format("{}: {}", file.string(), std::strerror(errno)));
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

std::vector<char> unxz(const std::vector<char>& in, const std::filesystem::path& file) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) {
    throw Error(Error::Kind::Os, fmt::format("{}: cannot start the xz decoder", file.string()));
  }
  std::vector<char> out;
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  lzma_ret r = LZMA_OK;
  while (r == LZMA_OK) {
    size_t have = out.size();
    out.resize(have + std::max<size_t>(in.size() * 4, 1 << 16));
    s.next_out = reinterpret_cast<uint8_t*>(out.data() + have);
    s.avail_out = out.size() - have;
    r = lzma_code(&s, LZMA_FINISH);
    out.resize(out.size() - s.avail_out);
    if (out.size() > kMaxObject) r = LZMA_MEMLIMIT_ERROR;
  }
  lzma_end(&s);
  if (r != LZMA_STREAM_END) throw Error(Error::Kind::BadData, fmt::format("{}: corrupt xz data", file.string()));
  return out;
}

std::vector<char> unzstd(const std::vector<char>& in, const std::filesystem::path& file) {
  ZSTD_DStream* z = ZSTD_createDStream();
  std::vector<char> out;
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  size_t r = 1;
  while (src.pos < src.size && r != 0) {
    size_t have = out.size();
    out.resize(have + std::max<size_t>(in.size() * 4, 1 << 16));
    ZSTD_outBuffer dst{out.data() + have, out.size() - have, 0};
    r = ZSTD_decompressStream(z, &dst, &src);
    out.resize(have + dst.pos);
    if (ZSTD_isError(r) || out.size() > kMaxObject) break;
  }
  ZSTD_freeDStream(z);
  if (ZSTD_isError(r) || r != 0) throw Error(Error::Kind::BadData, fmt::format("{}: corrupt zstd data", file.string()));
  return out;
}

}  // namespace

std::vector<char> load_module_object(Module& module, const std::filesystem::path& file,
                                     const ModuleLoadOptions& options) {
  std::vector<char> bytes = read_file(file);
  std::string ext = file.extension().string();
  if (ext == ".xz") bytes = unxz(bytes, file);
  if (ext == ".zst") bytes = unzstd(bytes, file);

  // The caller gets the bytes back for the debug info (DebugObject relocates
  // its own copy); this copy gives the symbols.
  const Error not_a_module(Error::Kind::BadData, fmt::format("{}: not an x86_64 kernel module object", file.string()));
  std::shared_ptr<ElfFile> elf;
  try {
    elf = ElfFile::from_bytes(bytes, file.string());
  } catch (const Error&) {
    throw not_a_module;
  }
  if (elf->header().e_type != ET_REL || elf->header().e_machine != EM_X86_64) throw not_a_module;
  const std::string& id = elf->build_id();
  if (!module.build_id.empty() && !id.empty() && id != module.build_id) {
    throw Error(Error::Kind::Mismatch, fmt::format("{} is not the loaded module {} (build ID {}, loaded {})",
                                                   file.string(), module.name, id, module.build_id));
  }
  const std::vector<ElfSection>& sections = elf->sections();
  const size_t count = sections.size();
  const bool debuginfo = elf->section(".debug_info") != nullptr;

  struct Raw {
    std::string name;
    size_t section;
    GElf_Sym sym;
  };
  std::vector<Raw> raw;
  for (size_t i = 0; i < count; ++i) {
    const GElf_Shdr& symtab = sections[i].header;
    if (symtab.sh_type != SHT_SYMTAB || symtab.sh_entsize == 0) continue;
    ::Elf_Data* data = elf_getdata(elf_getscn(elf->elf(), i), nullptr);
    if (data == nullptr) continue;
    size_t n = symtab.sh_size / symtab.sh_entsize;
    for (size_t j = 1; j < n; ++j) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(j), &sym) == nullptr) continue;
      int type = GELF_ST_TYPE(sym.st_info);
      if (type == STT_SECTION || type == STT_FILE || sym.st_shndx == SHN_UNDEF || sym.st_shndx >= count) continue;
      const char* name = elf_strptr(elf->elf(), symtab.sh_link, sym.st_name);
      if (name == nullptr || *name == '\0') continue;
      raw.push_back({name, sym.st_shndx, sym});
    }
  }

  // Where each section went: the kernel's record (sect_attrs), or else worked
  // out from symbols the kernel's own table places.
  std::unordered_map<size_t, VirtAddr> base;
  for (size_t i = 0; i < count; ++i) {
    auto it = module.sections.find(sections[i].name);
    if (it != module.sections.end() && !it->second.is_null()) base[i] = it->second;
  }
  if (base.empty()) {
    for (const Raw& r : raw) {
      if (base.count(r.section)) continue;
      if (const Symbol* s = module.kallsyms_symbols.find(r.name)) base[r.section] = s->address - r.sym.st_value;
    }
  }

  SymbolTable table;
  auto storage = module.names;
  size_t agree = 0, compared = 0;
  for (const Raw& r : raw) {
    auto b = base.find(r.section);
    if (b == base.end()) continue;
    VirtAddr address = b->second + r.sym.st_value;
    if (!module.contains(address)) continue;  // init sections are gone after loading
    if (const Symbol* s = module.kallsyms_symbols.find(r.name)) {
      ++compared;
      if (s->address == address) ++agree;
    }
    storage->push_back(r.name);
    table.add({storage->back(), address, r.sym.st_size, elf_symbol_type(r.sym, &sections[r.section].header),
               storage->front()});
  }
  if (compared > 0 && agree * 2 < compared) {
    throw Error(Error::Kind::Mismatch, fmt::format("{} does not match the loaded module {} ({} of {} symbols agree)",
                                                   file.string(), module.name, agree, compared));
  }
  if (options.section_symbols && !table.empty()) {
    for (const auto& [index, address] : base) {
      if (!module.contains(address)) continue;
      const uint64_t size = sections[index].header.sh_size;
      storage->push_back(fmt::format("_MODULE_SECTION_START [{}]", sections[index].name));
      table.add({storage->back(), address, 0, 'S', storage->front()});
      storage->push_back(fmt::format("_MODULE_SECTION_END [{}]", sections[index].name));
      table.add({storage->back(), address + size, 0, 'S', storage->front()});
    }
  }
  if (table.empty()) {
    throw Error(Error::Kind::BadData,
                fmt::format("{}: no symbol of it falls inside module {}", file.string(), module.name));
  }
  table.finish();
  module.object_sections.clear();
  for (const auto& [index, address] : base) {
    if (module.contains(address)) module.object_sections[index] = address;  // init sections are gone
  }
  module.object_symbols = std::move(table);
  module.object_file = file;
  module.object_has_debuginfo = debuginfo;
  module.debuginfo_problem.clear();
  return bytes;
}

void unload_module_object(Module& module) {
  module.object_file.reset();
  module.object_symbols = SymbolTable();
  module.object_sections.clear();
  module.object_has_debuginfo = false;
  module.debuginfo_problem.clear();
}

}  // namespace kdive
