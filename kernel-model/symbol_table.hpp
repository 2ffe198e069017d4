// SymbolTable: the kernel's symbols (from the vmlinux ELF .symtab), by name and by
// address. Addresses of symbols in the kernel image move with KASLR: relocate()
// shifts them once the offset is known, so lookups always speak run-time addresses.
//
//   SymbolTable syms = ...;                  // built by Vmlinux
//   syms.relocate(0x1e000000);
//   syms.address("linux_banner");            // optional<VirtAddr>
//   auto hit = syms.containing(rip);         // {symbol, offset}: "schedule+0x2a"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

struct Symbol {
  std::string_view name;  // points into the vmlinux string table (kept mapped)
  // Where it is at run time. Absolute symbols ('A') and per-CPU variables keep
  // their link-time value: an absolute number, or the variable's offset in
  // each CPU's per-CPU area (Kernel::per_cpu adds a CPU's base).
  VirtAddr address;
  uint64_t size;
  char type;                     // nm-style: 'T' text, 'D' data, 'R' read-only, 'B' bss, 'A' absolute, ...
  std::string_view module = {};  // the module it belongs to; empty for the kernel image
};

struct SymbolHit {
  const Symbol* symbol;
  uint64_t offset;
};

// Kernel image virtual addresses start here on x86_64 (__START_KERNEL_map).
constexpr VirtAddr kStartKernelMap{0xffffffff80000000ull};

class SymbolTable {
 public:
  void add(Symbol s) { symbols_.push_back(s); }
  void reserve(size_t n) { symbols_.reserve(n); }
  // Sorts and indexes; call once after the last add().
  void finish();
  // Adds `offset` to every symbol inside the kernel image (not per-CPU offsets or
  // absolute values).
  void relocate(uint64_t offset);
  uint64_t relocation() const { return relocation_; }

  const Symbol* find(std::string_view name) const;
  std::optional<VirtAddr> address(std::string_view name) const;
  // The nearest symbol at or below `address` (nullopt before the first one or
  // more than a megabyte past it).
  std::optional<SymbolHit> containing(VirtAddr address) const;
  const std::vector<Symbol>& all() const { return symbols_; }
  bool empty() const { return symbols_.empty(); }
  // Position of a symbol of this table in all() (for next/previous symbol).
  size_t index_of(const Symbol* s) const { return static_cast<size_t>(s - symbols_.data()); }

 private:
  std::vector<Symbol> symbols_;  // sorted by address
  // Open-addressing hash of names: one allocation instead of a node per symbol
  // (~150k of them at start-up), and the hash kept in the bucket so a probe
  // rarely has to touch the symbol or its name.
  struct Bucket {
    uint32_t hash;  // low bits of name_hash
    uint32_t slot;  // index into symbols_ + 1; 0 = empty
  };
  std::vector<Bucket> by_name_;
  uint64_t relocation_ = 0;
};

}  // namespace kdive
