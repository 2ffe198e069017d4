// Files in the page cache and their users, against the guest's own /proc:
// `files -p` lists the files workload's known.txt (one page, index 0, in the
// inode's own mapping) and mapped.bin (pages 0-2, each at the physical page
// the process's mapping translates to); `fuser` finds the files process by
// its fd of known.txt and its mapping of mapped.bin, and every task by its
// root `/`; `rd -S`/`-SS` name the task_struct cache of a task_struct's
// pointers into task_structs (line by line against crash on bullseye); a
// zeroed node of mapped.bin's page tree is a marker and exit status 3.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "dump_edit.hpp"
#include "host_tools.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using kdive::VirtAddr;
using nlohmann::json;

namespace {

constexpr uint64_t kMappedBin = 0x7f0000000000;  // the files workload's MAP_SHARED mapping, 3 pages

Truth load_truth() { return Truth::load(fixture_dir(suite()) / "truth.txt"); }

uint64_t hex(const json& j) { return std::stoull(j.get<std::string>(), nullptr, 16); }

// The results of several commands run in one kdive --json batch over the ELF
// dump, in order; the exit status must be `expected_status`.
std::vector<json> run_json_lines(const std::string& commands, int expected_status = 0) {
  const auto dir = fixture_dir(suite());
  KdiveRun r = run_kdive_args("--json -b -c " + shell_quote(commands) + " " + shell_quote((dir / "vmlinux").string()) +
                              " " + shell_quote((dir / "vmcore.elf").string()));
  INFO(commands << "\n" << r.out << r.err);
  REQUIRE(r.status == expected_status);
  std::vector<json> out;
  for (const std::string& line : lines_of(r.out)) {
    json j = json::parse(line, nullptr, false);
    REQUIRE(!j.is_discarded());
    out.push_back(std::move(j));
  }
  return out;
}

// What the files workload's two files are in the dump: known.txt's inode and
// mapping (from `files PID`), and mapped.bin's inode (from its VMA's file).
struct WorkloadFiles {
  int64_t pid = 0;
  uint64_t known_inode = 0, known_mapping = 0;
  uint64_t mapped_vma = 0, mapped_inode = 0;
  std::map<uint64_t, uint64_t> mapped_physical;  // user page -> physical address (vm -p)
};

WorkloadFiles workload_files(const Truth& t) {
  WorkloadFiles w;
  w.pid = t.roles.at("files");
  bool truth_has_fd3 = false;
  for (const TruthFd& fd : t.fds) truth_has_fd3 |= fd.pid == w.pid && fd.fd == 3 && fd.target == "/tmp/kdive/known.txt";
  REQUIRE(truth_has_fd3);
  std::vector<json> r = run_json_lines(fmt::format("files {0}; vm -p -R {1:x} {0}", w.pid, kMappedBin));
  REQUIRE(r.size() == 2);
  for (const json& fd : r[0]["result"][0]["fds"]) {
    if (fd["fd"] != 3) continue;
    REQUIRE(fd["path"] == "/tmp/kdive/known.txt");
    w.known_inode = hex(fd["inode"]);
    w.known_mapping = hex(fd["mapping"]);
  }
  REQUIRE(w.known_inode != 0);
  const json& vmas = r[1]["result"][0]["vmas"];
  REQUIRE(vmas.size() == 1);
  REQUIRE(vmas[0]["file"] == "/tmp/kdive/mapped.bin");
  w.mapped_vma = hex(vmas[0]["vma"]);
  for (const json& page : vmas[0]["pages"]) {
    if (!page["physical"].is_null()) w.mapped_physical[hex(page["virtual"])] = hex(page["physical"]);
  }
  w.mapped_inode =
      print_value(suite(), fmt::format("((struct vm_area_struct *)0x{:x})->vm_file->f_inode", w.mapped_vma));
  return w;
}

// The users of one fuser argument: pid -> usage words.
std::multimap<int64_t, std::vector<std::string>> users_of(const json& result) {
  std::multimap<int64_t, std::vector<std::string>> out;
  for (const json& u : result["users"])
    out.emplace(u["pid"].get<int64_t>(), u["usage"].get<std::vector<std::string>>());
  return out;
}

}  // namespace

