// swap: the swap devices in use, their size and how much of each is used.
#include "kernel-model/swap.hpp"

#include <fmt/format.h>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

void run(Session& session, const ParsedArgs&, Output& out) {
  std::vector<SwapDevice> devices;
  try {
    devices = read_swap_devices(session.kernel());
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw CommandError("this kernel has no swap (no swap_info; CONFIG_SWAP is off)");
  }
  Json rows = Json::array();
  out.print("SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME\n");
  for (const SwapDevice& d : devices) {
    if (!d.error.empty()) {
      out.print("{:016x}  (damaged: {})\n", d.info, d.error);
      out.data_lost(d.error);
      rows.push_back({{"swap_info_struct", json_hex(d.info)}, {"error", d.error}});
      continue;
    }
    const uint64_t size = d.pages * 4, used = d.inuse_pages * 4;
    const uint64_t pct = size ? used * 100 / size : 0;  // crash truncates
    const char* type = d.partition ? "PARTITION" : "FILE";
    out.print("{:016x}  {:<9}  {:>7}k  {:>8}k  {:>5}%  {:>3}  {}\n", d.info, type, size, used, pct, d.priority, d.path);
    rows.push_back({{"swap_info_struct", json_hex(d.info)},
                    {"type", type},
                    {"size", size},
                    {"used", used},
                    {"pct", pct},
                    {"priority", d.priority},
                    {"filename", d.path},
                    {"swap_type", d.type}});
  }
  out.result(std::move(rows));
}

const CommandRegistrar registrar{
    {.name = "swap",
     .summary = "swap device information",
     .usage = "swap",
     .description = "Lists each swap device or file in use (swap_info[]): its swap_info_struct,\n"
                    "whether it is a PARTITION or a FILE, its usable size, the space in use and\n"
                    "its percentage (in kB, truncated as crash does), its priority and its path.",
     .examples = "  kdive> swap\n"
                 "  SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME\n"
                 "  ffff9874c1373400  PARTITION   16380k      268k      1%   -2  /dev/vda",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"swap_info_struct", "type", "size", "used", "pct", "priority", "filename", "swap_type"},
              .notes = "One object per device: {swap_info_struct, type (\"PARTITION\" or \"FILE\"), size\n"
                       "and used (kB), pct, priority, filename, swap_type (its index in swap_info[],\n"
                       "the type of its swap entries)}; a device that could not be read is\n"
                       "{swap_info_struct, error}. The list may be empty: no swap in use.",
              .example = "swap"}},
    run};

}  // namespace
}  // namespace kdive
