// crash's `set` variables in kdive: their names, how a value is read and
// checked, and how each is shown (`set -v`, `set print_max`), apart from the
// session they change so that the parsing is tested on its own.
//
//   SessionSettings s;
//   std::vector<std::string> names = apply_variables(s, {"radix", "16", "print_max", "5"});
//   for (const std::string& n : names) out.print("{}\n", variable_line(s, files, n));
//   is_variable("hash");   // true
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "commands/api/json_values.hpp"
#include "commands/api/session.hpp"

namespace kdive {

// Every variable `set -v` lists, in crash's order (kdive's output and srcdir
// after crash's own).
const std::vector<std::string>& variable_names();
bool is_variable(std::string_view word);

// Reads `set` words as crash does: names, each followed by its value unless
// the next word is another name or there is none (`set radix 16 hash`), and
// applies them all, or none: a bad value throws CommandError naming the
// variable and the value, and `settings` is left as it was. Returns the names
// in the order given (a name given twice, twice). words[0] must be a name.
std::vector<std::string> apply_variables(SessionSettings& settings, const std::vector<std::string>& words);

// One variable as `set NAME` prints it ("print_max: 10", "output radix: 16
// (hex)"), and as `set -v` lists it: the name right-aligned in 14 columns.
std::string variable_line(const SessionSettings& settings, const SessionFiles& files, const std::string& name);
std::string variable_list_line(const SessionSettings& settings, const SessionFiles& files, const std::string& name);
// Its JSON value: numbers, "on"/"off", strings, null when unset.
Json variable_json(const SessionSettings& settings, const SessionFiles& files, const std::string& name);

}  // namespace kdive
