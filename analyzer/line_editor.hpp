// LineEditor: the interactive prompt on GNU readline — line editing, history kept
// across sessions in ~/.kdive_history, Tab completion of command names, and
// Ctrl-C that discards the current line instead of leaving kdive.
//
//   LineEditor editor("kdive> ");
//   while (auto line = editor.read_line()) shell.run_line(*line);
#pragma once

#include <optional>
#include <string>

namespace kdive {

class LineEditor {
 public:
  explicit LineEditor(std::string prompt);
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  // The next line; nullopt at end of input (Ctrl-D on an empty line).
  std::optional<std::string> read_line();

 private:
  std::string prompt_;
  std::string history_path_;
};

}  // namespace kdive
