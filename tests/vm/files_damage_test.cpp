// Open files over a damaged dump: a dentry is zeroed on purpose in a copy of
// the fixture (dump_edit.hpp), and `files` must still show every other fd of
// the "files" workload with its truth path (truth.txt `fd` lines) and mark the
// damaged one with its fd, its struct file and what could not be read — never
// an empty path or a root — with a JSON `error` and batch exit status 3.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "dump_edit.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Catch::Matchers::Contains;
using kdive::VirtAddr;

namespace {

// The "files" workload and what truth says it holds open: fd -> path.
struct FilesTask {
  Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  int64_t pid = truth.role("files");
  VirtAddr task = task_address(suite(), pid);
  std::map<int, std::string> fds = [this] {
    std::map<int, std::string> out;
    for (const TruthFd& f : truth.fds) {
      if (f.pid == pid) out[f.fd] = f.target;
    }
    return out;
  }();

  // The first fd whose truth path starts with `prefix`.
  int fd_of(const std::string& prefix) const {
    for (const auto& [fd, path] : fds) {
      if (path.rfind(prefix, 0) == 0) return fd;
    }
    FAIL("no fd of pid " << pid << " is " << prefix << "...");
    return -1;
  }
  // The struct file and dentry of an fd, read by `p` on the fixture's own dump.
  uint64_t file(int fd) const {
    return print_value(suite(), fmt::format("((struct task_struct *){:#x})->files->fdt->fd[{}]", task.value(), fd));
  }
  uint64_t dentry(int fd) const {
    return print_value(suite(), fmt::format("((struct file *){:#x})->f_path.dentry", file(fd)));
  }
};

// The rows `files` prints for readable fds: fd -> path.
std::map<int, std::string> file_rows(const std::string& out) {
  std::map<int, std::string> rows;
  const std::regex row(R"(^ *(\d+) [0-9a-f]{16} [0-9a-f]{16} [0-9a-f]{16} \S+ +(.*)$)");
  for (const std::string& line : lines_of(out)) {
    std::smatch m;
    if (std::regex_match(line, m, row)) rows[std::stoi(m[1])] = m[2];
  }
  return rows;
}

// The JSON fds of the one task `files PID` shows: fd -> element.
std::map<int, nlohmann::json> json_fds(const KdiveRun& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  INFO(r.out << r.err);
  REQUIRE_FALSE(j.is_discarded());
  REQUIRE(j.contains("result"));
  REQUIRE(j["result"].size() == 1);
  std::map<int, nlohmann::json> out;
  for (const auto& f : j["result"][0]["fds"]) out[f["fd"].get<int>()] = f;
  return out;
}

// Both halves for one zeroed dentry: every other fd with its truth path, that
// one marked with what is wrong, in text and JSON, and data lost.
void check_one_zeroed_dentry(const FilesTask& f, int damaged, DamagedDump& d) {
  const uint64_t file = f.file(damaged);
  const uint64_t dentry = f.dentry(damaged);
  const std::string why = fmt::format("dentry {:x}: d_parent, d_name.name, d_inode and d_sb are NULL", dentry);

  KdiveRun r = d.run(fmt::format("files {}", f.pid));
  INFO(r.out << r.err);
  CHECK(r.status == kDataLost);
  std::map<int, std::string> expected = f.fds;
  expected.erase(damaged);
  CHECK(file_rows(r.out) == expected);
  CHECK_THAT(r.out, Contains(fmt::format("\n{:>3} {:016x} (damaged: {})\n", damaged, file, why)));
  CHECK_THAT(r.out, Contains(fmt::format("1 of {} open files could not be read", f.fds.size())));

  KdiveRun j = d.run(fmt::format("files {}", f.pid), "--json");
  CHECK(j.status == kDataLost);
  auto fds = json_fds(j);
  REQUIRE(fds.size() == f.fds.size());
  for (const auto& [fd, path] : expected) {
    INFO("fd " << fd);
    CHECK(fds[fd]["path"] == path);
    CHECK(fds[fd]["error"].is_null());
  }
  CHECK(fds[damaged]["file"] == fmt::format("{:#x}", file));
  CHECK(fds[damaged]["path"].is_null());
  CHECK(fds[damaged]["error"] == why);
  CHECK_THAT(j.out, Contains(fmt::format("\"lost\":[\"PID {} fd {}: {}\"]", f.pid, damaged, why)));
}

}  // namespace

TEST_CASE("a zeroed dentry of an open file: every other fd keeps its path, that one is marked", "[files_damage]") {
  const FilesTask f;
  const int damaged = f.fd_of("/tmp/kdive/known.txt");
  DamagedDump d = DamagedDump::copy_of(suite());
  d.zero(VirtAddr{f.dentry(damaged)}, type_size(suite(), "struct dentry"));
  check_one_zeroed_dentry(f, damaged, d);

  // foreach files reaches the same marker and says data was lost.
  KdiveRun all = d.run("foreach files");
  CHECK(all.status == kDataLost);
  CHECK_THAT(all.out, Contains(fmt::format("{:>3} {:016x} (damaged: dentry {:x}: ", damaged, f.file(damaged),
                                           f.dentry(damaged))));
}

TEST_CASE("a zeroed socket dentry is damage too, though the socket's name comes from its inode", "[files_damage]") {
  const FilesTask f;
  const int damaged = f.fd_of("socket:[");
  DamagedDump d = DamagedDump::copy_of(suite());
  d.zero(VirtAddr{f.dentry(damaged)}, type_size(suite(), "struct dentry"));
  check_one_zeroed_dentry(f, damaged, d);
}

TEST_CASE("a zeroed root dentry: no path is taken for \"/\", pipes and sockets still show", "[files_damage]") {
  const FilesTask f;
  const uint64_t root =
      print_value(suite(), fmt::format("((struct task_struct *){:#x})->fs->root.dentry", f.task.value()));
  DamagedDump d = DamagedDump::copy_of(suite());
  d.zero(VirtAddr{root}, type_size(suite(), "struct dentry"));

  KdiveRun r = d.run(fmt::format("files {}", f.pid));
  INFO(r.out << r.err);
  CHECK(r.status == kDataLost);
  // On a path, a dentry needs its parent and its name.
  CHECK_THAT(r.out, Contains(fmt::format("ROOT: (damaged: dentry {:x}: d_parent and d_name.name are NULL)", root)));
  // Every path leads up to the root: each such fd is marked, none printed.
  std::map<int, std::string> pseudo;
  size_t paths = 0;
  for (const auto& [fd, path] : f.fds) {
    if (path.front() == '/') {
      ++paths;
      CHECK(std::regex_search(
          r.out,
          std::regex(fmt::format(
              R"(\n *{} [0-9a-f]{{16}} \(damaged: dentry {:x}: d_parent and d_name.name are NULL\)\n)", fd, root))));
    } else {
      pseudo[fd] = path;
    }
  }
  REQUIRE(paths > 0);
  REQUIRE_FALSE(pseudo.empty());
  CHECK(file_rows(r.out) == pseudo);
  CHECK_THAT(r.out, Contains(fmt::format("{} of {} open files could not be read", paths, f.fds.size())));
}
