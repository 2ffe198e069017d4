// The other forms of struct and its relatives on real crashed kernels: -r
// (raw bytes), -l (an address inside the instance), -p (pointers followed),
// :cpuspec, the `*` command and a type name as the command; whatis -r/-m;
// ptov OFFSET:cpuspec; ps -y. Each is checked against what the guest said
// (truth.txt) or what another command reads, and against crash 8.0.2 on the
// one fixture it reads.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "crash_compare.hpp"
#include "kdive_ok.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Json = nlohmann::json;

namespace {

Truth truth() { return Truth::load(fixture_dir(suite()) / "truth.txt"); }

// The address `struct TYPE.MEMBER -o ADDRESS` gives for the member.
uint64_t member_address(const std::string& member, uint64_t base) {
  const std::string out = kdive_ok(fmt::format("struct {} -o {:x}", member, base));
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex(R"(\[([0-9a-f]+)\])")));
  return std::stoull(m[1], nullptr, 16);
}

// "  SIZE  NAME" lines of whatis -r/-m: name -> size.
std::map<std::string, uint64_t> whatis_listing(const std::vector<std::string>& lines) {
  std::map<std::string, uint64_t> out;
  std::regex row(R"(^ *(\d+)  (.+)$)");
  for (const auto& l : lines) {
    std::smatch m;
    if (std::regex_match(l, m, row)) out[m[2]] = std::stoull(m[1]);
  }
  return out;
}

}  // namespace

TEST_CASE("struct -r shows a member's bytes where struct -o puts it", "[struct_forms]") {
  const uint64_t init_task = truth().ksym.at("init_task");
  const uint64_t comm = member_address("task_struct.comm", init_task);
  const auto out = lines_of(kdive_ok(fmt::format("struct task_struct.comm -r {:x}", init_task)));
  // comm[16] is two 64-bit words on one line, its ASCII "swapper/0" then NULs.
  REQUIRE(out.size() == 1);
  CHECK(out[0].starts_with(fmt::format("{:x}:  ", comm)));
  CHECK(out[0].ends_with("   swapper/0......."));
  // A 4-byte member is one 32-bit value: pid 0.
  const uint64_t pid = member_address("task_struct.pid", init_task);
  CHECK(kdive_ok(fmt::format("struct task_struct.pid -r {:x}", init_task)) ==
        fmt::format("{:x}:  00000000                              ....\n", pid));
}

TEST_CASE("struct -l, *TYPE and TYPE ADDRESS name the same instance as struct", "[struct_forms]") {
  const uint64_t init_task = truth().ksym.at("init_task");
  const uint64_t tasks = member_address("task_struct.tasks", init_task);
  const std::string plain = kdive_ok(fmt::format("struct task_struct.pid,comm,tasks {:x}", init_task));
  CHECK(plain.find("  comm = \"swapper/0\\000") != std::string::npos);
  // -l: the address is that of init_task.tasks, as a list walk yields it.
  CHECK(kdive_ok(fmt::format("struct task_struct.pid,comm,tasks -l task_struct.tasks {:x}", tasks)) == plain);
  CHECK(kdive_ok(fmt::format("struct task_struct.pid,comm,tasks -l {} {:x}", tasks - init_task, tasks)) == plain);
  CHECK(kdive_ok(fmt::format("*task_struct.pid,comm,tasks {:x}", init_task)) == plain);
  CHECK(kdive_ok(fmt::format("* task_struct.pid,comm,tasks {:x}", init_task)) == plain);
  CHECK(kdive_ok(fmt::format("task_struct.pid,comm,tasks {:x}", init_task)) == plain);
  // A word that names a command stays the command.
  CHECK(kdive_ok("sym init_task").find("init_task") != std::string::npos);
  KdiveRun bad = run_kdive(suite(), "elf", "*no_such_struct 0; echo next");
  CHECK(bad.err.find("no_such_struct") != std::string::npos);
  CHECK(bad.out == "next\n");
}

