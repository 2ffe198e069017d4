// kdive-mkdump DESCRIPTION OUTPUT [OUTPUT...]: writes the dump a dumpgen text
// description describes (see README.md). DESCRIPTION "-" reads stdin. A split
// dump writes one OUTPUT per part, or OUTPUT.1 ... OUTPUT.N when given one
// name.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "tests/dumpgen/dumpgen.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: kdive-mkdump DESCRIPTION OUTPUT [OUTPUT...]\n";
    return 2;
  }
  std::string text;
  {
    std::ostringstream s;
    if (std::string(argv[1]) == "-") {
      s << std::cin.rdbuf();
    } else {
      std::ifstream in(argv[1]);
      if (!in) {
        std::cerr << "kdive-mkdump: cannot read " << argv[1] << "\n";
        return 1;
      }
      s << in.rdbuf();
    }
    text = s.str();
  }
  try {
    auto dump = kdive::dumpgen::generate(text);
    size_t n = dump.files.size();
    size_t names = static_cast<size_t>(argc - 2);
    if (names != 1 && names != n) {
      std::cerr << fmt::format(
          "kdive-mkdump: the description makes {} files but {} outputs were "
          "named\n",
          n, names);
      return 2;
    }
    for (size_t i = 0; i < n; ++i) {
      std::string path = names == n ? argv[2 + i] : fmt::format("{}.{}", argv[2], i + 1);
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      const auto& b = dump.files[i].bytes;
      out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
      if (!out) {
        std::cerr << "kdive-mkdump: cannot write " << path << "\n";
        return 1;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
