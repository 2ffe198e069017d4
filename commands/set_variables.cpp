#include "commands/set_variables.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>

#include "commands/api/command.hpp"
#include "commands/gdb_fallback.hpp"

namespace kdive {
namespace {

const char* on_off(bool b) { return b ? "on" : "off"; }

// A value's reader: checks `value` and sets it in `s`; throws CommandError.
using Setter = std::function<void(SessionSettings& s, const std::string& value)>;

CommandError bad_value(std::string_view name, std::string_view expected, std::string_view value) {
  return CommandError(fmt::format("{} must be {}, not '{}'", name, expected, value));
}

bool read_on_off(std::string_view name, const std::string& value) {
  if (value == "on") return true;
  if (value == "off") return false;
  throw bad_value(name, "on or off", value);
}

// A count in decimal, or in hex with 0x: crash reads "abc" as hex, which
// hides a typo; kdive asks for the 0x.
uint64_t read_count(std::string_view name, const std::string& value) {
  const bool hex = value.size() > 2 && value[0] == '0' && (value[1] == 'x' || value[1] == 'X');
  const std::string digits = hex ? value.substr(2) : value;
  const bool ok = !digits.empty() && std::all_of(digits.begin(), digits.end(), [hex](char c) {
    return hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (!ok || digits.size() > (hex ? 16u : 19u)) throw bad_value(name, "a number (decimal, or hex with 0x)", value);
  return std::stoull(digits, nullptr, hex ? 16 : 10);
}

// A value kdive accepts only as it already is, with the reason for the rest.
Setter only(std::string_view name, std::string accepted, std::string why) {
  return [name = std::string(name), accepted = std::move(accepted), why = std::move(why)](SessionSettings&,
                                                                                          const std::string& value) {
    if (value != accepted) throw CommandError(fmt::format("{} {}: {}", name, value, why));
  };
}

const std::map<std::string, Setter, std::less<>>& setters() {
  static const std::map<std::string, Setter, std::less<>> table = {
      {"scroll",
       [](SessionSettings& s, const std::string& v) {
         if (v == "on" || v == "off") {
           s.scroll = v == "on";
         } else if (v == "less") {
           s.scroll = true;
           s.pager = "less -X -E -R -K";
         } else if (v == "more") {
           s.scroll = true;
           s.pager = "more";
         } else if (v == "CRASHPAGER") {
           const char* p = std::getenv("CRASHPAGER");
           if (p == nullptr || *p == '\0') throw CommandError("scroll CRASHPAGER: CRASHPAGER is not set");
           s.scroll = true;
           s.pager = p;
         } else {
           throw bad_value("scroll", "on, off, less, more or CRASHPAGER", v);
         }
       }},
      {"radix",
       [](SessionSettings& s, const std::string& v) {
         if (v != "10" && v != "16") throw bad_value("radix", "10 or 16", v);
         s.radix = v == "16" ? 16 : 10;
       }},
      {"refresh", [](SessionSettings& s, const std::string& v) { s.refresh = read_on_off("refresh", v); }},
      {"print_max", [](SessionSettings& s, const std::string& v) { s.print_max = read_count("print_max", v); }},
      {"print_array", [](SessionSettings& s, const std::string& v) { s.print_array = read_on_off("print_array", v); }},
      {"console", [](SessionSettings& s, const std::string& v) { s.console = v; }},
      {"debug", [](SessionSettings& s, const std::string& v) { s.debug = read_count("debug", v); }},
      {"core", only("core", "off", "kdive never drops core on an error: it reports it and goes on")},
      {"hash", [](SessionSettings& s, const std::string& v) { s.hash = read_on_off("hash", v); }},
      {"silent",
       [](SessionSettings& s, const std::string& v) {
         s.silent = read_on_off("silent", v);
         if (s.silent) s.scroll = false;  // as crash: silent turns scrolling off
       }},
      {"edit",
       [](SessionSettings& s, const std::string& v) {
         if (v != "vi" && v != "emacs") throw bad_value("edit", "vi or emacs", v);
         s.edit = v;
       }},
      {"namelist",
       [](SessionSettings&, const std::string& v) {
         throw CommandError(fmt::format("namelist {}: the vmlinux is named on kdive's command line", v));
       }},
      {"dumpfile",
       [](SessionSettings&, const std::string& v) {
         throw CommandError(fmt::format("dumpfile {}: the dump is named on kdive's command line", v));
       }},
      {"unwind", only("unwind", "off", "kdive's bt has no DWARF unwinder to turn on (it reads the ORC tables)")},
      {"zero_excluded",
       [](SessionSettings& s, const std::string& v) { s.zero_excluded = read_on_off("zero_excluded", v); }},
      {"null-stop", [](SessionSettings& s, const std::string& v) { s.null_stop = read_on_off("null-stop", v); }},
      {"gdb",
       [](SessionSettings& s, const std::string& v) {
         bool on = read_on_off("gdb", v);
         if (on && !gdb_built_in()) throw CommandError("gdb on: kdive was built without GDB (-DKDIVE_GDB=OFF)");
         s.gdb_mode = on;
       }},
      {"scope",
       [](SessionSettings& s, const std::string& v) {
         // Only the words here: the set command resolves them through the kernel.
         const bool zero = v.find_first_not_of("0") == std::string::npos || v == "0x0" || v == "0X0";
         s.scope_text = zero ? "" : v;
         s.scope.reset();
         s.scope_symbol.clear();
         s.scope_unit.clear();
       }},
      {"offline",
       [](SessionSettings& s, const std::string& v) {
         if (v != "show" && v != "hide") throw bad_value("offline", "show or hide", v);
         s.hide_offline = v == "hide";
       }},
      {"redzone",
       [](SessionSettings& s, const std::string& v) {
         // crash also takes a number: 0 is off, any other on.
         const bool number = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) != 0;
         });
         s.redzone = number ? read_count("redzone", v) != 0 : read_on_off("redzone", v);
       }},
      {"error",
       [](SessionSettings& s, const std::string& v) {
         if (v == "default") {
           s.error = ErrorDestination::Default;
         } else if (v == "redirect") {
           s.error = ErrorDestination::Redirect;
         } else {
           std::filesystem::path dir = std::filesystem::path(v).parent_path();
           std::error_code ec;
           if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
             throw CommandError(fmt::format("error {}: {} is not a directory", v, dir.string()));
           }
           s.error = ErrorDestination::File;
           s.error_file = v;
         }
       }},
      {"output",
       [](SessionSettings& s, const std::string& v) {
         if (v != "text" && v != "json") throw bad_value("output", "text or json", v);
         s.output = v == "json" ? OutputMode::Json : OutputMode::Text;
       }},
      {"srcdir",
       [](SessionSettings& s, const std::string& v) {
         if (v == "off") {
           s.source_dir.reset();
           return;
         }
         std::error_code ec;
         if (!std::filesystem::is_directory(v, ec)) throw CommandError(fmt::format("srcdir: {} is not a directory", v));
         s.source_dir = std::filesystem::path(v);
       }},
  };
  return table;
}