TEST_CASE("struct TYPE SYMBOL:cpuspec and ptov OFFSET:cpuspec give each CPU's copy", "[struct_forms]") {
  const Truth t = truth();
  const std::string all = kdive_ok("struct rq.cpu runqueues:a");
  std::regex copy(R"(\[(\d+)\]: ([0-9a-f]{16})\n  cpu = (\d+),\n)");
  std::map<int, uint64_t> copies;
  for (auto it = std::sregex_iterator(all.begin(), all.end(), copy); it != std::sregex_iterator(); ++it) {
    const int cpu = std::stoi((*it)[1]);
    // Each runqueue knows its own CPU.
    CHECK(std::stoi((*it)[3]) == cpu);
    copies[cpu] = std::stoull((*it)[2], nullptr, 16);
  }
  REQUIRE(static_cast<int>(copies.size()) == t.cpus);
  // Every copy is one per-CPU offset past its CPU's base, as the guest read
  // __per_cpu_offset[].
  std::set<uint64_t> offsets;
  for (auto [cpu, address] : copies) offsets.insert(address - t.kvar.at(fmt::format("__per_cpu_offset[{}]", cpu)));
  REQUIRE(offsets.size() == 1);
  const uint64_t offset = *offsets.begin();
  CHECK(kdive_ok("struct rq.cpu runqueues:1") == fmt::format("[1]: {:x}\n  cpu = 1,\n", copies.at(1)));
  CHECK(kdive_ok("struct rq.cpu runqueues:0,1") == all);

  const std::string ptov = kdive_ok(fmt::format("ptov {:x}:a", offset));
  CHECK(ptov.starts_with(fmt::format("PER-CPU OFFSET: {:x}\n", offset)));
  for (auto [cpu, address] : copies) CHECK(ptov.find(fmt::format("  [{}]  {:x}\n", cpu, address)) != std::string::npos);

  KdiveRun bad = run_kdive(suite(), "elf", "struct rq.cpu runqueues:99; echo next");
  CHECK(bad.err.find("99") != std::string::npos);
  CHECK(bad.out == "next\n");
}

TEST_CASE("struct -p follows each pointer: a function pointer to its symbol", "[struct_forms]") {
  const std::string out = kdive_ok("struct file_operations -p pipefifo_fops");
  // "  TYPE (*NAME)(...) = 0xADDRESS" then "  -> <SYMBOL>": the symbol must be
  // at that address.
  std::regex followed(R"(\) = 0x([0-9a-f]+)\n  -> <([A-Za-z_0-9.]+)>\n)");
  std::string syms;
  std::vector<uint64_t> addresses;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), followed); it != std::sregex_iterator(); ++it) {
    addresses.push_back(std::stoull((*it)[1], nullptr, 16));
    syms += "sym " + (*it)[2].str() + "; ";
  }
  // A pipe has a read_iter, a write_iter, a poll, an open, a release...
  REQUIRE(addresses.size() >= 5);
  CHECK(out.find("  -> <pipe_read>\n") != std::string::npos);
  const auto sym_lines = lines_of(kdive_ok(syms));
  REQUIRE(sym_lines.size() == addresses.size());
  for (size_t i = 0; i < addresses.size(); ++i) CHECK(sym_lines[i].starts_with(fmt::format("{:x} ", addresses[i])));
  // A NULL member is said to be NULL.
  CHECK(out.find("= 0x0\n  -> NULL\n") != std::string::npos);
}

