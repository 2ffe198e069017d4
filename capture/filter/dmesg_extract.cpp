#include "capture/filter/dmesg_extract.hpp"

#include <fmt/format.h>

#include "capture/filter/page_filter.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel_layout.hpp"
#include "kernel-model/kernel_memory.hpp"
#include "kernel-model/printk_log.hpp"
#include "kernel-model/struct_layout.hpp"
#include "readers/vmcoreinfo.hpp"

namespace kdive::capture {

std::vector<std::string> dmesg_lines(uint64_t ts_nsec, const std::string& text) {
  const std::string stamp = fmt::format("[{:5d}.{:06d}] ", ts_nsec / 1000000000, ts_nsec % 1000000000 / 1000);
  std::vector<std::string> out;
  size_t from = 0;
  // The kernel stamps every line of a multi-line record when it prints the
  // log (record_print_text), and drops one trailing newline.
  std::string_view body(text);
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  while (true) {
    size_t nl = body.find('\n', from);
    out.push_back(stamp + std::string(body.substr(from, nl == std::string_view::npos ? nl : nl - from)));
    if (nl == std::string_view::npos) break;
    from = nl + 1;
  }
  return out;
}

DmesgText extract_dmesg(DumpSource& source) {
  const std::string& text = source.notes().vmcoreinfo;
  if (text.empty()) throw FilterError("the dump has no VMCOREINFO: the kernel log cannot be found without a vmlinux");
  const VmcoreInfo info(text);
  std::vector<LogRecord> records;
  try {
    KernelMemory memory(source, layout_from_vmcoreinfo(info, source.notes()));
    StructLayout structs(info);
    records = read_printk_log(memory, structs, [&](std::string_view name) -> std::optional<VirtAddr> {
      if (auto a = info.symbol(name)) return VirtAddr{*a};
      return std::nullopt;
    });
  } catch (const Error& e) {
    throw FilterError(fmt::format("cannot read the kernel log: {}", e.what()));
  } catch (const Fault& f) {
    throw FilterError(fmt::format("cannot read the kernel log: {}", f.what()));
  }
  DmesgText out;
  for (const LogRecord& r : records) {
    if (!r.damage.empty()) {
      out.lost.push_back(r.damage);
      out.lines.push_back(fmt::format("[lost: {}]", r.damage));
      continue;
    }
    for (std::string& line : dmesg_lines(r.ts_nsec, r.text)) out.lines.push_back(std::move(line));
  }
  return out;
}

}  // namespace kdive::capture
