// The Ctrl-C flag that commands see. The analyzer's SIGINT handler raises it
// (request_interrupt is async-signal-safe); a command's next output, or an
// explicit check in a long loop, turns it into an Interrupted exception, which
// the shell reports and survives.
//
//   for (...) { throw_if_interrupted(); ... }
#pragma once

#include <stdexcept>

namespace kdive {

class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

// Only writes a sig_atomic_t: safe to call from a signal handler.
void request_interrupt();
bool interrupt_pending();
void clear_interrupt();
void throw_if_interrupted();

}  // namespace kdive
