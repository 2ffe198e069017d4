#include "capture/service/elf_needs.hpp"

#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "readers/byte_reader.hpp"

namespace kdive::capture {
namespace fs = std::filesystem;
namespace {

std::vector<std::byte> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ElfNeedsError(fmt::format("{}: cannot open", path));
  std::vector<char> text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

// The file offset of virtual address VADDR, through the PT_LOAD segments
// (DT_STRTAB holds an address, not an offset).
std::optional<uint64_t> vaddr_to_offset(const std::vector<Elf64_Phdr>& phdrs, uint64_t vaddr) {
  for (const auto& p : phdrs) {
    if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_filesz)
      return p.p_offset + (vaddr - p.p_vaddr);
  }
  return std::nullopt;
}

std::vector<std::string> split_paths(const std::string& list, const std::string& origin) {
  std::vector<std::string> out;
  std::istringstream in(list);
  for (std::string dir; std::getline(in, dir, ':');) {
    for (const char* token : {"$ORIGIN", "${ORIGIN}"}) {
      for (size_t at; (at = dir.find(token)) != std::string::npos;) dir.replace(at, std::strlen(token), origin);
    }
    if (!dir.empty()) out.push_back(dir);
  }
  return out;
}

void read_ld_conf(const fs::path& root, const fs::path& file, std::vector<std::string>& dirs, int depth) {
  if (depth > 8) return;  // an include cycle
  std::ifstream in(root.string() + file.string());
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string first;
    if (!(words >> first)) continue;
    if (first == "include") {
      for (std::string pattern; words >> pattern;) {
        // Only the "dir/*.conf" form Debian uses: a directory and a suffix.
        fs::path p(pattern);
        fs::path dir = root.string() + p.parent_path().string();
        std::string suffix = p.filename().string();
        if (suffix.rfind('*', 0) == 0) suffix = suffix.substr(1);
        std::error_code ec;
        std::vector<fs::path> confs;
        for (const auto& e : fs::directory_iterator(dir, ec)) {
          std::string name = e.path().filename().string();
          if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            confs.push_back(p.parent_path() / name);
          }
        }
        std::sort(confs.begin(), confs.end());
        for (const auto& c : confs) read_ld_conf(root, c, dirs, depth + 1);
      }
    } else {
      dirs.push_back(first);
    }
  }
}

}  // namespace

ElfDynamicInfo read_elf_dynamic(const std::string& path) {
  ElfDynamicInfo info;
  auto data = read_all(path);
  if (data.size() < 4 || std::memcmp(data.data(), ELFMAG, SELFMAG) != 0) return info;
  info.is_elf = true;
  try {
    ByteReader r(data, path);
    if (r.get<uint8_t>(EI_CLASS) != ELFCLASS64) throw ElfNeedsError(fmt::format("{}: not a 64-bit ELF file", path));
    auto eh = r.get<Elf64_Ehdr>(0);
    std::vector<Elf64_Phdr> phdrs;
    for (unsigned i = 0; i < eh.e_phnum; ++i)
      phdrs.push_back(r.get<Elf64_Phdr>(eh.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr)));
    const Elf64_Phdr* dynamic = nullptr;
    for (const auto& p : phdrs) {
      if (p.p_type == PT_INTERP) info.interpreter = r.string_at(p.p_offset, p.p_filesz);
      if (p.p_type == PT_DYNAMIC) dynamic = &p;
    }
    if (!dynamic) return info;
    std::vector<Elf64_Dyn> dyns;
    for (uint64_t off = 0; off + sizeof(Elf64_Dyn) <= dynamic->p_filesz; off += sizeof(Elf64_Dyn)) {
      auto d = r.get<Elf64_Dyn>(dynamic->p_offset + off);
      if (d.d_tag == DT_NULL) break;
      dyns.push_back(d);
    }
    uint64_t strtab = 0, strsz = 0;
    for (const auto& d : dyns) {
      if (d.d_tag == DT_STRTAB) strtab = d.d_un.d_ptr;
      if (d.d_tag == DT_STRSZ) strsz = d.d_un.d_val;
    }
    auto str_off = vaddr_to_offset(phdrs, strtab);
    if (!str_off) throw ElfNeedsError(fmt::format("{}: DT_STRTAB 0x{:x} is in no loaded segment", path, strtab));
    ByteReader strings =
        r.sub(*str_off, std::min<uint64_t>(strsz, data.size() - std::min<uint64_t>(*str_off, data.size())), path);
    auto str = [&](uint64_t at) {
      return strings.string_at(at, strings.size() - std::min<uint64_t>(at, strings.size()));
    };
    std::string runpath, rpath;
    for (const auto& d : dyns) {
      if (d.d_tag == DT_NEEDED) info.needed.push_back(str(d.d_un.d_val));
      if (d.d_tag == DT_RUNPATH) runpath = str(d.d_un.d_val);
      if (d.d_tag == DT_RPATH) rpath = str(d.d_un.d_val);
    }
    // The loader ignores DT_RPATH when DT_RUNPATH is present.
    std::string origin = fs::path(path).parent_path().string();
    info.search_paths = split_paths(runpath.empty() ? rpath : runpath, origin);
  } catch (const FormatError& e) {
    throw ElfNeedsError(e.what());
  }
  return info;
}

