// Ctrl-C handling. SIGINT never kills kdive: at the prompt it discards the line,
// during a command it sets a flag that the command's next output (or an explicit
// check in a long loop) turns into an Interrupted exception, which the shell
// reports and survives.
//
//   install_interrupt_handler();
//   for (...) { throw_if_interrupted(); ... }
#pragma once

#include <stdexcept>

namespace kdive {

class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

void install_interrupt_handler();
bool interrupt_pending();
void clear_interrupt();
void throw_if_interrupted();

}  // namespace kdive
