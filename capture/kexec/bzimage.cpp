// probe_bzimage: the x86 setup header checks that make ENOEXEC explainable.
#include "capture/kexec/bzimage.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "capture/kexec/kexec_error.hpp"

namespace kdive::capture {

namespace {

// Setup header offsets (boot protocol, Documentation/arch/x86/boot.rst).
constexpr size_t kBootFlag = 0x1fe;       // u16 0xAA55
constexpr size_t kHeaderMagic = 0x202;    // "HdrS"
constexpr size_t kVersion = 0x206;        // u16 protocol version
constexpr size_t kKernelVersion = 0x20e;  // u16 offset of the version string, minus 0x200
constexpr size_t kLoadFlags = 0x211;      // u8, bit 0 LOADED_HIGH (a bzImage)
constexpr size_t kCmdlineSize = 0x238;    // u32, protocol 2.06+
constexpr size_t kXLoadFlags = 0x236;     // u16, protocol 2.12+
constexpr size_t kInitSize = 0x260;       // u32, protocol 2.10+
constexpr uint16_t kXlfKernel64 = 0x1;
constexpr uint16_t kXlfAbove4G = 0x2;

uint32_t little(std::span<const std::byte> head, size_t offset, size_t bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value |= uint32_t(std::to_integer<uint8_t>(head[offset + i])) << (8 * i);
  return value;
}

}  // namespace

BzImage probe_bzimage(std::span<const std::byte> head) {
  if (head.size() < kHeaderMagic + 4 || std::memcmp(head.data() + kHeaderMagic, "HdrS", 4) != 0) {
    throw KexecError(
        "not a bzImage: no \"HdrS\" setup header magic at offset 0x202 (an x86 kernel is "
        "loaded as the vmlinuz/bzImage file, not as vmlinux or a compressed vmlinux)");
  }
  if (head.size() < kBzImageHeaderBytes) throw KexecError("not a bzImage: the file ends inside the setup header");
  if (little(head, kBootFlag, 2) != 0xaa55) throw KexecError("not a bzImage: no 0xAA55 boot flag at offset 0x1fe");
  BzImage image;
  image.protocol = uint16_t(little(head, kVersion, 2));
  // The kernel's 64-bit loader reads xloadflags, which protocol 2.12 added.
  if (image.protocol < 0x020c) {
    throw KexecError(
        fmt::format("boot protocol {}.{:02} is older than 2.12, the oldest the kernel's "
                    "kexec_file_load accepts",
                    image.protocol >> 8, image.protocol & 0xff));
  }
  if ((little(head, kLoadFlags, 1) & 0x1) == 0) throw KexecError("a zImage, not a bzImage (LOADED_HIGH is clear)");
  const uint32_t xloadflags = little(head, kXLoadFlags, 2);
  if ((xloadflags & kXlfKernel64) == 0) throw KexecError("not a 64-bit kernel (XLF_KERNEL_64 is clear)");
  if ((xloadflags & kXlfAbove4G) == 0) {
    throw KexecError("the kernel cannot be loaded above 4 GiB (XLF_CAN_BE_LOADED_ABOVE_4G is clear)");
  }
  image.init_size = little(head, kInitSize, 4);
  image.cmdline_size = little(head, kCmdlineSize, 4);
  const size_t text = little(head, kKernelVersion, 2);
  if (text != 0 && text + 0x200 < head.size()) {
    const auto* begin = reinterpret_cast<const char*>(head.data()) + text + 0x200;
    const auto* end = reinterpret_cast<const char*>(head.data()) + head.size();
    image.version.assign(begin, std::find(begin, end, '\0'));
  }
  return image;
}

std::vector<std::byte> read_file_head(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw KexecError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw KexecError(fmt::format("{}: is a directory, not a file", path));
  }
  std::vector<std::byte> data(max_bytes);
  size_t have = 0;
  while (have < max_bytes) {
    const ssize_t n = ::read(fd, data.data() + have, max_bytes - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw KexecError(fmt::format("{}: cannot read: {}", path, std::strerror(error)));
    }
    if (n == 0) break;
    have += size_t(n);
  }
  ::close(fd);
  data.resize(have);
  return data;
}

}  // namespace kdive::capture
