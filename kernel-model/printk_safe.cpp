#include "kernel-model/printk_safe.hpp"

#include <algorithm>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {

std::optional<std::vector<PrintkSafeBuffer>> read_printk_safe_buffers(const Kernel& k) {
  static const char* const kBuffers[] = {"nmi_print_seq", "safe_print_seq"};
  bool any = false;
  std::vector<PrintkSafeBuffer> out;
  auto nr_cpus = k.symbols().address("nr_cpu_ids");
  int cpus = nr_cpus ? static_cast<int>(k.memory().read<uint32_t>(*nr_cpus)) : 1;
  cpus = std::clamp(cpus, 1, 8192);
  for (const char* name : kBuffers) {
    if (k.symbols().find(name) == nullptr) continue;
    any = true;
    for (int cpu = 0; cpu < cpus; ++cpu) {
      PrintkSafeBuffer b;
      b.name = name;
      b.cpu = cpu;
      try {
        b.address = k.per_cpu(name, cpu);
        Object seq = k.object(b.address, "struct printk_safe_seq_buf");
        b.len = static_cast<uint32_t>(seq["len.counter"].as_u64());
        b.message_lost = static_cast<uint32_t>(seq["message_lost.counter"].as_u64());
        Object buffer = seq["buffer"];
        uint64_t size = buffer.type().size();
        std::string text(std::min<uint64_t>(b.len, size), '\0');
        k.memory().read(buffer.address(), {reinterpret_cast<std::byte*>(text.data()), text.size()});
        b.text = std::move(text);
      } catch (const ModelError& e) {
        b.error = e.what();
      }
      out.push_back(std::move(b));
    }
  }
  if (!any) return std::nullopt;
  return out;
}

}  // namespace kdive
