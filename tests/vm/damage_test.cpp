// The dump editor the damage tests rely on (dump_edit.hpp): it must change
// exactly the kernel virtual bytes it is asked to, in a private copy, through
// the dump's own page tables, and never touch the fixture. Each fact is read
// back with kdive's `rd` on the copy and on the original.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dump_edit.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using kdive::VirtAddr;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// `rd -8 ADDR COUNT` in JSON on the dump named by `files`: the bytes, or
// nullopt when kdive cannot read them.
std::optional<std::vector<unsigned>> rd_bytes(const std::string& files, VirtAddr at, uint64_t count) {
  KdiveRun r = run_kdive_args(fmt::format("--json -b -c 'rd -8 {:#x} {}' {}", at.value(), count, files));
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  if (r.status != 0 || j.is_discarded() || !j.contains("result")) return std::nullopt;
  std::vector<unsigned> bytes;
  for (const auto& line : j["result"]) {
    for (const auto& b : line["values"]) bytes.push_back(b.get<unsigned>());
  }
  REQUIRE(bytes.size() == count);
  return bytes;
}

std::vector<unsigned> slice(const std::vector<unsigned>& v, size_t from, size_t to) {
  return {v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(to)};
}

// FNV-1a of the file's page that holds `offset`.
uint64_t page_checksum(const fs::path& file, uint64_t offset) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset & ~uint64_t{4095}));
  std::vector<char> page(4096);
  in.read(page.data(), static_cast<std::streamsize>(page.size()));
  REQUIRE(in.gcount() == 4096);
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : page) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

}  // namespace

TEST_CASE("a damaged dump copy changes exactly the bytes asked for, and never the fixture", "[damage]") {
  const std::string s = suite();
  const fs::path dir = fixture_dir(s);
  const Truth truth = Truth::load(dir / "truth.txt");
  const std::string original_files =
      shell_quote((dir / "vmlinux").string()) + " " + shell_quote((dir / "vmcore.elf").string());

  // A worker thread of the threaded workload, not its leader.
  const int64_t tgid = truth.role("threaded");
  std::optional<TruthTask> worker;
  for (const auto& t : truth.tasks) {
    if (t.tgid == tgid && t.pid != tgid) worker = t;
  }
  REQUIRE(worker);
  INFO("pid " << worker->pid << " " << worker->comm);
  const VirtAddr task = task_address(s, worker->pid);
  REQUIRE(print_value(s, "sizeof(((struct task_struct *)0)->comm)") == 16);  // TASK_COMM_LEN
  const VirtAddr comm = task + member_offset(s, "struct task_struct", "comm");
  // The task's kernel stack: vmalloc'ed (CONFIG_VMAP_STACK), so its pages are
  // mapped one by one and need not be physically adjacent; a guard page follows.
  const VirtAddr stack{print_value(s, fmt::format("((struct task_struct *){:#x})->stack", task.value()))};
  const uint64_t thread_size = print_value(s, "sizeof(init_stack)");
  const VirtAddr across = stack + 4096 - 8;  // 8 bytes in the stack's first page, 8 in its second
  const VirtAddr stack_end = stack + thread_size;

  // What the fixture holds before: 8 bytes either side of each range.
  const auto comm_before = rd_bytes(original_files, comm - 8, 32);
  const auto across_before = rd_bytes(original_files, across - 8, 32);
  const auto stack_top_before = rd_bytes(original_files, stack_end - 16, 16);
  REQUIRE(comm_before);
  REQUIRE(across_before);
  REQUIRE(stack_top_before);
  std::string comm_text;
  for (size_t i = 8; i < 24 && (*comm_before)[i] != 0; ++i) comm_text += static_cast<char>((*comm_before)[i]);
  REQUIRE(comm_text == worker->comm);                     // the address is this thread's comm
  REQUIRE_FALSE(rd_bytes(original_files, stack_end, 8));  // the guard page is not in the dump

  const auto fixture_size = fs::file_size(dir / "vmcore.elf");
  const auto fixture_mtime = fs::last_write_time(dir / "vmcore.elf");
  fs::path copy;
  {
    DamagedDump d = DamagedDump::copy_of(s, "elf");
    copy = d.path();
    REQUIRE(fs::exists(copy));
    CHECK_FALSE(fs::equivalent(copy, dir / "vmcore.elf"));
    CHECK(fs::file_size(copy) == fixture_size);

    std::vector<uint64_t> touched_pages;  // file offsets in the fixture, and their checksums before
    std::vector<uint64_t> checksums;
    for (const auto& piece : d.locate(comm, 16)) touched_pages.push_back(piece.offset);
    const auto across_pieces = d.locate(across, 16);
    REQUIRE(across_pieces.size() == 2);  // one piece per page
    CHECK(across_pieces[0].virt == across);
    CHECK(across_pieces[0].size == 8);
    CHECK(across_pieces[1].virt == stack + 4096);
    CHECK(across_pieces[1].size == 8);
    for (const auto& piece : across_pieces) touched_pages.push_back(piece.offset);
    for (uint64_t offset : touched_pages) checksums.push_back(page_checksum(dir / "vmcore.elf", offset));

    // Until edited, the copy reads as the fixture.
    CHECK(rd_bytes(d.kdive_files(), comm - 8, 32) == comm_before);

    d.zero(comm, 16);
    const std::vector<unsigned> pattern{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                        0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
    REQUIRE(slice(*across_before, 8, 24) != pattern);
    std::vector<std::byte> pattern_bytes;
    for (unsigned b : pattern) pattern_bytes.push_back(static_cast<std::byte>(b));
    d.write(across, pattern_bytes);
    // A range running into the guard page is refused whole: its first 8 bytes,
    // which are in the dump, stay as they were.
    CHECK_THROWS_WITH(d.zero(stack_end - 8, 16), Contains("is not in the dump"));

    const auto comm_after = rd_bytes(d.kdive_files(), comm - 8, 32);
    REQUIRE(comm_after);
    CHECK(slice(*comm_after, 8, 24) == std::vector<unsigned>(16, 0));
    CHECK(slice(*comm_after, 0, 8) == slice(*comm_before, 0, 8));
    CHECK(slice(*comm_after, 24, 32) == slice(*comm_before, 24, 32));

    const auto across_after = rd_bytes(d.kdive_files(), across - 8, 32);
    REQUIRE(across_after);
    CHECK(slice(*across_after, 8, 24) == pattern);
    CHECK(slice(*across_after, 0, 8) == slice(*across_before, 0, 8));
    CHECK(slice(*across_after, 24, 32) == slice(*across_before, 24, 32));

    CHECK(rd_bytes(d.kdive_files(), stack_end - 16, 16) == stack_top_before);

    // kdive itself sees the damage: the thread has no name left.
    KdiveRun ps = d.run(fmt::format("ps {}", worker->pid), "--json");
    CHECK(nlohmann::json::parse(ps.out)["result"][0]["comm"] == "");

    for (size_t i = 0; i < touched_pages.size(); ++i) {
      CHECK(page_checksum(dir / "vmcore.elf", touched_pages[i]) == checksums[i]);
    }
  }
  CHECK_FALSE(fs::exists(copy));
  CHECK_FALSE(fs::exists(copy.parent_path()));
  CHECK(fs::file_size(dir / "vmcore.elf") == fixture_size);
  CHECK(fs::last_write_time(dir / "vmcore.elf") == fixture_mtime);
}
