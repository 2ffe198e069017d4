#include "kernel-model/type_system.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fmt/format.h>

#include <cctype>
#include <map>

#include "kernel-model/errors.hpp"
#include "kernel-model/type_scope.hpp"

namespace kdive {
namespace {

uint64_t type_ref(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  Dwarf_Die target;
  if (dwarf_attr_integrate(die, DW_AT_type, &attr) == nullptr || dwarf_formref_die(&attr, &target) == nullptr) {
    return 0;
  }
  return dwarf_dieoffset(&target);
}

std::optional<uint64_t> udata(Dwarf_Die* die, unsigned attr_name) {
  Dwarf_Attribute attr;
  Dwarf_Word v;
  if (dwarf_attr_integrate(die, attr_name, &attr) == nullptr || dwarf_formudata(&attr, &v) != 0) return std::nullopt;
  return v;
}

// An enumerator's constant. GCC gives non-negative values the smallest data
// form and negative ones sdata, so data1..data8 are unsigned; libdw's
// dwarf_formsdata would sign-extend them (an enumerator of 200 in data1 read -56).
int64_t enumerator_value(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  if (dwarf_attr(die, DW_AT_const_value, &attr) == nullptr) return 0;
  switch (dwarf_whatform(&attr)) {
    case DW_FORM_data1:
    case DW_FORM_data2:
    case DW_FORM_data4:
    case DW_FORM_data8:
    case DW_FORM_udata: {
      Dwarf_Word u = 0;
      dwarf_formudata(&attr, &u);
      return static_cast<int64_t>(u);
    }
    default: {
      Dwarf_Sword v = 0;
      dwarf_formsdata(&attr, &v);
      return v;
    }
  }
}

// DW_AT_data_member_location is a constant in DWARF 3+, a DW_OP_plus_uconst
// expression in DWARF 2; unions' members may omit it (offset 0).
uint64_t member_location(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  if (dwarf_attr(die, DW_AT_data_member_location, &attr) == nullptr) return 0;
  Dwarf_Word v;
  if (dwarf_formudata(&attr, &v) == 0) return v;
  Dwarf_Op* ops;
  size_t n;
  if (dwarf_getlocation(&attr, &ops, &n) == 0 && n == 1 && ops[0].atom == DW_OP_plus_uconst) return ops[0].number;
  return 0;
}

// Spellings people type for base types, to the names GCC gives them in DWARF.
std::string normalize_base(std::string_view s) {
  static const std::map<std::string, std::string, std::less<>> aliases = {
      {"unsigned", "unsigned int"},
      {"signed", "int"},
      {"long", "long int"},
      {"signed long", "long int"},
      {"unsigned long", "long unsigned int"},
      {"long unsigned", "long unsigned int"},
      {"long long", "long long int"},
      {"unsigned long long", "long long unsigned int"},
      {"short", "short int"},
      {"unsigned short", "short unsigned int"},
      {"bool", "_Bool"},
  };
  auto it = aliases.find(s);
  return it != aliases.end() ? it->second : std::string(s);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

TypeSystem::TypeSystem(const std::filesystem::path& file, const std::string& build_id)
    : TypeSystem(ElfFile::open(file), nullptr, build_id) {}

TypeSystem::TypeSystem(std::shared_ptr<ElfFile> file, DwarfHandle dwarf, const std::string& build_id)
    : dwarf_(dwarf ? std::move(dwarf) : open_dwarf(file)) {
  if (dwarf_ == nullptr) {
    throw Error(Error::Kind::Unsupported,
                fmt::format("{}: no DWARF debug info (use the vmlinux from the kernel's -dbg package)", file->name()));
  }
  index_ = DwarfIndex::start(std::move(file), build_id);
  void_ = make(TypeKind::Void);
  void_->name_ = "void";
}

TypeSystem::TypeSystem() {
  void_ = make(TypeKind::Void);
  void_->name_ = "void";
}

void TypeSystem::wait_for_index() const {
  if (index_) index_->wait();
}

TypeSystem::~TypeSystem() {
  // The index may still be scanning the file's sections: wait for it first.
  if (index_) index_->wait();
}

// A DIE's id: its source (0 = the vmlinux, n = the n-th module object) in the
// high bits, its .debug_info offset in the low ones. Offsets of one file fit in
// 40 bits (1 TiB of .debug_info).
namespace {
constexpr int kSourceShift = 40;
constexpr uint64_t kOffsetMask = (uint64_t{1} << kSourceShift) - 1;

bool offdie(::Dwarf* dw, uint64_t id, Dwarf_Die* out) {
  return dw != nullptr && dwarf_offdie(dw, id & kOffsetMask, out) != nullptr;
}

// The id of a DIE's DW_AT_type: in the same file as the DIE `same_source_as`.
uint64_t type_id(Dwarf_Die* die, uint64_t same_source_as) {
  uint64_t off = type_ref(die);
  return off == 0 ? 0 : (same_source_as & ~kOffsetMask) | off;
}
}  // namespace

::Dwarf* TypeSystem::dwarf_of(uint64_t id) const {
  size_t source = id >> kSourceShift;
  if (source == 0) return dwarf_.get();
  return source <= modules_.size() ? modules_[source - 1].object->dwarf() : nullptr;
}

std::optional<uint64_t> TypeSystem::find_die(NameKind kind, std::string_view name,
                                             const DwarfIndex::Entry** entry) const {
  if (scope_ != nullptr) {
    if (const DwarfIndex::Entry* e = scope_->find(kind, name)) {
      if (entry != nullptr) *entry = e;
      return e->die;  // a full id: the scope's entries carry their source
    }
  }
  if (const DwarfIndex::Entry* e = index_ ? index_->find(kind, name) : nullptr) {
    if (entry != nullptr) *entry = e;
    return e->die;
  }
  for (size_t i = 0; i < modules_.size(); ++i) {
    if (!modules_[i].active) continue;
    if (const DwarfIndex::Entry* e = modules_[i].index->find(kind, name)) {
      if (entry != nullptr) *entry = e;
      return (uint64_t{i + 1} << kSourceShift) | e->die;
    }
  }
  return std::nullopt;
}

void TypeSystem::add_module(std::string name, std::vector<char> object_bytes) {
  // Loaded again: the newer file wins (a scope in the older one's code goes).
  drop_module(name);
  auto object = std::make_unique<DebugObject>(std::move(object_bytes), name);
  auto index = DwarfIndex::build(object->sections(), name);
  modules_.push_back({std::move(object), std::move(index), true});
}

void TypeSystem::drop_module(std::string_view name) {
  // Types already made from it stay valid (their DIEs stay open); new lookups skip it.
  for (size_t i = 0; i < modules_.size(); ++i) {
    if (modules_[i].object->name() != name) continue;
    modules_[i].active = false;
    // A scope in its code goes with it: its names are no longer looked up.
    if (scope_ != nullptr && (scope_->unit_id() >> kSourceShift) == i + 1) clear_scope();
  }
}

void TypeSystem::set_scope(uint64_t address, std::string_view module, ::Dwarf* addresses) {
  uint64_t id_base = 0;
  if (module.empty()) {
    addresses = dwarf_.get();
  } else {
    // The newest copy of the module's debug info (add_module deactivates older ones).
    size_t source = 0;
    for (size_t i = 0; i < modules_.size(); ++i) {
      if (modules_[i].active && modules_[i].object->name() == module) source = i + 1;
    }
    if (source == 0) {
      throw Error(Error::Kind::Lookup, fmt::format("the debuginfo of module {} is not loaded (mod -s)", module));
    }
    id_base = uint64_t{source} << kSourceShift;
  }
  if (scope_ == nullptr) scope_ = std::make_unique<TypeScope>();
  scope_->set(addresses, address, id_base);  // throws with the scope as it was
  scope_changed();
}

void TypeSystem::clear_scope() {
  if (scope_ == nullptr || !scope_->active()) return;
  scope_->clear();  // keeps the units it has read, for the next set
  scope_changed();
}

const TypeScope* TypeSystem::scope() const { return scope_ != nullptr && scope_->active() ? scope_.get() : nullptr; }

void TypeSystem::scope_changed() {
  // A forward declaration was completed with the definition the scope of that
  // moment saw; under another scope it may stand for another one.
  for (uint64_t id : completed_) by_die_.erase(id);
  completed_.clear();
}

Type* TypeSystem::make(TypeKind kind) {
  storage_.push_back(std::unique_ptr<Type>(new Type(this, kind)));
  return storage_.back().get();
}

const Type* TypeSystem::void_type() { return void_; }

const Type* TypeSystem::pointer_to(const Type* target) {
  auto it = pointers_.find(target);
  if (it != pointers_.end()) return it->second;
  Type* p = make(TypeKind::Pointer);
  p->size_ = 8;
  p->has_size_ = true;
  p->target_ = target;
  p->target_resolved_ = true;
  pointers_[target] = p;
  return p;
}

const Type* TypeSystem::integer_type(std::string_view dwarf_name, uint64_t size, bool is_signed) {
  if (const Type* t = find(NameKind::Base, dwarf_name); t != nullptr && t->size() == size) return t;
  auto it = made_integers_.find(std::string(dwarf_name));
  if (it != made_integers_.end()) return it->second;
  Type* t = make(TypeKind::Base);
  t->name_ = std::string(dwarf_name);
  t->size_ = size;
  t->has_size_ = true;
  t->signed_ = is_signed;
  made_integers_[t->name_] = t;
  return t;
}

const Type* TypeSystem::resolve(uint64_t off) {
  if (off == 0) return void_;
  if (auto it = by_die_.find(off); it != by_die_.end()) return it->second;
  Dwarf_Die die;
  if (!offdie(dwarf_of(off), off, &die)) return void_;
  int tag = dwarf_tag(&die);
  TypeKind kind;
  switch (tag) {
    case DW_TAG_base_type:
      kind = TypeKind::Base;
      break;
    case DW_TAG_pointer_type:
      kind = TypeKind::Pointer;
      break;
    case DW_TAG_structure_type:
      kind = TypeKind::Struct;
      break;
    case DW_TAG_union_type:
      kind = TypeKind::Union;
      break;
    case DW_TAG_enumeration_type:
      kind = TypeKind::Enum;
      break;
    case DW_TAG_typedef:
      kind = TypeKind::Typedef;
      break;
    case DW_TAG_array_type:
      kind = TypeKind::Array;
      break;
    case DW_TAG_subroutine_type:
      kind = TypeKind::Function;
      break;
    case DW_TAG_const_type:
      kind = TypeKind::Const;
      break;
    case DW_TAG_volatile_type:
      kind = TypeKind::Volatile;
      break;
    default:
      // restrict, atomic and other qualifiers do not change layout: see through them.
      {
        const Type* inner = resolve(type_id(&die, off));
        by_die_[off] = const_cast<Type*>(inner);
        return inner;
      }
  }
  Type* t = make(kind);
  by_die_[off] = t;
  t->die_ = off;
  if (const char* n = dwarf_diename(&die)) t->name_ = n;
  if (auto sz = udata(&die, DW_AT_byte_size)) {
    t->size_ = *sz;
    t->has_size_ = true;
  }
  t->declaration_ = dwarf_hasattr(&die, DW_AT_declaration);
  t->target_die_ = type_id(&die, off);
  if (kind == TypeKind::Pointer) {
    t->size_ = t->has_size_ ? t->size_ : 8;
    t->has_size_ = true;
  }
  if (kind == TypeKind::Base) {
    auto enc = udata(&die, DW_AT_encoding).value_or(0);
    t->signed_ = enc == DW_ATE_signed || enc == DW_ATE_signed_char;
  }
  if (kind == TypeKind::Enum) {
    // Signed if any enumerator is negative (older DWARF has no underlying type).
    t->signed_ = false;
    for (const auto& e : t->enumerators()) t->signed_ = t->signed_ || e.value < 0;
  }
  if (kind == TypeKind::Array) {
    // One subrange per dimension: int a[2][3] is an array of 2 arrays of 3.
    std::vector<std::optional<uint64_t>> dims;
    Dwarf_Die child;
    if (dwarf_child(&die, &child) == 0) {
      do {
        if (dwarf_tag(&child) != DW_TAG_subrange_type) continue;
        std::optional<uint64_t> n = udata(&child, DW_AT_count);
        if (!n) {
          Dwarf_Attribute attr;
          Dwarf_Word ub;
          if (dwarf_attr(&child, DW_AT_upper_bound, &attr) != nullptr && dwarf_formudata(&attr, &ub) == 0) {
            n = ub + 1;
          }
        }
        dims.push_back(n);
      } while (dwarf_siblingof(&child, &child) == 0);
    }
    if (dims.empty()) dims.push_back(std::nullopt);
    t->count_ = dims.front();
    Type* outer = t;
    for (size_t i = 1; i < dims.size(); ++i) {
      Type* inner = make(TypeKind::Array);
      inner->count_ = dims[i];
      inner->target_die_ = outer->target_die_;
      outer->target_die_ = 0;
      outer->target_ = inner;
      outer->target_resolved_ = true;
      outer = inner;
    }
    t->has_size_ = false;
  }
  if ((kind == TypeKind::Struct || kind == TypeKind::Union || kind == TypeKind::Enum) && t->declaration_) {
    // A forward declaration in this CU: use the full definition from another.
    const Type* full = complete(t);
    if (full != t) {
      by_die_[off] = const_cast<Type*>(full);
      completed_.push_back(off);
      return full;
    }
  }
  return t;
}

const Type* TypeSystem::complete(const Type* declaration) {
  if (declaration->name_.empty()) return declaration;
  NameKind kind = declaration->kind_ == TypeKind::Struct  ? NameKind::Struct
                  : declaration->kind_ == TypeKind::Union ? NameKind::Union
                                                          : NameKind::Enum;
  auto die = find_die(kind, declaration->name_);
  if (!die || *die == declaration->die_) return declaration;
  const Type* full = resolve(*die);
  return full->is_declaration() ? declaration : full;
}

void TypeSystem::load_children(const Type& type) {
  Type& t = const_cast<Type&>(type);
  t.children_loaded_ = true;
  if (t.die_ == 0) return;
  Dwarf_Die die, child;
  if (!offdie(dwarf_of(t.die_), t.die_, &die) || dwarf_child(&die, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    if (tag == DW_TAG_member && t.is_struct_like()) {
      Member m;
      const char* n = dwarf_diename(&child);
      m.name = n != nullptr ? n : "";
      m.offset = member_location(&child);
      m.type = resolve(type_id(&child, t.die_));
      auto bits = udata(&child, DW_AT_bit_size);
      if (bits) {
        m.bit_size = static_cast<uint32_t>(*bits);
        if (auto data_bit = udata(&child, DW_AT_data_bit_offset)) {
          // DWARF 4+: bits from the start of the struct.
          m.offset = *data_bit / 8;
          m.bit_offset = static_cast<uint32_t>(*data_bit % 8);
        } else if (auto bit_off = udata(&child, DW_AT_bit_offset)) {
          // DWARF 2/3 count from the storage unit's most significant bit.
          uint64_t storage = udata(&child, DW_AT_byte_size).value_or(m.type->size()) * 8;
          uint64_t lsb = storage - *bit_off - m.bit_size;
          m.offset += lsb / 8;
          m.bit_offset = static_cast<uint32_t>(lsb % 8);
        }
      }
      t.members_.push_back(std::move(m));
    } else if (tag == DW_TAG_enumerator) {
      const char* n = dwarf_diename(&child);
      t.enumerators_.push_back({n != nullptr ? n : "", enumerator_value(&child)});
    } else if (tag == DW_TAG_formal_parameter && t.kind_ == TypeKind::Function) {
      t.parameters_.push_back(resolve(type_id(&child, t.die_)));
    } else if (tag == DW_TAG_unspecified_parameters) {
      t.variadic_ = true;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

const Type* TypeSystem::find(NameKind kind, std::string_view name) {
  auto die = find_die(kind, name);
  return die ? resolve(*die) : nullptr;
}

const Type* TypeSystem::lookup(std::string_view spelling) {
  spelling = trim(spelling);
  int pointers = 0;
  while (!spelling.empty() && spelling.back() == '*') {
    ++pointers;
    spelling = trim(spelling.substr(0, spelling.size() - 1));
  }
  const Type* t = nullptr;
  auto after = [&](std::string_view keyword) -> std::optional<std::string_view> {
    if (spelling.size() > keyword.size() && spelling.substr(0, keyword.size()) == keyword &&
        std::isspace(static_cast<unsigned char>(spelling[keyword.size()]))) {
      return trim(spelling.substr(keyword.size()));
    }
    return std::nullopt;
  };
  if (auto n = after("struct")) {
    t = find(NameKind::Struct, *n);
  } else if (auto n = after("union")) {
    t = find(NameKind::Union, *n);
  } else if (auto n = after("enum")) {
    t = find(NameKind::Enum, *n);
  } else if (spelling == "void") {
    t = void_;
  } else {
    for (NameKind k : {NameKind::Typedef, NameKind::Struct, NameKind::Union, NameKind::Enum}) {
      if ((t = find(k, spelling)) != nullptr) break;
    }
    if (t == nullptr) t = find(NameKind::Base, normalize_base(spelling));
  }
  for (int i = 0; t != nullptr && i < pointers; ++i) t = pointer_to(t);
  return t;
}

const Type& TypeSystem::require(std::string_view spelling) {
  const Type* t = lookup(spelling);
  if (t == nullptr) throw Error(Error::Kind::Lookup, fmt::format("no type '{}' in the vmlinux debug info", spelling));
  return *t;
}

const Type* TypeSystem::variable_type(std::string_view name) {
  auto id = find_die(NameKind::Variable, name);
  if (!id) id = find_die(NameKind::Function, name);
  if (!id) return nullptr;
  Dwarf_Die die;
  if (!offdie(dwarf_of(*id), *id, &die)) return nullptr;
  if (dwarf_tag(&die) == DW_TAG_subprogram) {
    // A function: synthesize its type from the subprogram DIE.
    Type* f = make(TypeKind::Function);
    f->die_ = *id;
    f->target_die_ = type_id(&die, *id);
    return f;
  }
  return resolve(type_id(&die, *id));
}

std::optional<int64_t> TypeSystem::enumerator(std::string_view name) {
  const DwarfIndex::Entry* e = nullptr;
  if (!find_die(NameKind::Enumerator, name, &e)) return std::nullopt;
  return e->value;
}

}  // namespace kdive
