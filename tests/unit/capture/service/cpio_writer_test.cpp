#include "capture/service/cpio_writer.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <string>

using namespace kdive::capture;

namespace {

std::string text_of(const std::vector<std::byte>& data) {
  return std::string(reinterpret_cast<const char*>(data.data()), data.size());
}

const CpioEntry* find(const std::vector<CpioEntry>& entries, const std::string& name) {
  for (const auto& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("cpio writer: entries read back with their names, modes and contents", "[cpio_writer]") {
  CpioWriter cpio;
  cpio.directory("etc");
  cpio.file("/etc/kdive/capture.conf", std::string_view("savedir = /x\n"), 0644);
  cpio.file("usr/sbin/prog", std::string_view("12345"), 0755);  // 5 bytes: data padding is exercised
  cpio.symlink("init", "usr/sbin/prog");
  cpio.char_device("dev/console", 5, 1);
  auto archive = cpio.finish();
  // newc: every entry starts 4-aligned, the whole archive too.
  CHECK(archive.size() % 4 == 0);
  auto entries = read_cpio(archive);

  std::vector<std::string> names;
  for (const auto& e : entries) names.push_back(e.name);
  // Parents come before their children, each once ("etc" was given already).
  CHECK(names == std::vector<std::string>{"etc", "etc/kdive", "etc/kdive/capture.conf", "usr", "usr/sbin",
                                          "usr/sbin/prog", "init", "dev", "dev/console"});
  const CpioEntry* conf = find(entries, "etc/kdive/capture.conf");
  REQUIRE(conf);
  CHECK(text_of(conf->data) == "savedir = /x\n");
  CHECK(conf->mode == (S_IFREG | 0644));
  const CpioEntry* prog = find(entries, "usr/sbin/prog");
  REQUIRE(prog);
  CHECK(text_of(prog->data) == "12345");
  CHECK(prog->mode == (S_IFREG | 0755));
  const CpioEntry* init = find(entries, "init");
  REQUIRE(init);
  CHECK(S_ISLNK(init->mode));
  CHECK(text_of(init->data) == "usr/sbin/prog");
  const CpioEntry* console = find(entries, "dev/console");
  REQUIRE(console);
  CHECK(S_ISCHR(console->mode));
  CHECK(console->rmajor == 5);
  CHECK(console->rminor == 1);
  CHECK(S_ISDIR(find(entries, "etc/kdive")->mode));
}

TEST_CASE("cpio writer: the same entries give the same bytes", "[cpio_writer]") {
  auto make = [] {
    CpioWriter cpio;
    cpio.file("a/b", std::string_view("x"));
    cpio.symlink("c", "a/b");
    return gzip_bytes(cpio.finish());
  };
  CHECK(make() == make());
}

TEST_CASE("cpio writer: a name added twice is an error", "[cpio_writer]") {
  CpioWriter cpio;
  cpio.file("x", std::string_view("1"));
  CHECK_THROWS_AS(cpio.file("/x", std::string_view("2")), CpioError);
  CHECK_THROWS_AS(cpio.symlink("x", "y"), CpioError);
  CHECK_THROWS_AS(cpio.file("", std::string_view("2")), CpioError);
}

TEST_CASE("cpio reader: damaged archives are errors, not overruns", "[cpio_writer]") {
  CpioWriter cpio;
  cpio.file("file", std::string_view("contents of the file"));
  auto archive = cpio.finish();
  SECTION("truncated inside the data") {
    archive.resize(120);
    CHECK_THROWS_AS(read_cpio(archive), CpioError);
  }
  SECTION("no trailer") {
    archive.resize(archive.size() - 124);
    CHECK_THROWS_AS(read_cpio(archive), CpioError);
  }
  SECTION("bad magic") {
    archive[0] = std::byte{'X'};
    CHECK_THROWS_AS(read_cpio(archive), CpioError);
  }
}

TEST_CASE("gzip: round trip, and a damaged stream is an error", "[cpio_writer]") {
  std::string text(100000, 'a');
  for (size_t i = 0; i < text.size(); i += 7) text[i] = static_cast<char>('a' + i % 26);
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(text.data()), text.size());
  auto packed = gzip_bytes(in);
  CHECK(packed.size() < text.size());
  // The gzip magic, as the kernel's initramfs unpacker detects it.
  CHECK(packed[0] == std::byte{0x1f});
  CHECK(packed[1] == std::byte{0x8b});
  CHECK(text_of(gunzip_bytes(packed)) == text);
  packed.resize(packed.size() / 2);
  CHECK_THROWS_AS(gunzip_bytes(packed), CpioError);
}
