#include "analyzer/interrupt.hpp"

#include <csignal>

namespace kdive {
namespace {

void on_sigint(int) { request_interrupt(); }

}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read at the prompt must wake up
  sigaction(SIGINT, &sa, nullptr);
}

}  // namespace kdive
