#include "commands/api/aliases.hpp"

#include <algorithm>

namespace kdive {

AliasTable::AliasTable() {
  // crash's built-ins, in crash's order; the ones naming commands kdive does
  // not have yet fail like any unknown command would.
  static constexpr std::pair<const char*, const char*> kBuiltins[] = {
      {"man", "help"},         {"?", "help"},           {"quit", "q"},           {"sf", "set scroll off"},
      {"sn", "set scroll on"}, {"hex", "set radix 16"}, {"dec", "set radix 10"}, {"g", "gdb"},
      {"px", "p -x"},          {"pd", "p -d"},          {"for", "foreach"},      {"size", "*"},
      {"dmesg", "log"},        {"lsmod", "mod"},        {"last", "ps -l"}};
  for (auto [name, command] : kBuiltins) aliases_.push_back({name, command, true});
}

void AliasTable::define(std::string name, std::string command) {
  remove(name);
  aliases_.push_back({std::move(name), std::move(command), false});
}

bool AliasTable::remove(std::string_view name) {
  return std::erase_if(aliases_, [&](const Alias& a) { return a.name == name; }) != 0;
}

const Alias* AliasTable::find(std::string_view name) const {
  auto it = std::find_if(aliases_.begin(), aliases_.end(), [&](const Alias& a) { return a.name == name; });
  return it == aliases_.end() ? nullptr : &*it;
}

std::optional<std::string> AliasTable::expand(std::string_view text) const {
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) return std::nullopt;
  size_t end = text.find_first_of(" \t|;>", start);
  if (end == std::string_view::npos) end = text.size();
  const Alias* alias = find(text.substr(start, end - start));
  if (alias == nullptr) return std::nullopt;
  return alias->command + std::string(text.substr(end));
}

}  // namespace kdive
