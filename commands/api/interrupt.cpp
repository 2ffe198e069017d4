#include "commands/api/interrupt.hpp"

#include <csignal>

namespace kdive {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

}  // namespace

void request_interrupt() { g_interrupted = 1; }
bool interrupt_pending() { return g_interrupted != 0; }
void clear_interrupt() { g_interrupted = 0; }

void throw_if_interrupted() {
  if (g_interrupted != 0) {
    g_interrupted = 0;
    throw Interrupted();
  }
}

}  // namespace kdive
