// mod: the loaded modules, and loading their object files' symbols, with
// crash's flags and table.
#include <fmt/format.h>

#include <algorithm>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/taint_letters.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

std::string object_column(const Module& m) {
  if (m.object_file) return m.object_file->string();
  return m.has_kallsyms ? "(not loaded)  [CONFIG_KALLSYMS]" : "(not loaded)";
}

Json module_json(const Module& m) {
  Json error = m.damage.empty() ? Json(nullptr) : Json(m.damage);
  if (!m.layout_known) {
    Json j = {{"name", m.name.empty() ? Json(nullptr) : Json(m.name)}, {"module", json_hex(m.address.value())}};
    for (const char* key : {"base", "size", "objfile", "kallsyms", "debuginfo", "build_id", "taints"}) j[key] = nullptr;
    j["error"] = std::move(error);
    return j;
  }
  return {{"name", m.name},
          {"module", json_hex(m.address.value())},
          {"base", json_hex(m.text_base)},
          {"size", m.size},
          {"objfile", m.object_file ? Json(m.object_file->string()) : Json(nullptr)},
          {"kallsyms", m.has_kallsyms},
          {"debuginfo", m.object_file && m.object_has_debuginfo && m.debuginfo_problem.empty()},
          {"build_id", m.build_id.empty() ? Json(nullptr) : Json(m.build_id)},
          {"taints", taint_letters(m.taints)},
          {"error", std::move(error)}};
}

// A module that could not be read completely: in place of its row when the
// struct itself is unreadable, under its row when only a part is.
void print_damage(const Module& m, size_t width, Output& out) {
  if (!m.layout_known) {
    out.print("{:016x}  {:<{}}  (damaged: {})\n", m.address.value(), m.name.empty() ? "?" : m.name, width, m.damage);
  } else {
    out.print("{:16}  {:<{}}  (damaged: {})\n", "", "", width, m.damage);
  }
}

void print_table(const std::vector<const Module*>& mods, Output& out) {
  Json rows = Json::array();
  for (const Module* m : mods) rows.push_back(module_json(*m));
  out.result(std::move(rows));
  size_t width = 4;
  for (const Module* m : mods) width = std::max(width, m->name.size());
  out.print("{:^16}  {:<{}}  {:^16}  {:>5}  OBJECT FILE\n", "MODULE", "NAME", width, "BASE", "SIZE");
  for (const Module* m : mods) {
    if (m->layout_known) {
      out.print("{:016x}  {:<{}}  {:016x}  {:>5}  {}\n", m->address.value(), m->name, width, m->text_base, m->size,
                object_column(*m));
    }
    if (!m->damage.empty()) print_damage(*m, width, out);
  }
}

// In address order, as crash lists them (the kernel's list has the newest
// first); a module whose layout could not be read sorts by its struct.
std::vector<const Module*> all_of(const ModuleTable& table) {
  std::vector<const Module*> out;
  for (const Module& m : table.all()) out.push_back(&m);
  auto base = [](const Module* m) { return m->layout_known ? m->text_base.value() : m->address.value(); };
  std::stable_sort(out.begin(), out.end(), [&](const Module* a, const Module* b) { return base(a) < base(b); });
  return out;
}

// -t: the tainted modules, and those whose taints could not be read.
void print_taints(const ModuleTable& table, Output& out) {
  std::vector<const Module*> shown;
  for (const Module& m : table.all()) {
    if (m.taints != 0 || !m.layout_known) shown.push_back(&m);
  }
  Json rows = Json::array();
  for (const Module* m : shown) rows.push_back(module_json(*m));
  out.result(std::move(rows));
  if (shown.empty()) {
    out.print("no tainted modules\n");
    return;
  }
  size_t width = 4;
  for (const Module* m : shown) width = std::max(width, m->name.size());
  out.print("{:<{}}  TAINT\n", "NAME", width);
  for (const Module* m : shown) {
    if (m->layout_known) {
      out.print("{:<{}}  {}\n", m->name, width, taint_letters(m->taints));
    } else {
      out.print("{:<{}}  (damaged: module at {:x}: {})\n", m->name.empty() ? "?" : m->name, width, m->address.value(),
                m->damage);
    }
  }
}

// Everything the module records lost: each list or tree break and each
// damaged module is an item lost; the text ends with how many.
void report_losses(const ModuleTable& table, Output& out) {
  for (const Module& m : table.all()) {
    if (!m.damage.empty()) out.data_lost(fmt::format("module at {:x}: {}", m.address.value(), m.damage));
  }
  const size_t damaged = table.damaged();
  if (table.problems.empty() && damaged == 0) return;
  out.print("mod: {} module{} damaged, {} problem{} in the module list and address tree\n", damaged,
            damaged == 1 ? "" : "s", table.problems.size(), table.problems.size() == 1 ? "" : "s");
}

