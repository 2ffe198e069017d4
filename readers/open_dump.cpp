#include "readers/open_dump.hpp"

#include <sys/stat.h>

#include <functional>
#include <span>

#include "readers/byte_reader.hpp"
#include "readers/byte_source.hpp"
#include "readers/devmem.hpp"
#include "readers/elf_core.hpp"
#include "readers/elf_dump.hpp"
#include "readers/flattened.hpp"
#include "readers/kdump_compressed.hpp"

namespace kdive {
namespace {

constexpr size_t kProbeBytes = 4096;

// One row per format, tried in order; "not mine" is not an error.
struct Format {
  const char* name;
  std::function<bool(std::span<const std::byte>)> probe;
  std::function<std::unique_ptr<DumpSource>(std::vector<std::unique_ptr<ByteSource>>, const OpenDumpOptions&)> open;
};

std::vector<std::byte> head_of(ByteSource& s) {
  std::vector<std::byte> head(std::min<uint64_t>(kProbeBytes, s.size()));
  if (!s.read(0, head)) head.clear();
  return head;
}

const std::vector<Format>& formats() {
  static const std::vector<Format> table = {
      {"ELF vmcore", probe_elf_core,
       [](std::vector<std::unique_ptr<ByteSource>> parts, const OpenDumpOptions&) {
         if (parts.size() != 1) throw FormatError(parts[1]->name() + ": an ELF dump is a single file");
         return open_elf_dump(std::move(parts[0]));
       }},
      {"kdump-compressed", probe_kdump,
       [](std::vector<std::unique_ptr<ByteSource>> parts, const OpenDumpOptions& o) {
         return open_kdump(std::move(parts), {.cache_pages = o.cache_pages});
       }},
      // QEMU's kdump-* output is flattened; it is read in place, never reassembled on disk.
      {"flattened kdump", probe_flattened,
       [](std::vector<std::unique_ptr<ByteSource>> parts, const OpenDumpOptions& o) {
         return open_kdump(std::move(parts), {.cache_pages = o.cache_pages, .flattened = true});
       }},
  };
  return table;
}

}  // namespace

std::unique_ptr<DumpSource> open_dump(const std::vector<std::string>& paths, OpenDumpOptions options) {
  if (paths.empty()) throw FormatError("no dump file given");
  // A character device has no header to probe: it is physical memory (/dev/mem).
  struct stat st {};
  if (paths.size() == 1 && ::stat(paths[0].c_str(), &st) == 0 && S_ISCHR(st.st_mode)) {
    return open_devmem({.mem = paths[0]});
  }
  std::vector<std::unique_ptr<ByteSource>> parts;
  for (const auto& p : paths) parts.push_back(FileSource::open(p));
  std::vector<std::byte> head = head_of(*parts.front());
  for (const auto& format : formats()) {
    if (!format.probe(head)) continue;
    for (size_t i = 1; i < parts.size(); ++i) {
      if (!format.probe(head_of(*parts[i]))) {
        throw FormatError(parts[i]->name() + ": not a part of the same " + format.name + " dump");
      }
    }
    return format.open(std::move(parts), options);
  }
  throw FormatError(paths.front() +
                    ": not a kernel dump (expected an ELF vmcore, kdump-compressed or flattened format)");
}

}  // namespace kdive
