// bpf: the loaded eBPF programs and maps (prog_idr, map_idr) in crash's
// layout — one line each by default, and with -p/-m ID or -P/-M the sizes,
// load time, license, name and owner of one or all; with -t/-T a program's
// xlated instructions in eBPF assembly, with -j its JITed x86_64 code.
#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/bpf_insn_text.hpp"
#include "commands/centered.hpp"
#include "commands/container_args.hpp"
#include "kernel-model/address_space.hpp"
#include "kernel-model/bpf_insn.hpp"
#include "kernel-model/bpf_objects.hpp"
#include "kernel-model/disassembler.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/system_info.hpp"
#include "kernel-model/task_sources.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;

// crash sizes the type columns by the longest enumerator name less 14
// characters (strlen("BPF_PROG_TYPE_"), used for both enums), the program
// column at most 13 to keep its header within 80 columns.
size_t type_width(const std::vector<std::string>& names, size_t cap) {
  size_t longest = 0;
  for (const std::string& n : names) longest = std::max(longest, n.size());
  const size_t width = longest > 14 ? longest - 14 : 0;
  return std::min(width, cap);
}

std::string tag_text(const BpfProg& p) {
  std::string s;
  for (uint8_t b : p.tag) s += fmt::format("{:02x}", b);
  return s;
}

std::string ids_text(const std::vector<uint32_t>& ids) {
  std::string s;
  for (uint32_t id : ids) s += fmt::format("{}{}", s.empty() ? "" : ",", id);
  return s;
}

std::string prog_header(size_t width) {
  return fmt::format("{} {} {} {}       TAG        USED_MAPS", centered("ID", 4), centered("BPF_PROG", 16),
                     centered("BPF_PROG_AUX", 16), centered("BPF_PROG_TYPE", width));
}

std::string map_header(size_t width) {
  return fmt::format("{} {} {} MAP_FLAGS", centered("ID", 4), centered("BPF_MAP", 16), centered("BPF_MAP_TYPE", width));
}

// A load time as crash prints it: "Wed Dec 02 15:50:57 2026", local time.
std::string load_date(int64_t seconds) {
  const time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  if (localtime_r(&t, &tm) == nullptr) return fmt::format("{}", seconds);
  char buf[64];
  if (strftime(buf, sizeof buf, "%a %b %d %H:%M:%S %Y", &tm) == 0) return fmt::format("{}", seconds);
  return buf;
}

// The boot time on the wall clock of the crashed machine: its clock at the
// crash less its uptime. crash adds load_time to the boot time of the machine
// it runs on, which names a date that has nothing to do with the dump.
std::optional<int64_t> boot_wall_clock(const Kernel& k) {
  SystemInfo s = read_system_info(k);
  if (!s.crash_time || !s.uptime_sec) return std::nullopt;
  return *s.crash_time - *s.uptime_sec;
}

Json prog_json(const BpfProg& p, const BpfObjects& b, std::optional<int64_t> boot) {
  Json used = Json::array();
  for (VirtAddr m : p.used_maps) used.push_back(json_hex(m));
  Json j = {{"id", p.id},
            {"bpf_prog", json_hex(p.prog)},
            {"bpf_prog_aux", json_hex(p.aux)},
            {"type", p.type},
            {"type_name", p.type_name},
            {"tag", tag_text(p)},
            {"used_maps", used_map_ids(p, b.maps)},
            {"used_map_addresses", std::move(used)},
            {"xlated", static_cast<uint64_t>(p.insns) * p.insn_size},
            {"jited", p.jited_len},
            {"bpf_func", json_hex(p.bpf_func)},
            {"memlock", p.pages ? Json(static_cast<uint64_t>(*p.pages) * kPageSize) : Json(nullptr)},
            {"load_time_ns", p.load_time_ns ? Json(*p.load_time_ns) : Json(nullptr)},
            {"load_time", (p.load_time_ns && boot) ? Json(*boot + static_cast<int64_t>(*p.load_time_ns / 1000000000))
                                                   : Json(nullptr)},
            {"gpl_compatible", p.gpl_compatible ? Json(*p.gpl_compatible) : Json(nullptr)},
            {"name", p.name},
            {"uid", p.uid ? Json(*p.uid) : Json(nullptr)},
            {"error", p.error.empty() ? Json(nullptr) : Json(p.error)}};
  return j;
}