std::vector<std::filesystem::path> search_roots(const Session& session, const Kernel& k) {
  std::vector<std::filesystem::path> roots = default_module_roots(k.vmlinux().release());
  // Like crash: then the directory that holds the vmlinux.
  if (session.files().vmlinux) roots.push_back(std::filesystem::absolute(*session.files().vmlinux).parent_path());
  return roots;
}

void load(Kernel& k, Module& m, const std::filesystem::path& file, const ParsedArgs& args, Output& out) {
  try {
    k.load_module_object(m, file, {.section_symbols = args.has('g')});
  } catch (const Error& e) {
    throw CommandError(e.what());
  }
  if (!m.debuginfo_problem.empty()) {
    out.warning(fmt::format("mod: warning: {}: types not loaded: {}", m.name, m.debuginfo_problem));
  }
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  ModuleTable& table = k.modules();
  for (const auto& problem : table.problems) {
    out.warning(fmt::format("mod: warning: {}", problem));
    out.data_lost(problem);
  }
  // The listings end with the summary of what was lost.
  auto listing = [&](auto&& print) {
    print();
    report_losses(table, out);
  };
  const auto& words = args.positional();
  auto need_module = [&](const std::string& name) -> Module& {
    Module* m = table.find(name);
    if (m == nullptr) throw CommandError(fmt::format("{}: not a loaded module", name));
    return *m;
  };

  // -g without -s or -S has nothing to add to: the modules are listed, as crash does.
  if (args.has('R')) {
    // A dump's module list cannot change: reinitialising is forgetting every
    // object file and listing the modules again.
    for (Module& m : table.all()) k.unload_module_object(m);
    return listing([&] { print_table(all_of(table), out); });
  }
  if (auto name = args.value('s')) {
    Module& m = need_module(*name);
    std::filesystem::path file;
    if (!words.empty()) {
      file = words.front();
    } else {
      auto found = index_module_objects(search_roots(session, k));
      auto it = found.find(m.name);
      if (it == found.end()) throw CommandError(fmt::format("cannot find an object file for module {}", m.name));
      file = it->second;
    }
    load(k, m, file, args, out);
    return print_table({&m}, out);
  }
  // -d and -D print nothing; their JSON is the rows of the modules they reset.
  if (auto name = args.value('d')) {
    Module& m = need_module(*name);
    k.unload_module_object(m);
    out.result(Json::array({module_json(m)}));
    return;
  }
  if (args.has('D')) {
    for (Module& m : table.all()) k.unload_module_object(m);
    Json rows = Json::array();
    for (const Module& m : table.all()) rows.push_back(module_json(m));
    out.result(std::move(rows));
    return;
  }
  if (args.has('S')) {
    std::vector<std::filesystem::path> roots =
        words.empty() ? search_roots(session, k) : std::vector<std::filesystem::path>{words.front()};
    auto found = index_module_objects(roots);
    for (Module& m : table.all()) {
      if (!m.layout_known) continue;  // shown damaged in the table below
      auto it = found.find(m.name);
      if (it == found.end()) {
        out.warning(fmt::format("mod: cannot find an object file for module {}", m.name));
        continue;
      }
      try {
        load(k, m, it->second, args, out);
      } catch (const CommandError& e) {
        out.warning(fmt::format("mod: {}", e.what()));
      }
    }
    return listing([&] { print_table(all_of(table), out); });
  }
  if (args.has('t')) return listing([&] { print_taints(table, out); });
  if (!words.empty()) throw CommandError(fmt::format("unexpected argument '{}' (see 'help mod')", words.front()));
  listing([&] { print_table(all_of(table), out); });
}

