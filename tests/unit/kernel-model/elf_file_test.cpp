// ElfFile (one open, one mapping, one libelf handle per file) and the one
// build-ID reader, against the compiler's own test programs and against note
// bytes written out here.
#include "kernel-model/elf_file.hpp"

#include <elf.h>
#include <elfutils/libdw.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernel-model/errors.hpp"

namespace kdive {
namespace {

std::string program() { return std::string(KDIVE_TYPEPROG_DIR) + "/types-dwarf5"; }
std::string module_object() { return std::string(KDIVE_TYPEPROG_DIR) + "/module.o"; }

std::vector<char> bytes_of(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

// One ELF note: namesz, descsz, type, then the name and the descriptor, each
// padded to `align`.
void add_note(std::vector<uint8_t>& out, const std::string& name, uint32_t type, const std::vector<uint8_t>& desc,
              size_t align = 4) {
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  u32(static_cast<uint32_t>(name.size() + 1));
  u32(static_cast<uint32_t>(desc.size()));
  u32(type);
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  while (out.size() % align != 0) out.push_back(0);
  out.insert(out.end(), desc.begin(), desc.end());
  while (out.size() % align != 0) out.push_back(0);
}

// What binutils says the build ID is: an oracle independent of our reader.
std::string readelf_build_id(const std::string& file) {
  std::string cmd = "readelf -n '" + file + "' 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  ::pclose(p);
  auto at = out.find("Build ID: ");
  if (at == std::string::npos) return "";
  return out.substr(at + 10, out.find('\n', at) - at - 10);
}

}  // namespace

TEST_CASE("the GNU build ID is found among other notes", "[elf]") {
  const std::vector<uint8_t> id = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x0a};
  std::vector<uint8_t> notes;
  add_note(notes, "Xen", 1, {1, 2, 3});                          // an unpadded descriptor before it
  add_note(notes, "GNU", NT_GNU_PROPERTY_TYPE_0, {0, 0, 0, 0});  // GNU's, but not the build ID
  add_note(notes, "GNU", NT_GNU_BUILD_ID, id);
  CHECK(gnu_build_id(notes) == "deadbeef0001020a");

  std::vector<uint8_t> eight;
  add_note(eight, "GNU", NT_GNU_PROPERTY_TYPE_0, {1, 2, 3, 4}, 8);
  add_note(eight, "GNU", NT_GNU_BUILD_ID, id, 8);
  CHECK(gnu_build_id(eight, 8) == "deadbeef0001020a");

  std::vector<uint8_t> none;
  add_note(none, "Linux", NT_GNU_BUILD_ID, id);  // the right type, another owner
  CHECK(gnu_build_id(none).empty());
  CHECK(gnu_build_id({}).empty());
  // Cut short anywhere: no ID, and no read past the end.
  for (size_t n = 0; n < notes.size(); ++n) {
    INFO(n);
    CHECK(gnu_build_id(std::span(notes).first(n)).empty());
  }
}

TEST_CASE("ElfFile opens a file once and reads its sections and build ID", "[elf]") {
  auto f = ElfFile::open(program());
  REQUIRE(f->elf() != nullptr);
  CHECK(f->header().e_machine == EM_X86_64);
  const std::string expected = readelf_build_id(program());
  REQUIRE(expected.size() >= 16);  // gcc links with --build-id on Debian
  CHECK(f->build_id() == expected);

  // Section bytes are the file's bytes at sh_offset.
  const ElfSection* info = f->section(".debug_info");
  REQUIRE(info != nullptr);
  CHECK(f->sections()[info->index].name == ".debug_info");
  std::vector<char> file = bytes_of(program());
  REQUIRE(f->bytes().size() == file.size());
  std::span<const uint8_t> contents = f->contents(*info);
  REQUIRE(contents.size() == info->header.sh_size);
  CHECK(std::memcmp(contents.data(), file.data() + info->header.sh_offset, contents.size()) == 0);
  CHECK(f->section(".no_such_section") == nullptr);
  const ElfSection* bss = f->section(".bss");
  REQUIRE(bss != nullptr);
  CHECK(f->contents(*bss).empty());
  CHECK(f->writable_bytes().empty());  // a mapped file is read-only

  // An object file without a build ID says so.
  CHECK(readelf_build_id(module_object()).empty());
  CHECK(ElfFile::open(module_object())->build_id().empty());
}

TEST_CASE("ElfFile from bytes in memory is the same file, and writable", "[elf]") {
  auto mapped = ElfFile::open(program());
  auto memory = ElfFile::from_bytes(bytes_of(program()), "copy");
  CHECK(memory->name() == "copy");
  CHECK(memory->build_id() == mapped->build_id());
  REQUIRE(memory->sections().size() == mapped->sections().size());
  for (size_t i = 0; i < memory->sections().size(); ++i) {
    CHECK(memory->sections()[i].name == mapped->sections()[i].name);
  }
  CHECK(memory->writable_bytes().size() == memory->bytes().size());
}

TEST_CASE("ElfFile names the file it cannot use", "[elf]") {
  auto dir = std::filesystem::temp_directory_path() / ("kdive-elf-file-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "text") << "not an ELF file\n";
  CHECK_THROWS_WITH(ElfFile::open(dir / "text", "a vmlinux"),
                    (dir / "text").string() + ": not an ELF file (a vmlinux is expected)");
  CHECK_THROWS_WITH(ElfFile::open(dir / "text"), (dir / "text").string() + ": not an ELF file");
  // A vmlinuz: the boot protocol's "HdrS" at 0x202 after the boot sector.
  {
    std::string image(0x400, '\0');
    image.replace(0x202, 4, "HdrS");
    std::ofstream(dir / "vmlinuz", std::ios::binary) << image;
  }
  CHECK_THROWS_WITH(
      ElfFile::open(dir / "vmlinuz", "a vmlinux"),
      (dir / "vmlinuz").string() + ": a bzImage (compressed boot image), not an ELF file (a vmlinux is expected)");
  try {
    ElfFile::open(dir / "missing");
    FAIL("opened a missing file");
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::Os);
    CHECK(std::string(e.what()).find("missing") != std::string::npos);
  }
  CHECK_THROWS_AS(ElfFile::from_bytes(std::vector<char>(64, 'x'), "garbage"), Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("libdw reads through the file's own handle and keeps the file alive", "[elf]") {
  auto f = ElfFile::open(program());
  ::Elf* elf = f->elf();
  DwarfHandle dwarf = open_dwarf(f);
  REQUIRE(dwarf != nullptr);
  CHECK(dwarf_getelf(dwarf.get()) == elf);  // no second libelf handle
  f.reset();                                // the DWARF handle still holds the file
  Dwarf_Off next = 0;
  size_t header_size = 0;
  CHECK(dwarf_nextcu(dwarf.get(), 0, &next, &header_size, nullptr, nullptr, nullptr) == 0);
  // Without DWARF there is no handle.
  auto stripped = std::filesystem::temp_directory_path() / ("kdive-elf-stripped-" + std::to_string(::getpid()));
  REQUIRE(std::system(("objcopy --strip-debug '" + program() + "' '" + stripped.string() + "'").c_str()) == 0);
  CHECK(open_dwarf(ElfFile::open(stripped)) == nullptr);
  std::filesystem::remove(stripped);
}

}  // namespace kdive
