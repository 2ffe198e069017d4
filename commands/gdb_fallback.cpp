#include "commands/gdb_fallback.hpp"

#include <fmt/format.h>

#include <set>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/session.hpp"
#include "gdb/gdb_session.hpp"
#include "kernel-model/errors.hpp"

namespace kdive {

bool gdb_built_in() { return gdb_engine_built_in(); }

std::string run_in_gdb(Session& session, std::string_view line) {
  try {
    return GdbSession::instance().run(session.kernel(), session.context(), line);
  } catch (const GdbError& e) {
    throw CommandError(e.what());
  }
}

bool gdb_takes_over(const std::exception& error, std::string_view expression) {
  if (!gdb_built_in()) return false;
  if (expression.find('$') != std::string_view::npos) return true;
  const auto* e = dynamic_cast<const Error*>(&error);
  return e != nullptr && e->kind() == Error::Kind::Unsupported;
}

void note_gdb_once(Output& out, std::string_view what, std::string_view note) {
  static std::set<std::string, std::less<>> noted;
  if (noted.contains(what)) return;
  noted.emplace(what);
  out.warning(note);
}

void type_through_gdb(Session& session, std::string_view command, const std::string& expression, Output& out) {
  note_gdb_once(out, command,
                fmt::format("{}: kdive's evaluator does not handle this expression: GDB evaluated it", command));
  std::string text = run_in_gdb(session, fmt::format("{} {}", command, expression));
  out.write(text);
  std::string type = text;
  while (!type.empty() && type.back() == '\n') type.pop_back();
  if (type.starts_with("type = ")) type.erase(0, 7);
  Json result = {{"name", expression}, {"kind", nullptr}, {"type", type}, {"size", nullptr}, {"gdb", true}};
  out.result(std::move(result));
}

std::string gdb_value_text(std::string_view printed) {
  std::string_view s = printed;
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  if (s.starts_with("$")) {
    size_t eq = s.find(" = ");
    size_t digits = s.find_first_not_of("0123456789", 1);
    if (eq != std::string_view::npos && digits == eq) return std::string(s.substr(eq + 3));
  }
  return std::string(s);
}

}  // namespace kdive
