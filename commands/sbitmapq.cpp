// sbitmapq: a struct sbitmap_queue in crash's layout — its depth, busy and
// cleared bits, words, allocation hints, wake batch and wait queues, then
// the bitmap of busy bits as a hex dump — or, with -s/-a, the elements of an
// array that its busy bits index (blk-mq requests of a tag set, iSCSI
// commands of a session).
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/container_args.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/sbitmap.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

int radix_of(Session& session, const ParsedArgs& args) {
  if (args.has('x') && args.has('d')) throw CommandError("-d and -x are mutually exclusive");
  if (args.has('x')) return 16;
  if (args.has('d')) return 10;
  return session.settings().radix;
}

std::string hints_text(const SbitmapQueue& q) {
  std::string s;
  for (size_t i = 0; i < q.alloc_hints.size(); ++i) {
    if (i) s += ", ";
    s += q.alloc_hints[i] ? fmt::format("{}", *q.alloc_hints[i]) : "?";
  }
  return s;
}

// The busy bits as bytes, low bit first, each word contributing its depth in
// bits (words of fewer than 8 bits share bytes), 16 bytes a line in pairs:
// "00000000: 0000 0000 0030 ...".
void print_bitmap(const SbitmapQueue& q, Output& out) {
  std::string text;
  uint32_t offset = 0, byte_bits = 0;
  uint8_t byte = 0;
  auto emit = [&] {
    if ((offset & 0xf) == 0) {
      if (offset != 0) text += '\n';
      text += fmt::format("{:08x}:", offset);
    }
    if ((offset & 1) == 0) text += ' ';
    text += fmt::format("{:02x}", byte);
    byte = 0;
    byte_bits = 0;
    ++offset;
  };
  for (const SbitmapWord& w : q.words) {
    uint64_t bits = w.word & ~w.cleared;
    uint32_t left = w.depth;
    while (left > 0) {
      const uint32_t take = std::min(8 - byte_bits, left);
      byte |= static_cast<uint8_t>((bits & ((1ULL << take) - 1)) << byte_bits);
      byte_bits += take;
      if (byte_bits == 8) emit();
      bits >>= take;
      left -= take;
    }
  }
  if (byte_bits) emit();
  if (offset) out.print("{}\n", text);
}

Json queue_json(const SbitmapQueue& q) {
  Json words = Json::array();
  for (const SbitmapWord& w : q.words) {
    words.push_back({{"sbitmap_word", json_hex(w.at)},
                     {"depth", w.depth},
                     {"word", json_hex(w.word)},
                     {"cleared", json_hex(w.cleared)},
                     {"error", w.error.empty() ? Json(nullptr) : Json(w.error)}});
  }
  Json hints = Json::array();
  for (const auto& h : q.alloc_hints) hints.push_back(h ? Json(*h) : Json(nullptr));
  Json ws = Json::array();
  for (const SbqWaitState& s : q.wait_states) {
    ws.push_back({{"sbq_wait_state", json_hex(s.at)},
                  {"wait_cnt", s.wait_cnt ? Json(*s.wait_cnt) : Json(nullptr)},
                  {"active", s.active},
                  {"error", s.error.empty() ? Json(nullptr) : Json(s.error)}});
  }
  return {{"sbitmap_queue", json_hex(q.address)},
          {"depth", q.depth},
          {"busy", q.busy()},
          {"set", q.set_bits()},
          {"cleared", q.has_cleared ? Json(q.cleared_bits()) : Json(nullptr)},
          {"bits_per_word", q.bits_per_word()},
          {"map_nr", q.map_nr},
          {"map", json_hex(q.map)},
          {"words", std::move(words)},
          {"busy_bits", q.busy_bits()},
          {"alloc_hint", std::move(hints)},
          {"wake_batch", q.wake_batch},
          {"wake_index", q.wake_index},
          {"ws_active", q.ws_active ? Json(*q.ws_active) : Json(nullptr)},
          {"ws", std::move(ws)},
          {"round_robin", q.round_robin ? Json(*q.round_robin) : Json(nullptr)},
          {"min_shallow_depth", q.min_shallow_depth ? Json(*q.min_shallow_depth) : Json(nullptr)},
          {"problems", q.problems}};
}

