#include "kernel-model/printk_log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// A ring larger than this is damage, not a log (the kernel caps log_buf_len at 1 << 25).
constexpr uint64_t kMaxRingBytes = 1ull << 31;
constexpr uint64_t kMaxDescriptors = 1ull << 24;

// kernel/printk/printk_ringbuffer.h: the two top bits of a descriptor's state_var
// hold its state, the rest its id.
constexpr int kDescFlagsShift = 62;
constexpr uint64_t kDescIdMask = ~(3ull << kDescFlagsShift);
constexpr uint64_t kDescCommitted = 1;
constexpr uint64_t kDescFinalized = 2;

class RingbufferReader {
 public:
  RingbufferReader(const KernelMemory& mem, const StructLayout& s, VirtAddr prb_symbol)
      : mem_(mem), s_(s), prb_symbol_(prb_symbol) {}

  std::vector<LogRecord> read() {
    // Offsets come from StructLayout (VMCOREINFO exports these for dump
    // tools), so the log reads without waiting for the DWARF index.
    VirtAddr prb = mem_.read_pointer(prb_symbol_);
    VirtAddr desc_ring = prb + s_.offset("printk_ringbuffer", "desc_ring");
    VirtAddr text_ring = prb + s_.offset("printk_ringbuffer", "text_data_ring");
    count_bits_ = mem_.read<uint32_t>(desc_ring + s_.offset("prb_desc_ring", "count_bits"));
    descs_ = mem_.read_pointer(desc_ring + s_.offset("prb_desc_ring", "descs"));
    infos_ = mem_.read_pointer(desc_ring + s_.offset("prb_desc_ring", "infos"));
    uint64_t head = mem_.read<uint64_t>(desc_ring + s_.offset("prb_desc_ring", "head_id"));
    uint64_t tail = mem_.read<uint64_t>(desc_ring + s_.offset("prb_desc_ring", "tail_id"));
    size_bits_ = mem_.read<uint32_t>(text_ring + s_.offset("prb_data_ring", "size_bits"));
    data_ = mem_.read_pointer(text_ring + s_.offset("prb_data_ring", "data"));
    if (count_bits_ >= 63 || (1ull << count_bits_) > kMaxDescriptors || size_bits_ >= 63 ||
        (1ull << size_bits_) > kMaxRingBytes) {
      throw Error(Error::Kind::BadData, fmt::format("printk ring sizes make no sense (count_bits {}, size_bits {})",
                                                    count_bits_, size_bits_));
    }
    desc_size_ = s_.size("prb_desc");
    info_size_ = s_.size("printk_info");
    state_off_ = s_.offset("prb_desc", "state_var");
    lpos_off_ = s_.offset("prb_desc", "text_blk_lpos");
    begin_off_ = s_.offset("prb_data_blk_lpos", "begin");
    next_off_ = s_.offset("prb_data_blk_lpos", "next");
    seq_off_ = s_.offset("printk_info", "seq");
    ts_off_ = s_.offset("printk_info", "ts_nsec");
    len_off_ = s_.offset("printk_info", "text_len");
    caller_off_ = s_.find_offset("printk_info", "caller_id");
    // dev_info arrived with the lockless ring in 5.10 (it replaced the free-form dict).
    dev_info_off_ = s_.find_offset("printk_info", "dev_info");
    subsystem_off_ = s_.find_offset("dev_printk_info", "subsystem");
    device_off_ = s_.find_offset("dev_printk_info", "device");

    std::vector<LogRecord> out;
    const uint64_t count = 1ull << count_bits_;
    uint64_t id = tail & kDescIdMask;
    for (uint64_t n = 0; n <= count; ++n) {
      try {
        if (auto r = record(id)) out.push_back(std::move(*r));
      } catch (const Fault& f) {
        // An unreadable descriptor or text block loses that record only.
        LogRecord lost;
        lost.seq = out.empty() ? 0 : out.back().seq;
        lost.damage = fmt::format("descriptor {} unreadable: {}", id, f.what());
        out.push_back(std::move(lost));
      }
      if (id == (head & kDescIdMask)) break;
      id = (id + 1) & kDescIdMask;
    }
    std::stable_sort(out.begin(), out.end(), [](const LogRecord& a, const LogRecord& b) { return a.seq < b.seq; });
    return with_gaps_marked(std::move(out));
  }