Json map_json(const BpfMap& m, uint64_t memlock, bool estimated) {
  return {{"id", m.id},
          {"bpf_map", json_hex(m.map)},
          {"type", m.type},
          {"type_name", m.type_name},
          {"map_flags", m.flags},
          {"key_size", m.key_size},
          {"value_size", m.value_size},
          {"max_entries", m.max_entries},
          {"memlock", memlock},
          {"memlock_estimated", estimated},
          {"name", m.name},
          {"uid", m.uid ? Json(*m.uid) : Json(nullptr)},
          {"error", m.error.empty() ? Json(nullptr) : Json(m.error)}};
}

void print_breaks(const std::vector<WalkBreak>& breaks, std::string_view what, Output& out) {
  for (const WalkBreak& b : breaks) {
    out.print("(damaged: {}: {})\n", what, b.describe());
    out.data_lost(b.describe());
  }
}

void print_prog_details(const BpfProg& p, std::optional<int64_t> boot, Output& out) {
  out.print("     XLATED: {}  JITED: {}  MEMLOCK: {}\n", static_cast<uint64_t>(p.insns) * p.insn_size, p.jited_len,
            p.pages ? fmt::format("{}", static_cast<uint64_t>(*p.pages) * kPageSize) : "(unknown)");
  std::string load = "(unknown)";
  if (p.load_time_ns && boot) load = load_date(*boot + static_cast<int64_t>(*p.load_time_ns / 1000000000));
  out.print("     LOAD_TIME: {}\n", load);
  out.print("     GPL_COMPATIBLE: {}  NAME: {}  UID: {}\n",
            p.gpl_compatible ? (*p.gpl_compatible ? "yes" : "no") : "(unknown)",
            p.name.empty() ? std::string("(unused)") : fmt::format("\"{}\"", p.name),
            p.uid ? fmt::format("{}", *p.uid) : "(unknown)");
}

// What -t, -T and -j add to each program shown.
struct CodeDump {
  bool xlated = false;   // -t
  bool opcodes = false;  // -T: and each instruction's bytes
  bool jited = false;    // -j
};

std::string hex_bytes(std::span<const std::byte> bytes) {
  std::string out;
  for (std::byte b : bytes) out += fmt::format("{}{:02x}", out.empty() ? "" : " ", static_cast<unsigned>(b));
  return out;
}

// -t/-T: "   3: (18) r1 = map[id:1]", the slot number right-aligned in four
// columns as crash prints it, and with -T the instruction's bytes below.
void print_xlated(const Kernel& k, const BpfProg& p, const BpfObjects& b, bool opcodes, Output& out, Json& row) {
  out.print("\n");
  std::vector<std::byte> bytes;
  try {
    bytes = read_bpf_xlated(k, p);
  } catch (const ModelError& e) {
    out.print("(damaged: xlated code: {})\n", e.what());
    out.data_lost(fmt::format("bpf program {} xlated code: {}", p.id, e.what()));
    row["xlated_insns"] = nullptr;
    row["xlated_error"] = e.what();
    return;
  }
  const BpfProgram code = decode_bpf_insns(bytes);
  BpfInsnNames names{.call = [&](const BpfInsn& i) { return bpf_helper_name(k, i); },
                     .map_id = [&](uint64_t address) -> std::optional<uint32_t> {
                       for (const BpfMap& m : b.maps) {
                         if (m.map.value() == address) return m.id;
                       }
                       return std::nullopt;
                     }};
  Json rows = Json::array();
  for (const BpfInsn& i : code.insns) {
    const std::string text = bpf_insn_text(i, names);
    out.print("{:4}: {}\n", i.index, text);
    if (opcodes) out.print("       {}\n", hex_bytes(i.bytes));
    Json j = {{"index", i.index},
              {"code", i.code},
              {"class", bpf_class_name(i.code)},
              {"dst", i.dst},
              {"src", i.src},
              {"off", i.off},
              {"imm", i.imm},
              {"bytes", hex_bytes(i.bytes)},
              {"text", text.substr(text.find(' ') + 1)}};
    j["imm64"] = i.kind == BpfInsnKind::LoadImm64 ? Json(json_hex(i.imm64)) : Json(nullptr);
    const std::optional<int64_t> target = bpf_jump_target(i);
    j["target"] = target ? Json(*target) : Json(nullptr);
    const std::string call = i.kind == BpfInsnKind::Call ? names.call(i) : std::string();
    j["call"] = call.empty() ? Json(nullptr) : Json(call);
    const std::optional<uint32_t> map = i.kind == BpfInsnKind::LoadImm64 ? names.map_id(i.imm64) : std::nullopt;
    j["map_id"] = map ? Json(*map) : Json(nullptr);
    rows.push_back(std::move(j));
  }
  if (code.error) {
    out.print("(damaged: xlated code: {})\n", *code.error);
    out.data_lost(fmt::format("bpf program {} xlated code: {}", p.id, *code.error));
  }
  row["xlated_insns"] = std::move(rows);
  row["xlated_error"] = code.error ? Json(*code.error) : Json(nullptr);
}

