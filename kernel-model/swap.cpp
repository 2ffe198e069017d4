#include "kernel-model/swap.hpp"

#include <fmt/format.h>

#include "kernel-model/errors.hpp"
#include "kernel-model/files.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/object.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPagePresent = 1ull << 0;
constexpr uint64_t kPageProtNone = 1ull << 8;  // _PAGE_PROTNONE aliases _PAGE_GLOBAL
// _PAGE_SWP_SOFT_DIRTY (bit 1), _PAGE_SWP_UFFD_WP (bit 2), _PAGE_SWP_EXCLUSIVE (bit 3).
constexpr uint64_t kSwapSoftwareBits = 0xeull;
constexpr int kSwapTypeBits = 5;
constexpr int kSwapOffsetShift = 9 + kSwapTypeBits;

// A swap type has SWP_TYPE_BITS bits: MAX_SWAPFILES is below 1 << 5.
constexpr uint64_t kMaxSwapfiles = 1u << kSwapTypeBits;
constexpr uint64_t kSwpUsed = 1;  // SWP_USED, enum in include/linux/swap.h
constexpr uint32_t kIfmt = 0170000;
constexpr uint32_t kIfblk = 0060000;

// A counter that is a plain integer in one kernel and an atomic (a struct with
// `counter`) in another: probed, its value either way.
uint64_t counter(const Object& o) { return o.has_member("counter") ? o["counter"].as_u64() : o.as_u64(); }

}  // namespace

std::optional<SwapEntry> decode_swap_pte(uint64_t pte) {
  const uint64_t entry = pte & ~kSwapSoftwareBits;
  if (entry == 0 || (pte & (kPagePresent | kPageProtNone))) return std::nullopt;
  SwapEntry e;
  e.type = static_cast<uint32_t>(entry >> (64 - kSwapTypeBits));
  e.offset = (~entry << kSwapTypeBits) >> kSwapOffsetShift;
  return e;
}

std::vector<SwapDevice> read_swap_devices(const Kernel& k) {
  std::vector<SwapDevice> out;
  const uint64_t count = k.object("nr_swapfiles").as_u64();
  Object table = k.object("swap_info");
  for (uint64_t i = 0; i < count && i < kMaxSwapfiles; ++i) {
    Object slot = table.at(i);
    if (slot.is_null()) continue;
    SwapDevice d;
    d.type = static_cast<uint32_t>(i);
    d.info = slot.pointer();
    try {
      Object si = slot.deref();
      d.flags = si["flags"].as_u64();
      if (!(d.flags & kSwpUsed)) continue;
      d.pages = si["pages"].as_u64();
      d.inuse_pages = counter(si["inuse_pages"]);
      d.priority = si["prio"].as_i64();
      if (!si["swap_file"].is_null()) {
        Object file = si["swap_file"].deref();
        d.path = file_path(k, file.address());
        const auto mode = static_cast<uint32_t>(file["f_mapping"]["host"]["i_mode"].as_u64());
        d.partition = (mode & kIfmt) == kIfblk;
      }
    } catch (const ModelError& e) {
      d.error = fmt::format("swap_info_struct {:x}: {}", d.info, e.what());
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace kdive
