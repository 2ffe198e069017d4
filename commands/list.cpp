// list: follow a linked list through memory, with crash's flags and output —
// the address of each entry, optionally followed by some of its members.
#include <fmt/format.h>

#include <algorithm>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/container_args.hpp"
#include "kernel-model/containers.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_loop.hpp"
#include "kernel-model/list_walk.hpp"

namespace kdive {
namespace {

// list_head { next; prev; }: -r follows prev, one pointer further on.
constexpr uint64_t kPrevDelta = 8;

int radix_of(Session& session, const ParsedArgs& args) {
  if (args.has('x') && args.has('d')) throw CommandError("-x and -d exclude each other");
  if (args.has('x')) return 16;
  if (args.has('d')) return 10;
  return session.settings().radix;
}

// -B: where the links loop, found by Brent's algorithm from the start. A
// list_head list is a loop through its head by design: only a loop that
// leaves the head out (a link pointing back into the list) is reported.
void report_loop(const Kernel& k, const ParsedArgs& args, uint64_t start, uint64_t next_offset, Output& out) {
  const bool list_head = args.has('O') || args.has('H') || args.has('h');
  uint64_t from = start;
  uint64_t offset = next_offset + (args.has('r') ? kPrevDelta : 0);
  if (list_head) {
    // Links point at links: the chain is of list_heads, next (or prev) inside each.
    from = args.has('h') && !args.has('O') ? start + next_offset : start;
    if (auto head_offset = args.value('O')) from = start + parse_member_offset(k, *head_offset);
    offset = args.has('r') ? kPrevDelta : 0;
  }
  std::optional<ChainLoop> loop = find_loop(k.memory(), VirtAddr{from}, offset);
  if (!loop || (list_head && loop->start_index == 0)) return;
  std::string what = fmt::format("list: loop detected, loop length: {}; length from start to loop: {}", loop->length,
                                 loop->start_index);
  out.warning(what);
  out.data_lost(what);
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  if (args.has('h') && args.has('H')) throw CommandError("-h and -H exclude each other");

  // crash's positional words: a "struct.member" or a number before the start
  // is the next pointer's offset (the -o without -o); the last word is the start.
  std::optional<uint64_t> offset;
  if (auto o = args.value('o')) offset = parse_member_offset(k, *o);
  std::optional<std::string> start_word;
  if (auto h = args.value('h')) start_word = *h;
  if (auto h = args.value('H')) start_word = *h;
  std::vector<std::string> words = args.positional();
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    const bool more_follow = i + 1 < words.size() || start_word.has_value();
    if (!offset && (is_type_member(k, w) || (more_follow && parse_number(w, 10)))) {
      offset = parse_member_offset(k, w);
    } else if (!start_word) {
      start_word = w;
    } else {
      throw CommandError(fmt::format("unexpected argument: '{}'", w));
    }
  }
  if (!start_word) throw CommandError("no start address given");
  const uint64_t start = parse_start(k, *start_word);
  if (start == 0) throw CommandError("start address is NULL");
  const uint64_t next_offset = offset.value_or(0);

  std::optional<uint64_t> link_offset;  // -l: the start and the entries shown are links
  if (auto l = args.value('l')) link_offset = parse_member_offset(k, *l);
  std::vector<std::string> specs = args.all_values('s');
  for (const auto& s : args.all_values('S')) specs.push_back(s);
  EntryStructs shown(k, specs, radix_of(session, args));
  shown.use_settings(session.settings());
  if (link_offset && shown.empty()) throw CommandError("-l works with -s");

  Json entries = Json::array();
  auto show = [&](VirtAddr entry) {
    out.print("{:x}\n", entry.value());
    Json j = {{"address", json_hex(entry.value())}};
    if (!shown.empty()) shown.show(out, link_offset ? entry - *link_offset : entry, j);
    entries.push_back(std::move(j));
    return !out.closed();
  };

  const std::optional<uint64_t> end =
      args.value('e') ? std::optional<uint64_t>(parse_address(&k, *args.value('e')).value()) : std::nullopt;
  size_t breaks = 0;
  auto mark = [&](const WalkBreak& b) {
    mark_break(out, "list", b, entries);
    ++breaks;
  };

