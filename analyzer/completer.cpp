#include "analyzer/completer.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "commands/api/command.hpp"
#include "kernel-model/name_lists.hpp"
#include "kernel-model/type.hpp"

namespace kdive {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The command the cursor is in: its words before the cursor, and the word
// being typed. Quotes are followed only so that ';', '|' and '>' inside them
// do not count, as the shell's own split (command_line.cpp) does.
struct CommandAtCursor {
  std::vector<std::string_view> words;  // complete words before the current one
  std::string_view current;             // the partial word (may be empty)
  size_t current_start = 0;
  bool plumbing = false;  // the cursor is after '|', '>' or a '!' escape
  bool quoted = false;    // the cursor is inside quotes
};

CommandAtCursor command_at_cursor(std::string_view line, size_t cursor) {
  line = line.substr(0, std::min(cursor, line.size()));
  CommandAtCursor at;
  size_t begin = 0;
  char quote = 0;
  bool plumbing = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == ';') {
      begin = i + 1;
      plumbing = false;
    } else if (c == '|' && (i + 1 >= line.size() || line[i + 1] != '|') && (i == 0 || line[i - 1] != '|')) {
      plumbing = true;
    } else if (c == '>' && (i == 0 || line[i - 1] != '-') && (i + 1 >= line.size() || line[i + 1] != '=')) {
      // "->" and ">=" are C operators in expressions, not redirects.
      plumbing = true;
    }
  }
  std::string_view text = line.substr(begin);
  size_t lead = 0;
  while (lead < text.size() && is_space(text[lead])) ++lead;
  if (lead < text.size() && text[lead] == '!') plumbing = true;
  at.plumbing = plumbing;
  at.quoted = quote != 0;
  size_t i = lead;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i == text.size()) {
      at.current = text.substr(start);
      at.current_start = begin + start;
      return at;
    }
    at.words.push_back(text.substr(start, i - start));
    while (i < text.size() && is_space(text[i])) ++i;
  }
  at.current_start = begin + text.size();
  return at;
}

void sort_unique(std::vector<std::string>& v) {
  // `p <Tab>` gathers every symbol (100k+), already in order: checking is
  // cheaper than sorting them again.
  if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

void flag_candidates(const CommandSpec& spec, std::string_view word, std::vector<std::string>& out) {
  for (const OptionSpec& o : spec.options) {
    if (has_short_form(o.flag)) {
      std::string name = std::string("-") + o.flag;
      if (name.starts_with(word)) out.push_back(std::move(name));
    }
    if (!o.long_name.empty()) {
      std::string name = "--" + std::string(o.long_name);
      if (name.starts_with(word)) out.push_back(std::move(name));
    }
  }
}

// Splits an expression word into what stays as typed (`*`, `&`, `(` ...) and
// its last operand: a name, or a member path "name.member->member[2].mem".
std::pair<std::string_view, std::string_view> last_operand(std::string_view word) {
  size_t i = word.size();
  while (i > 0) {
    char c = word[i - 1];
    if (is_identifier_char(c) || c == '.') {
      --i;
    } else if (c == '>' && i >= 2 && word[i - 2] == '-') {
      i -= 2;
    } else if (c == ']') {
      size_t open = word.rfind('[', i - 1);
      if (open == std::string_view::npos) break;
      i = open;
    } else {
      break;
    }
  }
  return {word.substr(0, i), word.substr(i)};
}

// Where the last member name of a path starts: after its last '.' or "->".
size_t last_separator_end(std::string_view path) {
  size_t dot = path.rfind('.');
  size_t arrow = path.rfind("->");
  size_t end = 0;
  if (dot != std::string_view::npos) end = dot + 1;
  if (arrow != std::string_view::npos) end = std::max(end, arrow + 2);
  return end;
}

// The members of `container` that start with `partial`, each with `stem` (the
// text before the member) in front.
void member_candidates(const Type& container, std::string_view stem, std::string_view partial, Completion& c) {
  bool lone_leads_on = false;
  for (const MemberName& m : member_names(container)) {
    if (!m.name.starts_with(partial)) continue;
    c.candidates.push_back(std::string(stem) + std::string(m.name));
    lone_leads_on = m.leads_to_struct;
  }
  c.display_skip = stem.size();
  sort_unique(c.candidates);
  c.append_space = !(c.candidates.size() == 1 && lone_leads_on);
}

// A word naming a value: a symbol, or a member path starting at one.
void value_candidates(CompletionSource& source, std::string_view word, Completion& c) {
  auto [lead, operand] = last_operand(word);
  size_t member_at = last_separator_end(operand);
  if (member_at == 0) {
    source.symbols(operand, c.candidates);
    if (!lead.empty()) {
      for (auto& s : c.candidates) s.insert(0, lead);
    }
    sort_unique(c.candidates);
    c.display_skip = lead.size();
    if (c.candidates.size() == 1) {
      // A struct (or a pointer to one) may be followed by a member path.
      const Type* t = source.symbol_type(std::string_view(c.candidates[0]).substr(lead.size()));
      c.append_space = t == nullptr || struct_behind(*t) == nullptr;
    }
    return;
  }
  size_t root_end = 0;
  while (root_end < operand.size() && is_identifier_char(operand[root_end])) ++root_end;
  const Type* root = source.symbol_type(operand.substr(0, root_end));
  if (root == nullptr) return;
  std::string_view path = operand.substr(root_end, member_at - root_end);
  const Type* container = struct_at_path(*root, path);
  if (container == nullptr) return;
  std::string stem = std::string(lead) + std::string(operand.substr(0, member_at));
  member_candidates(*container, stem, operand.substr(member_at), c);
}

// `struct NAME`, `struct NAME.member,member.sub`: type names of `kinds`, then
// members of that type once a '.' follows the name.
void type_candidates(CompletionSource& source, std::initializer_list<NameKind> kinds, std::string_view word,
                     Completion& c) {
  size_t dot = word.find('.');
  if (dot == std::string_view::npos) {
    for (NameKind k : kinds) source.types(k, word, c.candidates);
    sort_unique(c.candidates);
    if (c.candidates.size() == 1) c.append_space = true;
    return;
  }
  std::string_view name = word.substr(0, dot);
  const Type* root = nullptr;
  for (NameKind k : kinds) {
    if ((root = source.type_named(k, name)) != nullptr) break;
  }
  if (root == nullptr) return;
  // After the name: member paths separated by ',' (struct page.flags,mapping),
  // each starting at the named type again.
  std::string_view rest = word.substr(dot + 1);
  size_t comma = rest.rfind(',');
  size_t path_start = comma == std::string_view::npos ? 0 : comma + 1;
  std::string_view path = rest.substr(path_start);
  size_t member_at = last_separator_end(path);
  const Type* container = struct_at_path(*root, path.substr(0, member_at));
  if (container == nullptr) return;
  std::string_view stem = word.substr(0, dot + 1 + path_start + member_at);
  member_candidates(*container, stem, path.substr(member_at), c);
}

// Commands whose arguments are values (symbols, member paths) or types.
const std::set<std::string_view> kValueCommands = {"p", "print", "px", "pd", "rd", "sym", "dis", "eval"};
const std::set<std::string_view> kTypeCommands = {"struct", "union", "*"};
const std::set<std::string_view> kDeclarationCommands = {"ptype", "whatis"};

}  // namespace