const CommandRegistrar registrar{
    {.name = "mod",
     .summary = "list the loaded modules and load their symbols and debug data",
     .usage = "mod [-s module [objfile] | -d module | -S [directory] | -D | -t | -R] [-g] [-r] [-o]",
     .description = "Without options, lists the modules the kernel had loaded: the address of\n"
                    "each struct module, its name, where its text begins (the address\n"
                    "/proc/modules shows), the memory it occupies in bytes, and which object\n"
                    "file its symbols come from. '(not loaded)  [CONFIG_KALLSYMS]' means the\n"
                    "symbols are the kernel's own copy of the module's symbol table, read from\n"
                    "the dump: every function and variable is known by name already.\n"
                    "\n"
                    "The modules are found on the kernel's module list, walked backwards from\n"
                    "its head behind a break, and in its module address tree; a module either\n"
                    "holds is listed. A module that cannot be read completely shows\n"
                    "'(damaged: ...)' saying what (in place of its row when even its name is\n"
                    "unreadable or garbage), each break in the list or tree is a warning, and a\n"
                    "last line counts what was lost.\n"
                    "\n"
                    "Loading the module's object file (.ko, .ko.xz or .ko.zst) replaces those\n"
                    "symbols with the file's complete symbol table, each section placed where\n"
                    "the kernel loaded it, with exact symbol types. When the file carries\n"
                    "debug info (the one from the kernel's -dbg package does), the module's\n"
                    "types, variables and enumerators become known to struct, union, p,\n"
                    "whatis, ptype and list, after the vmlinux's own. A file that is not the\n"
                    "module that was loaded is refused. Object files are looked for under\n"
                    "/usr/lib/debug/lib/modules/RELEASE, /lib/modules/RELEASE (and their /usr\n"
                    "forms), then in the directory of the vmlinux.\n"
                    "\n"
                    "  -s module [objfile]  load a module's object file (found, or the one given)\n"
                    "  -d module            forget a module's object file\n"
                    "  -S [directory]       load the object files of all modules (searching only\n"
                    "                       the directory, when given)\n"
                    "  -D                   forget the object files of all modules\n"
                    "  -t                   show the taint letters of the modules that have any\n"
                    "  -g                   with -s or -S: add each placed section's bounds as\n"
                    "                       symbols \"_MODULE_SECTION_START [.text]\" and\n"
                    "                       \"_MODULE_SECTION_END [.text]\" (type S), as crash does\n"
                    "  -R                   reinitialise: forget every object file and list the\n"
                    "                       modules again (a dump's module list cannot change)\n"
                    "  -r, -o               accepted for crash's scripts: kdive always reads a\n"
                    "                       module's debug info in full when it loads it (gdb's\n"
                    "                       -readnow, crash's -r), and has one loading mechanism\n"
                    "                       (crash's -o picks its old one)",
     .examples = "  kdive> mod\n"
                 "       MODULE       NAME               BASE         SIZE  OBJECT FILE\n"
                 "  ffffffffc03dd2c0  qemu_fw_cfg  ffffffffc03d8000  20480  (not loaded)  [CONFIG_KALLSYMS]\n"
                 "\n"
                 "  kdive> mod -s qemu_fw_cfg /tmp/qemu_fw_cfg.ko\n"
                 "       MODULE       NAME               BASE         SIZE  OBJECT FILE\n"
                 "  ffffffffc03dd2c0  qemu_fw_cfg  ffffffffc03d8000  20480  /tmp/qemu_fw_cfg.ko\n"
                 "  kdive> struct fw_cfg_sysfs_entry -o\n"
                 "  kdive> list -H fw_cfg_entry_cache -o fw_cfg_sysfs_entry.list -s fw_cfg_sysfs_entry.name",
     .options = {{'s', "module", "load the object file of a module"},
                 {'d', "module", "forget the object file of a module"},
                 {'S', "", "load the object files of all modules"},
                 {'D', "", "forget the object files of all modules"},
                 {'t', "", "show module taints"},
                 {'g', "", "with -s/-S: add section start and end symbols"},
                 {'R', "", "forget all object files and list the modules again"},
                 {'r', "", "read debug info in full at load (always so in kdive)"},
                 {'o', "", "crash's old loading mechanism (kdive has one)"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"name", "module", "base", "size", "objfile", "kallsyms", "debuginfo", "build_id", "taints",
                       "error"},
              .notes = "One object per module: module is the struct module's address, base where its\n"
                       "text begins, size in bytes (both as /proc/modules shows them), objfile the\n"
                       "object file its symbols come from (null: the kernel's own copy, when kallsyms\n"
                       "is true), debuginfo whether that file's types are in use, build_id its GNU\n"
                       "build ID (null if unknown), taints its taint letters (\"\" when none), error\n"
                       "null unless part of the module could not be read: then it says what, and when\n"
                       "the struct module itself is unreadable or its name is garbage, only module (and\n"
                       "name, if it could be read) is known and the rest is null. Breaks in the module\n"
                       "list or the module address tree are warnings.\n"
                       "-s gives the row of the module it loaded, -S all rows; -d and -D (which print\n"
                       "nothing) the rows of the modules they reset; -t only the tainted modules (an\n"
                       "empty list when none is).",
              .example = "mod"}},
    run};

}  // namespace

// include/linux/panic.h (taint_flags): the letter of each taint bit.
}  // namespace kdive