TEST_CASE("files -p lists the page-cache pages of the files workload's files", "[file_pages]") {
  const Truth t = load_truth();
  if (!t.roles.count("files")) KDIVE_SKIP("this suite has no files workload");
  const WorkloadFiles w = workload_files(t);
  std::vector<json> r = run_json_lines(fmt::format("files -p {:x}; files -p {:x}", w.known_inode, w.mapped_inode));
  REQUIRE(r.size() == 2);

  // known.txt: 26 bytes, read once: one page at index 0, in the inode's own mapping.
  const json& known = r[0]["result"];
  CHECK(hex(known["inode"]) == w.known_inode);
  CHECK(hex(known["mapping"]) == w.known_mapping);
  CHECK(known["nrpages"] == 1);
  REQUIRE(known["pages"].size() == 1);
  CHECK(known["pages"][0]["index"] == 0);
  CHECK(known["pages"][0]["error"].is_null());
  CHECK(hex(known["pages"][0]["mapping"]) == w.known_mapping);

  // mapped.bin: pages 0..2, each the physical page the mapping translates to.
  const json& mapped = r[1]["result"];
  CHECK(mapped["nrpages"] == 3);
  REQUIRE(mapped["pages"].size() == 3);
  REQUIRE(w.mapped_physical.size() == 3);  // all touched, so all present
  for (uint64_t i = 0; i < 3; ++i) {
    const json& p = mapped["pages"][i];
    INFO(p.dump());
    CHECK(p["index"] == i);
    CHECK(hex(p["mapping"]) == hex(mapped["mapping"]));
    CHECK(hex(p["physical"]) == w.mapped_physical.at(kMappedBin + i * 4096));
  }

  // Text: crash's header and one page line per page.
  const auto dir = fixture_dir(suite());
  KdiveRun text = run_kdive(suite(), "elf", fmt::format("files -p {:x}", w.mapped_inode));
  REQUIRE(text.status == 0);
  const auto lines = lines_of(text.out);
  REQUIRE(lines.size() >= 7);
  CHECK(lines[0] == "      INODE        NRPAGES");
  CHECK(lines[1] == fmt::format("{:016x}        3", w.mapped_inode));
  CHECK(lines[3] == "      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS");
  for (size_t i = 0; i < 3; ++i) {
    CHECK(lines[4 + i].find(fmt::format(" {:>8x} {:>16x} {:>8x} ", w.mapped_physical.at(kMappedBin + i * 4096),
                                        hex(mapped["mapping"]), i)) == 16);
  }

  // Bad arguments: one line each, naming the argument.
  KdiveRun bad = run_kdive(suite(), "elf", "files -p 1234");
  CHECK(bad.status != 0);
  CHECK(bad.err.find("invalid inode address: 1234") != std::string::npos);
  KdiveRun not_inode = run_kdive(suite(), "elf", "files -p init_task");
  CHECK(not_inode.err.find("invalid inode address: init_task") != std::string::npos);
  const VirtAddr task = task_address(suite(), w.pid);
  KdiveRun task_word = run_kdive(suite(), "elf", fmt::format("files -p {:x}", task.value()));
  CHECK(task_word.status != 0);
  CHECK(task_word.err.find("not an inode") != std::string::npos);
}

