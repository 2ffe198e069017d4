// The extension loader against real shared objects: the hello test extension,
// the openfiles sample, and test extensions broken on purpose (built by
// tests/CMakeLists.txt from modules/).
#include "extensions/extension_loader.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "commands/api/aliases.hpp"
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/run_command.hpp"
#include "commands/api/session.hpp"
#include "extensions/extension_search.hpp"
#include "extensions/kdive_extension.hpp"
#include "tests/unit/support/run_line.hpp"

using kdive::CommandRegistry;
using kdive::ExtensionLoader;

namespace {

std::string module(const std::string& name) { return std::string(KDIVE_TEST_EXTENSIONS_DIR) + "/" + name + ".so"; }

// Whether the process has the file mapped: dlclose really unloaded it or not.
bool mapped(const std::string& file) {
  std::string canonical = std::filesystem::canonical(file).string();
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.size() >= canonical.size() &&
        line.compare(line.size() - canonical.size(), canonical.size(), canonical) == 0) {
      return true;
    }
  }
  return false;
}

using kdive::test::Ran;
Ran run(const std::string& line, kdive::OutputMode mode = kdive::OutputMode::Text) {
  return kdive::test::run_line(line, mode);
}

size_t command_count() { return CommandRegistry::instance().all().size(); }

}  // namespace

TEST_CASE("a loaded extension's commands run like built-in ones, and unloading takes them away", "[extensions]") {
  ExtensionLoader loader(CommandRegistry::instance());
  const size_t before = command_count();
  const std::string file = module("hello");

  const kdive::LoadedExtension& hello = loader.load(file);
  CHECK(hello.file == file);
  CHECK(hello.name == "hello");
  CHECK(hello.summary == "test commands");
  CHECK(hello.api_version == kdive::kExtensionApiVersion);
  CHECK(hello.commands == std::vector<std::string>{"ext-hello", "ext-unload-self", "ext-throw-int"});
  CHECK(command_count() == before + 3);
  CHECK(mapped(file));

  Ran text = run("ext-hello kdive");
  CHECK(text.status == kdive::CommandStatus::Ok);
  CHECK(text.out == "hello kdive\n");
  CHECK(run("ext-hi").out == "hello world\n");  // its alias
  Ran json = run("ext-hello kdive", kdive::OutputMode::Json);
  CHECK(json.out == "{\"command\":\"ext-hello kdive\",\"result\":{\"greeting\":\"hello kdive\"}}\n");
  CHECK(run("help").out.find("ext-hello") != std::string::npos);
  CHECK(run("help ext-hello").out.find("NAME\n  ext-hello - greet") != std::string::npos);

  kdive::LoadedExtension gone = loader.unload("hello");
  CHECK(gone.commands.size() == 3);
  CHECK(loader.loaded().empty());
  CHECK(command_count() == before);
  CHECK(CommandRegistry::instance().find("ext-hello") == nullptr);
  CHECK(CommandRegistry::instance().find("ext-hi") == nullptr);
  CHECK(run("help").out.find("ext-hello") == std::string::npos);
  Ran after = run("ext-hello");
  CHECK(after.status == kdive::CommandStatus::Failed);
  CHECK(after.errors == "kdive: command not found: ext-hello (try 'help')\n");
  // Built with -fno-gnu-unique, so dlclose really unmaps it.
  CHECK_FALSE(mapped(file));
}

TEST_CASE("an extension is found by its file name, and unloaded by path, file name or its own name", "[extensions]") {
  ExtensionLoader loader(CommandRegistry::instance());
  for (std::string which : {module("hello"), std::string("hello.so"), std::string("hello")}) {
    INFO(which);
    loader.load(module("hello"));
    CHECK(loader.unload(which).name == "hello");
    CHECK(loader.loaded().empty());
  }
  CHECK_THROWS_WITH(loader.unload("hello"), "hello: not loaded");
}

TEST_CASE("unloading everything goes last-loaded first", "[extensions]") {
  ExtensionLoader loader(CommandRegistry::instance());
  loader.load(module("hello"));
  loader.load(KDIVE_OPENFILES_EXTENSION);
  auto gone = loader.unload_all();
  REQUIRE(gone.size() == 2);
  CHECK(gone[0].name == "openfiles");
  CHECK(gone[1].name == "hello");
  CHECK(CommandRegistry::instance().find("openfiles") == nullptr);
}

