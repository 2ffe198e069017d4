#include "analyzer/command_line.hpp"

#include <cctype>

namespace kdive {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Walks text and reports the positions of characters that are outside quotes,
// so ';', '|' and '>' inside "..." or '...' keep their literal meaning.
template <typename Visit>
void scan_unquoted(std::string_view text, Visit visit) {
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote == '\'') {
      if (c == '\'') quote = 0;
    } else if (quote == '"') {
      if (c == '\\' && i + 1 < text.size()) {
        ++i;
      } else if (c == '"') {
        quote = 0;
      }
    } else if (c == '\\' && i + 1 < text.size()) {
      ++i;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (!visit(i, c)) {
      return;
    }
  }
}

}  // namespace

std::vector<std::string> split_commands(std::string_view line) {
  std::vector<std::string> out;
  auto add = [&](std::string_view piece) {
    piece = trim(piece);
    if (!piece.empty()) out.emplace_back(piece);
  };
  // A shell escape owns the whole line: '!' commands may contain ';' themselves.
  if (auto t = trim(line); !t.empty() && t.front() == '!') {
    add(t);
    return out;
  }
  size_t start = 0;
  size_t end = line.size();
  scan_unquoted(line, [&](size_t i, char c) {
    if (c == ';') {
      add(line.substr(start, i - start));
      start = i + 1;
    } else if (c == '#' && trim(line.substr(start, i - start)).empty()) {
      end = i;  // a '#' where a command would start comments out the rest
      return false;
    }
    return true;
  });
  add(line.substr(start, end - start));
  return out;
}

std::vector<std::string> split_words(std::string_view text, Quotes quotes) {
  const bool keep = quotes == Quotes::Keep;
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
        if (keep) word += c;
      } else {
        word += c;
      }
    } else if (quote == '"') {
      if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
        if (keep) word += c;
        word += text[++i];
      } else if (c == '"') {
        quote = 0;
        if (keep) word += c;
      } else {
        word += c;
      }
    } else if (is_space(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      in_word = true;
      if (c == '\'' || c == '"') {
        quote = c;
        if (keep) word += c;
      } else if (c == '\\' && i + 1 < text.size()) {
        if (keep) word += c;
        word += text[++i];
      } else {
        word += c;
      }
    }
  }
  if (quote != 0) throw SyntaxError(std::string("unterminated ") + quote + " quote");
  if (in_word) words.push_back(std::move(word));
  return words;
}

Invocation parse_invocation(std::string_view text) {
  Invocation inv;
  text = trim(text);
  if (!text.empty() && text.front() == '!') {
    inv.is_shell_escape = true;
    inv.shell_escape = std::string(trim(text.substr(1)));
    return inv;
  }

  size_t pipe_at = std::string_view::npos;
  size_t redirect_at = std::string_view::npos;
  // Expressions (p, eval, struct) hold C operators that look like plumbing:
  // "->" and ">=" are no redirect, "||" is no pipe.
  auto at = [&](size_t i) { return i < text.size() ? text[i] : '\0'; };
  scan_unquoted(text, [&](size_t i, char c) {
    if (c == '|' && at(i + 1) != '|' && (i == 0 || at(i - 1) != '|')) {
      pipe_at = i;
      return false;  // everything after belongs to the shell
    }
    if (c == '>' && redirect_at == std::string_view::npos && (i == 0 || at(i - 1) != '-') && at(i + 1) != '=') {
      redirect_at = i;
    }
    return true;
  });

  std::string_view command = text;
  if (pipe_at != std::string_view::npos) {
    // With a pipeline, '>' after the '|' is the shell's business.
    inv.pipeline = std::string(trim(text.substr(pipe_at + 1)));
    if (inv.pipeline.empty()) throw SyntaxError("'|' without a command after it");
    command = text.substr(0, pipe_at);
    if (redirect_at != std::string_view::npos && redirect_at > pipe_at) {
      redirect_at = std::string_view::npos;
    }
  }
  if (redirect_at != std::string_view::npos) {
    std::string_view target = text.substr(redirect_at + 1);
    if (pipe_at != std::string_view::npos) {
      throw SyntaxError("'>' before '|': put the redirect at the end of the pipeline");
    }
    inv.append = !target.empty() && target.front() == '>';
    if (inv.append) target.remove_prefix(1);
    auto words = split_words(target);
    if (words.empty()) throw SyntaxError("redirect without a file name");
    if (words.size() > 1) throw SyntaxError("redirect takes one file name, got '" + std::string(trim(target)) + "'");
    inv.redirect_path = words.front();
    command = text.substr(0, redirect_at);
  }
  inv.words = split_words(command);
  inv.quoted_words = split_words(command, Quotes::Keep);
  if (inv.words.empty() && (!inv.pipeline.empty() || !inv.redirect_path.empty())) {
    throw SyntaxError("no command before '|' or '>'");
  }
  return inv;
}

}  // namespace kdive
