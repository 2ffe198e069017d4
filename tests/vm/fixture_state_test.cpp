// The guest's system state (sockets, SysV IPC, BPF objects, signal masks, a
// tmpfs; data/guest/workload.c's net, ipc, bpf and signals roles) as the
// commands kdive already has see it: ps names the tasks, files lists their
// sockets, the tmpfs file and the BPF objects' descriptors as /proc/PID/fd
// did, and p reads the signal state /proc/PID/status showed. The commands
// written for this state (net, ipcs, bpf, sig, dev, mount) test against the
// same truth records.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "run_kdive.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

const char* const kRoles[] = {"net", "ipc", "bpf", "signals"};

// pid -> fd -> the path /proc/PID/fd's link gave.
std::map<int, std::string> truth_fds(const Truth& t, int64_t pid) {
  std::map<int, std::string> fds;
  for (const TruthFd& fd : t.fds) {
    if (fd.pid == pid) fds[fd.fd] = fd.target;
  }
  return fds;
}

// fd -> {type, path} of kdive's `files PID`.
std::map<int, std::pair<std::string, std::string>> kdive_fds(int64_t pid) {
  json r = json_result_of(suite(), "files " + std::to_string(pid));
  REQUIRE(r.size() == 1);
  std::map<int, std::pair<std::string, std::string>> fds;
  for (const json& fd : r[0].at("fds")) {
    fds[fd.at("fd").get<int>()] = {fd.at("type").get<std::string>(), fd.at("path").get<std::string>()};
  }
  return fds;
}

// The fd whose /proc link named `target` ("socket:[1234]"); -1 if none.
int fd_of(const std::map<int, std::string>& fds, const std::string& target) {
  for (const auto& [fd, path] : fds) {
    if (path == target) return fd;
  }
  return -1;
}

std::string socket_path(uint64_t inode) { return "socket:[" + std::to_string(inode) + "]"; }

// p's JSON gives pointers, and integers beyond 2^53, as "0x..." strings.
uint64_t value_of(const json& v) {
  return v.is_string() ? std::stoull(v.get<std::string>(), nullptr, 16) : v.get<uint64_t>();
}

uint64_t p_value(const std::string& expression) {
  return value_of(json_result_of(suite(), "p " + expression)[0].at("value"));
}

}  // namespace

TEST_CASE("the system-state workloads run under their names", "[fixture_state]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  for (const char* role : kRoles) {
    const int64_t pid = t.role(role);
    INFO("role " << role << " pid " << pid);
    const std::string comm = std::string("kd-") + role;
    auto task = t.task(pid);
    REQUIRE(task);
    CHECK(task->comm == comm);  // the guest's own view, which kdive must match
    json r = json_result_of(suite(), "ps " + std::to_string(pid));
    REQUIRE(r.size() == 1);
    CHECK(r[0].at("comm") == comm);
    CHECK(r[0].at("state") == ps_state_code(task->state));
    CHECK(r[0].at("kernel_thread") == false);
  }
}

TEST_CASE("files shows the ipc workload's tmpfs file where /proc did", "[fixture_state]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  REQUIRE(t.tmpfs_file);
  const int64_t pid = t.role("ipc");
  REQUIRE(t.tmpfs_file->pid == pid);
  // The file is on its own tmpfs mount: kdive's path crosses into it.
  const TruthMount* m = t.mount(system_state::kTmpfsDir);
  REQUIRE(m != nullptr);
  CHECK(m->type == "tmpfs");
  CHECK(t.tmpfs_file->path.rfind(std::string(system_state::kTmpfsDir) + "/", 0) == 0);
  auto fds = kdive_fds(pid);
  auto it = fds.find(t.tmpfs_file->fd);
  REQUIRE(it != fds.end());
  CHECK(it->second.first == "REG");
  CHECK(it->second.second == t.tmpfs_file->path);
  CHECK(truth_fds(t, pid).at(t.tmpfs_file->fd) == t.tmpfs_file->path);
}

