// What the kdive binary exports: the extension API (extensions/
// exported_symbols.list) and nothing else of kdive's own — and every kdive
// symbol the openfiles sample needs.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

// Demangled names of a file's dynamic symbols (nm -D -C), defined or undefined.
std::set<std::string> dynamic_symbols(const std::string& file, bool defined) {
  std::string command = "nm -D -C --format=posix " + std::string(defined ? "--defined-only" : "--undefined-only") +
                        " '" + file + "' 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) text.append(buffer, n);
  REQUIRE(pclose(pipe) == 0);
  // POSIX format: "name type [value [size]]". Names have blanks ("... const"),
  // so the name ends at the first blank and letter followed by hex numbers only.
  std::set<std::string> names;
  std::regex line_re(R"(^(.*?) [A-Za-z]( +[0-9a-f]*)*$)");
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    std::smatch m;
    if (std::regex_match(line, m, line_re)) {
      std::string name = m[1];
      if (auto at = name.find('@'); at != std::string::npos) name.erase(at);  // symbol versions
      names.insert(name);
    }
  }
  return names;
}

// The list's patterns as regular expressions: quoted names literally, others as
// globs (the linker's rule).
std::vector<std::regex> exported_patterns() {
  std::ifstream in(KDIVE_EXPORTED_SYMBOLS_LIST);
  REQUIRE(in);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text = std::regex_replace(text, std::regex(R"(/\*[\s\S]*?\*/)"), "");
  std::vector<std::regex> patterns;
  std::regex entry_re(R"re(("[^"]*"|[^\s{};"]+)\s*;)re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), entry_re); it != std::sregex_iterator(); ++it) {
    std::string entry = (*it)[1];
    std::string re;
    bool quoted = entry.front() == '"';
    if (quoted) entry = entry.substr(1, entry.size() - 2);
    for (char c : entry) {
      if (!quoted && c == '*') {
        re += ".*";
      } else if (!quoted && c == '?') {
        re += ".";
      } else {
        if (std::string_view("\\^$.|+()[]{}*?").find(c) != std::string_view::npos) re += '\\';
        re += c;
      }
    }
    patterns.emplace_back(re);
  }
  return patterns;
}

}  // namespace

TEST_CASE("kdive exports the extension API and nothing else of its own", "[extensions]") {
  auto patterns = exported_patterns();
  REQUIRE(patterns.size() > 20);
  auto exported = dynamic_symbols(KDIVE_BINARY, true);
  size_t api = 0;
  for (const auto& name : exported) {
    if (name.find("kdive::") == std::string::npos) continue;  // the C and C++ runtime's, see below
    INFO(name);
    bool listed =
        std::any_of(patterns.begin(), patterns.end(), [&](const std::regex& p) { return std::regex_match(name, p); });
    CHECK(listed);
    ++api;
  }
  CHECK(api > 40);
  // What only the shell and the built-in commands use stays inside.
  for (const char* internal : {"kdive::CommandRegistry::instance()", "kdive::Shell::", "kdive::Kernel::open(",
                               "kdive::ExtensionLoader::", "kdive::open_dump("}) {
    INFO(internal);
    CHECK(std::none_of(exported.begin(), exported.end(),
                       [&](const std::string& name) { return name.find(internal) != std::string::npos; }));
  }
  // Besides kdive's, the linker exports what the shared libraries kdive links
  // refer to in it (copy-relocated data such as stdout, template code such as
  // std::string's): none of that is kdive's.
}

TEST_CASE("every kdive symbol the openfiles sample needs is exported", "[extensions]") {
  auto exported = dynamic_symbols(KDIVE_BINARY, true);
  auto needed = dynamic_symbols(KDIVE_OPENFILES_EXTENSION, false);
  size_t kdive_needs = 0;
  for (const auto& name : needed) {
    if (name.find("kdive::") == std::string::npos) continue;
    INFO(name);
    CHECK(exported.count(name) == 1);
    ++kdive_needs;
  }
  CHECK(kdive_needs >= 5);  // read_task_files, Kernel::tasks, Session::kernel, Output::write, ...
}
