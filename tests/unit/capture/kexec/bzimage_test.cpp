// The setup-header probe that explains what ENOEXEC would not.
#include "capture/kexec/bzimage.hpp"

#include <catch2/catch.hpp>

#include "capture/kexec/kexec_error.hpp"
#include "tests/unit/capture/kexec/fake_system.hpp"

using namespace kdive::capture;
using kdive::test::fake_bzimage;

namespace {

void put(std::vector<std::byte>& image, size_t offset, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) image[offset + i] = std::byte((value >> (8 * i)) & 0xff);
}

std::string reason(const std::vector<std::byte>& image) {
  try {
    probe_bzimage(image);
  } catch (const KexecError& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("a 64-bit bzImage's header gives init_size, cmdline_size and the version", "[kexec]") {
  const auto image = probe_bzimage(fake_bzimage(0x3379000, "6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org)"));
  CHECK(image.protocol == 0x020f);
  CHECK(image.init_size == 0x3379000u);
  CHECK(image.cmdline_size == 2047u);
  CHECK(image.version == "6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org)");
}

TEST_CASE("each requirement of the kernel's bzImage64 loader has its own reason", "[kexec]") {
  auto image = fake_bzimage();
  SECTION("no HdrS magic: a vmlinux, a gzip file, anything else") {
    put(image, 0x202, 0x464c457f, 4);
    CHECK_THAT(reason(image), Catch::StartsWith("not a bzImage: no \"HdrS\""));
    CHECK_THAT(reason(std::vector<std::byte>(16)), Catch::StartsWith("not a bzImage: no \"HdrS\""));
  }
  SECTION("truncated inside the header") {
    image.resize(0x240);
    CHECK_THAT(reason(image), Catch::Contains("ends inside the setup header"));
  }
  SECTION("no boot flag") {
    put(image, 0x1fe, 0, 2);
    CHECK_THAT(reason(image), Catch::Contains("0xAA55"));
  }
  SECTION("protocol older than 2.12") {
    put(image, 0x206, 0x020b, 2);
    CHECK_THAT(reason(image), Catch::Contains("boot protocol 2.11 is older than 2.12"));
  }
  SECTION("a zImage") {
    put(image, 0x211, 0, 1);
    CHECK_THAT(reason(image), Catch::Contains("zImage"));
  }
  SECTION("a 32-bit kernel") {
    put(image, 0x236, 0x2, 2);
    CHECK_THAT(reason(image), Catch::Contains("XLF_KERNEL_64"));
  }
  SECTION("not loadable above 4 GiB") {
    put(image, 0x236, 0x1, 2);
    CHECK_THAT(reason(image), Catch::Contains("XLF_CAN_BE_LOADED_ABOVE_4G"));
  }
}
