#include "kernel-model/disassembler.hpp"

// libopcodes' C interface (binutils-dev). <dis-asm.h> declares the callbacks
// and the `disassembler()` factory; the 2.39 interface added the styled print
// callback that init_disassemble_info takes as its fourth argument. With GDB
// linked in, they are the libopcodes and libbfd GDB was built with (one copy
// in the binary): binutils' own bfd.h then insists on a config.h having been
// included (binutils PR 14072; Debian's copy drops the check), which PACKAGE
// stands for here.
#ifndef PACKAGE
#define PACKAGE "kdive"
#define KDIVE_DEFINED_PACKAGE
#endif
#include <dis-asm.h>
#ifdef KDIVE_DEFINED_PACKAGE
#undef PACKAGE
#undef KDIVE_DEFINED_PACKAGE
#endif

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace kdive {

struct Disassembler::State {
  AddressNamer namer;
  disassemble_info info{};
  disassembler_ftype decode = nullptr;
  std::string text;           // what libopcodes printed for the current instruction
  bool out_of_bytes = false;  // it asked for bytes past the end of the buffer
};

namespace {

Disassembler::State& state_of(disassemble_info* info) {
  return *static_cast<Disassembler::State*>(info->application_data);
}

void append_vformat(std::string& out, const char* format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  char small[256];
  const int n = std::vsnprintf(small, sizeof small, format, copy);
  va_end(copy);
  if (n < 0) return;
  if (static_cast<size_t>(n) < sizeof small) {
    out.append(small, static_cast<size_t>(n));
    return;
  }
  std::string big(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(big.data(), big.size(), format, args);
  out.append(big.data(), static_cast<size_t>(n));
}

int print_plain(void* stream, const char* format, ...) {
  va_list args;
  va_start(args, format);
  append_vformat(*static_cast<std::string*>(stream), format, args);
  va_end(args);
  return 0;
}

// The style (mnemonic, register, immediate, ...) is for colouring; dis prints
// plain text as crash and gdb's non-terminal output do.
int print_styled(void* stream, enum disassembler_style, const char* format, ...) {
  va_list args;
  va_start(args, format);
  append_vformat(*static_cast<std::string*>(stream), format, args);
  va_end(args);
  return 0;
}

// gdb's form: the address in hex with 0x, then its symbol in angle brackets.
void print_address(bfd_vma address, disassemble_info* info) {
  auto& s = state_of(info);
  s.text += "0x";
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(address));
  s.text += hex;
  if (s.namer) {
    std::string name = s.namer(address);
    if (!name.empty()) s.text += " " + name;
  }
}

// Called by the decoder when read_memory_func failed: the instruction runs
// past the bytes given. Recorded instead of printed.
void note_memory_error(int, bfd_vma, disassemble_info* info) { state_of(info).out_of_bytes = true; }

}  // namespace

Disassembler::Disassembler(AddressNamer namer) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.namer = std::move(namer);
  init_disassemble_info(&s.info, &s.text, print_plain, print_styled);
  s.info.arch = bfd_arch_i386;
  s.info.mach = bfd_mach_x86_64;
  s.info.endian = BFD_ENDIAN_LITTLE;
  s.info.application_data = &s;
  s.info.print_address_func = print_address;
  s.info.memory_error_func = note_memory_error;
  s.info.read_memory_func = buffer_read_memory;
  disassemble_init_for_target(&s.info);
  s.decode = disassembler(bfd_arch_i386, false, bfd_mach_x86_64, nullptr);
}

Disassembler::~Disassembler() = default;

std::optional<Instruction> Disassembler::decode(uint64_t address, std::span<const std::byte> bytes) const {
  State& s = *state_;
  if (!s.decode || bytes.empty()) return std::nullopt;
  s.text.clear();
  s.out_of_bytes = false;
  // Given fewer bytes than an instruction may need, libopcodes prints the
  // last ones as ".byte 0x74" rather than say it ran out (as objdump does at
  // the end of a section). So a short buffer is decoded padded with zeros:
  // an instruction that then reaches into the padding did not fit in `bytes`.
  std::array<std::byte, kMaxInstructionLength> padded{};
  std::span<const std::byte> code = bytes;
  if (bytes.size() < padded.size()) {
    std::copy(bytes.begin(), bytes.end(), padded.begin());
    code = padded;
  }
  // libopcodes reads through the buffer without writing to it.
  s.info.buffer = reinterpret_cast<bfd_byte*>(const_cast<std::byte*>(code.data()));
  s.info.buffer_vma = address;
  s.info.buffer_length = code.size();
  const int length = s.decode(address, &s.info);
  if (s.out_of_bytes || length <= 0 || static_cast<size_t>(length) > bytes.size()) return std::nullopt;
  std::string text = std::move(s.text);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
  return Instruction{address, static_cast<size_t>(length), std::move(text)};
}

}  // namespace kdive
