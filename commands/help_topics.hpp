// The help pages that are not a command's: how the shell takes input and
// where output goes, as crash's `help input` and `help output` explain its
// own. `help all` shows them around every command's manual.
//
//   const HelpTopic* t = find_help_topic("input");   // t->text: the page
#pragma once

#include <span>
#include <string_view>

namespace kdive {

struct HelpTopic {
  std::string_view name;
  std::string_view summary;
  std::string_view text;
};

std::span<const HelpTopic> help_topics();

// nullptr when `name` is no topic.
const HelpTopic* find_help_topic(std::string_view name);

}  // namespace kdive
