// MappedFile: a whole file mapped read-only, unmapped when it goes away. The
// DWARF index cache is used this way: its pages are read on first touch, so
// start-up does not pay for the parts of the index a session never looks at.
//
//   auto f = MappedFile::open("dwarf-<build-id>.idx");   // nullopt if unreadable
//   std::span<const uint8_t> bytes = f->bytes();
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>

namespace kdive {

class MappedFile {
 public:
  static std::optional<MappedFile> open(const std::filesystem::path& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  MappedFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace kdive
