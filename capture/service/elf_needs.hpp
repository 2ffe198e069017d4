// What a dynamically linked program needs to start in an initramfs: its
// program interpreter (PT_INTERP, the dynamic loader) and every shared
// library of its DT_NEEDED closure, found the way the loader finds them
// (DT_RPATH/DT_RUNPATH with $ORIGIN, then the system's library directories).
// Read from the ELF files themselves, not from ldd: the capture initramfs is
// often built where no ldd exists (a minimal first-kernel userland).
//
//   LibrarySearch search = LibrarySearch::system();
//   std::vector<std::string> files = runtime_closure({"/usr/bin/kdive-dump"}, search);
//   // files: "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", ...
//
// A library that cannot be found is an error naming the program that needs it:
// an initramfs without it would fail only in the capture kernel, too late.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace kdive::capture {

class ElfNeedsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ElfDynamicInfo {
  bool is_elf = false;      // false: a script or data (no dependencies of its own)
  std::string interpreter;  // PT_INTERP, empty for a static program
  std::vector<std::string> needed;
  std::vector<std::string> search_paths;  // DT_RUNPATH, else DT_RPATH, $ORIGIN expanded
};

// Reads PATH's ELF headers; throws ElfNeedsError for a damaged 64-bit ELF
// file, returns is_elf = false for anything that is not ELF.
ElfDynamicInfo read_elf_dynamic(const std::string& path);

struct LibrarySearch {
  // Searched after a file's own run paths, in order.
  std::vector<std::string> directories;
  // The directories of /etc/ld.so.conf (and its includes) under ROOT, then the
  // loader's built-in ones for this architecture.
  static LibrarySearch system(const std::string& root = "");
};

// The interpreters and libraries PROGRAMS need, each once, in the order
// found (paths as found, not symlink-resolved: the loader asks for them by
// these names).
std::vector<std::string> runtime_closure(const std::vector<std::string>& programs, const LibrarySearch& search);

// "#!/bin/sh -e" → "/bin/sh"; empty when FILE does not start with "#!".
std::string script_interpreter(const std::string& file);

}  // namespace kdive::capture