TEST_CASE("whatis -r lists the types of a size, -m the structs holding a type", "[struct_forms]") {
  const auto sixteen = whatis_listing(lines_of(kdive_ok("whatis -r 16")));
  CHECK(sixteen.at("list_head") == 16);
  CHECK(sixteen.at("hlist_node") == 16);
  CHECK(sixteen.count("task_struct") == 0);
  for (const auto& [name, size] : sixteen) CHECK(size == 16);
  const auto small = whatis_listing(lines_of(kdive_ok("whatis -r 1-4")));
  CHECK(small.at("int") == 4);
  CHECK(small.at("pid_t") == 4);
  CHECK(small.at("char") == 1);
  // The run queue points at its current task, the mm at its owner (memcg);
  // a list_head holds no task_struct.
  const auto holders = whatis_listing(lines_of(kdive_ok("whatis -m task_struct")));
  CHECK(holders.count("rq") == 1);
  CHECK(holders.count("list_head") == 0);
  CHECK(holders.count("int") == 0);
  CHECK(kdive_ok("whatis -r 1000000000") == "(none found)\n");
}

// Where kdive lists more than crash 8.0.2:
//  * typedefs: crash's gdb gives a typedef the size 0 until something has
//    resolved it, so `whatis -r 16` leaves out most 16-byte typedefs (uuid_t,
//    u128); kdive resolves them all.
//  * -m also searches unions embedded in a struct (crash's gdb only embedded
//    structs): bpf_iter__task holds its task_struct pointer in one.
// Where it lists less: a name defined at two sizes in two files (irq_info)
// is listed once, at the size of the definition kdive's types use.
TEST_CASE("whatis -r and -m hold everything crash lists", "[struct_forms]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  const std::vector<std::string> commands = {"whatis -r 16", "whatis -r 0-400 -m task_struct"};
  const auto crash = crash_outputs(commands);
  const auto kdive = kdive_outputs(commands);
  for (size_t c = 0; c < commands.size(); ++c) {
    INFO(commands[c]);
    const auto theirs = whatis_listing(crash[c]);
    const auto ours = whatis_listing(kdive[c]);
    REQUIRE(theirs.size() > 10);
    for (const auto& [name, size] : theirs) {
      if (ours.count(name) != 0) {
        CHECK(ours.at(name) == size);
        continue;
      }
      // A name missing here must be one kdive knows at another size.
      INFO(name);
      std::smatch m;
      const std::string layout = kdive_ok("struct " + name + " -o");
      REQUIRE(std::regex_search(layout, m, std::regex(R"(SIZE: (\d+))")));
      CHECK(std::stoull(m[1]) != size);
    }
  }
}

TEST_CASE("ps -y lists the tasks of a scheduling policy", "[struct_forms]") {
  const Truth t = truth();
  KdiveRun r = run_kdive_args(fmt::format("--json -b -c 'ps; ps -y FIFO; ps -H -y normal,1; ps -I' '{}' '{}'",
                                          (fixture_dir(suite()) / "vmlinux").string(),
                                          (fixture_dir(suite()) / "vmcore.elf").string()));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);
  const Json all = Json::parse(lines[0])["result"];
  const Json fifo = Json::parse(lines[1])["result"];
  const Json normal_or_fifo = Json::parse(lines[2])["result"];
  const Json not_idle = Json::parse(lines[3])["result"];
  std::multiset<uint32_t> policies;
  std::set<int64_t> fifo_pids, all_fifo_pids, normal_or_fifo_pids, migration_pids;
  for (const Json& task : all) {
    const uint32_t policy = task["policy"];
    policies.insert(policy);
    if (policy == 1) all_fifo_pids.insert(task["pid"].get<int64_t>());
    if (policy <= 1) normal_or_fifo_pids.insert(task["pid"].get<int64_t>());
    if (task["comm"].get<std::string>().starts_with("migration/")) {
      migration_pids.insert(task["pid"].get<int64_t>());
      CHECK(policy == 1);
    }
    if (task["pid"] == 1) CHECK(policy == 0);
  }
  REQUIRE(static_cast<int>(migration_pids.size()) == t.cpus);
  for (const Json& task : fifo) {
    CHECK(task["policy"] == 1);
    fifo_pids.insert(task["pid"].get<int64_t>());
  }
  CHECK(fifo_pids == all_fifo_pids);
  std::set<int64_t> listed;
  for (const Json& task : normal_or_fifo) listed.insert(task["pid"].get<int64_t>());
  CHECK(listed == normal_or_fifo_pids);
  // -I leaves out exactly the idle task of each CPU.
  CHECK(not_idle.size() + t.cpus == all.size());
  for (const Json& task : not_idle) CHECK(task["pid"] != 0);

  const std::string text = kdive_ok("ps -H -y FIFO");
  CHECK(!text.starts_with("      PID"));
  CHECK(lines_of(text).size() == fifo.size());
  KdiveRun bad = run_kdive(suite(), "elf", "ps -y SOMETIMES; echo next");
  CHECK(bad.err == "ps: invalid scheduling policy: 'SOMETIMES' (see 'help ps')\n");
  CHECK(bad.out == "next\n");
}

