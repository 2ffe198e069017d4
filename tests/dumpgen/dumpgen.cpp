#include "tests/dumpgen/dumpgen.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "tests/dumpgen/elf_writer.hpp"
#include "tests/dumpgen/flattened_writer.hpp"

namespace kdive::dumpgen {
namespace {

void apply_damage(const DumpDescription& d, std::vector<GeneratedFile>& files) {
  for (const Damage& g : d.damage) {
    for (size_t i = 0; i < files.size(); ++i) {
      if (g.part && *g.part != i + 1) continue;
      auto& b = files[i].bytes;
      if (g.kind == Damage::Kind::Truncate) {
        if (g.offset < b.size()) b.resize(g.offset);
      } else {
        if (g.offset + g.bytes.size() > b.size()) {
          throw std::invalid_argument(
              fmt::format("corrupt: offset {:#x} past the end of a {}-byte file", g.offset, b.size()));
        }
        std::copy(g.bytes.begin(), g.bytes.end(), b.begin() + g.offset);
      }
    }
    if (g.part && (*g.part == 0 || *g.part > files.size())) {
      throw std::invalid_argument(fmt::format("part {} does not exist (1 to {})", *g.part, files.size()));
    }
  }
}

}  // namespace

GeneratedDump generate(const DumpDescription& description) {
  GeneratedDump out{description, {}};
  const DumpDescription& d = out.description;
  if (d.format == Format::Elf) {
    out.files.push_back(GeneratedFile{write_elf(d), {}});
  } else {
    out.files = write_kdump(d);
    if (d.flattened.enabled) {
      for (auto& f : out.files) f.bytes = flatten(f.bytes, d.flattened);
    }
  }
  apply_damage(d, out.files);
  return out;
}

GeneratedDump generate(std::string_view description) { return generate(parse_description(description)); }

std::vector<std::byte> make_dump(std::string_view description) {
  auto g = generate(description);
  if (g.files.size() != 1) throw std::invalid_argument("make_dump: a split description makes several files");
  return std::move(g.files.front().bytes);
}

std::vector<std::vector<std::byte>> make_dumps(std::string_view description) {
  std::vector<std::vector<std::byte>> out;
  for (auto& f : generate(description).files) out.push_back(std::move(f.bytes));
  return out;
}

std::vector<std::unique_ptr<ByteSource>> make_sources(std::string_view description, const std::string& name) {
  auto files = make_dumps(description);
  std::vector<std::unique_ptr<ByteSource>> out;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string n = files.size() == 1 ? name : fmt::format("{}.{}", name, i + 1);
    out.push_back(std::make_unique<MemorySource>(std::move(files[i]), n));
  }
  return out;
}

}  // namespace kdive::dumpgen
