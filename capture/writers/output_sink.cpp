#include "capture/writers/output_sink.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace kdive::capture {
namespace {

std::array<std::byte, 8> big_endian(int64_t value) {
  std::array<std::byte, 8> out;
  auto v = static_cast<uint64_t>(value);
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::byte>(v & 0xff);
    v >>= 8;
  }
  return out;
}

}  // namespace

void FileSink::write_at(uint64_t offset, std::span<const std::byte> bytes) {
  uint64_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;  // pwrite returning 0 for a non-empty write: no room
      throw WriteError(fmt::format("{}: write at offset {} failed: {}", name_, offset + done, std::strerror(e)), e,
                       done);
    }
    done += static_cast<uint64_t>(n);
  }
}

void FileSink::reserve(uint64_t offset, uint64_t size) {
  if (size == 0) return;
  int e = ::posix_fallocate(fd_, static_cast<off_t>(offset), static_cast<off_t>(size));
  // Filesystems without fallocate: the writes will say whether there is room.
  if (e == 0 || e == EOPNOTSUPP || e == EINVAL) return;
  throw WriteError(fmt::format("{}: cannot allocate {} bytes: {}", name_, size, std::strerror(e)), e, 0);
}

void FileSink::finish() {
  if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
    int e = errno;
    throw WriteError(fmt::format("{}: fsync failed: {}", name_, std::strerror(e)), e, 0);
  }
}

FlattenedSink::FlattenedSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

void FlattenedSink::put(std::span<const std::byte> bytes) {
  uint64_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      throw WriteError(fmt::format("{}: write failed: {}", name_, std::strerror(e)), e, done);
    }
    done += static_cast<uint64_t>(n);
  }
}

void FlattenedSink::write_at(uint64_t offset, std::span<const std::byte> bytes) {
  if (!header_written_) {
    std::array<std::byte, kFlattenedHeaderSize> header{};
    std::memcpy(header.data(), kFlattenedSignature, sizeof kFlattenedSignature - 1);
    auto type = big_endian(1);  // type 1, version 1
    std::memcpy(header.data() + 16, type.data(), 8);
    std::memcpy(header.data() + 24, type.data(), 8);
    put(header);
    header_written_ = true;
  }
  if (bytes.empty()) return;
  std::array<std::byte, 16> record;
  auto o = big_endian(static_cast<int64_t>(offset));
  auto s = big_endian(static_cast<int64_t>(bytes.size()));
  std::memcpy(record.data(), o.data(), 8);
  std::memcpy(record.data() + 8, s.data(), 8);
  put(record);
  put(bytes);
}

void FlattenedSink::finish() {
  write_at(0, {});  // the header, should nothing have been written
  std::array<std::byte, 16> end;
  auto m = big_endian(-1);
  std::memcpy(end.data(), m.data(), 8);
  std::memcpy(end.data() + 8, m.data(), 8);
  put(end);
}

}  // namespace kdive::capture
