#include "kernel-model/symbol_table.hpp"

#include <algorithm>

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
  std::stable_sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) {
    if (a.address != b.address) return a.address < b.address;
    return preference(a) > preference(b);
  });
  by_name_.clear();
  by_name_.reserve(symbols_.size());
  for (size_t i = 0; i < symbols_.size(); ++i) {
    auto [it, inserted] = by_name_.emplace(symbols_[i].name, i);
    // Duplicated local names (static functions in several files): keep the global.
    if (!inserted && preference(symbols_[i]) > preference(symbols_[it->second])) it->second = i;
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
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &symbols_[it->second];
}

std::optional<uint64_t> SymbolTable::address(std::string_view name) const {
  const Symbol* s = find(name);
  if (s == nullptr) return std::nullopt;
  return s->address;
}

std::optional<SymbolHit> SymbolTable::containing(uint64_t address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](uint64_t a, const Symbol& s) { return a < s.address; });
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
