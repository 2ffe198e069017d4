// extend: loads and unloads extension commands, as crash's extend does —
// `extend FILE.so ...` loads, `extend -u [FILE.so ...]` unloads, `extend`
// lists what is loaded, `extend -s` shows what could be.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "extensions/extension_loader.hpp"
#include "extensions/extension_search.hpp"
#include "extensions/kdive_extension.hpp"

namespace kdive {
namespace {

Json extension_json(const LoadedExtension& e) {
  return {{"file", e.file},
          {"name", e.name},
          {"summary", e.summary},
          {"api_version", e.api_version},
          {"commands", e.commands}};
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += fmt::format("{}{}", out.empty() ? "" : " ", w);
  return out;
}

void list_loaded(ExtensionLoader& loader, Output& out) {
  auto loaded = loader.loaded();
  Json result = Json::array();
  // crash prints nothing at all when no extension is loaded.
  if (!loaded.empty()) {
    size_t width = std::string_view("SHARED OBJECT").size();
    for (const LoadedExtension* e : loaded) width = std::max(width, e->file.size());
    out.print("{:<{}}  COMMANDS\n", "SHARED OBJECT", width);
    for (const LoadedExtension* e : loaded) out.print("{:<{}}  {}\n", e->file, width, joined(e->commands));
  }
  for (const LoadedExtension* e : loaded) result.push_back(extension_json(*e));
  out.result(std::move(result));
}

void show_available(ExtensionLoader& loader, Output& out) {
  Json result = Json::array();
  auto loaded_now = loader.loaded();
  for (const auto& file : available_extensions()) {
    bool loaded = std::any_of(loaded_now.begin(), loaded_now.end(), [&](const LoadedExtension* e) {
      return std::filesystem::path(e->file).filename() == file.filename();
    });
    out.print("{}{}\n", file.string(), loaded ? "  (loaded)" : "");
    result.push_back({{"file", file.string()}, {"loaded", loaded}});
  }
  out.result(std::move(result));
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  ExtensionLoader& loader = ExtensionLoader::instance();
  const auto& files = args.positional();
  if (args.has('s')) {
    if (args.has('u') || !files.empty()) throw CommandError("-s takes no other arguments");
    return show_available(loader, out);
  }
  if (!args.has('u') && files.empty()) return list_loaded(loader, out);

  Json result = Json::array();
  if (args.has('u')) {
    std::vector<LoadedExtension> gone;
    if (files.empty()) {
      gone = loader.unload_all();
    } else {
      for (const auto& file : files) gone.push_back(loader.unload(file));
    }
    for (const auto& e : gone) {
      out.print("{}: shared object unloaded\n", e.file);
      result.push_back(extension_json(e));
    }
  } else {
    for (const auto& file : files) {
      const LoadedExtension& e = loader.load(file, &session.aliases());
      out.print("{}: shared object loaded\n", e.file);
      result.push_back(extension_json(e));
    }
  }
  out.result(std::move(result));
}

const CommandRegistrar registrar{
    {.name = "extend",
     .summary = "load or unload extension commands",
     .usage = "extend [shared-object ...] | -u [shared-object ...] | -s",
     .description = "Loads shared objects that add commands to kdive (extensions), unloads them,\n"
                    "or lists the loaded ones with their commands. An extension's commands appear\n"
                    "in help and behave like the built-in ones, JSON included; unloading takes them\n"
                    "away again.\n\n"
                    "  shared-object  load it; more than one may be named.\n"
                    "  -u             unload the named shared objects (by path, file name or the\n"
                    "                 extension's name), or every loaded one when none is named.\n"
                    "  -s             show the shared objects found in the search path.\n\n"
                    "A name without a '/' is looked for in the current directory, then in each\n"
                    "directory of the KDIVE_EXTENSIONS environment variable (':'-separated), then\n"
                    "in lib/kdive/extensions beside the directory of the kdive binary (where the\n"
                    "sample extensions are), then in ./extensions.\n\n"
                    "An extension is written against kdive's extension header\n"
                    "(extensions/kdive_extension.hpp) and carries the extension API version it\n"
                    "was built for; kdive refuses another version, and refuses an object that is\n"
                    "not an ELF shared object, lacks the kdive_extension entry point, needs a\n"
                    "symbol kdive does not export, or adds a command or alias that exists already,\n"
                    "with one line naming the file and the cause.",
     .examples = "  kdive> extend openfiles.so\n"
                 "  /usr/lib/kdive/extensions/openfiles.so: shared object loaded\n"
                 "  kdive> extend\n"
                 "  SHARED OBJECT                           COMMANDS\n"
                 "  /usr/lib/kdive/extensions/openfiles.so  openfiles\n"
                 "  kdive> extend -u openfiles.so\n"
                 "  /usr/lib/kdive/extensions/openfiles.so: shared object unloaded\n"
                 "  kdive> extend ./broken.so\n"
                 "  extend: ./broken.so: built for extension API version 0; this kdive has version 1 (rebuild it)",
     .options = {{'u', "", "unload (all when none is named)"}, {'s', "", "show the available shared objects"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"file", "name", "summary", "api_version", "commands"},
              .notes = "The extensions concerned: those just loaded, those unloaded (-u), or with no\n"
                       "argument every loaded one (an empty list when there is none). file is the\n"
                       "path it was loaded from, name and summary what the extension calls itself,\n"
                       "api_version the extension API version it was built for, commands the names\n"
                       "of the commands it added. -s gives a list of {file, loaded} instead.",
              .example = "extend openfiles.so"}},
    run};

}  // namespace
}  // namespace kdive
