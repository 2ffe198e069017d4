#include "readers/flattened.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "readers/byte_reader.hpp"

namespace kdive {
namespace {

// makedumpfile's MAKEDUMPFILE_SIGNATURE in a 16-byte field, TYPE_FLAT_HEADER
// and VERSION_FLAT_HEADER; the header is padded to 4096 bytes
// (MAX_SIZE_MDF_HEADER).
constexpr char kSignature[] = "makedumpfile";
constexpr uint64_t kSignatureField = 16;
constexpr int64_t kFlatType = 1;
constexpr int64_t kFlatVersion = 1;
constexpr uint64_t kHeaderSize = 4096;
constexpr uint64_t kRecordHeaderSize = 16;  // i64 offset, i64 size (big-endian)
constexpr int64_t kEndMarker = -1;
// Unwritten bytes tolerated beyond the bytes the stream wrote (see the header).
constexpr uint64_t kUnwrittenSlack = 16ull << 20;
// Record headers are read through a window so indexing costs one read per
// window, not one per record.
constexpr uint64_t kWindowSize = 64 * 1024;

// Logical bytes [start, end) live in the stream at stream_pos.
struct Piece {
  uint64_t start;
  uint64_t end;
  uint64_t stream_pos;
};

[[noreturn]] void fail(const ByteSource& s, const std::string& why) { throw FormatError(s.name() + ": " + why); }

// Later-wins interval map built while indexing: a new record cuts away whatever
// older pieces it overlaps. Records are usually disjoint, so this is a map
// insert.
class PieceMap {
 public:
  void write(uint64_t start, uint64_t end, uint64_t pos) {
    if (start == end) return;
    auto it = map_.upper_bound(start);
    if (it != map_.begin()) {
      auto prev = std::prev(it);
      Span old = prev->second;
      uint64_t old_start = prev->first;
      if (old.end > start) {
        if (old.end > end) map_.emplace(end, Span{old.end, old.pos + (end - old_start)});
        if (old_start == start) {
          map_.erase(prev);
        } else {
          prev->second.end = start;
        }
      }
    }
    it = map_.lower_bound(start);
    while (it != map_.end() && it->first < end) {
      if (it->second.end <= end) {
        it = map_.erase(it);
        continue;
      }
      Span rest{it->second.end, it->second.pos + (end - it->first)};
      map_.erase(it);
      map_.emplace(end, rest);
      break;
    }
    map_.emplace_hint(map_.lower_bound(start), start, Span{end, pos});
  }

  std::vector<Piece> pieces() const {
    std::vector<Piece> out;
    out.reserve(map_.size());
    for (const auto& [start, span] : map_) out.push_back({start, span.end, span.pos});
    return out;
  }

 private:
  struct Span {
    uint64_t end;
    uint64_t pos;
  };
  std::map<uint64_t, Span> map_;
};

// Reads record headers through a sliding window over the stream.
class WindowReader {
 public:
  explicit WindowReader(ByteSource& s) : source_(s) {}

  // The 16 bytes at pos, or false when fewer remain in the stream.
  bool header_at(uint64_t pos, std::byte (&out)[kRecordHeaderSize]) {
    if (pos < window_pos_ || pos + kRecordHeaderSize > window_pos_ + window_.size()) {
      uint64_t avail = source_.size() > pos ? source_.size() - pos : 0;
      if (avail < kRecordHeaderSize) return false;
      window_.resize(std::min<uint64_t>(kWindowSize, avail));
      if (!source_.read(pos, window_)) fail(source_, fmt::format("read error at stream offset {}", pos));
      window_pos_ = pos;
    }
    std::memcpy(out, window_.data() + (pos - window_pos_), kRecordHeaderSize);
    return true;
  }

 private:
  ByteSource& source_;
  std::vector<std::byte> window_;
  uint64_t window_pos_ = 0;
};

class FlattenedSource : public ByteSource {
 public:
  explicit FlattenedSource(std::unique_ptr<ByteSource> stream) : stream_(std::move(stream)) { index(); }

  uint64_t size() const override { return logical_size_; }
  const std::string& name() const override { return stream_->name(); }
  const FlattenedStats& stats() const { return stats_; }

