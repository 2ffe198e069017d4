// Every command documents the JSON result it gives (`help NAME` in JSON mode:
// json.kind, json.keys, json.notes, json.example), and its example, run with
// --json on this suite's dump, gives exactly that shape. Only the kdive binary
// is used, as a script would use it (tags [examples], and [command_examples]
// for the CTest test that the file name gives). A command without keys or an
// example fails here, by name; so does an example whose output is an error, is
// not JSON, or lacks a documented key.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "run_kdive.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Json = nlohmann::json;

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct JsonRun {
  int status = 0;
  std::string err;
  std::vector<Json> lines;               // one JSON Lines object per command run
  std::vector<std::string> unparseable;  // output lines that are not JSON
};

JsonRun run_json(const std::string& commands) {
  auto dir = fixture_dir(suite());
  KdiveRun r = run_kdive_args("--json -b -c " + shell_quote(commands) + " " + shell_quote((dir / "vmlinux").string()) +
                              " " + shell_quote((dir / "vmcore.elf").string()));
  JsonRun out{r.status, r.err, {}, {}};
  for (const std::string& line : lines_of(r.out)) {
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      out.unparseable.push_back(line);
    } else {
      out.lines.push_back(std::move(j));
    }
  }
  return out;
}

// One command's manual as `help NAME` gives it in JSON.
struct Manual {
  std::string name;
  std::vector<std::string> aliases;
  Json json;  // {"kind", "keys", "notes", "example"}, or null when help has none
};

// Every command `help` lists, with its manual; read once per test binary run.
const std::vector<Manual>& manuals() {
  static const std::vector<Manual> all = [] {
    JsonRun index = run_json("help");
    INFO(index.err);
    REQUIRE(index.status == 0);
    REQUIRE(index.lines.size() == 1);
    REQUIRE(index.lines[0].contains("result"));
    const Json& listed = index.lines[0]["result"];
    REQUIRE(listed.is_array());
    REQUIRE(listed.size() > 10);
    std::string names;
    for (const Json& c : listed) names += " " + c.at("name").get<std::string>();

    JsonRun help = run_json("help" + names);
    INFO(help.err);
    REQUIRE(help.status == 0);
    REQUIRE(help.lines.size() == 1);
    const Json& pages = help.lines[0].at("result");
    REQUIRE(pages.size() == listed.size());
    std::vector<Manual> out;
    for (const Json& page : pages) {
      Manual m{page.at("name").get<std::string>(), {}, page.value("json", Json())};
      for (const Json& a : page.value("aliases", Json::array())) m.aliases.push_back(a.get<std::string>());
      out.push_back(std::move(m));
    }
    return out;
  }();
  return all;
}

std::vector<std::string> documented_keys(const Manual& m) {
  std::vector<std::string> keys;
  if (m.json.is_object() && m.json.contains("keys") && m.json["keys"].is_array()) {
    for (const Json& k : m.json["keys"]) {
      if (k.is_string()) keys.push_back(k.get<std::string>());
    }
  }
  return keys;
}

std::string documented(const Manual& m, const char* field) {
  if (!m.json.is_object() || !m.json.contains(field) || !m.json[field].is_string()) return "";
  return m.json[field].get<std::string>();
}

// What the manual fails to document, one phrase each ("" when complete).
std::vector<std::string> documentation_gaps(const Manual& m) {
  std::vector<std::string> gaps;
  if (!m.json.is_object()) return {"help gives no \"json\" for it"};
  std::string kind = documented(m, "kind");
  if (kind != "list" && kind != "object") gaps.push_back("json.kind is \"" + kind + "\", not list or object");
  if (documented_keys(m).empty()) gaps.push_back("no json.keys");
  if (documented(m, "example").empty()) gaps.push_back("no json.example");
  return gaps;
}

std::string first_word(const std::string& command_line) {
  std::istringstream in(command_line);
  std::string word;
  in >> word;
  return word;
}

