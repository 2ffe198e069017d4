#include "kernel-model/cpu_mask.hpp"

#include <fmt/format.h>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {

std::vector<int> read_cpumask(const Kernel& k, const Object& mask, int cpu_count) {
  (void)k;
  Object m = mask;
  // Peel the pointer (OFFSTACK) or the one-element array (!OFFSTACK) that
  // cpumask_var_t is, down to the struct cpumask itself.
  for (int depth = 0; depth < 4; ++depth) {
    const Type& t = m.type().strip();
    if (t.kind() == TypeKind::Pointer) {
      if (m.is_null()) throw Error(Error::Kind::BadData, "cpumask pointer is NULL");
      m = m.deref();
    } else if (t.kind() == TypeKind::Array) {
      m = m.at(0);
    } else {
      break;
    }
  }
  Object bits = m["bits"];
  const uint64_t word_bits = bits.type().strip().target()->size() * 8;
  std::vector<int> cpus;
  for (uint64_t word = 0; word * word_bits < static_cast<uint64_t>(cpu_count); ++word) {
    const uint64_t set = bits.at(word).as_u64();
    for (uint64_t bit = 0; bit < word_bits; ++bit) {
      const uint64_t cpu = word * word_bits + bit;
      if (cpu >= static_cast<uint64_t>(cpu_count)) break;
      if (set & (1ull << bit)) cpus.push_back(static_cast<int>(cpu));
    }
  }
  return cpus;
}

std::optional<std::vector<int>> read_online_cpus(const Kernel& k, int cpu_count) {
  // __cpu_online_mask since 4.5; cpu_online_mask before (an object then, a
  // pointer to it now).
  if (k.symbols().find("__cpu_online_mask") == nullptr) return std::nullopt;
  try {
    return read_cpumask(k, k.object("__cpu_online_mask"), cpu_count);
  } catch (const ModelError&) {
    return std::nullopt;
  }
}

std::string cpu_ranges(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", cpus[i]) : fmt::format("{}-{}", cpus[i], cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace kdive