  bool read(uint64_t offset, std::span<std::byte> out) override {
    auto end = checked_add(offset, out.size());
    if (!end || *end > logical_size_) return false;
    uint64_t pos = offset;
    size_t done = 0;
    // The last piece starting at or before pos.
    auto it = std::upper_bound(pieces_.begin(), pieces_.end(), pos,
                               [](uint64_t p, const Piece& piece) { return p < piece.start; });
    if (it != pieces_.begin()) --it;
    while (done < out.size()) {
      while (it != pieces_.end() && it->end <= pos) ++it;
      uint64_t want = out.size() - done;
      if (it == pieces_.end() || it->start > pos) {
        // Never written: zeros up to the next piece.
        uint64_t gap = it == pieces_.end() ? want : std::min(want, it->start - pos);
        std::memset(out.data() + done, 0, gap);
        done += gap;
        pos += gap;
        continue;
      }
      uint64_t n = std::min(want, it->end - pos);
      if (!stream_->read(it->stream_pos + (pos - it->start), out.subspan(done, n))) {
        fail(*stream_,
             fmt::format("read error at stream offset {} (the stream shrank?)", it->stream_pos + (pos - it->start)));
      }
      done += n;
      pos += n;
    }
    return true;
  }

 private:
  void index() {
    ByteSource& s = *stream_;
    std::vector<std::byte> head(kHeaderSize);
    if (!s.read(0, head)) fail(s, "too short for a flattened-format header (4096 bytes)");
    if (!probe_flattened(head)) fail(s, "not a flattened dump (no \"makedumpfile\" signature of type 1)");
    int64_t version = ByteReader(head, "flattened header").get_be<int64_t>(24);
    if (version != kFlatVersion) fail(s, fmt::format("unsupported flattened-format version {}", version));

    PieceMap map;
    WindowReader window(s);
    uint64_t pos = kHeaderSize;
    uint64_t max_end = 0;
    for (;;) {
      std::byte raw[kRecordHeaderSize];
      if (!window.header_at(pos, raw)) break;  // cut short: no end marker
      ByteReader r(raw, "flattened record header");
      int64_t offset = r.get_be<int64_t>(0);
      int64_t size = r.get_be<int64_t>(8);
      if (offset == kEndMarker && size == kEndMarker) {
        stats_.complete = true;
        break;
      }
      if (offset < 0 || size < 0) {
        fail(s, fmt::format("record at stream offset {} has a negative offset "
                            "({}) or size ({})",
                            pos, offset, size));
      }
      uint64_t data_pos = pos + kRecordHeaderSize;
      // Both are below 2^63 here, so offset + n cannot wrap; and data_pos is
      // at most the stream size because the record header fit.
      uint64_t avail = s.size() - data_pos;
      uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(size), avail);
      map.write(static_cast<uint64_t>(offset), static_cast<uint64_t>(offset) + n, data_pos);
      // A zero-length record does not extend the file (nor does a write(2)
      // of 0 bytes).
      if (n > 0) max_end = std::max(max_end, static_cast<uint64_t>(offset) + n);
      ++stats_.records;
      if (n < static_cast<uint64_t>(size)) break;  // the last record is cut short
      pos = data_pos + n;
    }

    pieces_ = map.pieces();
    logical_size_ = max_end;
    stats_.pieces = pieces_.size();
    for (const Piece& p : pieces_) stats_.written_bytes += p.end - p.start;
    uint64_t unwritten = logical_size_ - stats_.written_bytes;
    if (unwritten > stats_.written_bytes + kUnwrittenSlack) {
      fail(s, fmt::format("records leave {} of {} logical bytes unwritten: damaged stream", unwritten, logical_size_));
    }
  }

  std::unique_ptr<ByteSource> stream_;
  std::vector<Piece> pieces_;
  uint64_t logical_size_ = 0;
  FlattenedStats stats_;
};

}  // namespace

bool probe_flattened(std::span<const std::byte> head) {
  if (head.size() < kSignatureField + 8) return false;
  // The text and its NUL, as makedumpfile compares it (the rest of the 16-byte
  // field is padding).
  if (std::memcmp(head.data(), kSignature, sizeof(kSignature)) != 0) return false;
  return ByteReader(head, "flattened header").get_be<int64_t>(kSignatureField) == kFlatType;
}

std::unique_ptr<ByteSource> open_flattened(std::unique_ptr<ByteSource> stream) {
  return std::make_unique<FlattenedSource>(std::move(stream));
}

const FlattenedStats* flattened_stats(const ByteSource& source) {
  auto* f = dynamic_cast<const FlattenedSource*>(&source);
  return f ? &f->stats() : nullptr;
}

}  // namespace kdive
