// The setup-header probe that explains what ENOEXEC would not.
#include "capture/kexec/bzimage.hpp"

#include <catch2/catch.hpp>

#include "capture/kexec/kexec_error.hpp"
#include "tests/unit/capture/kexec/fake_system.hpp"

using namespace kdive::capture;
using kdive::test::fake_bzimage;

namespace {

constexpr auto put = kdive::test::put_le;

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
  SECTION("one header field off: each its own reason") {
    struct Broken {
      const char* what;
      size_t offset;
      uint64_t value;
      size_t bytes;
      const char* reason;
    };
    for (const Broken& b :
         {Broken{"no boot flag", 0x1fe, 0, 2, "0xAA55"},
          Broken{"protocol older than 2.12", 0x206, 0x020b, 2, "boot protocol 2.11 is older than 2.12"},
          Broken{"a zImage", 0x211, 0, 1, "zImage"}, Broken{"a 32-bit kernel", 0x236, 0x2, 2, "XLF_KERNEL_64"},
          Broken{"not loadable above 4 GiB", 0x236, 0x1, 2, "XLF_CAN_BE_LOADED_ABOVE_4G"}}) {
      auto broken = fake_bzimage();
      put(broken, b.offset, b.value, b.bytes);
      INFO(b.what);
      CHECK_THAT(reason(broken), Catch::Contains(b.reason));
    }
  }
}