TEST_CASE("fuser finds the users of a file by path and by inode", "[file_pages]") {
  const Truth t = load_truth();
  if (!t.roles.count("files")) KDIVE_SKIP("this suite has no files workload");
  const WorkloadFiles w = workload_files(t);
  std::vector<json> r =
      run_json_lines(fmt::format("fuser /tmp/kdive/known.txt /tmp/kdive/mapped.bin {:x}; fuser /; "
                                 "fuser /tmp/kdive/nobody-uses-this; ps",
                                 w.mapped_inode));
  REQUIRE(r.size() == 4);
  const json& three = r[0]["result"];
  REQUIRE(three.size() == 3);
  // known.txt: only the files process holds it, as fd 3 (truth `fd <pid> 3`).
  auto known = users_of(three[0]);
  REQUIRE(known.size() == 1);
  CHECK(known.begin()->first == w.pid);
  CHECK(known.begin()->second == std::vector<std::string>{"fd"});
  CHECK(three[0]["users"][0]["fds"] == json::array({3}));
  // mapped.bin: its fd is closed, only the mapping holds it; by inode the same.
  for (const json* res : {&three[1], &three[2]}) {
    auto mapped = users_of(*res);
    REQUIRE(mapped.size() == 1);
    CHECK(mapped.begin()->first == w.pid);
    CHECK(mapped.begin()->second == std::vector<std::string>{"mmap"});
  }
  CHECK(hex(three[2]["inode"]) == w.mapped_inode);

  // `/`: every task — threads, kernel threads and the idle tasks, as crash
  // counts them — has it as root and working directory. The truth's tasks
  // are checked by pid (kworkers may come and go after the snapshot: ps of
  // the dump is the list to compare counts with).
  auto root = users_of(r[1]["result"][0]);
  CHECK(root.size() == r[3]["result"].size());
  std::set<int64_t> pids;
  for (const auto& [pid, usage] : root) {
    pids.insert(pid);
    CHECK(usage == std::vector<std::string>{"root", "cwd"});
  }
  for (const TruthTask& task : t.tasks) {
    if (task.comm.starts_with("kworker/")) continue;  // may have exited after the snapshot
    INFO("pid " << task.pid << " " << task.comm);
    CHECK(pids.count(task.pid) == 1);
  }
  CHECK(r[2]["result"][0]["users"].empty());

  // Text: crash's columns.
  KdiveRun text = run_kdive(suite(), "elf", "fuser /tmp/kdive/known.txt /tmp/kdive/nobody-uses-this");
  REQUIRE(text.status == 0);
  const auto lines = lines_of(text.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == " PID         TASK        COMM             USAGE");
  CHECK(lines[1] ==
        fmt::format("{:>5}  {:016x}  {:<16} fd ", w.pid, task_address(suite(), w.pid).value(), "\"kd-files\""));
  CHECK(lines[2] == "No users of /tmp/kdive/nobody-uses-this found");

  KdiveRun bad = run_kdive(suite(), "elf", "fuser known.txt");
  CHECK(bad.status != 0);
  CHECK(bad.err.find("invalid argument: known.txt") != std::string::npos);
  CHECK(lines_of(bad.err).size() == 1);
}

TEST_CASE("rd -S names the slab cache of pointers into task_structs", "[file_pages]") {
  const Truth t = load_truth();
  const int64_t pid = t.roles.count("files") ? t.roles.at("files") : 1;
  const VirtAddr task = task_address(suite(), pid);
  const VirtAddr parent{print_value(suite(), fmt::format("&((struct task_struct *)0x{:x})->parent", task.value()))};
  const uint64_t parent_task =
      print_value(suite(), fmt::format("((struct task_struct *)0x{:x})->parent", task.value()));
  const VirtAddr tasks{print_value(suite(), fmt::format("&((struct task_struct *)0x{:x})->tasks", task.value()))};
  const uint64_t tasks_next =
      print_value(suite(), fmt::format("((struct task_struct *)0x{:x})->tasks.next", task.value()));
  const uint64_t next_task = tasks_next - (tasks - task);
  std::vector<json> r = run_json_lines(
      fmt::format("rd -S {:x} 1; rd -SS {:x} 1; rd -SS {:x} 1", parent.value(), parent.value(), tasks.value()));
  REQUIRE(r.size() == 3);
  const json& s = r[0]["result"][0]["slabs"][0];
  INFO(s.dump());
  REQUIRE(s.is_object());
  CHECK(s["name"] == "task_struct");
  CHECK(hex(s["object"]) == parent_task);  // the parent pointer points at the parent's start
  const json& ss = r[2]["result"][0]["slabs"][0];
  REQUIRE(ss.is_object());
  CHECK(ss["name"] == "task_struct");
  CHECK(hex(ss["object"]) == next_task);  // tasks.next points inside the next task

  KdiveRun text = run_kdive(
      suite(), "elf", fmt::format("rd -S {0:x} 1; rd -SS {0:x} 1; rd -SS {1:x} 1", parent.value(), tasks.value()));
  REQUIRE(text.status == 0);
  const auto lines = lines_of(text.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == fmt::format("{:016x}:  [task_struct]    ", parent.value()));
  CHECK(lines[1] == fmt::format("{:016x}:  [{:x}:task_struct] ", parent.value(), parent_task));
  CHECK(lines[2] == fmt::format("{:016x}:  [{:x}:task_struct@{:x}] ", tasks.value(), tasks_next, next_task));
}

