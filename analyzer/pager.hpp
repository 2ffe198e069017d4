// PagerOutput: a command's output to the terminal, paged when it is longer
// than the screen, as crash does through less. Output is held back until it
// fills a screen; a command that ends before that prints as if there were no
// pager. Past a screen, everything goes to the pager program ($PAGER, else
// `less -X -E -R -K`: no screen clearing, leave at the end, colours through,
// Ctrl-C leaves) or, when there is none, to a built-in "--More--" prompt
// (space: a page, Enter: a line, q: stop). Quitting the pager early (q,
// Ctrl-C) stops the command at its next output: pager_quit() tells the shell
// that the "interrupted" it then sees is the user's q, not an error.
//
//   PagerOutput out(stdout, {.program = pager_program(), .rows = 50, .columns = 120});
//   command.run(session, args, out);
//   out.finish();
#pragma once

#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "commands/api/output.hpp"

namespace kdive {

struct PagerSettings {
  std::string program;  // a shell command line; "" for the built-in prompt
  int rows = 24;
  int columns = 80;
  int keys_fd = STDIN_FILENO;  // where the built-in prompt reads its keys (the terminal: stdin)
};

// The pager to run: $PAGER when set, else less with crash's options when it
// is installed, else "" (the built-in prompt).
std::string pager_program();

// The terminal's size when `stream` is a terminal; nullopt otherwise.
std::optional<PagerSettings> terminal_size(std::FILE* stream);

// How many screen rows `line` (without its newline) takes at `columns`:
// UTF-8 continuation bytes and escape sequences (colours) take none.
int screen_rows(std::string_view line, int columns);

class PagerOutput : public Output {
 public:
  PagerOutput(std::FILE* terminal, PagerSettings settings);
  ~PagerOutput() override;

  // Prints what is still held back, or closes the pager and waits for it.
  void finish();
  // Prints what is held back so far and goes on holding (the error line
  // that ends a command must come after what it printed).
  void flush_held();
  // The user left the pager before the output ended (q, Ctrl-C).
  bool pager_quit() const { return quit_; }

 protected:
  bool write_bytes(std::string_view text) override;

 private:
  enum class Mode { Holding, Program, Prompt, Done };
  bool start_paging();
  bool prompt_write(std::string_view text);
  // The built-in prompt; returns the rows to show next (0: quit).
  int ask_more();
  void stop();

  std::FILE* terminal_;
  PagerSettings settings_;
  Mode mode_ = Mode::Holding;
  std::string held_;
  int held_rows_ = 0;
  int partial_columns_ = 0;  // text after the last newline held or shown
  int rows_left_ = 0;        // built-in prompt: rows before the next --More--
  std::FILE* pipe_ = nullptr;
  bool quit_ = false;
};

}  // namespace kdive
