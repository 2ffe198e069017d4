#include "kernel-model/dwarf_index.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "kernel-model/errors.hpp"

namespace kdive {
namespace {

// Bump when the file layout or what is indexed changes.
constexpr char kMagic[8] = {'K', 'D', 'I', 'X', 'v', '0', '0', '1'};

std::optional<NameKind> kind_of(Dwarf_Die* die, int tag) {
  switch (tag) {
    case DW_TAG_structure_type: return NameKind::Struct;
    case DW_TAG_union_type: return NameKind::Union;
    case DW_TAG_enumeration_type: return NameKind::Enum;
    case DW_TAG_typedef: return NameKind::Typedef;
    case DW_TAG_base_type: return NameKind::Base;
    case DW_TAG_variable: return NameKind::Variable;
    case DW_TAG_subprogram: return NameKind::Function;
    default: (void)die; return std::nullopt;
  }
}

// A DIE that only declares its name (extern variable, forward-declared struct,
// prototype): a later definition replaces it in the index.
bool is_declaration(Dwarf_Die* die, NameKind kind) {
  if (dwarf_hasattr(die, DW_AT_declaration)) return true;
  if (kind == NameKind::Variable) return !dwarf_hasattr(die, DW_AT_location);
  if (kind == NameKind::Function) return !dwarf_hasattr(die, DW_AT_low_pc);
  return false;
}

void add_enumerators(Dwarf_Die* enum_die, DwarfIndex::Table& table) {
  Dwarf_Die child;
  if (dwarf_child(enum_die, &child) != 0) return;
  do {
    if (dwarf_tag(&child) != DW_TAG_enumerator) continue;
    const char* name = dwarf_diename(&child);
    Dwarf_Attribute attr;
    Dwarf_Sword value = 0;
    if (name == nullptr || dwarf_attr(&child, DW_AT_const_value, &attr) == nullptr) continue;
    if (dwarf_formsdata(&attr, &value) != 0) {
      Dwarf_Word u = 0;
      if (dwarf_formudata(&attr, &u) != 0) continue;
      value = static_cast<Dwarf_Sword>(u);
    }
    table.try_emplace(name, DwarfIndex::Entry{dwarf_dieoffset(enum_die), value});
  } while (dwarf_siblingof(&child, &child) == 0);
}

}  // namespace

DwarfIndex::Tables DwarfIndex::scan(const std::filesystem::path& vmlinux) {
  Tables t;
  int fd = ::open(vmlinux.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return t;
  Dwarf* dw = dwarf_begin(fd, DWARF_C_READ);
  if (dw == nullptr) {
    ::close(fd);
    return t;
  }
  // Names indexed so far whose entry is only a declaration. Among definitions the
  // first wins: every CU that includes a header repeats its types identically.
  std::array<std::unordered_map<std::string, bool>, static_cast<size_t>(NameKind::Count)> declared_only;
  Dwarf_Off off = 0, next;
  size_t header_size;
  while (dwarf_nextcu(dw, off, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
    Dwarf_Die cu, die;
    if (dwarf_offdie(dw, off + header_size, &cu) != nullptr && dwarf_child(&cu, &die) == 0) {
      do {
        int tag = dwarf_tag(&die);
        auto kind = kind_of(&die, tag);
        if (!kind) continue;
        if (*kind == NameKind::Enum) add_enumerators(&die, t.by_kind[static_cast<size_t>(NameKind::Enumerator)]);
        const char* name = dwarf_diename(&die);
        if (name == nullptr) continue;
        auto k = static_cast<size_t>(*kind);
        auto [it, inserted] = declared_only[k].try_emplace(name, true);
        if (!inserted && !it->second) continue;
        bool declaration = is_declaration(&die, *kind);
        if (inserted || !declaration) {
          it->second = declaration;
          t.by_kind[k][name] = Entry{dwarf_dieoffset(&die), 0};
        }
      } while (dwarf_siblingof(&die, &die) == 0);
    }
    off = next;
  }
  dwarf_end(dw);
  ::close(fd);
  return t;
}

std::filesystem::path DwarfIndex::cache_path(const std::string& build_id) {
  std::filesystem::path base;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0') {
    base = x;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    base = std::filesystem::path(home) / ".cache";
  } else {
    return {};
  }
  return base / "kdive" / ("dwarf-" + build_id + ".idx");
}

bool DwarfIndex::save(const Tables& t, const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  // Write a temporary file and rename it, so a reader never sees half a cache.
  auto tmp = file;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(kMagic, sizeof kMagic);
    for (const auto& table : t.by_kind) {
      uint64_t n = table.size();
      out.write(reinterpret_cast<const char*>(&n), 8);
      for (const auto& [name, e] : table) {
        uint32_t len = static_cast<uint32_t>(name.size());
        out.write(reinterpret_cast<const char*>(&len), 4);
        out.write(name.data(), len);
        out.write(reinterpret_cast<const char*>(&e.die), 8);
        out.write(reinterpret_cast<const char*>(&e.value), 8);
      }
    }
    if (!out.flush()) {
      std::filesystem::remove(tmp, ec);
      return false;
    }
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) std::filesystem::remove(tmp, ec);
  return !ec;
}

std::optional<DwarfIndex::Tables> DwarfIndex::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  auto take = [&](void* out, size_t n) {
    if (pos + n > bytes.size()) return false;
    std::memcpy(out, bytes.data() + pos, n);
    pos += n;
    return true;
  };
  char magic[8];
  if (!take(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) return std::nullopt;
  Tables t;
  for (auto& table : t.by_kind) {
    uint64_t n;
    if (!take(&n, 8) || n > bytes.size()) return std::nullopt;
    table.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      uint32_t len;
      if (!take(&len, 4) || pos + len > bytes.size()) return std::nullopt;
      std::string name(bytes.data() + pos, len);
      pos += len;
      Entry e;
      if (!take(&e.die, 8) || !take(&e.value, 8)) return std::nullopt;
      table.emplace(std::move(name), e);
    }
  }
  if (pos != bytes.size()) return std::nullopt;
  t.from_cache = true;
  return t;
}

std::unique_ptr<DwarfIndex> DwarfIndex::start(const std::filesystem::path& vmlinux, const std::string& build_id) {
  std::filesystem::path cache = build_id.empty() ? std::filesystem::path() : cache_path(build_id);
  auto task = std::async(std::launch::async, [vmlinux, cache] {
    if (!cache.empty()) {
      if (auto cached = load(cache)) return std::move(*cached);
    }
    Tables t = scan(vmlinux);
    if (!cache.empty()) save(t, cache);
    return t;
  });
  return std::unique_ptr<DwarfIndex>(new DwarfIndex(task.share()));
}

const DwarfIndex::Entry* DwarfIndex::find(NameKind kind, std::string_view name) const {
  const auto& table = tables().by_kind[static_cast<size_t>(kind)];
  auto it = table.find(std::string(name));
  return it == table.end() ? nullptr : &it->second;
}

}  // namespace kdive
