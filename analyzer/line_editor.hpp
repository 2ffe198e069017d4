// LineEditor: the interactive prompt on GNU readline — line editing, history kept
// across sessions in ~/.kdive_history, Tab completion (the candidates come from
// a completer function: completer.hpp), and Ctrl-C that discards the current
// line instead of leaving kdive.
//
//   LineEditor editor("kdive> ", [&](std::string_view line, size_t cursor) {
//     return complete_line(source, line, cursor);
//   });
//   while (auto line = editor.read_line()) shell.run_line(*line);
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "analyzer/completer.hpp"

namespace kdive {

class LineEditor {
 public:
  using Completer = std::function<Completion(std::string_view line, size_t cursor)>;

  // Without a completer, Tab completes file names.
  explicit LineEditor(std::string prompt, Completer completer = {});
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  // The next line; nullopt at end of input (Ctrl-D on an empty line).
  std::optional<std::string> read_line();
  // readline's editing mode from the next line on (`set edit vi|emacs`); it
  // overrides what ~/.inputrc chose, which readline reads at its first line.
  void set_vi_mode(bool vi) { vi_mode_ = vi; }

 private:
  std::optional<bool> vi_mode_;
  std::string prompt_;
  std::string history_path_;
  Completer completer_;
};

}  // namespace kdive
