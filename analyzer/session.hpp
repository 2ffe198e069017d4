// Session: everything one kdive run knows about the system it inspects — the
// vmlinux, the dump — plus the shell state commands may change (quit). Commands
// receive it by reference; later layers (readers, kernel model) hang off it.
//
//   Session session(SessionFiles{.vmlinux = "vmlinux", .dump = "vmcore"});
//   session.request_quit();
#pragma once

#include <filesystem>
#include <optional>

namespace kdive {

struct SessionFiles {
  std::optional<std::filesystem::path> vmlinux;
  std::optional<std::filesystem::path> dump;
};

class Session {
 public:
  explicit Session(SessionFiles files) : files_(std::move(files)) {}

  const SessionFiles& files() const { return files_; }

  bool quit_requested() const { return quit_; }
  void request_quit() { quit_ = true; }

 private:
  SessionFiles files_;
  bool quit_ = false;
};

}  // namespace kdive
