#include "analyzer/pager.hpp"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "commands/api/interrupt.hpp"

namespace kdive {
namespace {

bool on_path(std::string_view program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Visible columns of a piece of text without newlines: UTF-8 continuation
// bytes add nothing, nor do escape sequences (ESC [ ... letter).
int visible_columns(std::string_view text, bool& in_escape) {
  int columns = 0;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (in_escape) {
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) in_escape = false;
      continue;
    }
    if (c == 0x1b) {
      in_escape = true;
    } else if ((c & 0xc0) != 0x80) {
      ++columns;
    }
  }
  return columns;
}

int rows_for(int columns, int width) { return columns == 0 ? 1 : (columns + width - 1) / width; }

}  // namespace

std::string pager_program() {
  if (const char* pager = std::getenv("PAGER"); pager != nullptr && *pager != '\0') return pager;
  // -X: leave the screen as it is (no alternate screen, the output stays
  // above the next prompt); -E: leave at the end of the output; -R: colours;
  // -K: Ctrl-C leaves too, as it stops the command.
  if (on_path("less")) return "less -X -E -R -K";
  return "";
}

std::optional<PagerSettings> terminal_size(std::FILE* stream) {
  int fd = fileno(stream);
  if (fd < 0 || ::isatty(fd) == 0) return std::nullopt;
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_row < 2 || size.ws_col < 1) return std::nullopt;
  PagerSettings s;
  s.rows = size.ws_row;
  s.columns = size.ws_col;
  return s;
}

int screen_rows(std::string_view line, int columns) {
  bool in_escape = false;
  return rows_for(visible_columns(line, in_escape), columns);
}

PagerOutput::PagerOutput(std::FILE* terminal, PagerSettings settings)
    : terminal_(terminal), settings_(std::move(settings)) {
  if (settings_.columns < 1) settings_.columns = 80;
  if (settings_.rows < 2) settings_.rows = 24;
}

PagerOutput::~PagerOutput() { finish(); }

bool PagerOutput::write_bytes(std::string_view text) {
  switch (mode_) {
    case Mode::Holding: {
      held_.append(text);
      bool in_escape = false;
      while (!text.empty()) {
        size_t newline = text.find('\n');
        partial_columns_ += visible_columns(text.substr(0, newline), in_escape);
        if (newline == std::string_view::npos) break;
        held_rows_ += rows_for(partial_columns_, settings_.columns);
        partial_columns_ = 0;
        text.remove_prefix(newline + 1);
      }
      // The last row of the screen is the pager's own (its prompt).
      if (held_rows_ + (partial_columns_ > 0 ? 1 : 0) >= settings_.rows) return start_paging();
      return true;
    }
    case Mode::Program:
      if (std::fwrite(text.data(), 1, text.size(), pipe_) == text.size()) return true;
      stop();
      return false;
    case Mode::Prompt:
      return prompt_write(text);
    case Mode::Done:
      return false;
  }
  return false;
}

bool PagerOutput::start_paging() {
  std::string held = std::move(held_);
  held_.clear();
  partial_columns_ = 0;
  if (!settings_.program.empty()) {
    std::fflush(terminal_);
    pipe_ = ::popen(settings_.program.c_str(), "w");
    if (pipe_ != nullptr) {
      mode_ = Mode::Program;
      return write_bytes(held);
    }
    // The pager would not start: the built-in prompt does the job.
  }
  mode_ = Mode::Prompt;
  rows_left_ = settings_.rows - 1;
  return prompt_write(held);
}

bool PagerOutput::prompt_write(std::string_view text) {
  bool in_escape = false;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view piece = text.substr(0, newline == std::string_view::npos ? text.size() : newline + 1);
    partial_columns_ +=
        visible_columns(piece.substr(0, newline == std::string_view::npos ? piece.size() : newline), in_escape);
    std::fwrite(piece.data(), 1, piece.size(), terminal_);
    text.remove_prefix(piece.size());
    if (newline == std::string_view::npos) break;
    rows_left_ -= rows_for(partial_columns_, settings_.columns);
    partial_columns_ = 0;
    if (rows_left_ <= 0) {
      rows_left_ = ask_more();
      if (rows_left_ == 0) {
        stop();
        return false;
      }
    }
  }
  return true;
}

int PagerOutput::ask_more() {
  static constexpr std::string_view kPrompt = "--More--";
  std::fwrite(kPrompt.data(), 1, kPrompt.size(), terminal_);
  std::fflush(terminal_);
  // One key, unechoed, straight from the terminal (the line editor has
  // handed it back in its ordinary mode while the command runs). Ctrl-C
  // stays a signal: it interrupts the read and ends the page like q.
  int fd = settings_.keys_fd;
  termios saved{};
  bool is_terminal = ::tcgetattr(fd, &saved) == 0;
  if (is_terminal) {
    termios raw = saved;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(fd, TCSANOW, &raw);
  }
  char key = 0;
  ssize_t got = ::read(fd, &key, 1);
  if (is_terminal) ::tcsetattr(fd, TCSANOW, &saved);
  std::fputs("\r        \r", terminal_);  // the prompt goes; the next line takes its row
  if (got != 1 || key == 'q' || key == 'Q' || interrupt_pending()) return 0;
  if (key == '\n' || key == '\r') return 1;
  return settings_.rows - 1;
}

void PagerOutput::stop() {
  quit_ = true;
  // The command stops at its next output instead of computing for no one.
  request_interrupt();
}

void PagerOutput::flush_held() {
  if (mode_ != Mode::Holding) return;
  std::fwrite(held_.data(), 1, held_.size(), terminal_);
  std::fflush(terminal_);
  held_.clear();
}

void PagerOutput::finish() {
  switch (mode_) {
    case Mode::Holding:
      std::fwrite(held_.data(), 1, held_.size(), terminal_);
      held_.clear();
      break;
    case Mode::Program:
      // Waits for the reader to leave (at the end of the output, q, Ctrl-C).
      ::pclose(pipe_);
      pipe_ = nullptr;
      break;
    case Mode::Prompt:
    case Mode::Done:
      break;
  }
  mode_ = Mode::Done;
  std::fflush(terminal_);
}

}  // namespace kdive
