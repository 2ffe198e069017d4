#include "dump_edit.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace kdive::test {

void copy_without_notes(const std::filesystem::path& from, const std::filesystem::path& to,
                        const std::vector<std::string>& names) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  std::fstream f(to, std::ios::in | std::ios::out | std::ios::binary);
  if (!f.good()) throw std::runtime_error("cannot open " + to.string());
  unsigned char eh[64];
  f.read(reinterpret_cast<char*>(eh), sizeof eh);
  uint64_t phoff;
  uint16_t phnum;
  std::memcpy(&phoff, eh + 32, 8);  // Elf64_Ehdr.e_phoff
  std::memcpy(&phnum, eh + 56, 2);  // Elf64_Ehdr.e_phnum
  for (uint16_t i = 0; i < phnum; ++i) {
    unsigned char ph[56];  // Elf64_Phdr
    f.seekg(static_cast<std::streamoff>(phoff + i * 56u));
    f.read(reinterpret_cast<char*>(ph), sizeof ph);
    uint32_t type;
    uint64_t offset, size;
    std::memcpy(&type, ph, 4);
    std::memcpy(&offset, ph + 8, 8);
    std::memcpy(&size, ph + 32, 8);
    if (type != 4) continue;  // PT_NOTE
    std::string notes(size, '\0');
    f.seekg(static_cast<std::streamoff>(offset));
    f.read(notes.data(), static_cast<std::streamsize>(size));
    for (const auto& name : names) {
      for (size_t at = notes.find(name + '\0'); at != std::string::npos; at = notes.find(name + '\0', at + 1)) {
        notes[at] = 'X';
      }
    }
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(notes.data(), static_cast<std::streamsize>(size));
  }
}

}  // namespace kdive::test