TEST_CASE("files shows the net workload's TCP and unix sockets by inode", "[fixture_state]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t pid = t.role("net");
  const auto proc = truth_fds(t, pid);
  const auto dump = kdive_fds(pid);

  // fd -> socket inode, from each socket record of the truth.
  std::map<int, uint64_t> sockets;
  REQUIRE(t.tcp_listen.size() == 1);
  CHECK(t.tcp_listen[0].pid == pid);
  CHECK(t.tcp_listen[0].addr == "127.0.0.1");
  CHECK(t.tcp_listen[0].port == system_state::kTcpPort);
  const int listener = fd_of(proc, socket_path(t.tcp_listen[0].inode));
  REQUIRE(listener >= 0);
  sockets[listener] = t.tcp_listen[0].inode;
  REQUIRE(t.tcp_conns.size() == 2);  // client and accepted end
  for (const TruthTcpConn& c : t.tcp_conns) sockets[c.fd] = c.inode;
  CHECK(t.tcp_conns[0].local_port == t.tcp_conns[1].remote_port);
  CHECK(t.tcp_conns[1].local_port == t.tcp_conns[0].remote_port);
  REQUIRE(t.unix_pairs.size() == 1);
  for (int i = 0; i < 2; ++i) sockets[t.unix_pairs[0].fd[i]] = t.unix_pairs[0].inode[i];
  REQUIRE(sockets.size() == 5);  // five distinct descriptors

  for (const auto& [fd, inode] : sockets) {
    INFO("fd " << fd << " inode " << inode);
    CHECK(proc.at(fd) == socket_path(inode));
    auto it = dump.find(fd);
    REQUIRE(it != dump.end());
    CHECK(it->second.first == "SOCK");
    CHECK(it->second.second == socket_path(inode));
  }
}

TEST_CASE("files shows the bpf workload's program, map and filtered socket", "[fixture_state]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t pid = t.role("bpf");
  const TruthBpf* prog = t.bpf_object(false, system_state::kBpfProg);
  const TruthBpf* map = t.bpf_object(true, system_state::kBpfMap);
  REQUIRE(prog != nullptr);
  REQUIRE(map != nullptr);
  CHECK(prog->type == "SOCKET_FILTER");
  CHECK(map->type == "ARRAY");
  CHECK(prog->id != 0);
  CHECK(map->id != 0);
  REQUIRE(t.bpf_fds.size() == 2);
  REQUIRE(t.bpf_socket);

  const auto proc = truth_fds(t, pid);
  const auto dump = kdive_fds(pid);
  for (const TruthBpfFd& fd : t.bpf_fds) {
    INFO("fd " << fd.fd);
    CHECK(fd.pid == pid);
    CHECK(fd.id == (fd.map ? map->id : prog->id));
    auto it = dump.find(fd.fd);
    REQUIRE(it != dump.end());
    // /proc names a BPF object's file by its anonymous inode
    // (anon_inode:bpf-prog, anon_inode:bpf-map); kdive names it the same way.
    CHECK(it->second.second == proc.at(fd.fd));
    CHECK(it->second.second == (fd.map ? "anon_inode:bpf-map" : "anon_inode:bpf-prog"));
  }
  auto sock = dump.find(t.bpf_socket->fd);
  REQUIRE(sock != dump.end());
  CHECK(sock->second == std::make_pair(std::string("SOCK"), t.bpf_socket->path));
}

TEST_CASE("the tasks' signal state is what /proc/PID/status showed", "[fixture_state]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  // The signals workload must give each mask something to match: SIGUSR1
  // (10) caught, SIGUSR2 (12) blocked and pending for the thread and the
  // process, SIGTERM (15) ignored.
  const int64_t signals = t.role("signals");
  CHECK(t.sig_mask(signals, "SigCgt") >> 9 & 1);
  CHECK(t.sig_mask(signals, "SigBlk") >> 11 & 1);
  CHECK(t.sig_mask(signals, "SigPnd") >> 11 & 1);
  CHECK(t.sig_mask(signals, "ShdPnd") >> 11 & 1);
  CHECK(t.sig_mask(signals, "SigIgn") >> 14 & 1);

  REQUIRE(t.sig.size() >= 4);
  for (const auto& [pid, masks] : t.sig) {
    INFO("pid " << pid);
    json ps = json_result_of(suite(), "ps " + std::to_string(pid));
    REQUIRE(ps.size() == 1);
    const std::string task = "((struct task_struct *)" + ps[0].at("task").get<std::string>() + ")";
    // x86_64 has 64 signals: one unsigned long per sigset_t, as /proc's 16
    // hex digits show.
    CHECK(p_value(task + "->blocked.sig[0]") == masks.at("SigBlk"));
    CHECK(p_value(task + "->pending.signal.sig[0]") == masks.at("SigPnd"));
    CHECK(p_value(task + "->signal->shared_pending.signal.sig[0]") == masks.at("ShdPnd"));
    // /proc derives SigIgn and SigCgt from the handlers: SIG_IGN (1), or a
    // handler other than SIG_DFL (0).
    json actions = json_result_of(suite(), "p " + task + "->sighand->action")[0].at("value");
    REQUIRE(actions.size() == 64);
    uint64_t ignored = 0, caught = 0;
    for (size_t i = 0; i < actions.size(); ++i) {
      const uint64_t handler = value_of(actions[i].at("sa").at("sa_handler"));
      if (handler == 1) ignored |= uint64_t{1} << i;
      if (handler > 1) caught |= uint64_t{1} << i;
    }
    CHECK(ignored == masks.at("SigIgn"));
    CHECK(caught == masks.at("SigCgt"));
  }
}
