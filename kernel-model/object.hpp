// Object: a typed value in the kernel's memory — an address plus a DWARF type —
// with C-like navigation. Reads happen when a value is asked for, and a read
// that fails throws Fault; a member that does not exist throws Error(Lookup).
//
//   Object task = kernel.object("init_task");
//   task["comm"].string();                        // "swapper/0"
//   task["se"]["on_rq"].as_u64();
//   task["mm"].is_null();
//   Object next = task["tasks"]["next"].deref();  // struct list_head
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernel-model/type.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

class Object {
 public:
  Object(const Kernel& kernel, VirtAddr address, const Type* type, uint32_t bit_offset = 0, uint32_t bit_size = 0)
      : kernel_(&kernel), address_(address), type_(type), bit_offset_(bit_offset), bit_size_(bit_size) {}

  VirtAddr address() const { return address_; }
  const Type& type() const { return *type_; }
  bool is_bitfield() const { return bit_size_ != 0; }

  // A member by name or dotted path; a pointer to a struct is followed first,
  // like C's '->' (task["mm"]["pgd"] reads mm then pgd).
  Object member(std::string_view path) const;
  Object operator[](std::string_view path) const { return member(path); }
  bool has_member(std::string_view path) const;

  // What a pointer points to (throws Fault for NULL).
  Object deref() const;
  // Element i of an array, or of the memory a pointer points to.
  Object at(uint64_t i) const;
  // The same memory seen as another type.
  Object cast(const Type* type) const { return Object(*kernel_, address_, type); }

  // Integer, enum, bool or pointer value; bitfields are extracted (see
  // extract_scalar() in type.hpp). Error(Lookup) for a struct, array or void.
  uint64_t as_u64() const;
  int64_t as_i64() const;  // sign-extended when the type is signed
  // A pointer's value: the kernel virtual address it holds.
  VirtAddr pointer() const { return VirtAddr{as_u64()}; }
  bool is_null() const { return as_u64() == 0; }
  // A char array (up to its NUL or its end) or a char pointer's C string.
  std::string string(size_t max_len = 4096) const;
  std::vector<std::byte> bytes() const;

 private:
  const Kernel* kernel_;
  VirtAddr address_;
  const Type* type_;
  uint32_t bit_offset_;
  uint32_t bit_size_;
};

}  // namespace kdive
