#include "kernel-model/dwarf_index_image.hpp"

#include <cstring>

#include "kernel-model/dwarf_name_set.hpp"

namespace kdive {

namespace {

// Bump the version when the layout or what is indexed changes.
constexpr char kMagic[8] = {'K', 'D', 'I', 'X', 'v', '0', '0', '2'};

struct KindHeader {
  uint64_t entries_offset, entry_count, buckets_offset, bucket_count;
};

struct Header {
  char magic[8];
  uint64_t total_size;
  uint64_t strings_offset, strings_size;
  KindHeader kinds[kNameKinds];
};

uint64_t align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

uint64_t bucket_count_for(uint64_t entries) {
  uint64_t n = 16;
  while (n < entries * 2) n *= 2;
  return n;
}

}  // namespace

std::vector<uint64_t> DwarfIndexImage::build(const DwarfNameSet& names) {
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  uint64_t pos = align8(sizeof(Header));
  uint64_t string_bytes = 0;
  for (size_t k = 0; k < kNameKinds; ++k) {
    KindHeader& kh = h.kinds[k];
    kh.entry_count = names.size(static_cast<NameKind>(k));
    kh.bucket_count = bucket_count_for(kh.entry_count);
    kh.entries_offset = pos;
    pos += align8(kh.entry_count * sizeof(DwarfIndexEntry));
    kh.buckets_offset = pos;
    pos += align8(kh.bucket_count * sizeof(uint32_t));
    names.for_each(static_cast<NameKind>(k), [&](const DwarfNameSet::Entry& e) { string_bytes += e.name_length; });
  }
  h.strings_offset = pos;
  h.strings_size = string_bytes;
  h.total_size = align8(pos + string_bytes);

  std::vector<uint64_t> words(h.total_size / 8, 0);
  auto* base = reinterpret_cast<uint8_t*>(words.data());
  std::memcpy(base, &h, sizeof h);
  char* strings = reinterpret_cast<char*>(base + h.strings_offset);
  uint64_t string_pos = 0;
  for (size_t k = 0; k < kNameKinds; ++k) {
    const KindHeader& kh = h.kinds[k];
    auto* entries = reinterpret_cast<DwarfIndexEntry*>(base + kh.entries_offset);
    auto* buckets = reinterpret_cast<uint32_t*>(base + kh.buckets_offset);
    uint64_t mask = kh.bucket_count - 1;
    uint32_t i = 0;
    names.for_each(static_cast<NameKind>(k), [&](const DwarfNameSet::Entry& e) {
      std::memcpy(strings + string_pos, e.name_data, e.name_length);
      entries[i] = {e.die, e.value, static_cast<uint32_t>(string_pos), e.name_length};
      string_pos += e.name_length;
      uint64_t b = e.hash & mask;
      while (buckets[b] != 0) b = (b + 1) & mask;
      buckets[b] = ++i;
    });
  }
  return words;
}

std::optional<DwarfIndexImage> DwarfIndexImage::view(std::span<const uint8_t> bytes) {
  Header h;
  if (bytes.size() < sizeof h) return std::nullopt;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.total_size != bytes.size()) return std::nullopt;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) return std::nullopt;
  auto fits = [&](uint64_t offset, uint64_t count, uint64_t unit) {
    return offset % 8 == 0 && offset <= bytes.size() && count <= (bytes.size() - offset) / unit;
  };
  DwarfIndexImage image;
  for (size_t k = 0; k < kNameKinds; ++k) {
    const KindHeader& kh = h.kinds[k];
    bool power_of_two = kh.bucket_count != 0 && (kh.bucket_count & (kh.bucket_count - 1)) == 0;
    if (!power_of_two || kh.bucket_count <= kh.entry_count ||
        !fits(kh.entries_offset, kh.entry_count, sizeof(DwarfIndexEntry)) ||
        !fits(kh.buckets_offset, kh.bucket_count, sizeof(uint32_t))) {
      return std::nullopt;
    }
    image.tables_[k].entries = {reinterpret_cast<const DwarfIndexEntry*>(bytes.data() + kh.entries_offset),
                                static_cast<size_t>(kh.entry_count)};
    image.tables_[k].buckets = {reinterpret_cast<const uint32_t*>(bytes.data() + kh.buckets_offset),
                                static_cast<size_t>(kh.bucket_count)};
  }
  if (h.strings_offset > bytes.size() || h.strings_size > bytes.size() - h.strings_offset) return std::nullopt;
  image.strings_ = {reinterpret_cast<const char*>(bytes.data() + h.strings_offset),
                    static_cast<size_t>(h.strings_size)};
  return image;
}

std::string_view DwarfIndexImage::name(const DwarfIndexEntry& e) const {
  if (e.name_offset > strings_.size() || e.name_length > strings_.size() - e.name_offset) return {};
  return strings_.substr(e.name_offset, e.name_length);
}

std::span<const DwarfIndexEntry> DwarfIndexImage::entries(NameKind kind) const {
  return tables_[static_cast<size_t>(kind)].entries;
}

const DwarfIndexEntry* DwarfIndexImage::find(NameKind kind, std::string_view name_wanted) const {
  const Table& t = tables_[static_cast<size_t>(kind)];
  if (t.buckets.empty()) return nullptr;
  size_t mask = t.buckets.size() - 1;
  size_t b = name_hash(name_wanted) & mask;
  // At most one full pass: a damaged file without an empty bucket must not spin.
  for (size_t probes = 0; probes < t.buckets.size(); ++probes, b = (b + 1) & mask) {
    uint32_t slot = t.buckets[b];
    if (slot == 0) return nullptr;
    if (slot > t.entries.size()) return nullptr;
    const DwarfIndexEntry& e = t.entries[slot - 1];
    if (name(e) == name_wanted) return &e;
  }
  return nullptr;
}

}  // namespace kdive
