#include "capture/writers/kdump_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "readers/kdump_format.hpp"
#include "readers/vmcoreinfo.hpp"

namespace kdive::capture {
namespace {

uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

void put_field(char (&field)[65], std::string_view value) {
  std::memcpy(field, value.data(), std::min<size_t>(value.size(), sizeof field - 1));
}

// The text of the VMCOREINFO note inside `notes`: {offset, size} of its
// descriptor, or {0, 0}.
std::pair<uint64_t, uint64_t> find_vmcoreinfo(std::span<const std::byte> notes) {
  uint64_t pos = 0;
  auto u32 = [&](uint64_t at) {
    uint32_t v;
    std::memcpy(&v, notes.data() + at, 4);
    return v;
  };
  while (pos + 12 <= notes.size()) {
    uint32_t namesz = u32(pos), descsz = u32(pos + 4);
    uint64_t desc_at = pos + 12 + round_up(namesz, 4);
    if (desc_at + descsz > notes.size()) break;
    std::string_view name(reinterpret_cast<const char*>(notes.data() + pos + 12), namesz);
    if (!name.empty() && name.back() == '\0') name.remove_suffix(1);
    if (name == "VMCOREINFO") return {desc_at, descsz};
    pos = desc_at + round_up(descsz, 4);
  }
  return {0, 0};
}

}  // namespace

std::vector<std::byte> notes_for_output(const DumpNotes& notes) {
  std::vector<std::byte> out = notes.elf_notes;
  out.resize(round_up(out.size(), 4));
  if (find_vmcoreinfo(out).second == 0 && !notes.vmcoreinfo.empty()) {
    // A v3 kdump source keeps VMCOREINFO as bare text: give it its note back.
    const char name[] = "VMCOREINFO";
    uint32_t head[3] = {sizeof name, static_cast<uint32_t>(notes.vmcoreinfo.size()), 0};
    auto at = out.size();
    out.resize(at + 12 + round_up(sizeof name, 4) + round_up(notes.vmcoreinfo.size(), 4));
    std::memcpy(out.data() + at, head, 12);
    std::memcpy(out.data() + at + 12, name, sizeof name);
    std::memcpy(out.data() + at + 12 + round_up(sizeof name, 4), notes.vmcoreinfo.data(), notes.vmcoreinfo.size());
  }
  return out;
}

KdumpWriter::KdumpWriter(OutputSink& sink, const DumpInfo& info)
    : sink_(sink), info_(info), notes_(notes_for_output(*info.notes)), bs_(info.page_size) {
  if (!info_.split) {
    info_.start_pfn = 0;
    info_.end_pfn = info_.max_pfn;
  }
  sub_hdr_blocks_ = (sizeof(KdumpSubHeader) + notes_.size() + bs_ - 1) / bs_;
  bitmap_offset_ = (1 + sub_hdr_blocks_) * bs_;
  bitmap_half_ = round_up((info_.max_pfn + 7) / 8, bs_);
  desc_offset_ = bitmap_offset_ + 2 * bitmap_half_;
  // Right after the descriptors, unaligned: readers look for it there.
  zero_page_offset_ = desc_offset_ + info_.reserved_pages * sizeof(PageDesc);
  data_offset_ = zero_page_offset_ + bs_;
}

std::vector<std::byte> KdumpWriter::header_block(bool complete) const {
  std::vector<std::byte> block(bs_ * (1 + sub_hdr_blocks_));
  DiskDumpHeader h{};
  std::memcpy(h.signature, "KDUMP   ", 8);
  h.header_version = 6;
  VmcoreInfo vmcoreinfo(info_.notes->vmcoreinfo);
  put_field(h.utsname[0], "Linux");
  put_field(h.utsname[2], vmcoreinfo.get("OSRELEASE").value_or(info_.notes->utsname_release.value_or("")));
  put_field(h.utsname[4], "x86_64");
  if (auto t = vmcoreinfo.get("CRASHTIME")) {
    h.tv_sec = std::strtoll(t->c_str(), nullptr, 10);
  } else if (info_.notes->crash_time_sec) {
    h.tv_sec = *info_.notes->crash_time_sec;
  }
  h.status = kdump_codec_flag(info_.codec) | (complete ? 0 : kKdumpStatusIncomplete);
  h.block_size = static_cast<int32_t>(bs_);
  h.sub_hdr_size = static_cast<int32_t>(sub_hdr_blocks_);
  h.bitmap_blocks = static_cast<uint32_t>(2 * bitmap_half_ / bs_);
  h.max_mapnr = static_cast<uint32_t>(std::min<uint64_t>(info_.max_pfn, UINT32_MAX));
  h.nr_cpus = static_cast<int32_t>(std::max<size_t>(1, info_.notes->cpus.size()));
  std::memcpy(block.data(), &h, sizeof h);

  KdumpSubHeader s{};
  // phys_base: VMCOREINFO's NUMBER(phys_base) (decimal, may be negative) is the
  // kernel's own word; a kdump source's sub-header value is the fallback.
  if (auto pb = vmcoreinfo.number("phys_base")) {
    s.phys_base = static_cast<uint64_t>(*pb);
  } else {
    s.phys_base = info_.notes->phys_base.value_or(0);
  }
  s.dump_level = info_.dump_level;
  s.split = info_.split ? 1 : 0;
  s.start_pfn = s.start_pfn_64 = info_.start_pfn;
  s.end_pfn = s.end_pfn_64 = info_.end_pfn;
  s.max_mapnr_64 = info_.max_pfn;
  uint64_t notes_at = bs_ + sizeof(KdumpSubHeader);
  if (!notes_.empty()) {
    s.offset_note = notes_at;
    s.size_note = notes_.size();
    auto [at, size] = find_vmcoreinfo(notes_);
    if (size != 0) {
      s.offset_vmcoreinfo = notes_at + at;
      s.size_vmcoreinfo = size;
    }
  }
  std::memcpy(block.data() + bs_, &s, sizeof s);
  std::copy(notes_.begin(), notes_.end(), block.begin() + static_cast<ptrdiff_t>(notes_at));
  return block;
}

void KdumpWriter::begin() {
  // Everything before the page data is allocated now: ENOSPC then hits the
  // data, and the descriptors and bitmaps of what was written still fit.
  sink_.reserve(0, data_offset_);
  sink_.write_at(0, header_block(false));
  scratch_.assign(bs_, std::byte{0});
  sink_.write_at(zero_page_offset_, scratch_);
}

void KdumpWriter::write_window(uint64_t first_pfn, std::span<const PageSlot> slots) {
  if (first_pfn % 8 != 0 || first_pfn < info_.start_pfn || first_pfn + slots.size() > info_.end_pfn) {
    throw std::logic_error(
        fmt::format("kdump writer: window at PFN {:#x} (+{}) outside the part", first_pfn, slots.size()));
  }
  // The window's data in one contiguous write.
  scratch_.clear();
  std::vector<PageDesc> descs;
  std::vector<uint64_t> data_end;  // per descriptor: scratch_ bytes up to its data's end
  for (const PageSlot& s : slots) {
    if (s.state == SlotState::Zero) {
      descs.push_back({static_cast<int64_t>(zero_page_offset_), static_cast<uint32_t>(bs_), 0, 0});
      data_end.push_back(scratch_.size());
    } else if (s.state == SlotState::Stored) {
      descs.push_back({static_cast<int64_t>(data_offset_ + scratch_.size()), s.size, kdump_codec_flag(s.codec), 0});
      scratch_.insert(scratch_.end(), s.data, s.data + s.size);
      data_end.push_back(scratch_.size());
    }
  }
  if (desc_used_ + descs.size() > info_.reserved_pages) {
    throw std::logic_error(fmt::format("kdump writer: {} pages kept, more than the {} the counting pass found",
                                       desc_used_ + descs.size(), info_.reserved_pages));
  }
  size_t whole = descs.size();
  std::optional<WriteError> failure;
  try {
    sink_.write_at(data_offset_, scratch_);
  } catch (const WriteError& e) {
    // Keep the pages whose data is all there.
    whole = static_cast<size_t>(std::upper_bound(data_end.begin(), data_end.end(), e.written()) - data_end.begin());
    failure = e;
  }
  data_offset_ += failure ? failure->written() : scratch_.size();
  if (whole > 0) {
    sink_.write_at(desc_offset_ + desc_used_ * sizeof(PageDesc), std::as_bytes(std::span(descs).first(whole)));
  }
  desc_used_ += whole;
  write_bitmaps(first_pfn, slots, whole);
  if (failure) throw *failure;
}

// Bitmap bytes of the window: 1st bitmap every frame that is RAM, 2nd the
// frames whose data made it out (the first `whole` kept pages of the window).
void KdumpWriter::write_bitmaps(uint64_t first_pfn, std::span<const PageSlot> slots, size_t whole) {
  std::vector<std::byte> valid((slots.size() + 7) / 8), dumped(valid.size());
  size_t kept = 0;
  bool cut = false;
  for (size_t i = 0; i < slots.size(); ++i) {
    auto bit = static_cast<std::byte>(1u << (i % 8));
    SlotState st = slots[i].state;
    if (st == SlotState::Zero || st == SlotState::Stored) {
      if (kept++ >= whole) cut = true;
      if (!cut) dumped[i / 8] |= bit;
    }
    // Past the cut nothing is claimed: a page the 1st bitmap calls RAM but the
    // 2nd does not hold would read as filtered, and it was not.
    if (st != SlotState::Hole && !cut) valid[i / 8] |= bit;
  }
  sink_.write_at(bitmap_offset_ + first_pfn / 8, valid);
  sink_.write_at(bitmap_offset_ + bitmap_half_ + first_pfn / 8, dumped);
}

void KdumpWriter::finish(bool complete) { sink_.write_at(0, header_block(complete)); }

}  // namespace kdive::capture