Completion complete_line(CompletionSource& source, std::string_view line, size_t cursor) {
  CommandAtCursor at = command_at_cursor(line, cursor);
  Completion c;
  c.start = at.current_start;
  if (at.plumbing || at.quoted) {
    c.files = true;
    return c;
  }
  std::string_view word = at.current;
  if (at.words.empty()) {
    source.commands(word, c.candidates);
    sort_unique(c.candidates);
    return c;
  }
  // p/x is p with a format: the command is the part before the '/'.
  std::string_view typed_name = at.words.front().substr(0, at.words.front().find('/'));
  const CommandSpec* spec = source.command(typed_name);
  if (spec == nullptr) {
    c.files = true;
    return c;
  }
  if (word.starts_with("-")) {
    flag_candidates(*spec, word, c.candidates);
    sort_unique(c.candidates);
    // A lone flag that takes a value wants it next, after a space: the default.
    return c;
  }
  std::string_view name = spec->name;
  // Positional words so far (flags and the command's own name left out).
  size_t positional = 0;
  for (size_t i = 1; i < at.words.size(); ++i) {
    if (!at.words[i].starts_with("-")) ++positional;
  }
  if (name == "help") {
    source.commands(word, c.candidates);
    sort_unique(c.candidates);
  } else if (kTypeCommands.contains(name) || kTypeCommands.contains(typed_name)) {
    if (positional == 0) {
      if (name == "union") {
        type_candidates(source, {NameKind::Union}, word, c);
      } else {
        type_candidates(source, {NameKind::Struct, NameKind::Union}, word, c);
      }
    } else {
      value_candidates(source, word, c);  // the address: a symbol will do
    }
  } else if (kDeclarationCommands.contains(name)) {
    std::string_view previous = at.words.back();
    if (previous == "struct") {
      type_candidates(source, {NameKind::Struct}, word, c);
    } else if (previous == "union") {
      type_candidates(source, {NameKind::Union}, word, c);
    } else if (previous == "enum") {
      type_candidates(source, {NameKind::Enum}, word, c);
    } else if (last_separator_end(last_operand(word).second) > 0) {
      value_candidates(source, word, c);
    } else {
      // ptype takes a type or an expression: both kinds of name.
      for (NameKind k : {NameKind::Struct, NameKind::Union, NameKind::Typedef, NameKind::Enum}) {
        source.types(k, word, c.candidates);
      }
      source.symbols(word, c.candidates);
      sort_unique(c.candidates);
    }
  } else if (kValueCommands.contains(name)) {
    value_candidates(source, word, c);
  } else {
    c.files = true;
  }
  return c;
}

}  // namespace kdive
