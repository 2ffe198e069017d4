// The kernel model's two exceptions. Walking nested kernel structures through
// result types buries the logic, so the model throws and the command boundary
// (the shell) catches and prints one line.
//
//   throw Fault(addr, "page not in the dump (excluded)");
//   throw Error(Error::Kind::Lookup, "no symbol 'init_taks'");
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace kdive {

// Memory that cannot be read: the address and why.
class Fault : public std::runtime_error {
 public:
  enum class Space { Kernel, User, Physical };
  Fault(uint64_t address, Space space, const std::string& reason);

  uint64_t address() const { return address_; }
  Space space() const { return space_; }

 private:
  uint64_t address_;
  Space space_;
};

class Error : public std::runtime_error {
 public:
  enum class Kind {
    Lookup,       // a symbol, member or type that does not exist
    BadData,      // kernel data that makes no sense (a corrupted list, a wild pointer)
    Os,           // the operating system refused (open, read)
    Unsupported,  // a kernel or dump this version of kdive cannot handle
    Mismatch,     // the vmlinux does not belong to the dump
  };
  Error(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace kdive
