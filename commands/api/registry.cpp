#include <fmt/format.h>

#include <cctype>

#include "commands/api/command.hpp"

namespace kdive {

std::optional<std::string> ParsedArgs::value(char flag) const {
  auto it = values_.find(flag);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

const std::vector<std::string>& ParsedArgs::all_values(char flag) const {
  static const std::vector<std::string> none;
  auto it = values_.find(flag);
  return it == values_.end() ? none : it->second;
}

namespace {

const OptionSpec* find_option(const CommandSpec& spec, char flag) {
  if (!has_short_form(flag)) return nullptr;  // long-only keys are not typed as "-x"
  for (const auto& o : spec.options) {
    if (o.flag == flag) return &o;
  }
  return nullptr;
}

const OptionSpec* find_long_option(const CommandSpec& spec, std::string_view name) {
  for (const auto& o : spec.options) {
    if (!o.long_name.empty() && o.long_name == name) return &o;
  }
  return nullptr;
}

// "--name", "--name=value" or "--name value" (the value from the next word,
// advancing i). Returns nothing: the flag goes into `parsed`.
void parse_long_option(const CommandSpec& spec, const std::vector<std::string>& words, size_t& i, ParsedArgs& parsed) {
  std::string_view word = words[i];
  word.remove_prefix(2);
  const size_t eq = word.find('=');
  const std::string_view name = word.substr(0, eq);
  const OptionSpec* option = find_long_option(spec, name);
  if (option == nullptr) {
    throw CommandError(fmt::format("unknown option '--{}' (see 'help {}')", name, spec.name));
  }
  if (option->argument.empty()) {
    if (eq != std::string_view::npos) throw CommandError(fmt::format("option --{} takes no value", name));
    parsed.add_flag(option->flag, "");
  } else if (eq != std::string_view::npos) {
    parsed.add_flag(option->flag, std::string(word.substr(eq + 1)));
  } else if (i + 1 < words.size()) {
    parsed.add_flag(option->flag, words[++i]);
  } else {
    throw CommandError(fmt::format("option --{} needs a value: {}", name, option->argument));
  }
}

bool looks_like_flag(const std::string& word) {
  // "-" alone and negative numbers ("-1" for `log -m -1`-style values) are data.
  return word.size() > 1 && word[0] == '-' && !std::isdigit(static_cast<unsigned char>(word[1]));
}

}  // namespace

ParsedArgs parse_args(const CommandSpec& spec, const std::vector<std::string>& words) {
  ParsedArgs parsed;
  bool flags_done = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (flags_done || !looks_like_flag(word)) {
      parsed.add_positional(word);
      if (spec.flags_end_at_first_word) flags_done = true;
      continue;
    }
    if (word == "--") {
      flags_done = true;
      continue;
    }
    if (word.starts_with("--")) {
      parse_long_option(spec, words, i, parsed);
      continue;
    }
    for (size_t j = 1; j < word.size(); ++j) {
      const OptionSpec* option = find_option(spec, word[j]);
      if (option == nullptr) {
        throw CommandError(fmt::format("invalid option -- '{}' (see 'help {}')", word[j], spec.name));
      }
      if (option->argument.empty()) {
        parsed.add_flag(option->flag, "");
        continue;
      }
      if (j + 1 < word.size()) {
        parsed.add_flag(option->flag, word.substr(j + 1));
      } else if (i + 1 < words.size()) {
        parsed.add_flag(option->flag, words[++i]);
      } else {
        throw CommandError(fmt::format("option -{} needs a value: {}", option->flag, option->argument));
      }
      break;
    }
  }
  return parsed;
}

CommandRegistry& CommandRegistry::instance() {
  static CommandRegistry registry;
  return registry;
}

void CommandRegistry::add(Command command) {
  std::string name(command.spec.name);
  for (auto alias : command.spec.aliases) aliases_.emplace(std::string(alias), name);
  commands_.insert_or_assign(std::move(name), std::move(command));
}

bool CommandRegistry::remove(std::string_view name) {
  auto it = commands_.find(name);
  if (it == commands_.end()) return false;
  std::erase_if(aliases_, [&](const auto& alias) { return alias.second == name; });
  commands_.erase(it);
  return true;
}

const Command* CommandRegistry::find(std::string_view name) const {
  if (auto it = commands_.find(name); it != commands_.end()) return &it->second;
  if (auto a = aliases_.find(name); a != aliases_.end()) return find(a->second);
  return nullptr;
}

std::vector<const Command*> CommandRegistry::all() const {
  std::vector<const Command*> out;
  for (const auto& [name, command] : commands_) out.push_back(&command);
  return out;
}

CommandRegistrar::CommandRegistrar(CommandSpec spec, CommandFn run) {
  CommandRegistry::instance().add(Command{std::move(spec), std::move(run)});
}

}  // namespace kdive
