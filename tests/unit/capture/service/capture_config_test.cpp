#include "capture/service/capture_config.hpp"

#include <catch2/catch.hpp>

using namespace kdive::capture;

TEST_CASE("capture config: defaults when the file says nothing", "[capture_config]") {
  CaptureConfig c = parse_capture_config("# only a comment\n\n", "test.conf");
  CHECK(c.savedir == "/var/crash");
  CHECK(c.dump_level == 31);
  CHECK(c.compression == "zlib");
  CHECK(c.action == AfterSave::Reboot);
  CHECK(c.keep_old_dumps == 5);
  CHECK(c.modules.empty());
  CHECK_FALSE(c.pipe_target());
  CHECK(c.copy_command().empty());
  CHECK(c.copy_dump_level == -1);  // the copy takes dump_level
  CHECK(format_capture_config(c).find("copy_") == std::string::npos);
}

TEST_CASE("capture config: every setting is read", "[capture_config]") {
  CaptureConfig c = parse_capture_config(
      "savedir = /srv/dumps   # trailing comment\n"
      "device=/dev/vdb\n"
      "fstype = ext2\n"
      "dump_level = 1\n"
      "compression = zstd\n"
      "keep_old_dumps = 2\n"
      "min_free = 1.5G\n"
      "post_save_hook = /usr/local/sbin/notify --urgent\n"
      "action = poweroff\n"
      "modules = virtio_ring virtio   /x/virtio_blk.ko\n"
      "target = pipe:ssh crash@vault kdive-dump -R /srv/{name}#1\n"
      "copy_target = pipe:dd of=/dev/vport0p1\n"
      "copy_dump_level = 31\n"
      "kernel = /boot/vmlinuz-test\n"
      "kernel_cmdline = console=ttyS0 irqpoll\n"
      "initramfs = /var/tmp/ci.img\n"
      "initramfs_compression = none\n"
      "device_timeout = 9\n"
      "hostname = web1\n",
      "test.conf");
  CHECK(c.savedir == "/srv/dumps");
  CHECK(c.device == "/dev/vdb");
  CHECK(c.fstype == "ext2");
  CHECK(c.dump_level == 1);
  CHECK(c.compression == "zstd");
  CHECK(c.keep_old_dumps == 2);
  CHECK(c.min_free_bytes == (3ull << 29));
  CHECK(c.post_save_hook == "/usr/local/sbin/notify --urgent");
  CHECK(c.action == AfterSave::Poweroff);
  CHECK(c.modules == std::vector<std::string>{"virtio_ring", "virtio", "/x/virtio_blk.ko"});
  CHECK(c.pipe_target());
  // A '#' inside a word is not a comment.
  CHECK(c.pipe_command() == "ssh crash@vault kdive-dump -R /srv/{name}#1");
  CHECK(c.copy_command() == "dd of=/dev/vport0p1");
  CHECK(c.copy_dump_level == 31);
  CHECK(c.kernel == "/boot/vmlinuz-test");
  CHECK(c.kernel_cmdline == "console=ttyS0 irqpoll");
  CHECK(c.initramfs == "/var/tmp/ci.img");
  CHECK_FALSE(c.initramfs_gzip);
  CHECK(c.device_timeout == 9);
  CHECK(c.hostname == "web1");

  SECTION("and written back to text that parses to the same settings") {
    CaptureConfig again = parse_capture_config(format_capture_config(c), "copy");
    CHECK(format_capture_config(again) == format_capture_config(c));
    CHECK(again.modules == c.modules);
    CHECK(again.min_free_bytes == c.min_free_bytes);
    CHECK(again.target == c.target);
    CHECK(again.copy_target == c.copy_target);
    CHECK(again.copy_dump_level == 31);
    CHECK(again.action == c.action);
  }
}

TEST_CASE("capture config: a bad line is an error naming file and line", "[capture_config]") {
  auto error_of = [](const std::string& text) {
    try {
      parse_capture_config(text, "/etc/kdive/capture.conf");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("dump_level = 31\ndump_level = 32\n") ==
        "/etc/kdive/capture.conf:2: dump_level must be a number from 0 to 31, not '32'");
  CHECK(error_of("\n\nsavedir = relative/dir\n").starts_with("/etc/kdive/capture.conf:3: savedir must be an absolute"));
  CHECK(error_of("compression = gzip\n").find("compression must be zlib, lzo, snappy, zstd or none") !=
        std::string::npos);
  CHECK(error_of("action = explode\n").find("action must be reboot, halt, shell or poweroff") != std::string::npos);
  CHECK(error_of("min_free = lots\n").find("min_free must be a size") != std::string::npos);
  CHECK(error_of("sav_dir = /x\n") == "/etc/kdive/capture.conf:1: unknown setting 'sav_dir'");
  CHECK(error_of("just words\n").find("is not 'key = value'") != std::string::npos);
  CHECK(error_of("target = ftp://host/x\n").find("pipe:COMMAND") != std::string::npos);
  CHECK(error_of("target = pipe:   \n").find("names no command") != std::string::npos);
  // The capture kernel mounts one device only, the target's: a copy goes
  // through a pipe.
  CHECK(error_of("copy_target = /var/crash2\n").find("copy_target must be empty or pipe:COMMAND") != std::string::npos);
  CHECK(error_of("copy_target = pipe:\n").find("copy_target pipe: names no command") != std::string::npos);
  CHECK(error_of("copy_dump_level = 40\n").find("copy_dump_level must be a number from 0 to 31") != std::string::npos);
  CHECK(error_of("keep_old_dumps = -1\n").find("keep_old_dumps must be a number") != std::string::npos);
}

TEST_CASE("capture config: sizes", "[capture_config]") {
  CHECK(parse_config_size("4096") == 4096u);
  CHECK(parse_config_size("64k") == 65536u);
  CHECK(parse_config_size("512M") == 512ull << 20);
  CHECK(parse_config_size("2G") == 2ull << 30);
  CHECK(parse_config_size("1T") == 1ull << 40);
  CHECK(parse_config_size("0.5G") == 512ull << 20);
  CHECK_FALSE(parse_config_size(""));
  CHECK_FALSE(parse_config_size("M"));
  CHECK_FALSE(parse_config_size("1.2.3M"));
  CHECK_FALSE(parse_config_size("-1G"));
  CHECK_FALSE(parse_config_size("99999999999T"));
}

TEST_CASE("capture config: codec flags for kdive-dump", "[capture_config]") {
  CHECK(compression_flag("zlib") == "-c");
  CHECK(compression_flag("lzo") == "-l");
  CHECK(compression_flag("snappy") == "-p");
  CHECK(compression_flag("zstd") == "-z");
  CHECK(compression_flag("none").empty());
}

TEST_CASE("capture config: a missing file gives the defaults, a directory is an error", "[capture_config]") {
  CHECK(load_capture_config("/nonexistent/kdive/capture.conf").savedir == "/var/crash");
  CHECK_THROWS_AS(load_capture_config("/"), ConfigError);
}