LibrarySearch LibrarySearch::system(const std::string& root) {
  LibrarySearch s;
  read_ld_conf(root, "/etc/ld.so.conf", s.directories, 0);
  // The loader's trusted directories (glibc on Debian adds the multiarch ones).
#if defined(__x86_64__)
  const char* triplet = "x86_64-linux-gnu";
#elif defined(__aarch64__)
  const char* triplet = "aarch64-linux-gnu";
#else
  const char* triplet = "";
#endif
  for (std::string base : {"/lib", "/usr/lib"}) {
    if (*triplet) s.directories.push_back(base + "/" + triplet);
  }
  for (const char* d : {"/lib64", "/usr/lib64", "/lib", "/usr/lib"}) s.directories.push_back(d);
  if (!root.empty()) {
    for (auto& d : s.directories) d = root + d;
  }
  return s;
}

std::vector<std::string> runtime_closure(const std::vector<std::string>& programs, const LibrarySearch& search) {
  std::vector<std::string> found;
  std::set<std::string> seen_names;  // sonames already resolved
  std::set<std::string> seen_files;
  std::vector<std::pair<std::string, std::string>> todo;  // (file, who needs it)
  for (const auto& p : programs) todo.emplace_back(p, "");
  auto add_file = [&](const std::string& file) {
    if (seen_files.insert(file).second) found.push_back(file);
  };
  while (!todo.empty()) {
    auto [file, needer] = todo.back();
    todo.pop_back();
    ElfDynamicInfo info = read_elf_dynamic(file);
    if (!info.is_elf) continue;
    if (!info.interpreter.empty()) {
      if (!fs::exists(info.interpreter)) {
        throw ElfNeedsError(fmt::format("{}: its loader {} does not exist", file, info.interpreter));
      }
      // Libraries that name the loader as DT_NEEDED (libc does) get the one
      // already running: the loader matches them by file name.
      seen_names.insert(fs::path(info.interpreter).filename().string());
      add_file(info.interpreter);
    }
    for (const auto& soname : info.needed) {
      if (!seen_names.insert(soname).second) continue;
      std::string hit;
      if (soname.find('/') != std::string::npos) {
        hit = soname;
      } else {
        std::vector<std::string> dirs = info.search_paths;
        dirs.insert(dirs.end(), search.directories.begin(), search.directories.end());
        for (const auto& d : dirs) {
          std::error_code ec;
          std::string candidate = d + "/" + soname;
          if (fs::is_regular_file(candidate, ec)) {
            // A 32-bit library of the same name is skipped, as the loader does.
            std::ifstream in(candidate, std::ios::binary);
            char ident[EI_NIDENT] = {};
            in.read(ident, sizeof ident);
            if (std::memcmp(ident, ELFMAG, SELFMAG) == 0 && ident[EI_CLASS] == ELFCLASS64) {
              hit = candidate;
              break;
            }
          }
        }
      }
      if (hit.empty()) throw ElfNeedsError(fmt::format("{}: needs {}, found in no library directory", file, soname));
      add_file(hit);
      todo.emplace_back(hit, file);
    }
  }
  return found;
}

std::string script_interpreter(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  if (!std::getline(in, line) || line.rfind("#!", 0) != 0) return "";
  std::istringstream words(line.substr(2));
  std::string interp;
  words >> interp;
  return interp;
}

}  // namespace kdive::capture
