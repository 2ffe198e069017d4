#include "commands/task_args.hpp"

#include <fmt/format.h>

#include <regex>
#include <set>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/session.hpp"

namespace kdive {

// Kernel addresses start here with either 4- or 5-level paging (the 5-level
// direct map begins at 0xff11000000000000).

std::vector<const Task*> select_tasks(const Kernel&, const TaskTable& table, const std::vector<std::string>& words) {
  std::vector<const Task*> out;
  if (words.empty()) {
    for (const Task& t : table.all) out.push_back(&t);
    return out;
  }
  std::set<const Task*> seen;
  auto add = [&](const Task* t) {
    if (seen.insert(t).second) out.push_back(t);
  };
  for (const std::string& w : words) {
    bool matched = false;
    if (w.size() >= 2 && w.front() == '\'' && w.back() == '\'') {
      std::regex re;
      try {
        re = std::regex(w.substr(1, w.size() - 2));
      } catch (const std::regex_error&) {
        throw CommandError(fmt::format("invalid regular expression: {}", w));
      }
      for (const Task& t : table.all) {
        if (std::regex_search(t.comm, re)) add(&t), matched = true;
      }
    } else if (auto n = parse_number(w, 10); n && w.size() < 12) {
      for (const Task& t : table.all) {
        if (t.pid == static_cast<int64_t>(*n)) add(&t), matched = true;
      }
    } else if (auto a = parse_number(w, 16); a && *a >= kKernelHalf) {
      if (const Task* t = table.by_address(VirtAddr{*a})) add(t), matched = true;
    } else {
      for (const Task& t : table.all) {
        if (t.comm == w) add(&t), matched = true;
      }
      // The shell has already taken crash's quotes off 'kd-.*': a word that
      // names no task but looks like a pattern is one.
      if (!matched && w.find_first_of(".*[]^$+?()|\\") != std::string::npos) {
        std::regex re;
        try {
          re = std::regex(w);
        } catch (const std::regex_error&) {
          throw CommandError(fmt::format("no task matches '{}', and it is not a valid regular expression", w));
        }
        for (const Task& t : table.all) {
          if (std::regex_search(t.comm, re)) add(&t), matched = true;
        }
      }
    }
    if (!matched) throw CommandError(fmt::format("no task matches '{}'", w));
  }
  return out;
}

std::vector<const Task*> tasks_or_context(Session& session, const std::vector<std::string>& words) {
  if (words.empty()) return {&session.context()};
  const Kernel& k = session.kernel();
  return select_tasks(k, k.tasks(), words);
}

}  // namespace kdive