TEST_CASE("rd -S and -SS match crash line by line", "[file_pages]") {
  if (const std::string why = crash_unusable(); !why.empty()) KDIVE_SKIP(why);
  const Truth t = load_truth();
  const VirtAddr task = task_address(suite(), t.roles.at("files"));
  // The task_struct's first 0x600 bytes hold its scheduling entity, list
  // heads (tasks, children, sibling) and parent pointers: a mix of symbols,
  // slab pointers and plain words.
  const std::string s = fmt::format("rd -S {:x} 192", task.value());
  const std::string ss = fmt::format("rd -SS {:x} 192", task.value());
  const auto crash = crash_lines(s + "\n" + ss);
  KdiveRun ours = run_kdive(suite(), "elf", s + "; " + ss);
  REQUIRE(ours.status == 0);
  std::vector<std::string> mine;
  for (std::string line : lines_of(ours.out)) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    // Deliberate difference: -SS adds "@object" when a word points inside an
    // object rather than at its start; crash shows the word only.
    line = std::regex_replace(line, std::regex("@[0-9a-f]+\\]"), "]");
    mine.push_back(line);
  }
  REQUIRE(mine.size() == crash.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    INFO("line " << i);
    CHECK(mine[i] == crash[i]);
  }
}

TEST_CASE("files -p marks a zeroed node of a file's page tree", "[file_pages]") {
  const Truth t = load_truth();
  if (!t.roles.count("files")) KDIVE_SKIP("this suite has no files workload");
  const WorkloadFiles w = workload_files(t);
  // mapped.bin's 3 pages hang from one xa_node; xa_head is that node as an
  // internal entry (low bits 10).
  const uint64_t head =
      print_value(suite(), fmt::format("((struct inode *)0x{:x})->i_mapping->i_pages.xa_head", w.mapped_inode));
  REQUIRE((head & 3) == 2);
  DamagedDump d = DamagedDump::copy_of(suite(), "elf");
  d.zero(VirtAddr{head - 2}, type_size(suite(), "struct xa_node"));
  KdiveRun text = d.run(fmt::format("files -p {:x}; files -p {:x}", w.mapped_inode, w.known_inode));
  INFO(text.out << text.err);
  CHECK(text.status == 3);
  const auto lines = lines_of(text.out);
  // The damaged file: its header, then the marker where its pages would be.
  REQUIRE(lines.size() >= 4);
  CHECK(lines[1] == fmt::format("{:016x}        3", w.mapped_inode));
  CHECK(text.out.find(fmt::format("(damaged: i_pages {:x}", head - 2)) != std::string::npos);
  // The undamaged file still shows its page.
  CHECK(text.out.find(fmt::format("{:016x}        1", w.known_inode)) != std::string::npos);
  KdiveRun j = d.run(fmt::format("files -p {:x}", w.mapped_inode), "--json");
  CHECK(j.status == 3);
  json result = json::parse(j.out.substr(0, j.out.find('\n')))["result"];
  REQUIRE(result["pages"].size() == 1);
  CHECK(result["pages"][0]["index"].is_null());
  CHECK(result["pages"][0]["error"].is_string());
}
