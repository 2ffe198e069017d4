// Type: one C type of the kernel as DWARF describes it — base, pointer, struct,
// union, enum, typedef, array, function, or a const/volatile qualifier around
// another type. Types are owned by the TypeSystem and created on first use;
// what they refer to (a pointer's target, a struct's members) is resolved
// lazily, so touching task_struct does not drag in the whole type graph.
//
//   const Type* t = types.lookup("struct task_struct");
//   auto m = t->member("se.on_rq");          // offset within task_struct, type
//   t->spell("p");                            // "struct task_struct p"
//   t->member("comm")->type->spell("comm");   // "char comm[16]"
#pragma once

#include <cstdint>
#include <optional>
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
  std::optional<Member> member(std::string_view path) const;

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

}  // namespace kdive
