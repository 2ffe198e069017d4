#include "analyzer/shell.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "analyzer/command_line.hpp"
#include "analyzer/completion_source.hpp"
#include "analyzer/line_editor.hpp"
#include "analyzer/output_target.hpp"
#include "analyzer/pager.hpp"
#include "analyzer/rc_files.hpp"
#include "commands/api/interrupt.hpp"
#include "commands/api/run_command.hpp"

namespace kdive {
namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

}  // namespace

void Shell::report(std::string_view who, std::string_view message) {
  std::fflush(out_);
  const std::string line = fmt::format("{}{}: {}\n", location_, who, message);
  const SessionSettings& s = session_.settings();
  if (s.error == ErrorDestination::File) {
    // `set error FILE`: only there. When it cannot be opened the line still
    // reaches the terminal, with why, rather than being lost.
    if (std::FILE* f = std::fopen(s.error_file.c_str(), "a")) {
      std::fputs(line.c_str(), f);
      std::fclose(f);
      return;
    }
    fmt::print(err_, "kdive: error file {}: {}\n", s.error_file.string(), std::strerror(errno));
  }
  fmt::print(err_, "{}", line);
  std::fflush(err_);
}

bool Shell::run_line(std::string_view line) { return run_line(line, 0, {}); }

bool Shell::run_line(std::string_view line, int alias_depth, std::string_view typed) {
  bool ok = true;
  const std::vector<std::string> commands = split_commands(line);
  if (commands.size() != 1) typed = {};
  for (const auto& text : commands) {
    if (session_.quit_requested()) break;
    // An alias may stand for a whole pipeline or list: expand, then split again.
    if (auto expanded = session_.aliases().expand(text)) {
      if (alias_depth >= kMaxAliasDepth) {
        report("kdive", fmt::format("alias loop: {}", text));
        ok = false;
        ++failures_;
        continue;
      }
      if (!run_line(*expanded, alias_depth + 1, typed.empty() ? std::string_view(text) : typed)) ok = false;
      continue;
    }
    if (!run_command(text, typed)) {
      ok = false;
      ++failures_;
    }
  }
  return ok;
}

bool Shell::run_command(std::string_view text, std::string_view typed) {
  Invocation inv;
  try {
    inv = parse_invocation(text);
  } catch (const SyntaxError& e) {
    report("kdive", e.what());
    return false;
  }

  if (inv.is_shell_escape) {
    std::fflush(out_);
    std::string command = inv.shell_escape;
    if (command.empty()) {
      const char* shell = std::getenv("SHELL");
      command = shell != nullptr && *shell != '\0' ? shell : "/bin/sh";
    }
    int status = std::system(command.c_str());
    return status == 0;
  }

  // `set gdb on`: the line is GDB's, but kdive's q and the way out.
  // Word edits below go to both forms of the words (with and without quotes).
  auto insert_word = [&inv](size_t at, const std::string& word) {
    inv.words.insert(inv.words.begin() + static_cast<ptrdiff_t>(at), word);
    inv.quoted_words.insert(inv.quoted_words.begin() + static_cast<ptrdiff_t>(at), word);
  };
  if (session_.settings().gdb_mode) {
    const std::vector<std::string>& w = inv.words;
    const bool kdives = w.front() == "q" || w.front() == "quit" || w.front() == "exit" || w.front() == "gdb" ||
                        (w.size() >= 2 && w.front() == "set" && w[1] == "gdb");
    if (!kdives) insert_word(0, "gdb");
  }

  // gdb's print format letters, as crash passes them on: p/x, p/d -> p -x, p -d.
  if (auto slash = inv.words.front().find('/'); slash != std::string::npos && slash > 0) {
    std::string head = inv.words.front().substr(0, slash);
    std::string letter = inv.words.front().substr(slash + 1);
    if ((head == "p" || head == "print") && (letter == "x" || letter == "d")) {
      inv.words.front() = inv.quoted_words.front() = head;
      insert_word(1, "-" + letter);
    }
  }
  try {
    // Paged: at the prompt, with scroll on, when stdout is a terminal.
    std::optional<PagerSettings> pager;
    if (interactive_ && session_.settings().scroll) pager = terminal_size(out_);
    if (pager) pager->program = session_.settings().pager;
    OutputTarget target(inv, out_, pager ? &*pager : nullptr);
    target.output().set_mode(session_.settings().output);
    // `set error redirect`: a command's error lines go where its output goes
    // when that is a pipe or a file (text mode; JSON keeps its own lines).
    const bool errors_to_target = session_.settings().error == ErrorDestination::Redirect &&
                                  (!inv.pipeline.empty() || !inv.redirect_path.empty()) &&
                                  session_.settings().output == OutputMode::Text;
    auto on_error = [this, &target, errors_to_target](std::string_view who, std::string_view message) {
      // q in the pager stops the command the way Ctrl-C does; it is no error.
      if (target.pager_quit() && message == Interrupted().what()) return;
      target.flush_held();  // what the command printed comes before its error
      if (errors_to_target) {
        target.output().write(fmt::format("{}{}: {}\n", location_, who, message));
        return;
      }
      report(who, message);
    };
    CommandRun run = kdive::run_command(session_, trimmed(typed.empty() ? text : typed), inv.words, target.output(),
                                        on_error, &inv.quoted_words);
    target.close();
    if (run.status == CommandStatus::DataLost) ++data_lost_;
    return run.status != CommandStatus::Failed;
  } catch (const TargetError& e) {
    report("kdive", e.what());
  }
  return false;
}

int Shell::run_stream(std::istream& in) {
  int before = failures_;
  std::string line;
  while (!session_.quit_requested() && std::getline(in, line)) run_line(line);
  return failures_ - before;
}

void Shell::run_rc_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    report("kdive", fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
    return;
  }
  const int failures = failures_;
  const int data_lost = data_lost_;
  for (const RcLine& line : read_rc_lines(in)) {
    if (session_.quit_requested()) break;
    location_ = fmt::format("{}:{}: ", path.string(), line.number);
    run_line(line.text);
  }
  location_.clear();
  failures_ = failures;
  data_lost_ = data_lost;
}

void Shell::run_interactive() {
  interactive_ = true;
  SessionCompletionSource names(session_);
  LineEditor editor("kdive> ",
                    [&names](std::string_view line, size_t cursor) { return complete_line(names, line, cursor); });
  while (!session_.quit_requested()) {
    // `set edit vi|emacs`, from an rc file or typed at the prompt.
    if (const std::string& mode = session_.settings().edit; !mode.empty()) editor.set_vi_mode(mode == "vi");
    auto line = editor.read_line();
    if (!line) {
      std::fputc('\n', out_);  // leave the terminal on a fresh line after Ctrl-D
      break;
    }
    run_line(*line);
  }
  interactive_ = false;
}

}  // namespace kdive
