// ByteSource: random access to the bytes of one input — a file opened read-only,
// a buffer in memory (tests, fuzzers), or a view that reassembles another source
// (the flattened format). Dump readers are written against this, so every reader
// can be tested from a byte buffer alone.
//
//   auto file = FileSource::open("vmcore");          // throws FormatError
//   std::vector<std::byte> buf(4096);
//   if (!file->read(0, buf)) ...                      // false: past the end
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kdive {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Fills `out` from `offset`. Returns false, touching nothing useful, when the
  // range is not entirely inside the source. Throws FormatError on I/O errors.
  virtual bool read(uint64_t offset, std::span<std::byte> out) = 0;
  // The name to use in error messages (a file path, "<memory>").
  virtual const std::string& name() const = 0;
};

// A file, opened O_RDONLY: kdive never writes to its inputs.
class FileSource : public ByteSource {
 public:
  static std::unique_ptr<FileSource> open(const std::string& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  uint64_t size() const override { return size_; }
  bool read(uint64_t offset, std::span<std::byte> out) override;
  const std::string& name() const override { return path_; }

 private:
  FileSource(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_;
  uint64_t size_;
  std::string path_;
};

// Bytes held in memory.
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::vector<std::byte> bytes, std::string name = "<memory>")
      : bytes_(std::move(bytes)), name_(std::move(name)) {}

  uint64_t size() const override { return bytes_.size(); }
  bool read(uint64_t offset, std::span<std::byte> out) override;
  const std::string& name() const override { return name_; }

 private:
  std::vector<std::byte> bytes_;
  std::string name_;
};

}  // namespace kdive
