#include "analyzer/line_editor.hpp"

#include <readline/history.h>
#include <readline/readline.h>
#include <sys/select.h>
#include <termios.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "analyzer/interrupt.hpp"

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

const LineEditor::Completer* g_completer = nullptr;
// How many leading characters of each match a listing leaves out ("init_task."
// before member names): set with the matches, read by the display hook.
size_t g_display_skip = 0;

std::string common_prefix(const std::vector<std::string>& words) {
  std::string prefix = words.front();
  for (const auto& w : words) {
    size_t n = 0;
    while (n < prefix.size() && n < w.size() && prefix[n] == w[n]) ++n;
    prefix.resize(n);
  }
  return prefix;
}

char** complete(const char* /*text*/, int start, int /*end*/) {
  if (g_completer == nullptr || !*g_completer) return nullptr;  // file names
  const std::string_view line(rl_line_buffer, static_cast<size_t>(rl_end));
  Completion c;
  try {
    c = (*g_completer)(line, static_cast<size_t>(rl_point));
  } catch (const std::exception&) {
    c = Completion{};  // a damaged type or symbol: nothing to offer, no crash
  }
  // Ours come sorted and without repeats (and may be 100k symbols: readline
  // need not sort them again); file names readline sorts itself.
  rl_sort_completion_matches = c.files ? 1 : 0;
  if (c.files) return nullptr;
  rl_attempted_completion_over = 1;
  // Readline replaces the text from its own word start (after a break
  // character); the completer's word may begin elsewhere ("init_task->co":
  // readline's word is "co"), so each candidate is re-based on readline's.
  const size_t rl_start = static_cast<size_t>(start);
  std::vector<std::string> matches;
  for (auto& candidate : c.candidates) {
    if (c.start <= rl_start) {
      std::string_view before = line.substr(c.start, rl_start - c.start);
      if (!std::string_view(candidate).starts_with(before)) continue;
      matches.push_back(candidate.substr(before.size()));
    } else {
      matches.push_back(std::string(line.substr(rl_start, c.start - rl_start)) + candidate);
    }
  }
  if (matches.empty()) return nullptr;
  g_display_skip = c.start <= rl_start ? c.display_skip - std::min(c.display_skip, rl_start - c.start)
                                       : c.display_skip + (c.start - rl_start);
  rl_completion_append_character = c.append_space ? ' ' : '\0';
  // readline's list: the text to insert (what all matches share), then the
  // matches, then NULL; readline frees them.
  auto** list = static_cast<char**>(std::malloc((matches.size() + 2) * sizeof(char*)));
  if (list == nullptr) return nullptr;
  list[0] = strdup(matches.size() == 1 ? matches[0].c_str() : common_prefix(matches).c_str());
  size_t n = 1;
  if (matches.size() > 1) {
    for (const auto& m : matches) list[n++] = strdup(m.c_str());
  }
  list[n] = nullptr;
  return list;
}

// Lists the matches without the part they all share up to the member
// (readline would print "init_task.comm  init_task.cpus_mask ...").
void display_matches(char** matches, int count, int /*max_length*/) {
  std::vector<std::string> shown;
  std::vector<char*> pointers;
  shown.reserve(static_cast<size_t>(count) + 1);
  shown.emplace_back(matches[0]);
  int longest = 0;
  for (int i = 1; i <= count; ++i) {
    std::string_view m(matches[i]);
    shown.emplace_back(m.substr(std::min(g_display_skip, m.size())));
    longest = std::max(longest, static_cast<int>(shown.back().size()));
  }
  for (auto& s : shown) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  rl_display_match_list(pointers.data(), count, longest);
  rl_forced_update_display();
}

}  // namespace

LineEditor::LineEditor(std::string prompt, Completer completer)
    : prompt_(std::move(prompt)), completer_(std::move(completer)) {
  rl_readline_name = "kdive";
  g_completer = &completer_;
  rl_attempted_completion_function = complete;
  rl_completion_display_matches_hook = display_matches;
  // Words for readline end at blanks and at the shell's ';', '|', '>' and
  // '<'; the completer finds the words of expressions ("a->b") itself.
  static char word_breaks[] = " \t\n;|><";
  rl_completer_word_break_characters = word_breaks;
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
  g_completer = nullptr;
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
  // After the install: its first call reads ~/.inputrc, which would undo it.
  // (readline's rl_editing_mode: 0 is vi, 1 is emacs.)
  if (vi_mode_ && (rl_editing_mode == 0) != *vi_mode_) {
    if (*vi_mode_) {
      rl_vi_editing_mode(1, 0);
    } else {
      rl_emacs_editing_mode(1, 0);
    }
  }
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
