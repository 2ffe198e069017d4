// StagedFile: an output file written under a temporary name in its final
// directory and renamed into place only when complete (after fsync), so a
// dump under its final name is always whole. A dump cut short is kept as
// `NAME.incomplete`, never silently lost and never mistaken for a whole one.
//
//   StagedFile out("/var/crash/x/vmcore");        // throws StageError
//   write(out.fd(), ...);
//   out.commit();                                  // or out.keep_incomplete()
//   // destroyed without either: the temporary is removed
#pragma once

#include <stdexcept>
#include <string>

namespace kdive::capture {

class StageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StagedFile {
 public:
  // Creates `.NAME.XXXXXX` (mode 0600: a dump holds all of a machine's
  // secrets) beside `final_path`. Throws StageError naming the directory
  // when it is missing or not writable.
  explicit StagedFile(std::string final_path);
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  int fd() const { return fd_; }
  const std::string& temp_path() const { return temp_; }
  const std::string& final_path() const { return final_; }

  // fsync, rename over final_path, fsync the directory. Throws StageError.
  void commit();
  // Renames to final_path + ".incomplete" (after an fsync that may fail: the
  // disk may be full) and returns that name. Throws StageError.
  std::string keep_incomplete();

 private:
  void close_fd();
  std::string final_;
  std::string temp_;
  int fd_ = -1;
  bool done_ = false;
};

}  // namespace kdive::capture
