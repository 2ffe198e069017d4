// Ctrl-C handling. SIGINT never kills kdive: at the prompt it discards the line,
// during a command it raises the command API's interrupt flag
// (commands/api/interrupt.hpp), which the command's next output turns into an
// Interrupted exception that the shell reports and survives.
//
//   install_interrupt_handler();
#pragma once

#include "commands/api/interrupt.hpp"

namespace kdive {

void install_interrupt_handler();

}  // namespace kdive
