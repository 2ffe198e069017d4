#include "capture/writers/staged_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace kdive::capture {
namespace {

std::string directory_of(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  return dir.empty() ? "." : dir.string();
}

void sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // best effort: the rename is already visible
  ::close(fd);
}

}  // namespace

StagedFile::StagedFile(std::string final_path) : final_(std::move(final_path)) {
  std::string dir = directory_of(final_);
  std::string base = std::filesystem::path(final_).filename().string();
  if (base.empty()) throw StageError(fmt::format("{}: not a file name", final_));
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    throw StageError(fmt::format("{}: directory {} does not exist", final_, dir));
  }
  if (!S_ISDIR(st.st_mode)) throw StageError(fmt::format("{}: {} is not a directory", final_, dir));
  std::string tmpl = (std::filesystem::path(dir) / ("." + base + ".XXXXXX")).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd_ < 0) {
    throw StageError(fmt::format("{}: cannot create a file in {}: {}", final_, dir, std::strerror(errno)));
  }
  temp_ = name.data();
}

StagedFile::~StagedFile() {
  close_fd();
  if (!done_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void StagedFile::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void StagedFile::commit() {
  if (::fsync(fd_) != 0) {
    throw StageError(fmt::format("{}: fsync failed: {}", temp_, std::strerror(errno)));
  }
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw StageError(fmt::format("{}: close failed: {}", temp_, std::strerror(errno)));
  }
  fd_ = -1;
  if (::rename(temp_.c_str(), final_.c_str()) != 0) {
    throw StageError(fmt::format("{}: cannot rename {} to it: {}", final_, temp_, std::strerror(errno)));
  }
  done_ = true;
  sync_directory(directory_of(final_));
}

std::string StagedFile::keep_incomplete() {
  ::fsync(fd_);  // may fail on a full disk; what is written stays readable
  close_fd();
  std::string name = final_ + ".incomplete";
  if (::rename(temp_.c_str(), name.c_str()) != 0) {
    throw StageError(fmt::format("{}: cannot rename {} to it: {}", name, temp_, std::strerror(errno)));
  }
  done_ = true;
  sync_directory(directory_of(final_));
  return name;
}

}  // namespace kdive::capture
