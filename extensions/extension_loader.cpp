#include "extensions/extension_loader.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <system_error>
#include <utility>

#include "commands/api/aliases.hpp"
#include "extensions/extension_search.hpp"
#include "extensions/kdive_extension.hpp"

namespace kdive {

struct ExtensionLoader::Slot {
  LoadedExtension info;
  std::filesystem::path canonical;  // to see the same file behind two spellings
  void* handle = nullptr;
  // How many of the extension's commands are running now: a command may run
  // `extend -u` through run_command, and its code must stay until it returns.
  std::shared_ptr<int> running = std::make_shared<int>(0);
};

namespace {

// A dlopen handle that is closed unless released: every way out of a refused
// load closes the object.
class DlHandle {
 public:
  explicit DlHandle(void* handle) : handle_(handle) {}
  ~DlHandle() {
    if (handle_ != nullptr) dlclose(handle_);
  }
  DlHandle(const DlHandle&) = delete;
  DlHandle& operator=(const DlHandle&) = delete;
  void* get() const { return handle_; }
  void* release() { return std::exchange(handle_, nullptr); }

 private:
  void* handle_;
};

// Collects what the extension registers; nothing reaches the registry until
// every command has been checked.
class CollectingHost final : public ExtensionHost {
 public:
  void add_command(CommandSpec spec, CommandFn run) override {
    commands.push_back(Command{std::move(spec), std::move(run)});
  }
  std::vector<Command> commands;
};

std::string demangle(const std::string& symbol) {
  int status = 0;
  char* plain = abi::__cxa_demangle(symbol.c_str(), nullptr, nullptr, &status);
  if (status != 0 || plain == nullptr) return symbol;
  std::string out = plain;
  std::free(plain);
  return out;
}

// dlerror()'s text without the file name it starts with (the refusal names the
// file already), and with C++ symbol names readable:
// "undefined symbol: _ZN5kdive16CommandRegistry8instanceEv" becomes
// "undefined symbol: kdive::CommandRegistry::instance()".
std::string dlopen_cause(const char* error, const std::string& path) {
  std::string text = error != nullptr ? error : "unknown dlopen error";
  if (text.starts_with(path + ": ")) text.erase(0, path.size() + 2);
  std::string out;
  for (size_t i = 0; i < text.size();) {
    bool starts_symbol = text.compare(i, 2, "_Z") == 0 && (i == 0 || text[i - 1] == ' ');
    if (!starts_symbol) {
      out += text[i++];
      continue;
    }
    size_t end = i;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_' ||
                                 text[end] == '.' || text[end] == '$')) {
      ++end;
    }
    out += demangle(text.substr(i, end - i));
    i = end;
  }
  return out;
}

std::string describe(const ExtensionToolchain& t) {
  std::string_view library = "another standard library";
  switch (t.standard_library) {
    case ExtensionToolchain::LibstdcxxCxx11:
      library = "libstdc++ (C++11 std::string)";
      break;
    case ExtensionToolchain::LibstdcxxOld:
      library = "libstdc++ (pre-C++11 std::string, _GLIBCXX_USE_CXX11_ABI=0)";
      break;
    case ExtensionToolchain::Libcxx:
      library = "libc++";
      break;
  }
  return fmt::format("{}, fmt {}, nlohmann_json {}.{}.{}", library, t.fmt_major, t.json_major, t.json_minor,
                     t.json_patch);
}