// The keys of `keys` that `value` (an object) lacks.
std::vector<std::string> missing_keys(const Json& value, const std::vector<std::string>& keys) {
  std::vector<std::string> missing;
  for (const auto& k : keys) {
    if (!value.contains(k)) missing.push_back(k);
  }
  return missing;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// Runs the command's example and says what in its output disagrees with the
// documented shape ("" when nothing).
std::vector<std::string> example_problems(const Manual& m) {
  const std::string example = documented(m, "example");
  const std::string kind = documented(m, "kind");
  const std::vector<std::string> keys = documented_keys(m);
  // A list may be empty only where the notes say so.
  const bool may_be_empty = documented(m, "notes").find("may be empty") != std::string::npos;
  const bool refuses = documented(m, "notes").find("never has a result") != std::string::npos;

  std::vector<std::string> problems;
  const std::string ran = "`" + example + "`";
  JsonRun r = run_json(example);
  if (r.status != 0 && !refuses)
    problems.push_back(ran + " exits with status " + std::to_string(r.status) + ": " + r.err);
  for (const auto& line : r.unparseable) problems.push_back(ran + " printed a line that is not JSON: " + line);
  size_t checked = 0;
  for (const Json& line : r.lines) {
    if (!line.is_object() || !line.contains("command")) {
      problems.push_back(ran + " printed JSON without \"command\": " + line.dump());
      continue;
    }
    const std::string command = line["command"].is_string() ? line["command"].get<std::string>() : "";
    if (line.contains("error")) {
      // A command that only refuses (wr: kdive never writes memory) documents
      // that it never has a result; its example must give that error.
      if (refuses && first_word(command) == m.name) {
        ++checked;
        continue;
      }
      problems.push_back(ran + ": `" + command + "` gives an error: " + line["error"].dump());
      continue;
    }
    if (!line.contains("result")) {
      problems.push_back(ran + ": `" + command + "` gives neither result nor error");
      continue;
    }
    // Only the lines of this command (an example may set something up first).
    const std::string word = first_word(command);
    if (word != m.name && std::find(m.aliases.begin(), m.aliases.end(), word) == m.aliases.end()) continue;
    ++checked;
    const Json& result = line["result"];
    if (kind == "object") {
      if (!result.is_object()) {
        problems.push_back(ran + ": the result is not an object: " + result.dump().substr(0, 200));
      } else if (auto missing = missing_keys(result, keys); !missing.empty()) {
        problems.push_back(ran + ": the result lacks " + joined(missing));
      }
    } else if (kind == "list") {
      if (!result.is_array()) {
        problems.push_back(ran + ": the result is not a list: " + result.dump().substr(0, 200));
        continue;
      }
      if (result.empty() && !may_be_empty) {
        problems.push_back(ran + ": the list is empty (and json.notes do not say it \"may be empty\")");
      }
      size_t bad = 0;
      std::string first_bad;
      for (size_t i = 0; i < result.size(); ++i) {
        const Json& element = result[i];
        std::string why;
        if (!element.is_object()) {
          why = "is not an object";
        } else if (auto missing = missing_keys(element, keys); !missing.empty()) {
          why = "lacks " + joined(missing);
        }
        if (why.empty()) continue;
        if (bad++ == 0) first_bad = "element " + std::to_string(i) + " " + why;
      }
      if (bad > 0) {
        problems.push_back(ran + ": " + std::to_string(bad) + " of " + std::to_string(result.size()) +
                           " elements disagree with json.keys, first: " + first_bad);
      }
    }
  }
  if (checked == 0 && problems.empty()) problems.push_back(ran + " gives no result of " + m.name);
  return problems;
}

}  // namespace

TEST_CASE("help lists every command and each documents its JSON result", "[examples][command_examples]") {
  const auto& all = manuals();
  std::vector<std::string> complete;
  for (const Manual& m : all) {
    auto gaps = documentation_gaps(m);
    if (gaps.empty()) {
      complete.push_back(m.name);
    } else {
      FAIL_CHECK(m.name << ": " << joined(gaps));
    }
  }
  WARN(complete.size() << " of " << all.size() << " commands document their JSON result: " << joined(complete));
}

TEST_CASE("each command's JSON example gives the documented shape on this dump", "[examples][command_examples]") {
  std::vector<std::string> passed, untested;
  for (const Manual& m : manuals()) {
    if (!documentation_gaps(m).empty()) {
      untested.push_back(m.name);  // the test case above names what is missing
      continue;
    }
    auto problems = example_problems(m);
    for (const auto& p : problems) FAIL_CHECK(m.name << ": " << p);
    if (problems.empty()) passed.push_back(m.name);
  }
  WARN("examples that give the documented shape: " << joined(passed));
  if (!untested.empty()) FAIL_CHECK("without a documented shape and example, not run: " << joined(untested));
}
