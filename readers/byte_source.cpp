#include "readers/byte_source.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "readers/byte_reader.hpp"

namespace kdive {

std::unique_ptr<FileSource> FileSource::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FormatError(path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw FormatError(path + ": " + std::strerror(err));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    // A dump on a raw partition: the size comes from the device, not st_size.
    if (::ioctl(fd, BLKGETSIZE64, &size) != 0) size = 0;
  } else if (S_ISCHR(st.st_mode)) {
    size = UINT64_MAX;  // /dev/mem: no size; readers bound it themselves
  } else if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FormatError(path + ": not a regular file");
  }
  return std::unique_ptr<FileSource>(new FileSource(fd, size, path));
}

FileSource::~FileSource() { ::close(fd_); }

bool FileSource::read(uint64_t offset, std::span<std::byte> out) {
  auto end = checked_add(offset, out.size());
  if (!end || *end > size_) return false;
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw FormatError(path_ + ": read error at offset " + std::to_string(offset + done) + ": " +
                        std::strerror(errno));
    }
    if (n == 0) return false;  // the file shrank under us
    done += static_cast<size_t>(n);
  }
  return true;
}

bool MemorySource::read(uint64_t offset, std::span<std::byte> out) {
  auto end = checked_add(offset, out.size());
  if (!end || *end > bytes_.size()) return false;
  if (out.empty()) return true;  // memcpy wants real pointers even for 0 bytes
  std::memcpy(out.data(), bytes_.data() + offset, out.size());
  return true;
}

}  // namespace kdive