// -j: the JITed image, [bpf_func, bpf_func + jited_len), disassembled as dis
// does; a call or jump out of the image names its kernel symbol.
void print_jited(const Kernel& k, const BpfProg& p, Output& out, Json& row) {
  out.print("\n");
  row["jited_insns"] = Json::array();
  row["jited_error"] = nullptr;
  if (p.jited_len == 0) {
    out.print("(program not jited)\n");
    return;
  }
  std::vector<std::byte> bytes;
  try {
    bytes = read_bpf_jited(k, p);
  } catch (const ModelError& e) {
    out.print("(damaged: JITed code: {})\n", e.what());
    out.data_lost(fmt::format("bpf program {} JITed code: {}", p.id, e.what()));
    row["jited_insns"] = nullptr;
    row["jited_error"] = e.what();
    return;
  }
  const uint64_t start = p.bpf_func.value(), end = start + bytes.size();
  Disassembler dis([&](uint64_t a) -> std::string {
    if (a >= start && a < end) return "";
    if (address_half(VirtAddr{a}, k.layout().levels) != AddressHalf::Kernel) return "";
    std::optional<SymbolHit> hit = k.symbol_at(VirtAddr{a});
    if (!hit) return "";
    if (hit->offset == 0) return fmt::format("<{}>", hit->symbol->name);
    return fmt::format("<{}+{}>", hit->symbol->name, hit->offset);
  });
  Json rows = Json::array();
  for (uint64_t at = start; at < end;) {
    const auto from = static_cast<size_t>(at - start);
    std::span<const std::byte> rest(bytes.data() + from, bytes.size() - from);
    std::optional<Instruction> insn = dis.decode(at, rest);
    if (!insn) {
      const std::string why =
          fmt::format("the instruction at {:x} runs past the {} bytes of JITed code", at, p.jited_len);
      out.print("   0x{:x}:\t(damaged: {})\n", at, why);
      out.data_lost(fmt::format("bpf program {}: {}", p.id, why));
      row["jited_error"] = why;
      break;
    }
    out.print("   0x{:x}:\t{}\n", at, insn->text);
    rows.push_back({{"address", json_hex(at)}, {"bytes", hex_bytes(rest.first(insn->length))}, {"text", insn->text}});
    at += insn->length;
  }
  row["jited_insns"] = std::move(rows);
}

// -s: the structures themselves, as `struct` prints them; their JSON goes
// into the entry's "structs" under each structure's name.
struct StructDump {
  std::optional<EntryStructs> prog, aux, map;
};

