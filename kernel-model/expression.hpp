// Expression: the C expressions people type at the prompt (`p jiffies`,
// `p init_task.comm`, `p ((struct task_struct *)0xffff...)->pid`, `eval 4k*3`),
// evaluated against the kernel's symbols, DWARF types and memory into a Value.
// Nothing here prints: commands/value_format spells a Value out gdb-style.
//
//   Value v = evaluate(KernelEvalContext(kernel), "init_task.tasks.next->next");
//   v.type().spell();     // "struct list_head *"
//   v.as_u64();           // the pointer, read from the dump
//
// What is understood (a subset of C, until GDB is linked in for the rest):
// identifiers (global variables, enum constants), integer and character
// literals, `.` `->` `[]` postfix operators, unary `* & - ~ !`, casts to a type
// name (`(struct page *)x`, `(unsigned long)x`), `sizeof(type)` / `sizeof expr`,
// and the binary operators `* / % + - << >> < <= > >= == != & ^ | && ||` and
// `?:` with C's precedence and integer promotions (int, unsigned int, long,
// unsigned long). EvalOptions::crash_eval switches to crash's `eval` rules.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel-model/type.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
class TypeSystem;
struct Symbol;

// What evaluation needs from the kernel: types, symbols and memory. An
// interface so that unit tests can evaluate over a small compiled C program
// and a byte buffer instead of a dump.
class EvalContext {
 public:
  virtual ~EvalContext() = default;
  virtual TypeSystem& types() const = 0;
  // The run-time address of a global variable or function named `name`, for
  // the CPU the context was set up with when the symbol is per-CPU.
  // Throws Error(Lookup) for a per-CPU symbol when no CPU was chosen.
  virtual std::optional<uint64_t> symbol_address(std::string_view name) const = 0;
  // Fills `out` from kernel virtual memory or throws Fault.
  virtual void read(VirtAddr address, std::span<std::byte> out) const = 0;
};

// The real kernel: symbols (KASLR-relocated), the dump's memory, per-CPU
// variables resolved for `cpu` (per_cpu(sym, cpu)).
class KernelEvalContext : public EvalContext {
 public:
  explicit KernelEvalContext(const Kernel& kernel, std::optional<int> cpu = std::nullopt)
      : kernel_(kernel), cpu_(cpu) {}
  TypeSystem& types() const override;
  std::optional<uint64_t> symbol_address(std::string_view name) const override;
  void read(VirtAddr address, std::span<std::byte> out) const override;

 private:
  const Kernel& kernel_;
  std::optional<int> cpu_;
};

// The kernel's types and symbols over other memory: a task's user space
// (`struct -u`, `p -u`) or the bytes of the dump file itself (`struct -f`,
// where an "address" is a file offset). `read` fills the bytes or throws.
class ReaderEvalContext : public KernelEvalContext {
 public:
  using Reader = std::function<void(VirtAddr, std::span<std::byte>)>;
  ReaderEvalContext(const Kernel& kernel, Reader read, std::optional<int> cpu = std::nullopt)
      : KernelEvalContext(kernel, cpu), read_(std::move(read)) {}
  void read(VirtAddr address, std::span<std::byte> out) const override { read_(address, out); }

 private:
  Reader read_;
};

// Numbers only: no symbols, no memory, only the C integer types — for `eval`
// when no dump is open. Reading memory faults.
class NumbersEvalContext : public EvalContext {
 public:
  TypeSystem& types() const override;
  std::optional<uint64_t> symbol_address(std::string_view) const override { return std::nullopt; }
  void read(VirtAddr address, std::span<std::byte> out) const override;
};

// Whether `s` lives in the per-CPU area (its address is an offset into each
// CPU's copy, between __per_cpu_start and __per_cpu_end), not at an address.
bool is_per_cpu_symbol(const Kernel& kernel, const Symbol& s);

// A value: either an object in memory (an lvalue — address plus type; its bytes
// are read once, on first use, and shared with the members and elements taken
// from it) or a computed scalar (an integer, pointer or enum rvalue).
class Value {
 public:
  static Value in_memory(const EvalContext& ctx, VirtAddr address, const Type* type);
  static Value scalar(const EvalContext& ctx, const Type* type, uint64_t bits);

  const Type& type() const { return *type_; }
  bool is_lvalue() const { return address_.has_value(); }
  // Where the value lives (lvalues only; Error otherwise).
  VirtAddr address() const;
  bool is_bitfield() const { return bit_size_ != 0; }
  uint32_t bit_size() const { return bit_size_; }

  // Integer, enum, bool, char or pointer contents (bitfields extracted),
  // zero-extended; as_i64 sign-extends signed types.
  uint64_t as_u64() const;
  int64_t as_i64() const;
  // The contents: type().size() bytes (Fault when unreadable).
  std::span<const std::byte> bytes() const;

  // A member of a struct/union value (or of what a pointer to one points to).
  Value member(const Member& m) const;
  Value member(std::string_view path) const;  // dotted path; Error(Lookup)
  // Element `i` of an array value, or what pointer + i points to.
  Value element(uint64_t i) const;
  // What a pointer points to (Error for non-pointers; reading NULL faults later).
  Value deref() const;
  // The NUL-terminated string a char pointer points to (at most max_len bytes).
  std::string pointed_string(size_t max_len) const;

  const EvalContext& context() const { return *ctx_; }

 private:
  Value(const EvalContext& ctx, const Type* type) : ctx_(&ctx), type_(type) {}
  const EvalContext* ctx_;
  const Type* type_;
  std::optional<VirtAddr> address_;
  uint32_t bit_offset_ = 0;
  uint32_t bit_size_ = 0;
  uint64_t scalar_ = 0;
  // Contents, once read: the buffer of the outermost value read, and where
  // this value starts in it.
  mutable std::shared_ptr<const std::vector<std::byte>> buffer_;
  mutable uint64_t buffer_offset_ = 0;
};

struct EvalOptions {
  // crash's `eval` dialect: integers are unsigned 64-bit (every literal is an
  // unsigned long, so -1 is 0xffffffffffffffff and 1 << 63 is defined); a
  // symbol stands for its address, not its contents; a number with a leading
  // 0 is decimal ("012" is 12); a word of hex digits that holds a digit is hex
  // ("ffffffff81000000"), and so is a word of hex letters that names no symbol
  // ("deadbeef"); a k, m or g suffix multiplies by 1K, 1M or 1G ("4k").
  bool crash_eval = false;
};

// Evaluates `expression`. Throws Error(Lookup) for an unknown symbol, member or
// type, Error(Unsupported) for syntax this evaluator does not handle, Error(BadData)
// for arithmetic errors (division by zero), Fault when memory cannot be read.
Value evaluate(const EvalContext& ctx, std::string_view expression, EvalOptions options = {});

// The type a cast or sizeof would name: "struct task_struct *", "unsigned long".
// nullptr when `spelling` is not a type.
const Type* parse_type_name(TypeSystem& types, std::string_view spelling);

}  // namespace kdive
