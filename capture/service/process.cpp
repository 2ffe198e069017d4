#include "capture/service/process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace kdive::capture {
namespace fs = std::filesystem;
namespace {

// Runs in the child: never returns.
[[noreturn]] void exec_child(const std::vector<std::string>& argv,
                             const std::vector<std::pair<std::string, std::string>>& extra_env) {
  for (const auto& [k, v] : extra_env) setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  // Written with write(2): stdio buffers are shared with the parent's copy.
  std::string msg = fmt::format("kdive-capture: cannot run {}: {}\n", argv[0], std::strerror(errno));
  ssize_t ignored = write(2, msg.data(), msg.size());
  (void)ignored;
  _exit(127);
}

int wait_status(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

}  // namespace

int run_program(const std::vector<std::string>& argv,
                const std::vector<std::pair<std::string, std::string>>& extra_env) {
  if (argv.empty()) return 127;
  pid_t pid = fork();
  if (pid < 0) return 127;
  if (pid == 0) exec_child(argv, extra_env);
  return wait_status(pid);
}

int run_pipeline(const std::vector<std::string>& writer, const std::vector<std::string>& reader,
                 const std::vector<std::pair<std::string, std::string>>& extra_env) {
  if (writer.empty() || reader.empty()) return 127;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return 127;
  pid_t w = fork();
  if (w == 0) {
    dup2(fds[1], 1);
    exec_child(writer, extra_env);
  }
  pid_t r = w < 0 ? -1 : fork();
  if (r == 0) {
    dup2(fds[0], 0);
    exec_child(reader, extra_env);
  }
  close(fds[0]);
  close(fds[1]);
  int ws = w < 0 ? 127 : wait_status(w);
  int rs = r < 0 ? 127 : wait_status(r);
  return ws != 0 ? ws : rs;
}

std::string self_executable() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

std::string find_program(const std::string& name) {
  std::error_code ec;
  if (name.find('/') != std::string::npos) return fs::exists(name, ec) ? name : std::string();
  std::string self = self_executable();
  if (!self.empty()) {
    fs::path beside = fs::path(self).parent_path() / name;
    if (access(beside.c_str(), X_OK) == 0) return beside.string();
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate, ec)) return candidate.string();
  }
  return "";
}

std::vector<std::string> split_command(const std::string& command) {
  std::vector<std::string> out;
  std::istringstream in(command);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string write_stream_to(int in_fd, const std::string& path, int wait_seconds) {
  int out = -1;
  for (int tenths = 0;; ++tenths) {
    out = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (out >= 0 || errno != ENOENT || tenths >= wait_seconds * 10) break;
    ::usleep(100000);
  }
  if (out < 0) return fmt::format("{}: {}", path, std::strerror(errno));
  std::vector<char> buf(1 << 16);
  std::string problem;
  for (;;) {
    ssize_t n = ::read(in_fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem = fmt::format("reading standard input: {}", std::strerror(errno));
      break;
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out, buf.data() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        problem = fmt::format("{}: write error: {}", path, w < 0 ? std::strerror(errno) : "wrote nothing");
        break;
      }
      done += w;
    }
    if (!problem.empty()) break;
  }
  if (::close(out) != 0 && problem.empty()) problem = fmt::format("{}: {}", path, std::strerror(errno));
  return problem;
}

std::string describe_status(int status) {
  if (status == 127) return "could not be started";
  if (status > 128) return fmt::format("killed by signal {}", status - 128);
  return fmt::format("exit status {}", status);
}

}  // namespace kdive::capture
