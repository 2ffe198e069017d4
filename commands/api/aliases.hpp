// AliasTable: crash's command aliases. A command line whose first word is an
// alias runs with that word replaced by the alias's command string ("pp 1"
// with "alias pp ps -p" runs "ps -p 1"). crash's built-in aliases come first;
// runtime ones (the `alias` command, -i scripts) add to or replace them.
//
//   AliasTable aliases;                   // the built-ins: man, ?, dmesg, ...
//   aliases.define("pp", "ps -p");
//   aliases.expand("pp 1");               // "ps -p 1"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kdive {

struct Alias {
  std::string name;
  std::string command;
  bool builtin = false;
};

class AliasTable {
 public:
  AliasTable();

  // Adds or replaces an alias (a runtime one).
  void define(std::string name, std::string command);
  // Removes it; false when there was none.
  bool remove(std::string_view name);
  const Alias* find(std::string_view name) const;
  // In definition order: built-ins first.
  const std::vector<Alias>& all() const { return aliases_; }

  // The command text with its first word replaced, if that word is an alias;
  // nullopt otherwise. Leading blanks are kept out of the result.
  std::optional<std::string> expand(std::string_view text) const;

 private:
  std::vector<Alias> aliases_;
};

}  // namespace kdive
