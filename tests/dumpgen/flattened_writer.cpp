#include "tests/dumpgen/flattened_writer.hpp"

#include <algorithm>
#include <cstring>

namespace kdive::dumpgen {
namespace {

constexpr size_t kHeaderSize = 4096;

void put_be(std::vector<std::byte>& out, int64_t v) {
  uint64_t u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::byte>((u >> (i * 8)) & 0xff));
}

}  // namespace

std::vector<std::byte> flattened_header(int64_t version) {
  std::vector<std::byte> h;
  const char sig[16] = "makedumpfile";
  for (char c : sig) h.push_back(static_cast<std::byte>(c));
  put_be(h, 1);
  put_be(h, version);
  h.resize(kHeaderSize);
  return h;
}

std::vector<std::byte> flatten_records(const std::vector<FlatRecord>& records, bool end_marker) {
  std::vector<std::byte> out = flattened_header();
  for (const FlatRecord& r : records) {
    put_be(out, r.offset);
    put_be(out, r.size.value_or(static_cast<int64_t>(r.data.size())));
    out.insert(out.end(), r.data.begin(), r.data.end());
  }
  if (end_marker) {
    put_be(out, -1);
    put_be(out, -1);
  }
  return out;
}

std::vector<std::byte> flatten(const std::vector<std::byte>& file, const FlattenSpec& spec) {
  std::vector<FlatRecord> records;
  if (spec.rewrite_header) {
    // A header-sized record of junk that the real header, written later,
    // replaces.
    records.push_back({0, std::vector<std::byte>(std::min(file.size(), kHeaderSize), std::byte{0xee}), {}});
  }
  for (size_t at = 0; at < file.size(); at += spec.chunk) {
    size_t n = std::min<size_t>(spec.chunk, file.size() - at);
    auto first = file.begin() + at;
    bool last = at + n == file.size();
    if (spec.sparse && !last && std::all_of(first, first + n, [](std::byte b) { return b == std::byte{0}; })) {
      continue;
    }
    records.push_back({static_cast<int64_t>(at), std::vector<std::byte>(first, first + n), {}});
  }
  if (spec.reverse) {
    // Reverse the data records but keep the junk header record first, so the
    // real header still comes later.
    std::reverse(records.begin() + (spec.rewrite_header ? 1 : 0), records.end());
  }
  return flatten_records(records, !spec.noend);
}

}  // namespace kdive::dumpgen