void print_progs(const Kernel& k, const BpfObjects& b, std::optional<uint32_t> only, bool verbose, const CodeDump& code,
                 const StructDump& dump, Output& out, Json& rows) {
  const size_t width = type_width(b.prog_type_names, 13);
  // The JSON carries the load time of every program, shown or not.
  const std::optional<int64_t> boot = b.progs.empty() ? std::nullopt : boot_wall_clock(k);
  size_t entries = 0;
  for (const BpfProg& p : b.progs) {
    if (only && p.id != *only) continue;
    if (entries > 0 && verbose) out.print("\n{}\n", prog_header(width));
    if (entries++ == 0) out.print("{}\n", prog_header(width));
    rows.push_back(prog_json(p, b, boot));
    if (!p.error.empty() && p.aux.is_null()) {
      out.print("{} {} (damaged: {})\n", centered(fmt::format("{}", p.id), 4),
                centered(fmt::format("{:x}", p.prog.value()), 16), p.error);
      out.data_lost(fmt::format("bpf program {}", p.id));
      continue;
    }
    out.print("{} {} {} {} {} {} \n", centered(fmt::format("{}", p.id), 4),
              centered(fmt::format("{:x}", p.prog.value()), 16), centered(fmt::format("{:x}", p.aux.value()), 16),
              centered(p.type_name, width), tag_text(p), centered(ids_text(used_map_ids(p, b.maps)), 9));
    if (!p.error.empty()) {
      out.print("     (damaged: {})\n", p.error);
      out.data_lost(fmt::format("bpf program {}", p.id));
    }
    if (verbose) print_prog_details(p, boot, out);
    // As crash: the JITed code first, then the xlated instructions.
    if (code.jited) print_jited(k, p, out, rows.back());
    if (code.xlated) print_xlated(k, p, b, code.opcodes, out, rows.back());
    if (dump.prog) {
      Json structs = Json::object();
      out.print("\n");
      dump.prog->show(out, p.prog, structs);
      out.print("\n");
      dump.aux->show(out, p.aux, structs);
      rows.back()["structs"] = std::move(structs);
    }
  }
  print_breaks(b.prog_breaks, "prog_idr", out);
}

void print_maps(const BpfObjects& b, int cpus, std::optional<uint32_t> only, bool verbose, const StructDump& dump,
                Output& out, Json& rows) {
  const size_t width = type_width(b.map_type_names, SIZE_MAX);
  size_t entries = 0;
  for (const BpfMap& m : b.maps) {
    if (only && m.id != *only) continue;
    if (entries > 0 && verbose) out.print("\n{}\n", map_header(width));
    if (entries++ == 0) out.print("{}\n", map_header(width));
    const bool estimated = !m.memlock.has_value();
    const uint64_t memlock = m.memlock ? *m.memlock : estimated_map_memory(m, cpus, kPageSize);
    rows.push_back(map_json(m, memlock, estimated));
    if (!m.error.empty()) {
      out.print("{} {} (damaged: {})\n", centered(fmt::format("{}", m.id), 4),
                centered(fmt::format("{:x}", m.map.value()), 16), m.error);
      out.data_lost(fmt::format("bpf map {}", m.id));
      continue;
    }
    out.print("{} {} {}  {:08x} \n", centered(fmt::format("{}", m.id), 4),
              centered(fmt::format("{:x}", m.map.value()), 16), centered(m.type_name, width), m.flags);
    if (verbose) {
      out.print("     KEY_SIZE: {}  VALUE_SIZE: {}  MAX_ENTRIES: {}  MEMLOCK: {}\n", m.key_size, m.value_size,
                m.max_entries, memlock);
      out.print("     NAME: {}  UID: {}\n", m.name.empty() ? std::string("(unused)") : fmt::format("\"{}\"", m.name),
                m.uid ? fmt::format("{}", *m.uid) : "(unused)");
    }
    if (dump.map) {
      Json structs = Json::object();
      out.print("\n");
      dump.map->show(out, m.map, structs);
      rows.back()["structs"] = std::move(structs);
    }
  }
  print_breaks(b.map_breaks, "map_idr", out);
}

