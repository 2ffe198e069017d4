// OutputSink: where a dump writer's bytes go — a file written at offsets, or a
// flattened stream (makedumpfile -F: records {offset, size, data} in write
// order, for a pipe). Writers only say "these bytes at this offset", so the
// same writer makes a file or a stream, and tests can inject a failing sink.
//
//   FileSink file(fd, "vmcore.tmp");
//   file.reserve(0, metadata_bytes);          // ENOSPC now, not half way
//   file.write_at(0, header_bytes);           // throws WriteError
//   FlattenedSink stream(STDOUT_FILENO, "<stdout>");
//   stream.finish();                          // the end marker
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace kdive::capture {

// A write that failed. `written` bytes of the failed call did reach the
// output (a short write before ENOSPC): writers keep what is whole.
class WriteError : public std::runtime_error {
 public:
  WriteError(const std::string& what, int error, uint64_t written)
      : std::runtime_error(what), error_(error), written_(written) {}
  int error() const { return error_; }  // errno
  uint64_t written() const { return written_; }

 private:
  int error_;
  uint64_t written_;
};

class OutputSink {
 public:
  virtual ~OutputSink() = default;
  // Writes all of `bytes` at `offset` or throws WriteError.
  virtual void write_at(uint64_t offset, std::span<const std::byte> bytes) = 0;
  // Allocates [offset, offset+size) now when the sink can (metadata written
  // later must not run out of space). A no-op for streams.
  virtual void reserve(uint64_t offset, uint64_t size) {
    (void)offset;
    (void)size;
  }
  // Whether a later write_at may overwrite an earlier one: true for files and
  // for flattened streams (later records win), false for a plain stream.
  virtual bool random_access() const { return true; }
  // Flushes; a stream writes its end marker. Throws WriteError.
  virtual void finish() = 0;
  virtual const std::string& name() const = 0;
};

// A file descriptor written with pwrite. Does not own the descriptor.
class FileSink : public OutputSink {
 public:
  FileSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  void write_at(uint64_t offset, std::span<const std::byte> bytes) override;
  void reserve(uint64_t offset, uint64_t size) override;
  void finish() override;  // fsync
  const std::string& name() const override { return name_; }

 private:
  int fd_;
  std::string name_;
};

// makedumpfile's flattened format on a sequential descriptor (a pipe, stdout):
// a 4096-byte header, then big-endian {offset, size} records with their data,
// ended by offset = size = -1 (see readers/flattened.hpp).
class FlattenedSink : public OutputSink {
 public:
  FlattenedSink(int fd, std::string name);
  void write_at(uint64_t offset, std::span<const std::byte> bytes) override;
  void finish() override;
  const std::string& name() const override { return name_; }

 private:
  void put(std::span<const std::byte> bytes);
  int fd_;
  std::string name_;
  bool header_written_ = false;
};

// The flattened stream's header block and record header, shared with -R.
inline constexpr size_t kFlattenedHeaderSize = 4096;
inline constexpr char kFlattenedSignature[] = "makedumpfile";

}  // namespace kdive::capture
