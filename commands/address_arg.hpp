// Parsing of the address and number arguments commands take, crash-style:
// addresses are hex with or without 0x ("ffffffff81000000", "0x1000"), or a
// symbol, optionally with an offset ("linux_banner+0x20", "jiffies-8");
// counts are decimal unless prefixed with 0x.
//
//   VirtAddr a = parse_address(kernel, "init_task+0x10");   // throws CommandError
//   uint64_t n = parse_count("16");
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "kernel-model/address_space.hpp"
#include "readers/address.hpp"

namespace kdive {

// A bare hexadecimal word at or above this is read as a kernel address (a task,
// a dentry), below it as a number: kernel pointers of 4- and 5-level x86_64
// kernels all start with 0xff.
constexpr uint64_t kKernelHalf = kLowestKernelAddress.value();

class Kernel;

// A kernel or user virtual address. `kernel` may be null: then symbols are not
// accepted. (A physical address is a plain number: parse_number(text, 16).)
VirtAddr parse_address(const Kernel* kernel, std::string_view text);
uint64_t parse_count(std::string_view text);
// A plain number: hex with 0x, else decimal; nullopt if it is not one.
std::optional<uint64_t> parse_number(std::string_view text, int default_base);

}  // namespace kdive