uint32_t parse_id(const std::string& text, char flag) {
  std::optional<uint64_t> v = parse_number(text, 10);
  if (!v || *v > UINT32_MAX) throw CommandError(fmt::format("-{}: invalid ID: {}", flag, text));
  return static_cast<uint32_t>(*v);
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  if (!args.positional().empty()) throw CommandError(fmt::format("unexpected argument: {}", args.positional().front()));
  std::optional<uint32_t> prog_id, map_id;
  if (auto v = args.value('p')) prog_id = parse_id(*v, 'p');
  if (auto v = args.value('m')) map_id = parse_id(*v, 'm');
  const bool all_progs = args.has('P'), all_maps = args.has('M');
  BpfObjects b;
  try {
    b = read_bpf_objects(k);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw NotInKernel(e.what());
  }
  // Like crash, an ID that is not loaded is an error before anything is shown.
  if (prog_id && std::none_of(b.progs.begin(), b.progs.end(), [&](const BpfProg& p) { return p.id == *prog_id; })) {
    throw CommandError(fmt::format("invalid program ID: {}", *prog_id));
  }
  if (map_id && std::none_of(b.maps.begin(), b.maps.end(), [&](const BpfMap& m) { return m.id == *map_id; })) {
    throw CommandError(fmt::format("invalid map ID: {}", *map_id));
  }
  const bool any = prog_id || map_id || all_progs || all_maps;
  const bool do_progs = !any || prog_id || all_progs;
  const bool do_maps = !any || map_id || all_maps;
  if ((args.has('x') || args.has('d')) && !args.has('s')) throw CommandError("-x and -d go with -s");
  if (args.has('x') && args.has('d')) throw CommandError("-x and -d exclude each other");
  if (args.has('s') && !any) throw CommandError("-s option requires either -p, -P, -m or -M");
  const CodeDump code{.xlated = args.has('t') || args.has('T'), .opcodes = args.has('T'), .jited = args.has('j')};
  if (code.jited && !prog_id && !all_progs) throw CommandError("-j option only applicable with -p or -P");
  if (code.xlated && !prog_id && !all_progs) throw CommandError("-t option only applicable with -p or -P");
  StructDump dump;
  if (args.has('s')) {
    const int radix = args.has('x') ? 16 : args.has('d') ? 10 : session.settings().radix;
    dump.prog.emplace(k, std::vector<std::string>{"bpf_prog"}, radix);
    dump.aux.emplace(k, std::vector<std::string>{"bpf_prog_aux"}, radix);
    dump.map.emplace(k, std::vector<std::string>{"bpf_map"}, radix);
  }
  Json result = {{"programs", nullptr}, {"maps", nullptr}};
  if (do_progs) {
    Json rows = Json::array();
    print_progs(k, b, all_progs ? std::nullopt : prog_id, prog_id || all_progs, code, dump, out, rows);
    result["programs"] = std::move(rows);
    if (do_maps) out.print("\n");
  }
  if (do_maps) {
    Json rows = Json::array();
    print_maps(b, possible_cpus(k), all_maps ? std::nullopt : map_id, map_id || all_maps, dump, out, rows);
    result["maps"] = std::move(rows);
  }
  out.result(std::move(result));
}