void show_queue(const SbitmapQueue& q, Output& out) {
  out.print("depth = {}\n", q.depth);
  out.print("busy = {}\n", q.busy());
  if (q.has_cleared) out.print("cleared = {}\n", q.cleared_bits());
  out.print("bits_per_word = {}\n", q.bits_per_word());
  out.print("map_nr = {}\n", q.map_nr);
  out.print("alloc_hint = {{{}}}\n", hints_text(q));
  out.print("wake_batch = {}\n", q.wake_batch);
  out.print("wake_index = {}\n", q.wake_index);
  if (q.ws_active) out.print("ws_active = {}\n", *q.ws_active);
  out.print("ws = {{\n");
  for (const SbqWaitState& s : q.wait_states) {
    if (!s.error.empty()) {
      out.print("\t(damaged: {})\n", s.error);
      continue;
    }
    // Kernels without sbq_wait_state.wait_cnt (6.x) show only the wait list.
    if (s.wait_cnt) {
      out.print("\t{{ .wait_cnt = {}, .wait = {} }},\n", *s.wait_cnt, s.active ? "active" : "inactive");
    } else {
      out.print("\t{{ .wait = {} }},\n", s.active ? "active" : "inactive");
    }
  }
  out.print("}}\n");
  if (q.round_robin) out.print("round_robin = {}\n", *q.round_robin ? 1 : 0);
  if (q.min_shallow_depth) out.print("min_shallow_depth = {}\n", *q.min_shallow_depth);
  out.print("\n");
  print_bitmap(q, out);
}

// The queue's address: a hex address or symbol[+offset] as crash takes it,
// or (kdive's addition) a C expression that is a struct sbitmap_queue or a
// pointer to one — "q->tag_set->tags[0]->bitmap_tags" whether bitmap_tags is
// the structure (5.16+) or a pointer to it (before).
VirtAddr queue_address(const Kernel& k, const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : " ") + w;
  VirtAddr address;
  try {
    address = parse_address(&k, text);
  } catch (const CommandError&) {
    try {
      KernelEvalContext ctx(k);
      Value v = evaluate(ctx, text);
      const Type& t = v.type().strip();
      const Type* target = t.kind() == TypeKind::Pointer ? &t.target()->strip() : nullptr;
      if (t.is_struct_like() && t.name() == "sbitmap_queue" && v.is_lvalue()) {
        address = v.address();
      } else if (target != nullptr && target->is_struct_like() && target->name() == "sbitmap_queue") {
        address = VirtAddr{v.as_u64()};
      } else {
        throw CommandError(fmt::format("{}: is a {}, not a struct sbitmap_queue or a pointer to one", text, t.spell()));
      }
    } catch (const ModelError& e) {
      throw CommandError(fmt::format("invalid command argument: {}: {}", text, e.what()));
    }
  }
  if (address.value() < kKernelHalf) throw CommandError(fmt::format("invalid kernel virtual address: {}", text));
  return address;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  if (args.positional().empty())
    throw CommandError("command argument is required: the address of a struct sbitmap_queue");
  const VirtAddr address = queue_address(k, args.positional());
  const auto spec = args.value('s');
  const auto array = args.value('a');
  if (spec && !array) throw CommandError("-s option requires -a option");
  if (array && !spec) throw CommandError("-a option is used with -s option only");
  if (args.has('p') && !array) throw CommandError("-p option requires -a option");
  if (args.has('v') && !spec) throw CommandError("-v option requires -s option");
  const int radix = radix_of(session, args);

  SbitmapQueue q;
  try {
    q = read_sbitmap_queue(k, address);
  } catch (const Error& e) {
    if (e.kind() == Error::Kind::Lookup) throw NotInKernel(e.what());
    throw CommandError(fmt::format("sbitmap_queue at {:x}: {}", address.value(), e.what()));
  } catch (const Fault& e) {
    throw CommandError(fmt::format("cannot read the sbitmap_queue at {:x}: {}", address.value(), e.what()));
  }
  Json result = queue_json(q);
  result["elements"] = nullptr;

  if (!spec) {
    show_queue(q, out);
  } else {
    const VirtAddr base = parse_address(&k, *array);
    if (base.value() < kKernelHalf) throw CommandError(fmt::format("invalid kernel virtual address: {}", *array));
    // "struct" or "struct.member,member": the element size is the struct's.
    const std::string type_name = spec->substr(0, spec->find('.'));
    const Type* type = k.types().lookup(type_name);
    if (type == nullptr || type->size() == 0)
      throw CommandError(fmt::format("invalid data structure reference: {}", *spec));
    EntryStructs shown(k, {*spec}, radix);
    const bool pointers = args.has('p');
    const uint64_t stride = pointers ? sizeof(uint64_t) : type->size();
    Json elements = Json::array();
    for (uint32_t bit : q.busy_bits()) {
      const VirtAddr slot{base.value() + bit * stride};
      Json e = {{"index", bit}, {"address", json_hex(slot)}};
      if (!args.has('v')) {
        out.print("{}: 0x{:08x}\n", bit, slot.value());
      } else {
        out.print("{} (0x{:08x}):\n", bit, slot.value());
        VirtAddr element = slot;
        if (pointers) {
          try {
            element = VirtAddr{k.memory().read<uint64_t>(slot)};
          } catch (const ModelError& err) {
            out.print("  (damaged: the pointer at {:x}: {})\n", slot.value(), err.what());
            out.data_lost(fmt::format("element {} pointer at {:x}", bit, slot.value()));
            elements.push_back(std::move(e));
            continue;
          }
          e["pointer"] = json_hex(element);
        }
        shown.show(out, element, e);
      }
      elements.push_back(std::move(e));
    }
    result["elements"] = std::move(elements);
  }
  for (const std::string& p : q.problems) {
    out.print("(damaged: {})\n", p);
    out.data_lost(p);
  }
  out.result(std::move(result));
}

