#include "commands/device_dumps.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/centered.hpp"

namespace kdive {
namespace {

const std::vector<DeviceDump>& dumps_of(const DumpSource& dump, char flag) {
  const DumpNotes& notes = dump.notes();
  // A running kernel's /proc/kcore has no device dumps: a driver adds them
  // to the vmcore only in the capture kernel.
  if (notes.live) throw CommandError(fmt::format("-{} option not supported on a live system", flag));
  if (notes.device_dumps.empty()) throw NotInKernel("no device dumps found in this dumpfile");
  return notes.device_dumps;
}

Json dump_json(size_t index, const DeviceDump& d) {
  return {{"index", index}, {"offset", json_hex(d.offset)}, {"size", d.data.size()}, {"name", d.name}};
}

// crash's `rd -64 -a` layout over file offsets: two words a line, then the
// line's bytes as ASCII (a dot for what does not print); a last partial word
// is padded with zeros, as crash reads whole words.
void print_words(const DeviceDump& d, Output& out) {
  constexpr size_t kLine = 16;
  for (size_t at = 0; at < d.data.size(); at += kLine) {
    std::string hex, ascii;
    for (size_t w = at; w < at + kLine && w < d.data.size(); w += 8) {
      uint64_t word = 0;
      for (size_t b = 0; b < 8; ++b) {
        const size_t i = w + b;
        const auto byte = i < d.data.size() ? static_cast<uint8_t>(d.data[i]) : uint8_t{0};
        word |= static_cast<uint64_t>(byte) << (8 * b);
        ascii += (byte >= 0x20 && byte < 0x7f) ? static_cast<char>(byte) : '.';
      }
      hex += fmt::format("{}{:016x}", hex.empty() ? "" : " ", word);
    }
    out.print("{:x}:  {:<33}  {}\n", d.offset + at, hex, ascii);
  }
}

// Writes the data to `file` through a temporary name beside it, renamed into
// place only when complete and only if nothing is there by then.
void write_file(const DeviceDump& d, const std::string& file) {
  std::error_code ec;
  if (std::filesystem::symlink_status(file, ec).type() != std::filesystem::file_type::not_found) {
    throw CommandError(fmt::format("{}: file exists: not overwritten", file));
  }
  const std::filesystem::path target(file);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  // A name of its own beside the target (same file system, so the rename
  // is atomic), created exclusively with the user's umask as any file.
  std::string temp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    temp = (dir / fmt::format(".{}.{}-{}", target.filename().string(), getpid(), attempt)).string();
    fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0)
    throw CommandError(fmt::format("{}: cannot create a file in {}: {}", file, dir.string(), strerror(errno)));
  auto fail = [&](const char* what) {
    const int err = errno;
    close(fd);
    unlink(temp.c_str());
    throw CommandError(fmt::format("{}: {}: {}", file, what, strerror(err)));
  };
  const auto* p = reinterpret_cast<const char*>(d.data.data());
  for (size_t left = d.data.size(); left > 0;) {
    const ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write");
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) fail("cannot write");
  if (close(fd) != 0) {
    const int err = errno;
    unlink(temp.c_str());
    throw CommandError(fmt::format("{}: cannot write: {}", file, strerror(err)));
  }
  // RENAME_NOREPLACE: a file that appeared since the check is kept, too.
  if (renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, file.c_str(), RENAME_NOREPLACE) != 0) {
    const int err = errno;
    unlink(temp.c_str());
    if (err == EEXIST) throw CommandError(fmt::format("{}: file exists: not overwritten", file));
    throw CommandError(fmt::format("{}: cannot rename {} to it: {}", file, temp, strerror(err)));
  }
}

}  // namespace

Json list_device_dumps(const DumpSource& dump, Output& out) {
  const std::vector<DeviceDump>& dumps = dumps_of(dump, 'V');
  out.print("INDEX  {:<16}   {:<16} NAME\n", "OFFSET", "SIZE");
  Json rows = Json::array();
  for (size_t i = 0; i < dumps.size(); ++i) {
    const DeviceDump& d = dumps[i];
    out.print("{}  0x{:<16x} {:<16} {}\n", centered(std::to_string(i), 5), d.offset, d.data.size(), d.name);
    rows.push_back(dump_json(i, d));
  }
  return rows;
}

Json show_device_dump(const DumpSource& dump, size_t index, const std::string& file, Output& out) {
  const std::vector<DeviceDump>& dumps = dumps_of(dump, 'v');
  if (index >= dumps.size()) {
    throw CommandError(fmt::format("no device dump found at index: {} (the dump has {})", index, dumps.size()));
  }
  const DeviceDump& d = dumps[index];
  Json row = dump_json(index, d);
  if (!file.empty()) {
    write_file(d, file);
    out.print("DEVICE: {}\n", d.name);
    out.print("{} bytes written to {}\n", d.data.size(), file);
    row["file"] = file;
    row["data"] = nullptr;
    return row;
  }
  out.print("DEVICE: {}\n", d.name);
  if (!out.json()) print_words(d, out);
  std::string hex;
  hex.reserve(d.data.size() * 2);
  for (std::byte b : d.data) hex += fmt::format("{:02x}", static_cast<unsigned>(b));
  row["file"] = nullptr;
  row["data"] = std::move(hex);
  return row;
}

}  // namespace kdive
