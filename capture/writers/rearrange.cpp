#include "capture/writers/rearrange.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "capture/writers/kdump_writer.hpp"
#include "readers/byte_reader.hpp"

namespace kdive::capture {
namespace {

// A record larger than this is damage, not data: writers emit at most a
// window of pages per record.
constexpr int64_t kMaxRecord = int64_t{1} << 30;
// disk_dump_header: signature, and the status word the INCOMPLETE flag is in.
constexpr size_t kHeaderBytes = 464;
constexpr size_t kStatusOffset = 424;
// How often a blocked read looks at the stop flag.
constexpr int kStopPollMs = 100;

int64_t from_big_endian(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return static_cast<int64_t>(v);
}

struct Stopped {};

// Reads up to out.size() bytes; fewer only at the end of the input. Throws
// Stopped when a read is interrupted and `stop` is set.
size_t read_full(int fd, const std::string& name, std::span<std::byte> out, const std::atomic<int>* stop = nullptr) {
  size_t done = 0;
  while (done < out.size()) {
    if (stop) {
      // Wait in short steps: a signal that lands just before read() would
      // otherwise not interrupt it, and a silent sender would hold us forever.
      if (stop->load() != 0) throw Stopped{};
      pollfd p{fd, POLLIN, 0};
      // 0: nothing yet; -1 with EINTR: the signal came during the wait. Either
      // way the flag is looked at again before any read() that could block.
      const int ready = ::poll(&p, 1, kStopPollMs);
      if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
      if (ready < 0) throw FormatError(fmt::format("{}: poll: {}", name, std::strerror(errno)));
    }
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FormatError(fmt::format("{}: read error: {}", name, std::strerror(errno)));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace

RearrangeResult rearrange_flattened(int in_fd, const std::string& in_name, OutputSink& out,
                                    const std::atomic<int>* stop) {
  std::vector<std::byte> head(kFlattenedHeaderSize);
  size_t got = read_full(in_fd, in_name, head);
  bool signature = got >= 32 && std::memcmp(head.data(), kFlattenedSignature, sizeof kFlattenedSignature - 1) == 0;
  if (!signature || from_big_endian(head.data() + 16) != 1) {
    throw FormatError(fmt::format("{}: not a flattened dump stream (no \"makedumpfile\" header of type 1)", in_name));
  }
  if (got < head.size()) throw FormatError(fmt::format("{}: the stream ends inside its header", in_name));

  RearrangeResult r;
  std::array<std::byte, kHeaderBytes> dump_header{};  // what the records put at offsets 0..463
  std::vector<std::byte> data;
  try {
    for (;;) {
      std::array<std::byte, 16> rec;
      size_t n = read_full(in_fd, in_name, rec, stop);
      if (n < rec.size()) {
        r.problem = n == 0 ? "the stream ended without its end marker" : "the stream ended inside a record header";
        break;
      }
      int64_t offset = from_big_endian(rec.data());
      int64_t size = from_big_endian(rec.data() + 8);
      if (offset == -1 && size == -1) {
        r.complete = true;
        break;
      }
      if (offset < 0 || size < 0 || size > kMaxRecord) {
        r.problem = fmt::format("damaged record {} (offset {}, size {})", r.records + 1, offset, size);
        break;
      }
      data.resize(static_cast<size_t>(size));
      size_t have = read_full(in_fd, in_name, data, stop);
      if (have > 0) out.write_at(static_cast<uint64_t>(offset), std::span(data).first(have));
      for (size_t i = 0; i < have; ++i) {
        uint64_t at = static_cast<uint64_t>(offset) + i;
        if (at >= kHeaderBytes) break;
        dump_header[at] = data[i];
      }
      r.bytes += have;
      ++r.records;
      if (have < data.size()) {
        r.problem = fmt::format("the stream ended inside record {}", r.records);
        break;
      }
    }
  } catch (const Stopped&) {
    r.stopped_by = stop->load();
    r.problem = "interrupted";
  }
  if (std::memcmp(dump_header.data(), "KDUMP   ", 8) == 0) {
    uint32_t status;
    std::memcpy(&status, dump_header.data() + kStatusOffset, 4);
    if (!r.complete && !(status & kKdumpStatusIncomplete)) {
      status |= kKdumpStatusIncomplete;
      out.write_at(kStatusOffset, std::as_bytes(std::span(&status, 1)));
    }
    r.dump_incomplete = (status & kKdumpStatusIncomplete) != 0;
  }
  out.finish();
  return r;
}

}  // namespace kdive::capture