  if (args.has('O') || args.has('H') || args.has('h')) {
    // A list_head list: walked forward, and back from its head through prev
    // behind a break, so that one damaged entry hides only itself.
    uint64_t head = start;  // -H: a standalone head, not shown
    if (auto head_offset = args.value('O')) {
      // -h with -O: the start entry holds the list's head at its own offset, in
      // a structure of another type than the entries; like crash, it is not
      // shown, and the walk goes on as -H from that head.
      if (!args.has('h')) throw CommandError("-O works with -h");
      head = start + parse_member_offset(k, *head_offset);
    } else if (args.has('h')) {
      // -h: the start is an entry, shown first; the walk goes round from its
      // list_head, through the list's standalone head (shown as an entry, as
      // crash shows it) back to it.
      head = start + next_offset;
    }
    Walked<VirtAddr> w = walk_list(k.memory(), VirtAddr{head}, next_offset);
    const size_t n = w.entries.size();
    if (args.has('r')) {
      // list_head.prev order: the same entries backwards, each break at the
      // same place between them.
      std::reverse(w.entries.begin(), w.entries.end());
      std::reverse(w.breaks.begin(), w.breaks.end());
      for (WalkBreak& b : w.breaks) b.position = n - b.position;
    }
    if (args.has('h') && !args.has('O')) {
      w.entries.insert(w.entries.begin(), VirtAddr{start});
      for (WalkBreak& b : w.breaks) ++b.position;
    }
    if (end) {
      auto at_end = std::find_if(w.entries.begin(), w.entries.end(),
                                 [&](VirtAddr e) { return e.value() == *end || e.value() + next_offset == *end; });
      const size_t kept = static_cast<size_t>(at_end - w.entries.begin());
      w.entries.resize(kept);
      std::erase_if(w.breaks, [&](const WalkBreak& b) { return b.position > kept; });
    }
    for (size_t i = 0; i <= w.entries.size(); ++i) {
      for (const WalkBreak* b : w.breaks_at(i)) mark(*b);
      if (i < w.entries.size() && !show(w.entries[i])) break;
    }
    if (breaks > 0) {
      out.warning(
          fmt::format("list: damaged: {} break{}; {} entries read, those behind a break walked back "
                      "from the head through prev",
                      breaks, breaks == 1 ? "" : "s", entries.size() - breaks));
    }
  } else {
    // A chain of pointers to the entries themselves (or of links, with -l).
    ChainWalk walk;
    walk.start = VirtAddr{start};
    walk.next_offset = next_offset + (args.has('r') ? kPrevDelta : 0);
    walk.start_is_entry = true;
    walk.singly_linked = true;
    walk.end = end;
    walk_chain(k.memory(), walk, show, mark);
    if (breaks > 0) {
      out.warning(
          fmt::format("list: damaged: the walk stopped at the break after {} entries; those beyond it "
                      "could not be reached",
                      entries.size() - breaks));
    }
  }
  if (args.has('B')) report_loop(k, args, start, next_offset, out);
  out.result(std::move(entries));
}

const CommandRegistrar registrar{
    {.name = "list",
     .summary = "follow a linked list",
     .usage = "list [[-o] offset] [-e end] [-s|-S struct[.member[,member]] [-l offset]] [-x|-d]\n"
              "       [-r] [-B] [-h start [-O offset] | -H start | start]",
     .description = "Walks a linked list in memory and prints the address of each entry, one per\n"
                    "line, optionally followed by members of each entry (-s).\n"
                    "\n"
                    "Two shapes of list are understood:\n"
                    "  * a chain of structures, each holding a pointer to the next at some offset\n"
                    "    (task_struct.parent, file_system_type.next): give the first structure's\n"
                    "    address as the start and the pointer's offset. The chain ends at a NULL\n"
                    "    pointer, back at the start, back at the first entry the start points to,\n"
                    "    at an entry pointing to itself, or at -e's address.\n"
                    "  * a circular list of struct list_head embedded in each entry: give the\n"
                    "    list_head's offset in the entry, and either the list's standalone head\n"
                    "    (-H) or an entry holding one (-h). The addresses shown are those of the\n"
                    "    entries, not of their list_heads. When the entry given to -h is of\n"
                    "    another type than the rest (a css_set heading a list of tasks), -O gives\n"
                    "    the offset of the list's head in it, and it is not shown.\n"
                    "\n"
                    "The offset is \"struct.member\" or a number of bytes (decimal, or hex with\n"
                    "0x); given as \"struct.member\" it needs no -o. The start is an address, a\n"
                    "symbol (with +offset), or a global variable's member (init_task.tasks).\n"
                    "\n"
                    "A damaged list is shown as far as it can be read, with a marker line\n"
                    "where it breaks: \"<address>  (damaged: <what is wrong>)\", naming the\n"
                    "pointer or list_head that could not be followed. A list_head list is\n"
                    "checked link by link (each entry's prev must name the one before); where\n"
                    "it breaks, it is walked again backwards from its head through prev, so\n"
                    "the entries behind the break are shown too, after the marker. A chain of\n"
                    "pointers stops at its break (a pointer that cannot be read, or that leads\n"
                    "back to an entry already shown). A last line counts the breaks, and in\n"
                    "batch mode kdive exits with status 3 (data lost).\n"
                    "\n"
                    "-B also measures a loop with Brent's algorithm (constant memory, as crash's\n"
                    "-B): \"loop detected, loop length: N; length from start to loop: M\" — the\n"
                    "entries going round, and how many come before the first of them. A\n"
                    "list_head list looping through its own head is whole, not a loop.",
     .examples = "The tasks on the task list (init_task is its head, so it is not shown):\n"
                 "\n"
                 "  kdive> list task_struct.tasks -H init_task.tasks\n"
                 "  ffff9d8d011c8000\n"
                 "  ffff9d8d011cddc0\n"
                 "  ...\n"
                 "\n"
                 "The same list from the entry init_task, with two members of each task:\n"
                 "\n"
                 "  kdive> list task_struct.tasks -s task_struct.pid,comm -h init_task\n"
                 "  ffffffffbb413940\n"
                 "    pid = 0\n"
                 "    comm = \"swapper/0\"\n"
                 "  ffff9d8d011c8000\n"
                 "    pid = 1\n"
                 "    comm = \"init\"\n"
                 "  ...\n"
                 "\n"
                 "A task's ancestors, following the parent pointer of each:\n"
                 "\n"
                 "  kdive> list task_struct.parent ffff9d8d17bf3e80\n"
                 "  ffff9d8d17bf3e80\n"
                 "  ffff9d8d011c8000\n"
                 "  ffffffffbb413940",
     .options = {{'o', "offset", "offset of the next pointer: struct.member or bytes"},
                 {'e', "end", "stop at this entry or link address"},
                 {'s', "struct", "struct[.member,...]: print these members (or the whole struct) of each entry"},
                 {'S', "struct", "the same as -s"},
                 {'l', "offset", "with -s: the start and entries are links at this offset in the struct"},
                 {'O', "offset", "with -h: the offset of the list_head in the start entry, when it differs from -o"},
                 {'x', "", "print member values in hex"},
                 {'d', "", "print member values in decimal"},
                 {'r', "", "follow list_head.prev instead of next (reverse order)"},
                 {'h', "start", "start is an entry holding an embedded list_head; it is shown first"},
                 {'H', "start", "start is a standalone list_head, not shown"},
                 {'B', "", "measure a loop in the links (Brent's algorithm): its length and where it starts"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address"},
              .notes = "One object per entry, in list order: its address (the link's with -l) and,\n"
                       "with -s, each structure shown under its name: {\"address\": \"0x...\",\n"
                       "\"task_struct\": {\"pid\": 1, \"comm\": \"init\"}} (values as p gives them; a\n"
                       "structure that cannot be read is null). -x and -d change only the text.\n"
                       "Where the list breaks, an element {\"error\": \"what is wrong\", \"at\":\n"
                       "\"0x...\"} stands at that place instead of an entry, and the envelope's\n"
                       "\"lost\" names each break. -B's loop is a warning, and lost data, in the envelope.",
              .example = "list task_struct.tasks -s task_struct.pid,comm -H init_task.tasks"}},
    run};

}  // namespace
}  // namespace kdive
