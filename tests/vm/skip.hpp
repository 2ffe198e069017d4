// Reporting a real-kernel test that cannot run (no crash utility, a suite the
// comparison does not apply to) as skipped, never as passed. Catch2 2.x has no
// skip of its own: KDIVE_SKIP records the reason and leaves the test case, and
// the test binary's main (vm_main.cpp) exits with kSkipExitCode when every test
// case it ran was skipped; CTest's SKIP_RETURN_CODE turns that into "Skipped".
// When only some of the cases skip, the run passes and lists the skipped ones.
//
//   if (std::system("command -v crash > /dev/null 2>&1") != 0) KDIVE_SKIP("crash is not installed");
#pragma once

#include <string>

namespace kdive::test {

// The exit status that means "nothing here could run" (automake's convention).
inline constexpr int kSkipExitCode = 77;

// Records that the running test case is skipped, and why (printed as a warning).
void note_skipped(const std::string& reason);

}  // namespace kdive::test

#define KDIVE_SKIP(reason)               \
  do {                                   \
    ::kdive::test::note_skipped(reason); \
    return;                              \
  } while (false)
