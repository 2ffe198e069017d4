// Module object files: finding them by module name, and refusing files that
// are not modules — without a dump.
#include "kernel-model/modules.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "kernel-model/errors.hpp"

namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("kdive-modules-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void touch(const fs::path& p, const std::string& content = "") {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << content;
}

}  // namespace

TEST_CASE("module object files are indexed by module name, earlier roots first", "[modules]") {
  fs::path debug = scratch("debug"), plain = scratch("plain");
  touch(debug / "kernel/drivers/firmware/qemu_fw_cfg.ko");
  touch(plain / "kernel/drivers/firmware/qemu_fw_cfg.ko.xz");
  touch(plain / "kernel/drivers/md/dm-mod.ko.zst");
  touch(plain / "kernel/fs/ext4.ko");
  touch(plain / "kernel/fs/readme.txt");
  touch(plain / "kernel/fs/odd.ko.gz");
  auto index = kdive::index_module_objects({debug, plain, "/nonexistent/dir"});
  CHECK(index.size() == 3);
  CHECK(index.at("qemu_fw_cfg") == debug / "kernel/drivers/firmware/qemu_fw_cfg.ko");
  CHECK(index.at("dm_mod") == plain / "kernel/drivers/md/dm-mod.ko.zst");  // '-' reads as '_'
  CHECK(index.at("ext4") == plain / "kernel/fs/ext4.ko");
  fs::remove_all(debug);
  fs::remove_all(plain);
}

TEST_CASE("default module roots put debug files first", "[modules]") {
  auto roots = kdive::default_module_roots("6.1.0-56-cloud-amd64");
  REQUIRE(roots.size() >= 2);
  CHECK(roots.front() == "/usr/lib/debug/lib/modules/6.1.0-56-cloud-amd64");
  CHECK(std::find(roots.begin(), roots.end(), "/lib/modules/6.1.0-56-cloud-amd64") != roots.end());
}

TEST_CASE("a file that is not a module object is refused", "[modules]") {
  fs::path dir = scratch("bad");
  kdive::Module m;
  m.name = "qemu_fw_cfg";
  touch(dir / "text.ko", "not an ELF file");
  CHECK_THROWS_AS(kdive::load_module_object(m, dir / "text.ko"), kdive::Error);
  touch(dir / "bad.ko.xz", "not xz data");
  CHECK_THROWS_WITH(kdive::load_module_object(m, dir / "bad.ko.xz"), Catch::Contains("xz"));
  touch(dir / "bad.ko.zst", "not zstd data");
  CHECK_THROWS_WITH(kdive::load_module_object(m, dir / "bad.ko.zst"), Catch::Contains("zstd"));
  CHECK_THROWS_AS(kdive::load_module_object(m, dir / "missing.ko"), kdive::Error);
  CHECK_FALSE(m.object_file.has_value());
  fs::remove_all(dir);
}
