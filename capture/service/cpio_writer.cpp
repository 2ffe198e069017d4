#include "capture/service/cpio_writer.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstring>

namespace kdive::capture {
namespace {

constexpr std::string_view kMagic = "070701";
constexpr size_t kHeaderSize = 110;  // magic + 13 fields of 8 hex digits

void pad4(std::vector<std::byte>& out) {
  while (out.size() % 4 != 0) out.push_back(std::byte{0});
}

void append(std::vector<std::byte>& out, std::string_view s) {
  auto b = reinterpret_cast<const std::byte*>(s.data());
  out.insert(out.end(), b, b + s.size());
}

std::string clean_name(std::string_view name) {
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  while (!name.empty() && name.back() == '/') name.remove_suffix(1);
  if (name.empty()) throw CpioError("cpio: empty entry name");
  if (name.find('\0') != std::string_view::npos) throw CpioError("cpio: entry name holds a NUL");
  return std::string(name);
}

uint32_t hex_field(std::span<const std::byte> header, size_t index) {
  uint32_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    char c = static_cast<char>(header[6 + index * 8 + i]);
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0) throw CpioError(fmt::format("cpio: bad hex digit in header field {}", index));
    v = v * 16 + static_cast<uint32_t>(d);
  }
  return v;
}

}  // namespace

void CpioWriter::entry(std::string_view name, uint32_t mode, std::span<const std::byte> data, uint32_t rmajor,
                       uint32_t rminor) {
  if (data.size() > 0xffffffffu) throw CpioError(fmt::format("cpio: {} is larger than newc's 4 GiB limit", name));
  ++ino_;
  // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  const uint32_t nlink = S_ISDIR(mode) ? 2 : 1;
  std::string header =
      fmt::format("{}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}", kMagic, ino_,
                  mode, 0, 0, nlink, 0, data.size(), 0, 0, rmajor, rminor, name.size() + 1, 0);
  append(out_, header);
  append(out_, name);
  out_.push_back(std::byte{0});
  pad4(out_);
  out_.insert(out_.end(), data.begin(), data.end());
  pad4(out_);
}

void CpioWriter::parents(std::string_view name) {
  for (size_t slash = name.find('/'); slash != std::string_view::npos; slash = name.find('/', slash + 1)) {
    std::string_view dir = name.substr(0, slash);
    if (!contains(dir)) {
      names_.emplace(dir);
      entry(dir, S_IFDIR | 0755, {});
    }
  }
}

bool CpioWriter::contains(std::string_view name) const { return names_.find(name) != names_.end(); }

void CpioWriter::directory(std::string_view raw, uint32_t perm) {
  std::string name = clean_name(raw);
  if (contains(name)) return;  // implied earlier, or asked twice: one entry is enough
  parents(name);
  names_.insert(name);
  entry(name, S_IFDIR | (perm & 07777), {});
}

void CpioWriter::file(std::string_view raw, std::span<const std::byte> data, uint32_t perm) {
  std::string name = clean_name(raw);
  if (contains(name)) throw CpioError(fmt::format("cpio: {} added twice", name));
  parents(name);
  names_.insert(name);
  entry(name, S_IFREG | (perm & 07777), data);
}

void CpioWriter::file(std::string_view name, std::string_view text, uint32_t perm) {
  file(name, std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()), perm);
}

void CpioWriter::symlink(std::string_view raw, std::string_view target) {
  std::string name = clean_name(raw);
  if (contains(name)) throw CpioError(fmt::format("cpio: {} added twice", name));
  parents(name);
  names_.insert(name);
  entry(name, S_IFLNK | 0777, std::span(reinterpret_cast<const std::byte*>(target.data()), target.size()));
}

void CpioWriter::char_device(std::string_view raw, uint32_t major, uint32_t minor, uint32_t perm) {
  std::string name = clean_name(raw);
  if (contains(name)) throw CpioError(fmt::format("cpio: {} added twice", name));
  parents(name);
  names_.insert(name);
  entry(name, S_IFCHR | (perm & 07777), {}, major, minor);
}

std::vector<std::byte> CpioWriter::finish() {
  entry("TRAILER!!!", 0, {});
  std::vector<std::byte> done;
  done.swap(out_);
  names_.clear();
  ino_ = 0;
  return done;
}

std::vector<CpioEntry> read_cpio(std::span<const std::byte> archive) {
  std::vector<CpioEntry> entries;
  size_t pos = 0;
  auto align4 = [](size_t v) { return (v + 3) & ~size_t{3}; };
  while (true) {
    if (archive.size() - pos < kHeaderSize) throw CpioError(fmt::format("cpio: truncated header at offset {}", pos));
    auto header = archive.subspan(pos, kHeaderSize);
    if (std::memcmp(header.data(), kMagic.data(), kMagic.size()) != 0) {
      throw CpioError(fmt::format("cpio: no newc magic at offset {}", pos));
    }
    CpioEntry e;
    e.mode = hex_field(header, 1);
    uint32_t filesize = hex_field(header, 6);
    e.rmajor = hex_field(header, 9);
    e.rminor = hex_field(header, 10);
    uint32_t namesize = hex_field(header, 11);
    size_t name_at = pos + kHeaderSize;
    if (namesize == 0 || archive.size() - name_at < namesize)
      throw CpioError(fmt::format("cpio: truncated name at offset {}", pos));
    e.name.assign(reinterpret_cast<const char*>(archive.data() + name_at), namesize - 1);
    size_t data_at = align4(name_at + namesize);
    if (data_at > archive.size() || archive.size() - data_at < filesize) {
      throw CpioError(fmt::format("cpio: truncated data of {}", e.name));
    }
    if (e.name == "TRAILER!!!") return entries;
    e.data.assign(archive.begin() + data_at, archive.begin() + data_at + filesize);
    entries.push_back(std::move(e));
    pos = align4(data_at + filesize);
  }
}

std::vector<std::byte> gzip_bytes(std::span<const std::byte> data, int level) {
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper; deflateInit2 leaves the header's
  // mtime at 0 unless deflateSetHeader says otherwise.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw CpioError("gzip: out of memory");
  std::vector<std::byte> out(deflateBound(&z, data.size()));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw CpioError("gzip: compression failed");
  out.resize(z.total_out);
  return out;
}

std::vector<std::byte> gunzip_bytes(std::span<const std::byte> data) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw CpioError("gunzip: out of memory");
  std::vector<std::byte> out;
  std::byte buf[1 << 16];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      throw CpioError("gunzip: not a valid gzip stream");
    }
    out.insert(out.end(), buf, buf + (sizeof buf - z.avail_out));
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      throw CpioError("gunzip: truncated gzip stream");
    }
  } while (rc != Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

}  // namespace kdive::capture
