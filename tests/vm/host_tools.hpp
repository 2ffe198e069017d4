// The host's own tools as independent witnesses in real-kernel tests:
// binutils (nm, objdump, addr2line) and gdb run on the fixture's vmlinux, so
// kdive's answers are checked against code it does not share.
//
//   if (!have_tool("addr2line")) KDIVE_SKIP("binutils is not installed");
//   std::string out = shell_output("addr2line -e " + quoted(dir / "vmlinux") + " 0x...");
//   uint64_t slide = kaslr_offset(dir);  // run-time address - link-time address
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kdive::test {

// Everything the shell command printed on stdout.
std::string shell_output(const std::string& command);

// True if the command is on PATH.
bool have_tool(const std::string& name);

// A path in single quotes for a shell command line.
std::string quoted(const std::filesystem::path& p);

// The KASLR offset of a fixture: the guest's own /proc/kallsyms `_text`
// (truth) against the vmlinux file's symbol table (nm), independent of how
// kdive finds it.
uint64_t kaslr_offset(const std::filesystem::path& fixture);

// crash (the Debian crash utility) is on PATH.
bool crash_installed();

// What crash prints for one command, run in silent batch mode (`crash -s`)
// on the current suite's ELF dump with the command on stdin.
std::string run_crash(const std::string& command);

// Why crash cannot be the oracle for the current suite ("" when it can):
// Debian's crash 8.0.2 reads only the bullseye dump.
std::string crash_unusable();

// run_crash's output as lines, trailing blanks dropped (crash pads some of
// its columns).
std::vector<std::string> crash_lines(const std::string& command);

// Two names of one source file: the shorter is a tail of the longer (DWARF
// joins the build directory, binutils may not).
bool same_file(const std::string& a, const std::string& b);

}  // namespace kdive::test
