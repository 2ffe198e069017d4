// BzImage: what kdive-kexec checks in a kernel image before handing it to
// kexec_file_load — the x86 boot protocol's setup header (the kernel's
// Documentation/arch/x86/boot.rst). The kernel answers ENOEXEC for any image
// its bzImage64 loader refuses, without saying why; probing the header first
// turns that into a reason ("no HdrS magic", "boot protocol 2.11 < 2.12", …).
//
//   std::vector<std::byte> head = read_head(kernel_path, kBzImageHeaderBytes);
//   BzImage image = probe_bzimage(head);      // throws KexecError(reason)
//   image.init_size;                          // memory it needs to start
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kdive::capture {

// Bytes of a file the probe needs (the setup header ends before 0x268).
inline constexpr size_t kBzImageHeaderBytes = 0x268;

struct BzImage {
  uint16_t protocol = 0;      // boot protocol version, 0x020f = 2.15
  uint32_t init_size = 0;     // bytes the kernel needs, from its load address, to decompress and start
  uint32_t cmdline_size = 0;  // longest command line it takes, without the NUL
  std::string version;        // its version string ("6.1.0-57-cloud-amd64 (…) #1 SMP …"), or empty
};

// Checks what the kernel's x86-64 kexec loader requires: the "HdrS" magic, a
// boot sector flag, protocol ≥ 2.12, LOADED_HIGH, XLF_KERNEL_64 and
// XLF_CAN_BE_LOADED_ABOVE_4G. HEAD is the file's start (at least
// kBzImageHeaderBytes; the version string is read when HEAD holds it).
// Throws KexecError with the reason, without a file name (the caller adds it).
BzImage probe_bzimage(std::span<const std::byte> head);

// Reads up to MAX_BYTES from the start of PATH; throws KexecError
// ("PATH: cannot open: …") when the file cannot be read, or is a directory.
std::vector<std::byte> read_file_head(const std::string& path, size_t max_bytes);

}  // namespace kdive::capture
