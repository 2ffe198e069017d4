// The command lines kdive-kexec derives from the running kernel's.
#include "capture/kexec/kexec_command_line.hpp"

#include <catch2/catch.hpp>

using namespace kdive::capture;

TEST_CASE("the capture kernel's line drops crashkernel= and the boot loader's options and adds the kdump ones",
          "[kexec]") {
  const std::string running = "BOOT_IMAGE=/boot/vmlinuz-6.1.0 root=UUID=1234 ro crashkernel=256M quiet initrd=/x";
  CHECK(capture_command_line(running) == "root=UUID=1234 ro quiet irqpoll nr_cpus=1 reset_devices");
  // Ranges and ,low/,high forms are crashkernel= words too.
  CHECK(capture_command_line("crashkernel=512M-2G:64M,2G-:128M crashkernel=72M,low console=ttyS0") ==
        "console=ttyS0 irqpoll nr_cpus=1 reset_devices");
}

TEST_CASE("an option the capture line sets replaces the running one instead of appearing twice", "[kexec]") {
  CHECK(capture_command_line("nr_cpus=8 irqpoll console=ttyS0") == "console=ttyS0 irqpoll nr_cpus=1 reset_devices");
}

TEST_CASE("options go before a \"--\": what follows it is init's arguments", "[kexec]") {
  CHECK(capture_command_line("root=/dev/vda crashkernel=80M -- single crashkernel=x") ==
        "root=/dev/vda irqpoll nr_cpus=1 reset_devices -- single crashkernel=x");
  CHECK(append_options("console=ttyS0 -- --init-arg", "kdive-marker=7 panic=1") ==
        "console=ttyS0 kdive-marker=7 panic=1 -- --init-arg");
  CHECK(append_options("", "a=1") == "a=1");
}

TEST_CASE("a quoted value stays one word", "[kexec]") {
  const auto words = split_command_line(R"(root=/dev/vda  dyndbg="file foo.c +p"   quiet)");
  REQUIRE(words.size() == 3);
  CHECK(words[1] == R"(dyndbg="file foo.c +p")");
  CHECK(capture_command_line(R"(dyndbg="a b" crashkernel=1G)") == R"(dyndbg="a b" irqpoll nr_cpus=1 reset_devices)");
}

TEST_CASE("kdive-kexec --reuse-cmdline keeps crashkernel= for a fast reboot and drops the boot loader's options",
          "[kexec]") {
  CHECK(reused_command_line("BOOT_IMAGE=/vmlinuz root=/dev/vda crashkernel=128M\n") ==
        "root=/dev/vda crashkernel=128M");
}

TEST_CASE("crashkernel= words of a command line", "[kexec]") {
  CHECK(crashkernel_options("quiet crashkernel=1G,high crashkernel=72M,low") ==
        "crashkernel=1G,high crashkernel=72M,low");
  CHECK_FALSE(crashkernel_options("quiet -- crashkernel=1G").has_value());
  CHECK_FALSE(crashkernel_options("").has_value());
}

TEST_CASE("sizes in crashkernel= form", "[kexec]") {
  CHECK(parse_size("256M") == (256ull << 20));
  CHECK(parse_size("2G") == (2ull << 30));
  CHECK(parse_size("64k") == (64ull << 10));
  CHECK(parse_size("4096") == 4096u);
  CHECK_FALSE(parse_size("M").has_value());
  CHECK_FALSE(parse_size("12X").has_value());
  CHECK_FALSE(parse_size("99999999999999T").has_value());
  CHECK(crashkernel_size(80ull << 20) == "80M");
  CHECK(crashkernel_size((80ull << 20) + 1) == "81M");
  CHECK(crashkernel_size(1ull << 30) == "1G");
  CHECK(human_size(80ull << 20) == "80 MiB");
  CHECK(human_size(3ull << 29) == "1.5 GiB");
  CHECK(human_size(12) == "12 bytes");
}