 private:
  // Every record takes the next sequence number, so a jump between two
  // records read is records lost: descriptors zeroed or overwritten, or still
  // being written when the machine stopped. Each gap gets a record in its place.
  static std::vector<LogRecord> with_gaps_marked(std::vector<LogRecord> records) {
    std::vector<LogRecord> out;
    out.reserve(records.size());
    for (LogRecord& r : records) {
      if (!out.empty() && out.back().damage.empty() && r.damage.empty() && r.seq > out.back().seq + 1) {
        LogRecord gap;
        gap.seq = out.back().seq;
        const uint64_t first = out.back().seq + 1, last = r.seq - 1;
        gap.damage = first == last ? fmt::format("record {} missing: its descriptor is not a committed record", first)
                                   : fmt::format("records {}-{} missing: their descriptors are not committed records",
                                                 first, last);
        out.push_back(std::move(gap));
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  std::optional<LogRecord> record(uint64_t id) {
    const uint64_t index = id & ((1ull << count_bits_) - 1);
    const VirtAddr desc = descs_ + index * desc_size_;
    const VirtAddr info = infos_ + index * info_size_;
    uint64_t state_var = mem_.read<uint64_t>(desc + state_off_);
    uint64_t state = state_var >> kDescFlagsShift;
    if ((state_var & kDescIdMask) != id || (state != kDescCommitted && state != kDescFinalized)) {
      return std::nullopt;
    }
    LogRecord r;
    r.seq = mem_.read<uint64_t>(info + seq_off_);
    r.ts_nsec = mem_.read<uint64_t>(info + ts_off_);
    uint16_t text_len = mem_.read<uint16_t>(info + len_off_);
    if (caller_off_) r.caller_id = mem_.read<uint32_t>(info + *caller_off_);
    // printk_info: ... u16 text_len; u8 facility; u8 flags:5, level:3 — the level
    // byte follows text_len by two bytes (stable since the ring buffer appeared in 5.10).
    r.level = mem_.read<uint8_t>(info + len_off_ + 3) >> 5;
    r.text = text(desc, text_len);
    if (dev_info_off_ && subsystem_off_ && device_off_) {
      std::string subsystem = c_string(info + *dev_info_off_ + *subsystem_off_, kSubsystemLen);
      std::string device = c_string(info + *dev_info_off_ + *device_off_, kDeviceLen);
      if (!subsystem.empty()) r.dict.push_back("SUBSYSTEM=" + subsystem);
      if (!device.empty()) r.dict.push_back("DEVICE=" + device);
    }
    return r;
  }

  // include/linux/dev_printk.h: PRINTK_INFO_SUBSYSTEM_LEN and PRINTK_INFO_DEVICE_LEN.
  static constexpr size_t kSubsystemLen = 16;
  static constexpr size_t kDeviceLen = 48;

  std::string c_string(VirtAddr at, size_t max) {
    std::string s(max, '\0');
    mem_.read(at, {reinterpret_cast<std::byte*>(s.data()), s.size()});
    s.resize(std::min(s.find('\0'), s.size()));
    return s;
  }

  std::string text(VirtAddr desc, uint16_t text_len) {
    uint64_t begin = mem_.read<uint64_t>(desc + lpos_off_ + begin_off_);
    uint64_t next = mem_.read<uint64_t>(desc + lpos_off_ + next_off_);
    if ((begin & 1) || (next & 1) || begin == next) return "";  // a record without text
    const uint64_t size = 1ull << size_bits_;
    uint64_t start;
    uint64_t length;
    if ((begin >> size_bits_) == (next >> size_bits_) && begin < next) {
      start = begin & (size - 1);
      length = next - begin;
    } else {
      // The block wrapped: its data starts at the beginning of the ring.
      start = 0;
      length = next & (size - 1);
    }
    // Each block starts with the descriptor id (an unsigned long).
    constexpr uint64_t kIdSize = sizeof(uint64_t);
    if (length < kIdSize) return "";
    length = std::min<uint64_t>(length - kIdSize, text_len);
    std::string s(length, '\0');
    mem_.read(data_ + start + kIdSize, {reinterpret_cast<std::byte*>(s.data()), s.size()});
    return s;
  }

  const KernelMemory& mem_;
  const StructLayout& s_;
  VirtAddr prb_symbol_;
  uint32_t count_bits_ = 0, size_bits_ = 0;
  VirtAddr descs_, infos_, data_;
  uint64_t desc_size_ = 0, info_size_ = 0, state_off_ = 0, lpos_off_ = 0, begin_off_ = 0, next_off_ = 0;
  uint64_t seq_off_ = 0, ts_off_ = 0, len_off_ = 0;
  std::optional<uint64_t> caller_off_, dev_info_off_, subsystem_off_, device_off_;
};

// The variable-length log of struct printk_log records (3.5 up to 5.9).
std::vector<LogRecord> read_legacy_log(const KernelMemory& mem, const StructLayout& s, const SymbolLookup& symbol) {
  auto address = [&](std::string_view name) {
    auto a = symbol(name);
    if (!a) throw Error(Error::Kind::Lookup, fmt::format("no symbol {}", name));
    return *a;
  };
  VirtAddr buf = mem.read_pointer(address("log_buf"));
  uint32_t buf_len = mem.read<uint32_t>(address("log_buf_len"));
  uint32_t first = mem.read<uint32_t>(address("log_first_idx"));
  uint32_t next = mem.read<uint32_t>(address("log_next_idx"));
  if (buf_len == 0 || buf_len > kMaxRingBytes) {
    throw Error(Error::Kind::BadData, fmt::format("log_buf_len {} makes no sense", buf_len));
  }
  const uint64_t header = s.size("printk_log");
  const uint64_t ts_off = s.offset("printk_log", "ts_nsec");
  const uint64_t len_off = s.offset("printk_log", "len");
  const uint64_t text_len_off = s.offset("printk_log", "text_len");
  std::vector<std::byte> ring(buf_len);
  mem.read(buf, ring);
  auto u16_at = [&](uint64_t at) { return static_cast<uint16_t>(uint16_t(ring[at]) | uint16_t(ring[at + 1]) << 8); };

  std::vector<LogRecord> out;
  uint64_t idx = first;
  // Records are found only through the lengths before them: a bad length
  // loses everything up to log_next_idx, and says so.
  auto broken = [&](uint64_t seq, std::string why) {
    LogRecord lost;
    lost.seq = seq;
    lost.damage = fmt::format("record at log_buf offset {}: {}; the records after it cannot be found", idx, why);
    out.push_back(std::move(lost));
  };
  for (uint64_t seq = 0; idx != next && seq < buf_len; ++seq) {
    if (idx + header > buf_len) {
      broken(seq, fmt::format("its header runs past the buffer's end ({} bytes)", buf_len));
      break;
    }
    uint16_t len = u16_at(idx + len_off);
    if (len == 0) {  // a zero length marks the wrap to the buffer's start
      idx = 0;
      continue;
    }
    if (idx + len > buf_len || len < header) {
      broken(seq, fmt::format("length {} does not fit", len));
      break;
    }
    LogRecord r;
    r.seq = seq;
    std::memcpy(&r.ts_nsec, &ring[idx + ts_off], 8);
    uint16_t text_len = std::min<uint16_t>(u16_at(idx + text_len_off), static_cast<uint16_t>(len - header));
    r.text.assign(reinterpret_cast<const char*>(&ring[idx + header]), text_len);
    // facility then flags:5/level:3 follow dict_len.
    if (auto dict = s.find_offset("printk_log", "dict_len")) {
      r.level = static_cast<int>(ring[idx + *dict + 3]) >> 5;
      // The dictionary follows the text: "KEY=value" strings separated by NULs.
      uint64_t dict_len = std::min<uint64_t>(u16_at(idx + *dict), len - header - text_len);
      std::string_view d(reinterpret_cast<const char*>(&ring[idx + header + text_len]), dict_len);
      while (!d.empty()) {
        size_t nul = std::min(d.find('\0'), d.size());
        if (nul > 0) r.dict.emplace_back(d.substr(0, nul));
        d.remove_prefix(std::min(nul + 1, d.size()));
      }
    }
    out.push_back(std::move(r));
    idx += len;
  }
  return out;
}

}  // namespace

std::vector<LogRecord> read_printk_log(const KernelMemory& memory, const StructLayout& structs,
                                       const SymbolLookup& symbol) {
  if (auto prb = symbol("prb")) return RingbufferReader(memory, structs, *prb).read();
  if (symbol("log_first_idx")) return read_legacy_log(memory, structs, symbol);
  throw Error(Error::Kind::Unsupported, "this kernel has no printk buffer kdive knows (prb or log_buf)");
}

std::vector<LogRecord> read_printk_log(const Kernel& kernel) {
  return read_printk_log(kernel.memory(), kernel.structs(), [&](std::string_view name) -> std::optional<VirtAddr> {
    if (kernel.symbols().find(name) == nullptr) return std::nullopt;
    return kernel.symbol_address(name);
  });
}

std::optional<std::string> find_panic_message(const std::vector<LogRecord>& log) {
  auto first_line = [](const std::string& text, size_t from) {
    size_t nl = text.find('\n', from);
    return text.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
  };
  // The panic line itself, not the "---[ end Kernel panic ... ]---" trailer.
  constexpr std::string_view kPanic = "Kernel panic - not syncing";
  for (auto it = log.rbegin(); it != log.rend(); ++it) {
    if (it->text.compare(0, kPanic.size(), kPanic) == 0) return first_line(it->text, 0);
  }
  static const char* const kOopsMarkers[] = {"BUG: ", "Oops: ", "general protection fault", "kernel BUG at",
                                             "Unable to handle kernel"};
  for (const auto& r : log) {
    for (const char* marker : kOopsMarkers) {
      if (auto at = r.text.find(marker); at != std::string::npos) return first_line(r.text, at);
    }
  }
  return std::nullopt;
}

}  // namespace kdive
