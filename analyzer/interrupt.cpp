#include "analyzer/interrupt.hpp"

#include <csignal>

namespace kdive {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_sigint(int) { g_interrupted = 1; }

}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read at the prompt must wake up
  sigaction(SIGINT, &sa, nullptr);
}

bool interrupt_pending() { return g_interrupted != 0; }
void clear_interrupt() { g_interrupted = 0; }

void throw_if_interrupted() {
  if (g_interrupted != 0) {
    g_interrupted = 0;
    throw Interrupted();
  }
}

}  // namespace kdive