TEST_CASE("a broken extension is refused with one line naming the file and the cause", "[extensions]") {
  ExtensionLoader loader(CommandRegistry::instance());
  const size_t before = command_count();
  auto refused = [&](const std::string& file, const std::string& cause) {
    INFO(file);
    CHECK_THROWS_WITH(loader.load(file), Catch::StartsWith(file + ": ") && Catch::Contains(cause));
    CHECK(loader.loaded().empty());
    CHECK(command_count() == before);
    if (std::filesystem::exists(file)) CHECK_FALSE(mapped(file));
  };

  auto not_elf = std::filesystem::temp_directory_path() / ("kdive-not-elf-" + std::to_string(getpid()) + ".so");
  std::ofstream(not_elf) << "this is text, not an object file\n";
  refused(not_elf.string(), "not an ELF shared object");
  std::filesystem::remove(not_elf);

  refused(module("nosuch"), "no such file");
  refused(module("no_entry"), "not a kdive extension (no kdive_extension entry point");
  refused(module("unresolved"), "undefined symbol: kdive::CommandRegistrar::CommandRegistrar(kdive::CommandSpec");
  refused(module("wrong_version"), "built for extension API version " +
                                       std::to_string(kdive::kExtensionApiVersion + 1) + "; this kdive has version " +
                                       std::to_string(kdive::kExtensionApiVersion));
  refused(module("old_abi"), "built with libstdc++ (pre-C++11 std::string, _GLIBCXX_USE_CXX11_ABI=0)");
  refused(module("clash"), "command 'ps' already exists");
  CHECK(CommandRegistry::instance().find("ext-clash-ok") == nullptr);  // nothing of it stays
}

TEST_CASE("names already taken refuse an extension: its own file again, a shell alias", "[extensions]") {
  ExtensionLoader loader(CommandRegistry::instance());
  loader.load(module("hello"));
  CHECK_THROWS_WITH(loader.load(module("hello")), module("hello") + ": already loaded (as " + module("hello") + ")");
  // A second loader (a second copy of the same commands) clashes by name.
  ExtensionLoader other(CommandRegistry::instance());
  CHECK_THROWS_WITH(other.load(module("hello")), Catch::Contains("command 'ext-hello' already exists"));
  loader.unload("hello");

  kdive::AliasTable aliases;
  aliases.define("ext-hi", "ps -p");
  CHECK_THROWS_WITH(loader.load(module("hello"), &aliases),
                    Catch::Contains("'ext-hi' is already an alias of 'ps -p' (see alias)"));
  CHECK(loader.loaded().empty());
  CHECK(CommandRegistry::instance().find("ext-hello") == nullptr);
}

TEST_CASE("the search path: the current directory, KDIVE_EXTENSIONS, then beside the binary", "[extensions]") {
  auto path = kdive::extension_search_path();
  REQUIRE(path.size() >= 3);
  CHECK(path.front() == ".");
  CHECK(path.back() == "./extensions");
  // This test binary sits one directory below the build tree's root, as kdive
  // does: its lib/kdive/extensions is where the samples are built.
  CHECK(kdive::find_extension("openfiles.so") ==
        std::filesystem::path(KDIVE_OPENFILES_EXTENSION).parent_path() / "openfiles.so");
  CHECK_FALSE(kdive::find_extension("hello.so"));

  setenv("KDIVE_EXTENSIONS", "/nonexistent:" KDIVE_TEST_EXTENSIONS_DIR, 1);
  CHECK(kdive::find_extension("hello.so") == std::filesystem::path(KDIVE_TEST_EXTENSIONS_DIR) / "hello.so");
  auto available = kdive::available_extensions();
  unsetenv("KDIVE_EXTENSIONS");
  CHECK(std::find(available.begin(), available.end(), std::filesystem::path(KDIVE_TEST_EXTENSIONS_DIR) / "clash.so") !=
        available.end());
  // A name with a directory is a path, searched nowhere.
  CHECK(kdive::find_extension("sub/hello.so") == std::filesystem::path("sub/hello.so"));
}
