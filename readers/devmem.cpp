#include "readers/devmem.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "readers/byte_reader.hpp"

namespace kdive {
namespace {

constexpr uint64_t kFirstMiB = 1ull << 20;
constexpr uint64_t kMaxVmcoreinfoNote = 1ull << 20;

std::vector<PhysRange> system_ram(const std::string& iomem) {
  std::ifstream in(iomem);
  if (!in) throw FormatError(iomem + ": cannot open (needed to find RAM for /dev/mem)");
  std::vector<PhysRange> ranges;
  std::string line;
  while (std::getline(in, line)) {
    // Top-level lines only: "00100000-1ffdffff : System RAM"; children are indented.
    if (line.empty() || line[0] == ' ' || line.find(" : System RAM") == std::string::npos) continue;
    uint64_t start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) != 2 || end < start) continue;
    ranges.push_back({PhysAddr{start}, end - start + 1});
  }
  if (ranges.empty()) throw FormatError(iomem + ": no System RAM ranges");
  bool hidden = true;
  for (const auto& r : ranges) hidden = hidden && r.start.value() == 0 && r.size == 1;
  if (hidden) throw FormatError(iomem + ": addresses are hidden (reading /dev/mem needs root)");
  return ranges;
}

class DevMem : public DumpSource {
 public:
  DevMem(int fd, DevMemPaths paths, std::vector<PhysRange> ranges)
      : fd_(fd), paths_(std::move(paths)), ranges_(std::move(ranges)) {
    notes_.live = true;
  }
  ~DevMem() override { ::close(fd_); }

  void load_vmcoreinfo() {
    if (paths_.vmcoreinfo.empty()) return;
    std::ifstream in(paths_.vmcoreinfo);
    uint64_t addr = 0, size = 0;
    if (!(in >> std::hex >> addr >> size) || size == 0 || size > kMaxVmcoreinfoNote) return;
    std::vector<std::byte> note(size);
    if (::pread(fd_, note.data(), size, static_cast<off_t>(addr)) != static_cast<ssize_t>(size)) return;
    parse_elf_notes(note, notes_);
  }

  // Throws when the kernel refuses RAM reads (STRICT_DEVMEM).
  void check_ram_readable() {
    for (const auto& r : ranges_) {
      uint64_t at = std::max(r.start.value(), kFirstMiB);
      if (at >= r.start.value() + r.size) continue;
      std::byte b;
      if (::pread(fd_, &b, 1, static_cast<off_t>(at)) == 1) return;
      int err = errno;
      throw FormatError(paths_.mem + ": the kernel refuses to read RAM at " + fmt_hex(at) + " (" + std::strerror(err) +
                        "; CONFIG_STRICT_DEVMEM allows only the first MiB)");
    }
  }

  std::string format() const override { return "devmem (live)"; }

  PageState read_phys(PhysAddr addr, std::span<std::byte> out) override {
    check_within_page(addr, out.size(), page_size());
    if (!out.empty()) std::memset(out.data(), 0, out.size());
    if (!in_ram(addr.value())) return PageState::Missing;
    ssize_t n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(addr.value()));
    return n == static_cast<ssize_t>(out.size()) ? PageState::Present : PageState::Missing;
  }

  std::vector<PhysRange> ranges() const override { return ranges_; }
  const DumpNotes& notes() const override { return notes_; }
  std::vector<std::string> files() const override { return {paths_.mem}; }

 private:
  static std::string fmt_hex(uint64_t v) {
    std::ostringstream s;
    s << "0x" << std::hex << v;
    return s.str();
  }
  bool in_ram(uint64_t a) const {
    for (const auto& r : ranges_) {
      if (a >= r.start.value() && a - r.start.value() < r.size) return true;
    }
    return false;
  }

  int fd_;
  DevMemPaths paths_;
  std::vector<PhysRange> ranges_;
  DumpNotes notes_;
};

}  // namespace

std::unique_ptr<DumpSource> open_devmem(const DevMemPaths& paths) {
  auto ranges = system_ram(paths.iomem);
  int fd = ::open(paths.mem.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FormatError(paths.mem + ": " + std::strerror(errno));
  auto mem = std::make_unique<DevMem>(fd, paths, std::move(ranges));
  mem->check_ram_readable();
  mem->load_vmcoreinfo();
  return mem;
}

}  // namespace kdive
