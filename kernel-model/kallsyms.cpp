#include "kernel-model/kallsyms.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

constexpr uint32_t kMaxSymbols = 1u << 22;
constexpr size_t kChunk = 64 * 1024;

// Reads a long table front to back in chunks (its length is not stored).
class ChunkReader {
 public:
  ChunkReader(const KernelMemory& mem, VirtAddr base) : mem_(mem), base_(base) {}
  uint8_t at(uint64_t offset) {
    if (offset < start_ || offset >= start_ + buf_.size()) fill(offset);
    return static_cast<uint8_t>(buf_[offset - start_]);
  }

 private:
  void fill(uint64_t offset) {
    start_ = offset;
    // Near the end of the mapped kernel a whole chunk may not be readable.
    for (size_t n = kChunk; n >= 4096; n /= 2) {
      buf_.resize(n);
      try {
        mem_.read(base_ + offset, buf_);
        return;
      } catch (const Fault&) {
        if (n == 4096) throw;
      }
    }
  }
  const KernelMemory& mem_;
  VirtAddr base_;
  uint64_t start_ = 0;
  std::vector<std::byte> buf_;
};

}  // namespace

Kallsyms read_kallsyms(const Kernel& k) {
  Kallsyms out;
  out.source = "VMCOREINFO";
  auto where = [&](std::string_view name) -> std::optional<VirtAddr> {
    if (auto a = k.vmcoreinfo().symbol(name)) return VirtAddr{*a};
    if (auto a = k.symbols().address(name)) {
      out.source = "vmlinux";
      return a;
    }
    return std::nullopt;
  };
  auto names = where("kallsyms_names"), count_at = where("kallsyms_num_syms");
  auto token_table = where("kallsyms_token_table"), token_index = where("kallsyms_token_index");
  auto offsets = where("kallsyms_offsets"), relative_base = where("kallsyms_relative_base");
  auto addresses = where("kallsyms_addresses");
  if (!names || !count_at || !token_table || !token_index || (!addresses && !(offsets && relative_base))) {
    throw Error(Error::Kind::Lookup, "the kernel's kallsyms tables cannot be found (no VMCOREINFO or vmlinux symbols)");
  }
  const KernelMemory& mem = k.memory();
  uint32_t count = mem.read<uint32_t>(*count_at);
  if (count == 0 || count > kMaxSymbols) {
    throw Error(Error::Kind::BadData, fmt::format("kallsyms_num_syms is implausible: {}", count));
  }

  std::vector<std::string> tokens(256);
  std::vector<uint16_t> index(256);
  mem.read(*token_index, {reinterpret_cast<std::byte*>(index.data()), index.size() * sizeof(uint16_t)});
  for (size_t i = 0; i < 256; ++i) tokens[i] = mem.read_cstring(*token_table + index[i], 256);

  std::vector<uint64_t> values(count);
  if (offsets && relative_base) {
    std::vector<int32_t> raw(count);
    mem.read(*offsets, {reinterpret_cast<std::byte*>(raw.data()), raw.size() * sizeof(int32_t)});
    uint64_t base = mem.read<uint64_t>(*relative_base);
    // With absolute per-CPU symbols the kernel's own symbols are all negative;
    // without, every offset is a small positive distance from the base.
    bool absolute_percpu = std::any_of(raw.begin(), raw.end(), [](int32_t o) { return o < 0; });
    for (uint32_t i = 0; i < count; ++i) {
      if (absolute_percpu) {
        values[i] = raw[i] >= 0 ? static_cast<uint64_t>(raw[i]) : base - 1 - static_cast<uint64_t>(int64_t{raw[i]});
      } else {
        values[i] = base + static_cast<uint32_t>(raw[i]);
      }
    }
  } else {
    mem.read(*addresses, {reinterpret_cast<std::byte*>(values.data()), values.size() * sizeof(uint64_t)});
  }

  ChunkReader stream(mem, *names);
  uint64_t at = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len = stream.at(at++);
    if (len & 0x80) len = (len & 0x7f) | (uint32_t{stream.at(at++)} << 7);
    std::string name;
    for (uint32_t j = 0; j < len; ++j) name += tokens[stream.at(at++)];
    if (name.size() < 2) continue;
    char type = name[0];
    out.names->push_back(name.substr(1));
    out.table.add({out.names->back(), VirtAddr{values[i]}, 0, type, {}});
  }
  out.table.finish();
  return out;
}

}  // namespace kdive
