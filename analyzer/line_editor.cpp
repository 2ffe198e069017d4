#include "analyzer/line_editor.hpp"

#include <readline/history.h>
#include <readline/readline.h>
#include <sys/select.h>
#include <termios.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "analyzer/interrupt.hpp"
#include "commands/api/command.hpp"

namespace kdive {
namespace {

constexpr int kHistoryLines = 1000;
constexpr int kCtrlC = 3;

// Readline's callback interface hands a finished line to a plain function.
std::optional<std::string>* g_pending = nullptr;
bool g_got_line = false;

void on_line(char* line) {
  g_got_line = true;
  // Removed here, inside the handler: left installed, readline would draw a
  // fresh prompt right after this returns, and the command's output would
  // then overwrite it ("xdive>").
  rl_callback_handler_remove();
  if (line == nullptr) {
    *g_pending = std::nullopt;
  } else {
    *g_pending = std::string(line);
    std::free(line);
  }
}

// True when a SIGINT came while it was blocked, taking the signal so that it
// does not fire later, in the middle of the next command. Needed because
// pselect, when input is ready, returns without delivering a signal its mask
// let in.
bool take_blocked_sigint() {
  sigset_t pending;
  sigpending(&pending);
  if (!sigismember(&pending, SIGINT)) return false;
  sigset_t sigint_only;
  sigemptyset(&sigint_only);
  sigaddset(&sigint_only, SIGINT);
  timespec now{};
  sigtimedwait(&sigint_only, nullptr, &now);
  request_interrupt();
  return true;
}

// At the prompt Ctrl-C is a key, not a signal: the terminal's interrupt
// character is switched off while readline owns the terminal, so a Ctrl-C
// reaches readline in order with the keys around it. As a signal it could not:
// the terminal queues the keys typed after it at once, and readline reads on
// through a burst of typed-ahead keys before any signal handler can run, so
// those keys would join the line the Ctrl-C discards (or the Ctrl-C would hit
// the next command). Readline's own deprep restores the interrupt character
// before a command runs, where Ctrl-C is SIGINT again.
void prep_terminal_without_interrupt_char(int meta_flag) {
  rl_prep_terminal(meta_flag);
  int fd = fileno(rl_instream);
  termios settings{};
  if (tcgetattr(fd, &settings) != 0) return;  // not a terminal: nothing to change
  settings.c_cc[VINTR] = _POSIX_VDISABLE;
  tcsetattr(fd, TCSANOW, &settings);
}

// Ctrl-C at the prompt: drop what was typed and start over on a new line.
int discard_line(int /*count*/, int /*key*/) {
  rl_free_line_state();
  rl_replace_line("", 1);
  rl_crlf();
  rl_on_new_line();
  history_set_pos(history_length);  // a recalled line is dropped too
  return 0;
}

char* command_name_generator(const char* text, int state) {
  static std::vector<std::string> matches;
  static size_t next = 0;
  if (state == 0) {
    matches.clear();
    next = 0;
    size_t len = std::strlen(text);
    for (const Command* c : CommandRegistry::instance().all()) {
      if (c->spec.name.compare(0, len, text) == 0) matches.emplace_back(c->spec.name);
    }
  }
  return next < matches.size() ? strdup(matches[next++].c_str()) : nullptr;
}

char** complete(const char* text, int start, int /*end*/) {
  // Only the first word is a command; later words fall back to file names.
  if (start != 0) return nullptr;
  rl_attempted_completion_over = 1;
  return rl_completion_matches(text, command_name_generator);
}

}  // namespace

LineEditor::LineEditor(std::string prompt) : prompt_(std::move(prompt)) {
  rl_readline_name = "kdive";
  rl_attempted_completion_function = complete;
  rl_catch_signals = 0;  // kdive's own SIGINT handler decides what Ctrl-C means
  rl_prep_term_function = prep_terminal_without_interrupt_char;
  rl_bind_key(kCtrlC, discard_line);
  using_history();
  stifle_history(kHistoryLines);
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    history_path_ = std::string(home) + "/.kdive_history";
    read_history(history_path_.c_str());
  }
}

LineEditor::~LineEditor() {
  if (!history_path_.empty()) write_history(history_path_.c_str());
}

std::optional<std::string> LineEditor::read_line() {
  std::optional<std::string> result;
  g_pending = &result;
  g_got_line = false;
  clear_interrupt();
  // A SIGINT at the prompt now comes only from outside (kill -INT). It stays
  // blocked while readline handles keys and is let in only inside pselect.
  sigset_t sigint_only, outside_wait;
  sigemptyset(&sigint_only);
  sigaddset(&sigint_only, SIGINT);
  sigprocmask(SIG_BLOCK, &sigint_only, &outside_wait);
  sigset_t during_wait = outside_wait;
  sigdelset(&during_wait, SIGINT);
  rl_callback_handler_install(prompt_.c_str(), on_line);
  while (!g_got_line) {
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(fileno(rl_instream), &fds);
    int ready = pselect(fileno(rl_instream) + 1, &fds, nullptr, nullptr, nullptr, &during_wait);
    // Checked whatever pselect returned: when input is ready too, pselect
    // returns it and leaves the signal pending, blocked.
    if (take_blocked_sigint() || interrupt_pending()) {
      clear_interrupt();
      discard_line(0, kCtrlC);
      rl_redisplay();
      continue;
    }
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;  // the terminal went away: treat it as end of input
    rl_callback_read_char();
  }
  rl_callback_handler_remove();
  sigprocmask(SIG_SETMASK, &outside_wait, nullptr);
  g_pending = nullptr;
  if (result && !result->empty()) add_history(result->c_str());
  return result;
}

}  // namespace kdive
