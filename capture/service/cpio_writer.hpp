// CpioWriter: builds a cpio "newc" archive in memory — the format the kernel
// unpacks as an initramfs (Documentation/driver-api/early-userspace/
// buffer-format.rst). Written by kdive itself so that device nodes need no
// root, entries need no files on disk, and the same inputs give the same bytes.
//
//   CpioWriter cpio;
//   cpio.directory("etc");
//   cpio.file("etc/capture.conf", text, 0644);
//   cpio.symlink("init", "usr/bin/kdive-capture");
//   cpio.char_device("dev/console", 5, 1);
//   std::vector<std::byte> image = gzip_bytes(cpio.finish());
//
// Directories are implied where missing: adding "a/b/c" first adds "a" and
// "a/b" (the kernel does not create parents for an entry).
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kdive::capture {

class CpioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class CpioWriter {
 public:
  void directory(std::string_view name, uint32_t perm = 0755);
  void file(std::string_view name, std::span<const std::byte> data, uint32_t perm = 0644);
  void file(std::string_view name, std::string_view text, uint32_t perm = 0644);
  void symlink(std::string_view name, std::string_view target);
  void char_device(std::string_view name, uint32_t major, uint32_t minor, uint32_t perm = 0600);

  // True if NAME (a file, link or directory) was added already.
  bool contains(std::string_view name) const;
  // Appends the trailer and returns the archive; the writer is empty after.
  std::vector<std::byte> finish();

 private:
  void parents(std::string_view name);
  void entry(std::string_view name, uint32_t mode, std::span<const std::byte> data, uint32_t rmajor = 0,
             uint32_t rminor = 0);

  std::vector<std::byte> out_;
  std::set<std::string, std::less<>> names_;
  uint32_t ino_ = 0;
};

// One entry read back from a newc archive (the tests' check, and `kdive-capture
// load --list`).
struct CpioEntry {
  std::string name;
  uint32_t mode = 0;
  uint32_t rmajor = 0, rminor = 0;
  std::vector<std::byte> data;
};
// Parses a whole uncompressed newc archive up to its trailer; throws CpioError
// on anything malformed.
std::vector<CpioEntry> read_cpio(std::span<const std::byte> archive);

// gzip (RFC 1952) of DATA, with a zero timestamp so equal inputs give equal
// archives; gunzip_bytes reverses it (throws CpioError on a bad stream).
std::vector<std::byte> gzip_bytes(std::span<const std::byte> data, int level = 6);
std::vector<std::byte> gunzip_bytes(std::span<const std::byte> data);

}  // namespace kdive::capture
