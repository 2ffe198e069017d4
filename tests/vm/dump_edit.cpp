#include "dump_edit.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "kernel-model/address_space.hpp"
#include "kernel-model/kernel.hpp"
#include "readers/byte_source.hpp"
#include "readers/elf_core.hpp"
#include "truth.hpp"

namespace kdive::test {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kPage = 4096;

std::system_error os_error(const std::string& what) { return {errno, std::generic_category(), what}; }

// A file descriptor closed at the end of its scope.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

void write_all(int fd, const char* data, size_t size, uint64_t offset, const fs::path& file) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw os_error("cannot write " + file.string());
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

// Copies `from` to a new file `to`, leaving a hole for every all-zero page: a
// QEMU dump is mostly free memory, so the copy costs a fraction of the original's
// disk space and writes, and reads back byte for byte the same.
void copy_sparse(const fs::path& from, const fs::path& to) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) throw os_error("cannot open " + from.string());
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.fd < 0) throw os_error("cannot create " + to.string());
  static const std::array<char, kPage> zeros{};
  std::vector<char> buf(1 << 20);
  uint64_t at = 0;
  for (;;) {
    ssize_t n = ::pread(in.fd, buf.data(), buf.size(), static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw os_error("cannot read " + from.string());
    }
    if (n == 0) break;
    const auto got = static_cast<size_t>(n);
    // Write each run of pages that are not all zero in one call.
    size_t run = 0;
    for (size_t page = 0; page < got; page += kPage) {
      const size_t len = std::min<size_t>(kPage, got - page);
      if (std::memcmp(buf.data() + page, zeros.data(), len) != 0) continue;
      if (page > run) write_all(out.fd, buf.data() + run, page - run, at + run, to);
      run = page + len;
    }
    if (got > run) write_all(out.fd, buf.data() + run, got - run, at + run, to);
    at += got;
  }
  if (::ftruncate(out.fd, static_cast<off_t>(at)) != 0) throw os_error("cannot size " + to.string());
  if (fs::file_size(to) != fs::file_size(from)) throw std::runtime_error("copy of " + from.string() + " is incomplete");
}

// `kdive --json -b -c COMMAND` on the fixture's ELF dump: the command's result.
nlohmann::json kdive_result(const std::string& suite, const std::string& command) {
  const fs::path dir = fixture_dir(suite);
  KdiveRun r = run_kdive_args("--json -b -c " + shell_quote(command) + " " + shell_quote((dir / "vmlinux").string()) +
                              " " + shell_quote((dir / "vmcore.elf").string()));
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (r.status != 0 || j.is_discarded() || !j.contains("result")) {
    throw std::runtime_error(
        fmt::format("kdive '{}' on the {} dump gave status {}: {}{}", command, suite, r.status, r.out, r.err));
  }
  return j["result"];
}

// kdive writes a number that fits in 53 bits as a JSON number, and anything
// else (pointers, large counters) as a "0x..." string.
uint64_t json_number(const nlohmann::json& v, const std::string& what) {
  if (v.is_number_unsigned() || v.is_number_integer()) return v.get<uint64_t>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    size_t used = 0;
    uint64_t n = std::stoull(s, &used, 0);
    if (used == s.size()) return n;
  }
  throw std::runtime_error(fmt::format("{}: {} is not a number", what, v.dump()));
}

}  // namespace

const ElfSegment* segment_holding_physical(const ElfCore& layout, uint64_t phys) {
  for (const ElfSegment& s : layout.loads) {
    if (phys >= s.paddr && phys - s.paddr < s.filesz) return &s;
  }
  return nullptr;
}

