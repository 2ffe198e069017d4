// The kernel model's two exceptions. Walking nested kernel structures through
// result types buries the logic, so the model throws and the command boundary
// (the shell) catches and prints one line. A walker that goes on past one bad
// item catches ModelError — Fault or Error, what the kernel's data can cause —
// and never std::exception, which would also swallow kdive's own bugs.
//
//   throw Fault(VirtAddr{a}, "page not in the dump (excluded)");      // kernel virtual
//   throw Fault::user(VirtAddr{a}, "PTE not present");               // a process's memory
//   throw Fault(PhysAddr{p}, "page not in the dump");
//   throw Error(Error::Kind::Lookup, "no symbol 'init_taks'");
//
//   catch (const Fault& f) { if (auto p = f.physical_address()) ... }
//   catch (const ModelError& e) { problems.push_back(e.what()); }   // either
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "readers/address.hpp"

namespace kdive {

// What the kernel model throws when the kernel's memory or data cannot answer:
// a Fault or an Error.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Memory that cannot be read: the address, which address space it is in, and why.
class Fault : public ModelError {
 public:
  enum class Space { Kernel, User, Physical };
  // A kernel virtual address.
  Fault(VirtAddr address, const std::string& reason) : Fault(address.value(), Space::Kernel, reason) {}
  Fault(PhysAddr address, const std::string& reason) : Fault(address.value(), Space::Physical, reason) {}
  // A user virtual address (of the address space being read).
  static Fault user(VirtAddr address, const std::string& reason) { return Fault(address.value(), Space::User, reason); }

  Space space() const { return space_; }
  // The address as a virtual one (kernel or user space), or as a physical one.
  std::optional<VirtAddr> virtual_address() const;
  std::optional<PhysAddr> physical_address() const;

 private:
  Fault(uint64_t address, Space space, const std::string& reason);

  uint64_t address_;
  Space space_;
};

class Error : public ModelError {
 public:
  enum class Kind {
    Lookup,       // a symbol, member or type that does not exist
    BadData,      // kernel data that makes no sense (a corrupted list, a wild pointer)
    Os,           // the operating system refused (open, read)
    Unsupported,  // a kernel or dump this version of kdive cannot handle
    Mismatch,     // the vmlinux does not belong to the dump
  };
  Error(Kind kind, const std::string& message) : ModelError(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace kdive