const CommandRegistrar registrar{
    {.name = "bpf",
     .summary = "loaded eBPF programs and maps",
     .usage = "bpf [-p ID | -P] [-tTj] [-m ID | -M] [-s [-x | -d]]",
     .description = "Lists the eBPF programs of prog_idr and the maps of map_idr. Each program: its\n"
                    "id, struct bpf_prog and bpf_prog_aux, type (enum bpf_prog_type without its\n"
                    "prefix), tag (the hash of its instructions bpftool shows) and the ids of the\n"
                    "maps it uses. Each map: its id, struct bpf_map, type and map_flags.\n"
                    "\n"
                    "  -p ID  that program, with the bytes of its translated and JITed code, its\n"
                    "         memlock charge (bpf_prog.pages), its load time on the crashed\n"
                    "         machine's clock, whether its license is GPL-compatible, its name and\n"
                    "         its owner's uid (a kernel before 5.11 keeps the owner).\n"
                    "  -P     every program that way.\n"
                    "  -m ID  that map, with its key and value sizes, maximum entries, memlock\n"
                    "         bytes, name and owner's uid. Kernels from 5.11 no longer record a\n"
                    "         map's memlock charge: it is then estimated from the sizes (entries of\n"
                    "         key plus value rounded up to pages), and the owner is (unused).\n"
                    "  -M     every map that way.\n"
                    "  -t     with -p or -P: the program's xlated instructions (the code the\n"
                    "         verifier left, bpf_prog.insnsi) in eBPF assembly, one line per\n"
                    "         instruction: its slot, opcode and text. A helper call names the\n"
                    "         helper (call name#imm), an ld_imm64 of a map's address names the\n"
                    "         map (map[id:N]) and takes two slots, jumps are pc-relative.\n"
                    "  -T     as -t, with each instruction's bytes below it.\n"
                    "  -j     with -p or -P: the program's JITed x86_64 code, bpf_func for\n"
                    "         jited_len bytes, disassembled as dis does. With -t the JITed code\n"
                    "         comes first.\n"
                    "  -s     with -p, -P, -m or -M: each program's struct bpf_prog and\n"
                    "         bpf_prog_aux, each map's struct bpf_map, printed whole as `struct`\n"
                    "         prints them.\n"
                    "  -x, -d with -s: integers in hexadecimal or decimal.\n"
                    "\n"
                    "A program or map that cannot be read is marked damaged, and a damaged IDR\n"
                    "node says which ids were lost; the rest is listed.",
     .examples = "  kdive> bpf\n"
                 "   ID      BPF_PROG       BPF_PROG_AUX   BPF_PROG_TYPE       TAG        USED_MAPS\n"
                 "   1   ffffc08800085000 ffff9f5e5cddcc00 SOCKET_FILTER 9bf9ac43cfefaf76     1\n"
                 "\n"
                 "   ID      BPF_MAP          BPF_MAP_TYPE     MAP_FLAGS\n"
                 "   1   ffff9f5e41f2ba00        ARRAY          00000000\n"
                 "  kdive> bpf -m 1\n"
                 "   ID      BPF_MAP          BPF_MAP_TYPE     MAP_FLAGS\n"
                 "   1   ffff9f5e41f2ba00        ARRAY          00000000\n"
                 "       KEY_SIZE: 4  VALUE_SIZE: 8  MAX_ENTRIES: 4  MEMLOCK: 4096\n"
                 "       NAME: \"kdive_map\"  UID: 0\n"
                 "\n"
                 "A program's code, as the verifier left it and as the JIT made it:\n"
                 "\n"
                 "  kdive> bpf -p 1 -t\n"
                 "  ...\n"
                 "     0: (62) *(u32 *)(r10 -4) = 0\n"
                 "     1: (bf) r2 = r10\n"
                 "     2: (07) r2 += -4\n"
                 "     3: (18) r1 = map[id:1]\n"
                 "     5: (07) r1 += 272\n"
                 "  ...\n"
                 "    13: (95) exit\n"
                 "  kdive> bpf -p 1 -T\n"
                 "  kdive> bpf -p 1 -j",
     .options = {{'p', "ID", "that program in detail"},
                 {'P', "", "every program in detail"},
                 {'m', "ID", "that map in detail"},
                 {'M', "", "every map in detail"},
                 {'t', "", "with -p/-P: the xlated instructions in eBPF assembly"},
                 {'T', "", "with -p/-P: the xlated instructions and their bytes"},
                 {'j', "", "with -p/-P: the JITed code disassembled"},
                 {'s', "", "the bpf_prog, bpf_prog_aux and bpf_map structures"},
                 {'x', "", "with -s: hexadecimal integers"},
                 {'d', "", "with -s: decimal integers"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"programs", "maps"},
              .notes = "programs (null when only maps were asked for): {id, bpf_prog, bpf_prog_aux,\n"
                       "type, type_name, tag, used_maps (ids), used_map_addresses, xlated, jited,\n"
                       "bpf_func, memlock, load_time_ns (since boot), load_time (seconds since the\n"
                       "epoch, on the crashed machine's clock), gpl_compatible, name, uid, error}.\n"
                       "maps (null when only programs were asked for): {id, bpf_map, type,\n"
                       "type_name, map_flags, key_size, value_size, max_entries, memlock,\n"
                       "memlock_estimated, name, uid, error}. Unknown values are null. With -s each\n"
                       "entry adds structs: {bpf_prog, bpf_prog_aux} or {bpf_map}, each structure's JSON.\n"
                       "With -t or -T each program adds xlated_insns: [{index (slot), code, class,\n"
                       "dst, src, off, imm, imm64 (\"0x…\", ld_imm64 only), bytes, text (without the\n"
                       "opcode), target (the slot a jump goes to), call (the helper's name), map_id}]\n"
                       "and xlated_error; with -j jited_insns: [{address, bytes, text}] as dis gives\n"
                       "them, and jited_error (null, or why the listing stopped).",
              .example = "bpf"}},
    run};

}  // namespace
}  // namespace kdive