const CommandRegistrar registrar{
    {.name = "sbitmapq",
     .summary = "a struct sbitmap_queue and its busy bits",
     .usage = "sbitmapq [-s struct[.member[,member]] -a address [-p] [-v]] [-x|-d] address|expression",
     .description = "Shows the struct sbitmap_queue at the address — the tag allocator of blk-mq\n"
                    "(blk_mq_tags.bitmap_tags, breserved_tags), SCSI target sessions and others:\n"
                    "depth, busy bits (set in a word and not deferred-cleared), cleared bits\n"
                    "(5.0+), bits per word, the number of words, each CPU's allocation hint, the\n"
                    "wake batch and index, active wait queues, and each of the 8 wait queues'\n"
                    "count and whether a task waits there; then the busy bits as a hex dump, bit\n"
                    "0 the low bit of the first byte.\n"
                    "\n"
                    "The queue is a hex address (or symbol[+offset]), or a C expression that is a\n"
                    "struct sbitmap_queue or a pointer to one, such as a request queue's\n"
                    "q->tag_set->tags[0]->bitmap_tags (a pointer before 5.16, the structure from\n"
                    "it: both are taken).\n"
                    "\n"
                    "  -s struct[.member,...]  with -a: the structures the busy bits index, whole\n"
                    "                          or those members.\n"
                    "  -a address              the array they are in; each busy bit N shows\n"
                    "                          element N (\"N: 0x<address>\").\n"
                    "  -p                      the array holds pointers to the structures.\n"
                    "  -v                      print each element's structure (or members),\n"
                    "                          following the pointer with -p.\n"
                    "  -x, -d                  hexadecimal or decimal values in -v output.\n"
                    "\n"
                    "Words or wait queues that cannot be read, or a depth that does not fit the\n"
                    "words, are marked damaged after the output.",
     .examples = "  kdive> sbitmapq ffff9f5e41c6e010\n"
                 "  depth = 256\n"
                 "  busy = 0\n"
                 "  cleared = 1\n"
                 "  bits_per_word = 64\n"
                 "  map_nr = 4\n"
                 "  alloc_hint = {58, 81}\n"
                 "  ...\n"
                 "  kdive> sbitmapq -s request -p -a ffff9f5e5cdec800 ffff9f5e41c6e010\n"
                 "  kdive> sbitmapq swap_info[0]->bdev->bd_disk->queue->tag_set->tags[0]->bitmap_tags",
     .options = {{'s', "struct[.member,...]", "the structures the busy bits index (with -a)"},
                 {'a', "address", "the array of those structures"},
                 {'p', "", "the array holds pointers"},
                 {'v', "", "print each structure"},
                 {'x', "", "hexadecimal values"},
                 {'d', "", "decimal values"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"sbitmap_queue", "depth", "busy", "set", "cleared", "bits_per_word", "map_nr", "map", "words",
                       "busy_bits", "alloc_hint", "wake_batch", "wake_index", "ws_active", "ws", "round_robin",
                       "min_shallow_depth", "problems", "elements"},
              .notes = "words: {sbitmap_word, depth, word, cleared (hex), error}; busy_bits: the bit\n"
                       "numbers in use; alloc_hint: per possible CPU; ws: {sbq_wait_state, wait_cnt\n"
                       "(null from 6.x), active, error}; cleared, ws_active, round_robin and\n"
                       "min_shallow_depth are null where the kernel lacks them. elements (with -s):\n"
                       "{index, address, pointer (-p -v), and the structure's JSON under its name\n"
                       "(-v)}, else null.",
              // The newest block device's disk (blockdev_superblock's first
              // inode is in a struct bdev_inode): its first tags' bitmap.
              .example = "sbitmapq ((struct bdev_inode *)((char *)blockdev_superblock->s_inodes.next - "
                         "(unsigned long)&((struct bdev_inode *)0)->vfs_inode.i_sb_list))->bdev.bd_disk->"
                         "queue->tag_set->tags[0]->bitmap_tags"}},
    run};

}  // namespace
}  // namespace kdive