bool has_blank(std::string_view name) {
  return std::any_of(name.begin(), name.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

// Why a command cannot join the registry, or "" when it can. `taken` holds the
// names and aliases of the extension's earlier commands.
std::string clash(const CommandRegistry& registry, const AliasTable* aliases, std::set<std::string>& taken,
                  std::string_view name, std::string_view owner) {
  if (name.empty()) return fmt::format("command '{}' has an empty alias", owner);
  if (has_blank(name)) return fmt::format("'{}' is not a command name (it has blanks)", name);
  if (!taken.insert(std::string(name)).second) return fmt::format("it adds '{}' twice", name);
  if (const Command* existing = registry.find(name)) {
    if (existing->spec.name == name) return fmt::format("command '{}' already exists", name);
    return fmt::format("'{}' is already an alias of command '{}'", name, existing->spec.name);
  }
  if (aliases != nullptr) {
    if (const Alias* alias = aliases->find(name)) {
      return fmt::format("'{}' is already an alias of '{}' (see alias)", name, alias->command);
    }
  }
  return "";
}

// Runs an extension's command, counting it as running so that it cannot be
// unloaded under itself, and turning a throw of something that is not an
// exception into a one-line error like any other.
CommandFn guarded(std::shared_ptr<int> running, CommandFn run) {
  return [running = std::move(running), run = std::move(run)](Session& s, const ParsedArgs& a, Output& o) {
    ++*running;
    struct Done {
      int& count;
      ~Done() { --count; }
    } done{*running};
    try {
      run(s, a, o);
    } catch (const std::exception&) {
      throw;
    } catch (...) {
      throw CommandError("the extension's command threw something that is not a std::exception");
    }
  };
}

}  // namespace

ExtensionLoader::ExtensionLoader(CommandRegistry& registry) : registry_(registry) {}

ExtensionLoader::~ExtensionLoader() {
  while (!slots_.empty()) {
    Slot& slot = *slots_.back();
    for (const auto& name : slot.info.commands) registry_.remove(name);
    dlclose(slot.handle);
    slots_.pop_back();
  }
}

ExtensionLoader& ExtensionLoader::instance() {
  static ExtensionLoader loader(CommandRegistry::instance());
  return loader;
}

const LoadedExtension& ExtensionLoader::load(std::string_view file, const AliasTable* aliases) {
  auto refuse = [&](std::string_view cause) { return ExtensionRefused(fmt::format("{}: {}", file, cause)); };

  auto found = find_extension(file);
  if (!found) {
    std::string dirs;
    for (const auto& dir : extension_search_path()) dirs += fmt::format("{}{}", dirs.empty() ? "" : ", ", dir.string());
    throw refuse(fmt::format("no such file here or in {}", dirs));
  }
  std::error_code ec;
  if (!std::filesystem::exists(*found, ec)) throw refuse("no such file");
  if (!std::filesystem::is_regular_file(*found, ec)) throw refuse("not a regular file");
  auto canonical = std::filesystem::weakly_canonical(*found, ec);
  if (ec) canonical = std::filesystem::absolute(*found);
  for (const auto& slot : slots_) {
    if (slot->canonical == canonical) throw refuse(fmt::format("already loaded (as {})", slot->info.file));
  }

  // dlopen would say "invalid ELF header" too, but a plain check gives the
  // cause crash users know, and opens nothing that is not an object file.
  {
    std::ifstream in(canonical, std::ios::binary);
    if (!in) throw refuse("cannot be read");
    char magic[4] = {};
    in.read(magic, sizeof magic);
    if (in.gcount() != sizeof magic || std::string_view(magic, 4) !=
                                           "\x7f"
                                           "ELF") {
      throw refuse("not an ELF shared object");
    }
  }

  dlerror();
  // RTLD_NOW: an unresolved symbol refuses the file now, not in the middle of a
  // command. RTLD_LOCAL: extensions do not see each other's symbols.
  DlHandle handle(dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (handle.get() == nullptr) throw refuse(dlopen_cause(dlerror(), canonical.string()));

  dlerror();
  void* entry_symbol = dlsym(handle.get(), kExtensionEntryPoint);
  if (entry_symbol == nullptr) {
    throw refuse(fmt::format("not a kdive extension (no {} entry point; see KDIVE_EXTENSION)", kExtensionEntryPoint));
  }
  auto entry = reinterpret_cast<const ExtensionInfo* (*)()>(entry_symbol);
  const ExtensionInfo* info = entry();
  if (info == nullptr) throw refuse(fmt::format("its {} returned no description", kExtensionEntryPoint));
  if (info->api_version != kExtensionApiVersion) {
    throw refuse(fmt::format("built for extension API version {}; this kdive has version {} (rebuild it)",
                             info->api_version, kExtensionApiVersion));
  }
  if (info->toolchain != this_toolchain()) {
    throw refuse(fmt::format("built with {}; kdive with {}", describe(info->toolchain), describe(this_toolchain())));
  }
  if (info->register_commands == nullptr) throw refuse("it has no registration function");

  // Declared after the handle: the commands' run functions are code of the
  // object, and go before it is closed.
  CollectingHost host;
  try {
    info->register_commands(host);
  } catch (const std::exception& e) {
    throw refuse(fmt::format("its registration failed: {}", e.what()));
  } catch (...) {
    throw refuse("its registration failed");
  }
  if (host.commands.empty()) throw refuse("it adds no commands");
  std::set<std::string> taken;
  for (const Command& command : host.commands) {
    if (command.spec.name.empty()) throw refuse("it adds a command without a name");
    if (!command.run) throw refuse(fmt::format("command '{}' has no run function", command.spec.name));
    std::string problem = clash(registry_, aliases, taken, command.spec.name, command.spec.name);
    for (auto alias : command.spec.aliases) {
      if (problem.empty()) problem = clash(registry_, aliases, taken, alias, command.spec.name);
    }
    if (!problem.empty()) throw refuse(problem);
  }

  auto slot = std::make_unique<Slot>();
  slot->info.file = found->string();
  slot->info.name = info->name != nullptr ? info->name : "";
  slot->info.summary = info->summary != nullptr ? info->summary : "";
  slot->info.api_version = info->api_version;
  slot->canonical = canonical;
  for (Command& command : host.commands) {
    slot->info.commands.emplace_back(command.spec.name);
    registry_.add(Command{std::move(command.spec), guarded(slot->running, std::move(command.run))});
  }
  host.commands.clear();
  slot->handle = handle.release();
  slots_.push_back(std::move(slot));
  return slots_.back()->info;
}

LoadedExtension ExtensionLoader::unload_slot(size_t index) {
  Slot& slot = *slots_[index];
  if (*slot.running > 0) {
    throw ExtensionRefused(fmt::format("{}: in use (one of its commands is running)", slot.info.file));
  }
  for (const auto& name : slot.info.commands) registry_.remove(name);
  // The commands, and with them every pointer into the object, are gone: the
  // object can go. (An object with STB_GNU_UNIQUE symbols stays mapped anyway;
  // build extensions with -fno-gnu-unique so that a rebuilt one loads anew.)
  dlclose(slot.handle);
  LoadedExtension info = std::move(slot.info);
  slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(index));
  return info;
}

LoadedExtension ExtensionLoader::unload(std::string_view which) {
  std::optional<std::filesystem::path> canonical;
  if (auto found = find_extension(which)) {
    std::error_code ec;
    auto c = std::filesystem::weakly_canonical(*found, ec);
    if (!ec) canonical = c;
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = *slots_[i];
    if (slot.info.file == which || (canonical && slot.canonical == *canonical) || slot.canonical.filename() == which ||
        slot.info.name == which) {
      return unload_slot(i);
    }
  }
  throw ExtensionRefused(fmt::format("{}: not loaded", which));
}

std::vector<LoadedExtension> ExtensionLoader::unload_all() {
  std::vector<LoadedExtension> gone;
  while (!slots_.empty()) gone.push_back(unload_slot(slots_.size() - 1));
  return gone;
}

std::vector<const LoadedExtension*> ExtensionLoader::loaded() const {
  std::vector<const LoadedExtension*> out;
  for (const auto& slot : slots_) out.push_back(&slot->info);
  return out;
}

}  // namespace kdive