std::string scroll_text(const SessionSettings& s) {
  if (!s.scroll) return "off";
  return fmt::format("on ({})", s.pager.empty() ? "built-in --More--" : s.pager);
}

std::string error_text(const SessionSettings& s) {
  switch (s.error) {
    case ErrorDestination::Redirect:
      return "redirect";
    case ErrorDestination::File:
      return s.error_file.string();
    default:
      return "default";
  }
}

std::string dumps_text(const SessionFiles& files) {
  std::string dumps;
  for (const auto& d : files.dumps) dumps += (dumps.empty() ? "" : " ") + d;
  return dumps.empty() ? "(none)" : dumps;
}

// The value as `set -v` shows it.
std::string value_text(const SessionSettings& s, const SessionFiles& files, const std::string& name) {
  if (name == "scroll") return scroll_text(s);
  if (name == "radix") return fmt::format("{} ({})", s.radix, s.radix == 16 ? "hexadecimal" : "decimal");
  // A value kdive keeps but cannot act on says so beside it.
  if (name == "refresh") return s.refresh ? "on" : "off (kdive reads the task table once either way)";
  if (name == "print_max") return std::to_string(s.print_max);
  if (name == "print_array") return on_off(s.print_array);
  if (name == "console") return s.console.empty() ? "(not assigned)" : s.console + " (kdive writes nothing to it)";
  if (name == "debug") return s.debug == 0 ? "0" : fmt::format("{} (kdive has no debug messages)", s.debug);
  if (name == "core") return "off";
  if (name == "hash") return s.hash ? "on" : "off (kdive's walks still check for loops)";
  if (name == "silent") return on_off(s.silent);
  if (name == "edit") return s.edit.empty() ? "(readline's default)" : s.edit;
  if (name == "namelist") return files.vmlinux ? files.vmlinux->string() : "(none)";
  if (name == "dumpfile") return dumps_text(files);
  if (name == "unwind") return "off";
  if (name == "zero_excluded") return on_off(s.zero_excluded);
  if (name == "null-stop") return on_off(s.null_stop);
  if (name == "gdb") return on_off(s.gdb_mode);
  if (name == "scope") return s.scope ? fmt::format("{:x} ({})", *s.scope, s.scope_symbol) : "0 (not set)";
  if (name == "offline") return s.hide_offline ? "hide" : "show";
  if (name == "redzone") return on_off(s.redzone);
  if (name == "error") return error_text(s);
  if (name == "output") return s.output == OutputMode::Json ? "json" : "text";
  if (name == "srcdir") return s.source_dir ? s.source_dir->string() : "(none)";
  throw CommandError(fmt::format("unknown variable: {}", name));
}

}  // namespace

