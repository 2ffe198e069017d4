// ExtensionLoader: loads kdive extensions (shared objects written against
// extensions/kdive_extension.hpp) into the command registry and takes them out
// again. Behind the `extend` command; one process-wide instance, because the
// command registry is process-wide.
//
//   ExtensionLoader& loader = ExtensionLoader::instance();
//   const LoadedExtension& e = loader.load("openfiles.so");  // throws ExtensionRefused
//   e.commands;                                               // {"openfiles"}
//   loader.unload("openfiles.so");                            // its commands are gone
//
// Loading refuses, with one line naming the file and the cause, and leaves
// kdive as it was: a file that is missing or not an ELF object, one dlopen
// cannot load (an unresolved symbol, named demangled), one without the entry
// point, one built for another API version or toolchain, one whose
// registration throws, adds no command, or adds a command or alias kdive
// already has (a built-in, another extension's, or a shell alias).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands/api/command.hpp"

namespace kdive {

class AliasTable;

// "FILE: cause" — a CommandError, so `extend` reports it on one line.
class ExtensionRefused : public CommandError {
 public:
  using CommandError::CommandError;
};

struct LoadedExtension {
  std::string file;  // the path it was loaded from
  std::string name;  // what the extension calls itself
  std::string summary;
  uint32_t api_version = 0;
  std::vector<std::string> commands;
};

class ExtensionLoader {
 public:
  explicit ExtensionLoader(CommandRegistry& registry);
  // Unloads whatever is still loaded: the registry outlives the loader, and
  // must not keep commands whose code is gone.
  ~ExtensionLoader();
  ExtensionLoader(const ExtensionLoader&) = delete;
  ExtensionLoader& operator=(const ExtensionLoader&) = delete;

  // The loader `extend` uses, over CommandRegistry::instance().
  static ExtensionLoader& instance();

  // `file` is a path, or a bare name looked up as extension_search.hpp says.
  // When `aliases` is given, a command named like one of its aliases is
  // refused too (the alias would hide it).
  const LoadedExtension& load(std::string_view file, const AliasTable* aliases = nullptr);

  // `which` names a loaded extension by its path, its file name or its own
  // name. Throws ExtensionRefused when none matches, or when one of its
  // commands is running (an extension cannot unload itself).
  LoadedExtension unload(std::string_view which);
  // Every loaded extension, the last loaded first.
  std::vector<LoadedExtension> unload_all();

  // In load order.
  std::vector<const LoadedExtension*> loaded() const;

 private:
  struct Slot;
  LoadedExtension unload_slot(size_t index);

  CommandRegistry& registry_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace kdive