// ps -y names kernel threads here: RSS is a deliberate difference (ps_test).
// crash 8.0.2 reads "*list_head" as one word from its standard input (and
// as `*` with -i); "* list_head" is the same command to both.
TEST_CASE("struct, whatis and ps -y match crash line by line", "[struct_forms]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  const uint64_t init_task = truth().ksym.at("init_task");
  // A socket's struct sock, for its u8 bitfields (gdb prints a char bitfield
  // with its character, as any char).
  const std::string sockets = kdive_ok("foreach net -s");
  std::smatch sock;
  REQUIRE(std::regex_search(sockets, sock, std::regex(R"(\n +\d+ +[0-9a-f]{16} +([0-9a-f]{16}) )")));
  compare_with_crash({fmt::format("struct sock.sk_padding,sk_no_check_tx,sk_userlocks {}", sock[1].str()),
                      "struct file_operations -p pipefifo_fops",
                      fmt::format("struct task_struct.comm -r {:x}", init_task),
                      fmt::format("struct list_head -r {:x}", init_task), "struct rq.cpu,nr_running runqueues:a",
                      fmt::format("* list_head {:x}", init_task), fmt::format("task_struct.pid {:x}", init_task),
                      "ps -y FIFO", "ps -y 0 kthreadd", "whatis -m list_lru"});
}

TEST_CASE("struct -f reads the dump file, -u a task's user memory, -c a count", "[struct_forms]") {
  const Truth t = truth();
  // The ELF dump file starts with its ELF header: a core file for x86-64.
  CHECK(kdive_ok("struct elf64_hdr.e_type,e_machine -f 0") == "  e_type = 4,\n  e_machine = 62,\n");
  // The pattern the workload wrote at the start of its mapping, read as a
  // list_head: its first eight bytes, little-endian.
  REQUIRE(!t.patterns.empty());
  const TruthPattern& p = t.patterns.front();
  REQUIRE(p.text.size() >= 8);
  uint64_t first_word = 0;
  for (int i = 7; i >= 0; --i) first_word = first_word << 8 | static_cast<unsigned char>(p.text[i]);
  CHECK(kdive_ok(fmt::format("set {}; struct list_head.next -u -x {:x}", p.pid, p.address))
            .ends_with(fmt::format("  next = {:#x},\n", first_word)));
  // -c 2 anywhere on the line: the instance and the one after it.
  const uint64_t init_task = t.ksym.at("init_task");
  const std::string two = kdive_ok(fmt::format("struct list_head -c 2 {:x}", init_task));
  CHECK(two == kdive_ok(fmt::format("struct list_head {:x} 2", init_task)));
  CHECK(two ==
        kdive_ok(fmt::format("struct list_head {0:x}; echo; struct list_head {1:x}", init_task, init_task + 16)));
  KdiveRun bad = run_kdive(suite(), "elf", "struct list_head -u -f 0; echo next");
  CHECK(bad.err == "struct: -u and -f exclude each other\n");
  CHECK(bad.out == "next\n");
}
