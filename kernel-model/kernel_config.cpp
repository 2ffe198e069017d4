#include "kernel-model/kernel_config.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <vector>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

constexpr uint64_t kMaxCompressed = 1 << 22;
constexpr size_t kMaxConfig = 1 << 24;

std::string gunzip(const std::vector<std::byte>& in) {
  z_stream z{};
  // 16 + MAX_WBITS: expect a gzip header, as kernel/gen_kheaders and
  // kernel/configs.c produce with `gzip -n`.
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw Error(Error::Kind::BadData, "zlib cannot start");
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  char chunk[65536];
  while (rc == Z_OK && out.size() < kMaxConfig) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END && out.empty()) {
    throw Error(Error::Kind::BadData, fmt::format("kernel_config_data does not decompress (zlib error {})", rc));
  }
  return out;
}

}  // namespace

std::string read_kernel_config(const Kernel& k) {
  auto begin = k.symbols().address("kernel_config_data");
  if (!begin) {
    throw Error(Error::Kind::Lookup,
                "kernel_config_data does not exist in this kernel (CONFIG_IKCONFIG is not built in: "
                "it is a module (configs.ko) or off)");
  }
  auto end = k.symbols().address("kernel_config_data_end");
  uint64_t size = 0;
  if (end && *end > *begin) {
    size = *end - *begin;
  } else if (const Symbol* s = k.symbols().find("kernel_config_data"); s && s->size) {
    size = s->size;  // before 5.1 it was a sized C array
  }
  if (size == 0 || size > kMaxCompressed) {
    throw Error(Error::Kind::BadData, fmt::format("kernel_config_data has an implausible size ({})", size));
  }
  std::vector<std::byte> blob(size);
  k.memory().read(*begin, blob);
  // Older kernels framed the gzip data with "IKCFG_ST" and "IKCFG_ED" inside
  // the array; start at the gzip magic wherever it is.
  for (size_t i = 0; i + 1 < blob.size(); ++i) {
    if (blob[i] == std::byte{0x1f} && blob[i + 1] == std::byte{0x8b}) {
      blob.erase(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(i));
      return gunzip(blob);
    }
  }
  throw Error(Error::Kind::BadData, "kernel_config_data holds no gzip data");
}

}  // namespace kdive
