// libFuzzer target: the flattened-format index, checked against a naive
// replay of the records (what `makedumpfile -R` does: write each record's data
// at its offset). Any difference in size or bytes traps.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "readers/byte_reader.hpp"
#include "readers/byte_source.hpp"
#include "readers/flattened.hpp"

using namespace kdive;

namespace {

constexpr uint64_t kReplayLimit = 1 << 20;  // bytes of logical file the oracle builds

// The logical file by replaying records; nullopt when it would be too big or
// the stream is one the reader must reject (the oracle does not re-check
// those).
std::optional<std::vector<std::byte>> replay(std::span<const std::byte> s) {
  ByteReader r(s, "stream");
  std::vector<std::byte> out;
  uint64_t pos = 4096;
  while (pos + 16 <= s.size()) {
    int64_t off = r.get_be<int64_t>(pos);
    int64_t len = r.get_be<int64_t>(pos + 8);
    if (off == -1 && len == -1) break;
    if (off < 0 || len < 0) return std::nullopt;
    uint64_t data = pos + 16;
    uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(len), s.size() - data);
    if (n > 0) {
      if (static_cast<uint64_t>(off) > kReplayLimit || n > kReplayLimit - static_cast<uint64_t>(off)) {
        return std::nullopt;
      }
      if (out.size() < off + n) out.resize(off + n);
      std::memcpy(out.data() + off, s.data() + data, n);
    }
    if (n < static_cast<uint64_t>(len)) break;
    pos = data + n;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Most random inputs fail the signature; unless the input has a header of its
  // own (seeds made by kdive-mkdump), give it a valid one for free so the
  // fuzzer spends its time on the records.
  const char sig[] = "makedumpfile";
  std::vector<std::byte> stream;
  if (size >= sizeof sig && std::memcmp(data, sig, sizeof sig) == 0) {
    stream.resize(size);
  } else {
    stream.resize(4096 + size);
    std::memcpy(stream.data(), sig, sizeof sig);
    stream[16 + 7] = std::byte{1};
    stream[24 + 7] = std::byte{1};
  }
  if (size != 0) std::memcpy(stream.data() + (stream.size() - size), data, size);
  auto expect = replay(stream);

  std::unique_ptr<ByteSource> src;
  try {
    src = open_flattened(std::make_unique<MemorySource>(stream, "fuzz"));
  } catch (const FormatError&) {
    return 0;
  }
  if (!expect) return 0;
  if (src->size() != expect->size()) __builtin_trap();
  std::vector<std::byte> got(src->size());
  if (!src->read(0, got)) __builtin_trap();
  if (got != *expect) __builtin_trap();
  // Unaligned small reads across piece boundaries.
  for (uint64_t at = 0; at + 7 <= std::min<uint64_t>(got.size(), 1 << 16); at += 13) {
    std::byte b[7];
    if (!src->read(at, b) || std::memcmp(b, got.data() + at, 7) != 0) __builtin_trap();
  }
  return 0;
}