const std::vector<std::string>& variable_names() {
  static const std::vector<std::string> names = {
      "scroll", "radix",  "refresh", "print_max", "print_array", "console", "debug",         "core",
      "hash",   "silent", "edit",    "namelist",  "dumpfile",    "unwind",  "zero_excluded", "null-stop",
      "gdb",    "scope",  "offline", "redzone",   "error",       "output",  "srcdir"};
  return names;
}

bool is_variable(std::string_view word) { return setters().contains(word); }

std::vector<std::string> apply_variables(SessionSettings& settings, const std::vector<std::string>& words) {
  SessionSettings changed = settings;
  std::vector<std::string> names;
  for (size_t i = 0; i < words.size(); ++i) {
    auto setter = setters().find(words[i]);
    if (setter == setters().end()) throw CommandError(fmt::format("unknown variable: {}", words[i]));
    names.push_back(words[i]);
    if (i + 1 < words.size() && !is_variable(words[i + 1])) setter->second(changed, words[++i]);
  }
  settings = std::move(changed);
  return names;
}

std::string variable_line(const SessionSettings& s, const SessionFiles& files, const std::string& name) {
  // crash's own words for a few of them.
  if (name == "radix") return fmt::format("output radix: {} ({})", s.radix, s.radix == 16 ? "hex" : "decimal");
  if (name == "console" && s.console.empty()) return "console: not set";
  if (name == "core") return "core: off (do NOT drop core on error message)";
  // crash echoes offline right-aligned, one column narrower than set -v.
  if (name == "offline") return fmt::format("{:>13}: {}", name, value_text(s, files, name));
  return fmt::format("{}: {}", name, value_text(s, files, name));
}

std::string variable_list_line(const SessionSettings& s, const SessionFiles& files, const std::string& name) {
  return fmt::format("{:>14}: {}", name, value_text(s, files, name));
}

Json variable_json(const SessionSettings& s, const SessionFiles& files, const std::string& name) {
  if (name == "scroll") return on_off(s.scroll);
  if (name == "radix") return s.radix;
  if (name == "print_max") return s.print_max;
  if (name == "debug") return s.debug;
  if (name == "console") return s.console.empty() ? Json(nullptr) : Json(s.console);
  if (name == "refresh") return on_off(s.refresh);
  if (name == "hash") return on_off(s.hash);
  if (name == "edit") return s.edit.empty() ? Json(nullptr) : Json(s.edit);
  if (name == "namelist") return files.vmlinux ? Json(files.vmlinux->string()) : Json(nullptr);
  if (name == "dumpfile") return files.dumps;
  if (name == "srcdir") return s.source_dir ? Json(s.source_dir->string()) : Json(nullptr);
  if (name == "scope") {
    if (!s.scope) return nullptr;
    return Json{{"address", json_hex(*s.scope)}, {"symbol", s.scope_symbol}, {"unit", s.scope_unit}};
  }
  return value_text(s, files, name);
}

}  // namespace kdive