const ElfSegment* segment_holding_offset(const ElfCore& layout, uint64_t offset) {
  for (const ElfSegment& s : layout.loads) {
    if (offset >= s.offset && offset - s.offset < s.filesz) return &s;
  }
  return nullptr;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

DamagedDump DamagedDump::copy_of(const std::string& suite, const std::string& format) {
  if (format != "elf") {
    throw std::runtime_error("only the ELF dump can be edited (a " + format + " dump's pages are compressed)");
  }
  const fs::path fixture = fixture_dir(suite);
  DamagedDump d;
  d.original_ = fixture / ("vmcore." + format);
  d.vmlinux_ = fixture / "vmlinux";
  std::string dir = (fs::temp_directory_path() / "kdive-damaged-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) throw os_error("cannot create a directory like " + dir);
  d.dir_ = dir;
  d.copy_ = d.dir_ / d.original_.filename();
  copy_sparse(d.original_, d.copy_);
  d.original_file_ = FileSource::open(d.original_.string());
  d.layout_ = std::make_unique<ElfCore>(ElfCore::parse(*d.original_file_));
  return d;
}

DamagedDump::DamagedDump(DamagedDump&& other) noexcept
    : dir_(std::exchange(other.dir_, {})),
      copy_(std::move(other.copy_)),
      original_(std::move(other.original_)),
      vmlinux_(std::move(other.vmlinux_)),
      original_file_(std::move(other.original_file_)),
      layout_(std::move(other.layout_)),
      kernel_(std::move(other.kernel_)) {}

DamagedDump& DamagedDump::operator=(DamagedDump&& other) noexcept {
  if (this != &other) {
    DamagedDump gone(std::move(*this));
    dir_ = std::exchange(other.dir_, {});
    copy_ = std::move(other.copy_);
    original_ = std::move(other.original_);
    vmlinux_ = std::move(other.vmlinux_);
    original_file_ = std::move(other.original_file_);
    layout_ = std::move(other.layout_);
    kernel_ = std::move(other.kernel_);
  }
  return *this;
}

DamagedDump::~DamagedDump() {
  if (dir_.empty()) return;
  std::error_code ignored;  // a destructor cannot report it; the directory is in the temp dir
  fs::remove_all(dir_, ignored);
}

std::vector<DumpBytes> DamagedDump::locate(VirtAddr at, uint64_t size) {
  if (at.value() + size < at.value()) throw std::runtime_error(fmt::format("range at {:x} wraps around", at));
  if (!kernel_) kernel_ = Kernel::open(vmlinux_, {original_.string()});
  const AddressSpace space = AddressSpace::kernel(*kernel_);
  std::vector<DumpBytes> pieces;
  for (uint64_t done = 0; done < size;) {
    const VirtAddr v = at + done;
    const uint64_t in_page = std::min(size - done, kPage - v.offset_in(kPage));
    const Translation t = space.translate(v);
    if (!t.phys) throw std::runtime_error(fmt::format("{:x} is not in the dump: {}", v, t.fault));
    // A PT_LOAD's file part holds the page's bytes; [filesz, memsz) was never written.
    const PhysAddr p = *t.phys;
    const ElfSegment* seg = segment_holding_physical(*layout_, p.value());
    if (seg == nullptr) {
      throw std::runtime_error(fmt::format("{:x} (physical {:x}) is not in the dump's file", v, p));
    }
    const uint64_t offset = seg->offset + (p.value() - seg->paddr);
    // The dump's segments are page-aligned; a page split between two would be a
    // dump this helper does not know.
    if (p.value() - seg->paddr + in_page > seg->filesz || offset + in_page > original_file_->size()) {
      throw std::runtime_error(fmt::format("{:x} (physical {:x}) runs past its segment of the dump", v, p));
    }
    // The same bytes through kdive's own reader: a wrong translation above
    // would edit some other object.
    std::vector<std::byte> from_file(in_page), from_kdive(in_page);
    if (!original_file_->read(offset, from_file)) throw std::runtime_error("cannot read " + original_.string());
    kernel_->memory().read(v, from_kdive);
    if (from_file != from_kdive) {
      throw std::runtime_error(fmt::format("{:x}: file offset {:x} does not hold what kdive reads there", v, offset));
    }
    pieces.push_back({v, p, offset, in_page});
    done += in_page;
  }
  return pieces;
}

void DamagedDump::write(VirtAddr at, std::span<const std::byte> bytes) {
  const std::vector<DumpBytes> pieces = locate(at, bytes.size());  // all of it, before any write
  Fd out(::open(copy_.c_str(), O_WRONLY | O_CLOEXEC));
  if (out.fd < 0) throw os_error("cannot open " + copy_.string());
  for (const DumpBytes& piece : pieces) {
    write_all(out.fd, reinterpret_cast<const char*>(bytes.data()) + (piece.virt - at), piece.size, piece.offset, copy_);
  }
}

void DamagedDump::zero(VirtAddr at, uint64_t size) { write(at, std::vector<std::byte>(size)); }

void DamagedDump::write_u64(VirtAddr at, uint64_t value) {
  std::array<std::byte, 8> bytes;
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(value >> (8 * i));
  write(at, bytes);
}

void DamagedDump::write_u32(VirtAddr at, uint32_t value) {
  std::array<std::byte, 4> bytes;
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(value >> (8 * i));
  write(at, bytes);
}

uint64_t DamagedDump::read_u64(VirtAddr at) {
  uint64_t value = 0;
  for (const DumpBytes& piece : locate(at, 8)) {
    std::vector<std::byte> bytes(piece.size);
    if (!original_file_->read(piece.offset, bytes)) throw std::runtime_error("cannot read " + original_.string());
    for (size_t i = 0; i < bytes.size(); ++i) {
      value |= std::to_integer<uint64_t>(bytes[i]) << (8 * (piece.virt - at + i));
    }
  }
  return value;
}

std::string DamagedDump::kdive_files() const {
  return shell_quote(vmlinux_.string()) + " " + shell_quote(copy_.string());
}

KdiveRun DamagedDump::run(const std::string& commands, const std::string& options) const {
  return run_kdive_args((options.empty() ? "" : options + " ") + "-b -c " + shell_quote(commands) + " " +
                        kdive_files());
}

uint64_t print_value(const std::string& suite, const std::string& expression) {
  const nlohmann::json result = kdive_result(suite, "p " + expression);
  if (!result.is_array() || result.size() != 1 || !result[0].contains("value")) {
    throw std::runtime_error(fmt::format("p {}: unexpected result {}", expression, result.dump()));
  }
  return json_number(result[0]["value"], "p " + expression);
}

VirtAddr task_address(const std::string& suite, int64_t pid) {
  const nlohmann::json rows = kdive_result(suite, fmt::format("ps {}", pid));
  for (const auto& row : rows) {
    if (row.value("pid", int64_t{-1}) == pid) return VirtAddr{json_number(row["task"], fmt::format("ps {}", pid))};
  }
  throw std::runtime_error(fmt::format("ps {} on the {} dump lists no such task: {}", pid, suite, rows.dump()));
}

uint64_t type_size(const std::string& suite, const std::string& type) {
  return print_value(suite, "sizeof(" + type + ")");
}

uint64_t member_offset(const std::string& suite, const std::string& type, const std::string& member) {
  return print_value(suite, "&((" + type + " *)0)->" + member);
}

VirtAddr symbol_address(const std::string& suite, const std::string& symbol) {
  return VirtAddr{print_value(suite, "&" + symbol)};
}

VirtAddr per_cpu_address(const std::string& suite, const std::string& symbol, int cpu) {
  // `sym` gives a per-CPU symbol's offset in the per-CPU area; `p &sym` refuses it.
  const nlohmann::json rows = kdive_result(suite, "sym " + symbol);
  if (!rows.is_array() || rows.empty()) throw std::runtime_error(fmt::format("sym {}: {}", symbol, rows.dump()));
  const uint64_t offset = json_number(rows[0]["address"], "sym " + symbol);
  return VirtAddr{offset + print_value(suite, fmt::format("__per_cpu_offset[{}]", cpu))};
}

// The PT_NOTE program headers of the ELF dump open in `f`: where each header
// sits, its raw bytes, and the notes' file offset and size.
struct NoteHeader {
  std::streamoff at;
  unsigned char ph[56];  // Elf64_Phdr
  uint64_t offset;
  uint64_t size;
};

static std::vector<NoteHeader> note_headers(std::fstream& f) {
  unsigned char eh[64];
  f.seekg(0);
  f.read(reinterpret_cast<char*>(eh), sizeof eh);
  uint64_t phoff;
  uint16_t phnum;
  std::memcpy(&phoff, eh + 32, 8);  // Elf64_Ehdr.e_phoff
  std::memcpy(&phnum, eh + 56, 2);  // Elf64_Ehdr.e_phnum
  std::vector<NoteHeader> out;
  for (uint16_t i = 0; i < phnum; ++i) {
    NoteHeader h{};
    h.at = static_cast<std::streamoff>(phoff + i * 56u);
    f.seekg(h.at);
    f.read(reinterpret_cast<char*>(h.ph), sizeof h.ph);
    uint32_t type;
    std::memcpy(&type, h.ph, 4);
    if (type != 4) continue;  // PT_NOTE
    std::memcpy(&h.offset, h.ph + 8, 8);
    std::memcpy(&h.size, h.ph + 32, 8);
    out.push_back(h);
  }
  return out;
}

void copy_without_notes(const std::filesystem::path& from, const std::filesystem::path& to,
                        const std::vector<std::string>& names) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  std::fstream f(to, std::ios::in | std::ios::out | std::ios::binary);
  if (!f.good()) throw std::runtime_error("cannot open " + to.string());
  for (const NoteHeader& h : note_headers(f)) {
    const uint64_t offset = h.offset, size = h.size;
    std::string notes(size, '\0');
    f.seekg(static_cast<std::streamoff>(offset));
    f.read(notes.data(), static_cast<std::streamsize>(size));
    for (const auto& name : names) {
      for (size_t at = notes.find(name + '\0'); at != std::string::npos; at = notes.find(name + '\0', at + 1)) {
        notes[at] = 'X';
      }
    }
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(notes.data(), static_cast<std::streamsize>(size));
  }
}

uint64_t copy_with_device_dump(const std::filesystem::path& from, const std::filesystem::path& to,
                               const std::string& name, std::span<const std::byte> data) {
  if (name.size() > 43) throw std::runtime_error("a device dump name has at most 43 characters: " + name);
  copy_sparse(from, to);
  std::fstream f(to, std::ios::in | std::ios::out | std::ios::binary);
  if (!f.good()) throw std::runtime_error("cannot open " + to.string());
  auto put32 = [](std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  for (NoteHeader h : note_headers(f)) {
    const uint64_t offset = h.offset, size = h.size;
    unsigned char* ph = h.ph;
    const std::streamoff ph_at = h.at;
    std::string notes(size, '\0');
    f.seekg(static_cast<std::streamoff>(offset));
    f.read(notes.data(), static_cast<std::streamsize>(size));
    // Where the notes end: readers stop at an all-zero header, so the new
    // note goes before any zero padding.
    size_t end = 0;
    while (end + 12 <= notes.size()) {
      uint32_t namesz, descsz, ntype;
      std::memcpy(&namesz, notes.data() + end, 4);
      std::memcpy(&descsz, notes.data() + end + 4, 4);
      std::memcpy(&ntype, notes.data() + end + 8, 4);
      if (namesz == 0 && descsz == 0 && ntype == 0) break;
      end += 12 + ((namesz + 3u) & ~3u) + ((descsz + 3u) & ~3u);
    }
    notes.resize(std::min(end, notes.size()));
    // struct vmcoredd_header: n_namesz, n_descsz, n_type, name[8] "LINUX",
    // dump_name[44]; then the data.
    constexpr uint32_t kNameBytes = 44;
    std::string note;
    put32(note, 6);
    put32(note, static_cast<uint32_t>(kNameBytes + data.size()));
    put32(note, 0x700);  // NT_VMCOREDD
    note.append("LINUX\0\0\0", 8);
    std::string dump_name = name;
    dump_name.resize(kNameBytes, '\0');
    note += dump_name;
    const uint64_t data_in_notes = notes.size() + note.size();
    note.append(reinterpret_cast<const char*>(data.data()), data.size());
    note.resize((note.size() + 3) & ~size_t{3}, '\0');
    notes += note;
    f.seekp(0, std::ios::end);
    uint64_t at = static_cast<uint64_t>(f.tellp());
    at = (at + 7) & ~uint64_t{7};
    f.seekp(static_cast<std::streamoff>(at));
    f.write(notes.data(), static_cast<std::streamsize>(notes.size()));
    const uint64_t new_size = notes.size();
    std::memcpy(ph + 8, &at, 8);         // p_offset
    std::memcpy(ph + 32, &new_size, 8);  // p_filesz
    std::memcpy(ph + 40, &new_size, 8);  // p_memsz
    f.seekp(ph_at);
    f.write(reinterpret_cast<const char*>(h.ph), sizeof h.ph);
    if (!f.good()) throw std::runtime_error("cannot write " + to.string());
    return at + data_in_notes;
  }
  throw std::runtime_error(from.string() + " has no PT_NOTE");
}

}  // namespace kdive::test
