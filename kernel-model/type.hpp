// Type: one C type of the kernel as DWARF describes it — base, pointer, struct,
// union, enum, typedef, array, function, or a const/volatile qualifier around
// another type. Types are owned by the TypeSystem and created on first use;
// what they refer to (a pointer's target, a struct's members) is resolved
// lazily, so touching task_struct does not drag in the whole type graph.
//
//   const Type* t = types.lookup("struct task_struct");
//   auto m = t->member("se.on_rq");          // offset within task_struct, type
//   t->spell("p");                            // "struct task_struct p"
//   t->require_member("comm").type->spell("comm");   // "char comm[16]"
//   extract_scalar(*m->type, bytes, m->bit_offset, m->bit_size);  // a member's value
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kdive {

class TypeSystem;
class Type;

enum class TypeKind { Void, Base, Pointer, Struct, Union, Enum, Typedef, Array, Function, Const, Volatile };

struct Member {
  std::string name;         // empty for an anonymous struct/union member
  uint64_t offset;          // bytes from the start of the enclosing type
  uint32_t bit_offset = 0;  // bitfields: bits past `offset`, counted from the LSB
  uint32_t bit_size = 0;    // 0: not a bitfield
  const Type* type;
};

struct Enumerator {
  std::string name;
  int64_t value;
};

class Type {
 public:
  TypeKind kind() const { return kind_; }
  const std::string& name() const { return name_; }
  // Size in bytes, following typedefs and qualifiers; 0 for void, functions and
  // incomplete types.
  uint64_t size() const;
  bool is_signed() const;
  bool is_declaration() const { return declaration_; }
  // Pointer target, array element, typedef/qualified type, function return.
  const Type* target() const;
  // Array element count; nullopt for a flexible or unsized array.
  std::optional<uint64_t> count() const { return count_; }
  const std::vector<Member>& members() const;
  const std::vector<Enumerator>& enumerators() const;
  const std::vector<const Type*>& parameters() const;
  bool variadic() const { return variadic_; }

  // The type with typedefs and qualifiers peeled off.
  const Type& strip() const;
  bool is_struct_like() const { return kind_ == TypeKind::Struct || kind_ == TypeKind::Union; }
  bool is_integer() const;  // base integer types and enums, after strip()
  bool is_char() const;     // char, signed char, unsigned char

  // A member by dotted path ("se.on_rq", "thread_info.flags"); members of
  // anonymous structs/unions are found as if they were direct members.
  // nullopt when there is none: for probing members that differ between
  // kernel versions (try one spelling, then the next).
  std::optional<Member> member(std::string_view path) const;
  // The same for a member that must exist: throws Error(Lookup) naming this
  // type and the member ("struct mount has no member 'mnt'").
  Member require_member(std::string_view path) const;

  // The C spelling of a declaration of `declarator` with this type:
  // spell("next") on struct list_head * gives "struct list_head *next".
  std::string spell(std::string_view declarator = "") const;
  // The spelling without a declarator, e.g. "struct task_struct *".
  std::string display_name() const;

 private:
  friend class TypeSystem;
  Type(TypeSystem* owner, TypeKind kind) : owner_(owner), kind_(kind) {}

  TypeSystem* owner_;
  TypeKind kind_;
  std::string name_;
  uint64_t size_ = 0;
  bool has_size_ = false;
  bool signed_ = false;
  bool declaration_ = false;
  bool variadic_ = false;
  std::optional<uint64_t> count_;
  uint64_t die_ = 0;         // where this type came from (0: made by kdive)
  uint64_t target_die_ = 0;  // resolved on demand
  mutable const Type* target_ = nullptr;
  mutable bool target_resolved_ = false;
  mutable bool children_loaded_ = false;
  mutable std::vector<Member> members_;
  mutable std::vector<Enumerator> enumerators_;
  mutable std::vector<const Type*> parameters_;
};

// Scalars — integers, enums, bools, chars and pointers — as the bytes that
// hold them (x86_64: little-endian). The one place kdive turns a value's bytes
// into a number, for typed objects (object.hpp) and expression values
// (expression.hpp) alike.
//
// How many bytes hold a scalar of `type`: its size, or for a bitfield the bytes
// its bits touch from the first one (up to 9: a 64-bit field may start mid-byte).
// Throws Error(Lookup) for a type that is not a scalar (struct, union, array,
// function, void) and Error(BadData) for a bitfield wider than 64 bits.
uint64_t scalar_bytes(const Type& type, uint32_t bit_offset = 0, uint32_t bit_size = 0);
// The scalar held in `bytes` (at least scalar_bytes() of them), zero-extended to
// 64 bits; a bitfield's `bit_size` bits start `bit_offset` bits above the least
// significant bit of bytes[0].
uint64_t extract_scalar(const Type& type, std::span<const std::byte> bytes, uint32_t bit_offset = 0,
                        uint32_t bit_size = 0);
// The same, sign-extended from the scalar's width when its type is signed.
int64_t extract_signed_scalar(const Type& type, std::span<const std::byte> bytes, uint32_t bit_offset = 0,
                              uint32_t bit_size = 0);

}  // namespace kdive
