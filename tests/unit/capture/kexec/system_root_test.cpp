// SystemRoot: the running system's files under a root a test replaces.
#include "capture/kexec/system_root.hpp"

#include <catch2/catch.hpp>

#include "tests/unit/capture/kexec/fake_system.hpp"

using kdive::test::FakeTree;

TEST_CASE("SystemRoot reads files under its root, first lines and numbers", "[kexec]") {
  FakeTree tree;
  tree.write("/sys/kernel/kexec_crash_size", "  100663296 \n");
  tree.write("/proc/cmdline", "root=/dev/vda quiet\nsecond line\n");
  tree.write("/sys/kernel/kexec_loaded", "yes\n");
  const auto& root = tree.root();
  CHECK(root.path("/proc/cmdline").string() == tree.path("/proc/cmdline"));
  CHECK(root.read_number("/sys/kernel/kexec_crash_size") == 100663296u);
  CHECK(root.read_line("/proc/cmdline") == "root=/dev/vda quiet");
  CHECK(root.read("/proc/cmdline") == "root=/dev/vda quiet\nsecond line\n");
  CHECK_FALSE(root.read_number("/sys/kernel/kexec_loaded").has_value());  // not a number
  CHECK_FALSE(root.read("/proc/missing").has_value());
  CHECK_FALSE(root.read_number("/proc/missing").has_value());
  CHECK(kdive::capture::SystemRoot().path("/proc/cmdline") == "/proc/cmdline");
}
