#include "kernel-model/symbol_table.hpp"

#include <algorithm>

#include "kernel-model/name_hash.hpp"

namespace kdive {

namespace {

bool in_kernel_image(const Symbol& s) { return s.type != 'A' && s.address >= kStartKernelMap; }

// Among symbols at one address, prefer the one a person means: a sized function or
// object over a zero-size label, and a global over a local.
int preference(const Symbol& s) {
  int score = 0;
  if (s.size > 0) score += 2;
  if (s.type >= 'A' && s.type <= 'Z') score += 1;
  return score;
}

}  // namespace

void SymbolTable::finish() {
  // Sort small keys, then move each symbol once: cheaper than sorting the
  // symbols themselves. Ties keep their original order, so the result is stable.
  // Names are hashed here, in table order, where they lie close together.
  struct Key {
    VirtAddr address;
    uint32_t order;  // preference first, then the original position
    uint32_t index;
    uint64_t hash;
  };
  std::vector<Key> keys(symbols_.size());
  for (size_t i = 0; i < symbols_.size(); ++i) {
    keys[i] = {symbols_[i].address, static_cast<uint32_t>(3 - preference(symbols_[i])), static_cast<uint32_t>(i),
               name_hash(symbols_[i].name)};
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.address != b.address) return a.address < b.address;
    if (a.order != b.order) return a.order < b.order;
    return a.index < b.index;
  });
  // Permute in place, cycle by cycle: a sorted copy would be megabytes of fresh
  // memory, and first touches of fresh pages are what start-up time is made of.
  std::vector<bool> placed(symbols_.size());
  for (size_t start = 0; start < symbols_.size(); ++start) {
    if (placed[start]) continue;
    Symbol first = symbols_[start];
    size_t at = start;
    for (;;) {
      placed[at] = true;
      size_t from = keys[at].index;
      if (from == start) {
        symbols_[at] = first;
        break;
      }
      symbols_[at] = symbols_[from];
      at = from;
    }
  }

  size_t buckets = 16;
  while (buckets < symbols_.size() * 2) buckets *= 2;
  by_name_.assign(buckets, Bucket{0, 0});
  size_t mask = buckets - 1;
  for (size_t i = 0; i < symbols_.size(); ++i) {
    auto hash = static_cast<uint32_t>(keys[i].hash);
    for (size_t b = keys[i].hash & mask;; b = (b + 1) & mask) {
      Bucket& bucket = by_name_[b];
      if (bucket.slot == 0) {
        bucket = {hash, static_cast<uint32_t>(i + 1)};
        break;
      }
      if (bucket.hash == hash && symbols_[bucket.slot - 1].name == symbols_[i].name) {
        // Duplicated local names (static functions in several files): keep the global.
        if (preference(symbols_[i]) > preference(symbols_[bucket.slot - 1])) bucket.slot = static_cast<uint32_t>(i + 1);
        break;
      }
    }
  }
}

void SymbolTable::relocate(uint64_t offset) {
  uint64_t delta = offset - relocation_;
  for (auto& s : symbols_) {
    if (in_kernel_image(s)) s.address += delta;
  }
  relocation_ = offset;
}

const Symbol* SymbolTable::find(std::string_view name) const {
  if (by_name_.empty()) return nullptr;
  size_t mask = by_name_.size() - 1;
  uint64_t h = name_hash(name);
  for (size_t b = h & mask;; b = (b + 1) & mask) {
    const Bucket& bucket = by_name_[b];
    if (bucket.slot == 0) return nullptr;
    if (bucket.hash == static_cast<uint32_t>(h) && symbols_[bucket.slot - 1].name == name) {
      return &symbols_[bucket.slot - 1];
    }
  }
}

std::optional<VirtAddr> SymbolTable::address(std::string_view name) const {
  const Symbol* s = find(name);
  if (s == nullptr) return std::nullopt;
  return s->address;
}

std::optional<SymbolHit> SymbolTable::containing(VirtAddr address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](VirtAddr a, const Symbol& s) { return a < s.address; });
  if (it == symbols_.begin()) return std::nullopt;
  --it;
  // Step back to the preferred symbol of this address (sorted first among equals).
  while (it != symbols_.begin() && (it - 1)->address == it->address) --it;
  uint64_t offset = address - it->address;
  // Like crash, name an address after the nearest symbol below it, but not from
  // absurdly far away (a gap of a megabyte means "no symbol here").
  constexpr uint64_t kReach = 1 << 20;
  if (offset >= std::max<uint64_t>(it->size, kReach)) return std::nullopt;
  return SymbolHit{&*it, offset};
}

}  // namespace kdive
