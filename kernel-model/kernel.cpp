#include "kernel-model/kernel.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "kernel-model/errors.hpp"
#include "kernel-model/type_scope.hpp"
#include "readers/open_dump.hpp"

namespace kdive {

std::unique_ptr<Kernel> Kernel::open(const std::filesystem::path& vmlinux, const std::vector<std::string>& dump_files,
                                     KernelOptions options) {
  std::unique_ptr<Kernel> k(new Kernel());
  k->vmlinux_ = Vmlinux::open(vmlinux);
  // Start indexing DWARF now: it runs while the dump is opened and the prompt appears.
  k->types_ = std::make_unique<TypeSystem>(k->vmlinux_->file(), k->vmlinux_->dwarf(), k->vmlinux_->build_id());
  k->dump_ = open_dump(dump_files, {.cache_pages = options.cache_pages});
  k->vmcoreinfo_ = VmcoreInfo(k->dump_->notes().vmcoreinfo);
  KernelLayout layout =
      find_kernel_layout(*k->dump_, *k->vmlinux_, k->vmcoreinfo_, {.ignore_mismatch = options.ignore_mismatch});
  k->memory_ = std::make_unique<KernelMemory>(*k->dump_, std::move(layout));
  k->structs_ = std::make_unique<StructLayout>(k->vmcoreinfo_, k->types_.get());
  return k;
}

VirtAddr Kernel::symbol_address(std::string_view name) const {
  if (auto a = symbols().address(name)) return *a;
  throw Error(Error::Kind::Lookup, fmt::format("no symbol '{}'", name));
}

}  // namespace kdive

namespace kdive {

Object Kernel::object(std::string_view symbol) const {
  VirtAddr addr = symbol_address(symbol);
  const Type* t = types_->variable_type(symbol);
  if (t == nullptr) throw Error(Error::Kind::Lookup, fmt::format("no type information for '{}'", symbol));
  return Object(*this, addr, t);
}

Object Kernel::object(VirtAddr address, std::string_view type) const {
  return Object(*this, address, &types_->require(type));
}

uint64_t Kernel::per_cpu_offset(int cpu) const {
  if (cpu < 0) throw Error(Error::Kind::Lookup, fmt::format("no CPU {}", cpu));
  // unsigned long __per_cpu_offset[NR_CPUS], set once at boot: read each CPU's once.
  const auto index = static_cast<size_t>(cpu);
  if (index >= per_cpu_offsets_.size()) per_cpu_offsets_.resize(index + 1);
  if (!per_cpu_offsets_[index]) per_cpu_offsets_[index] = object("__per_cpu_offset").at(index).as_u64();
  return *per_cpu_offsets_[index];
}

VirtAddr Kernel::per_cpu(std::string_view symbol, int cpu) const {
  return symbol_address(symbol) + per_cpu_offset(cpu);
}

const TaskTable& Kernel::tasks() const {
  if (!tasks_) tasks_ = std::make_unique<TaskTable>(read_tasks(*this));
  return *tasks_;
}

void Kernel::begin_command() const {
  if (dump_->notes().live) tasks_.reset();
}

const Task& Kernel::default_task() const {
  const TaskTable& table = tasks();
  if (auto cpu = panic_cpu()) {
    if (const Task* t = table.active_on(*cpu)) return *t;
  }
  if (dump_->notes().live) {
    if (const Task* t = table.by_pid(::getpid())) return *t;
  }
  if (const Task* t = table.active_on(0)) return *t;
  if (table.all.empty()) throw Error(Error::Kind::BadData, "no task could be read from the dump");
  return table.all.front();
}

std::vector<std::string> Kernel::notices() const {
  std::vector<std::string> out = dump_->warnings();
  if (layout().source != "VMCOREINFO") {
    out.push_back(fmt::format("the dump has no usable VMCOREINFO; kernel located from {} (KASLR offset {:#x})",
                              layout().source, layout().kaslr_offset));
  }
  return out;
}

std::optional<int> Kernel::panic_cpu() const {
  // panic_cpu is an atomic_t, -1 (PANIC_CPU_INVALID) until a CPU panics.
  auto addr = symbols().address("panic_cpu");
  if (!addr) return std::nullopt;
  try {
    int32_t cpu = memory().read<int32_t>(*addr);
    if (cpu < 0) return std::nullopt;
    return cpu;
  } catch (const Fault&) {
    return std::nullopt;
  }
}

}  // namespace kdive

namespace kdive {

const ModuleTable& Kernel::modules() const {
  if (!modules_) {
    modules_ = std::make_unique<ModuleTable>();
    try {
      *modules_ = read_modules(*this);
    } catch (const ModelError& e) {
      modules_->problems.push_back(fmt::format("cannot read the module list: {}", e.what()));
    }
  }
  return *modules_;
}

ModuleTable& Kernel::modules() { return const_cast<ModuleTable&>(std::as_const(*this).modules()); }

void Kernel::load_module_object(Module& module, const std::filesystem::path& file, const ModuleLoadOptions& options) {
  std::vector<char> bytes = kdive::load_module_object(module, file, options);
  module_lines_.erase(module.name);  // a previous object's lines, if any
  if (!module.object_has_debuginfo) return;
  // libdwfl relocates its own copy of the object for the line tables; the
  // types keep theirs relocated section-relative (DebugObject).
  module_lines_[module.name] = std::make_unique<ModuleLines>(module, bytes);
  try {
    types_->add_module(module.name, std::move(bytes));
  } catch (const Error& e) {
    module.debuginfo_problem = e.what();
  }
}

void Kernel::unload_module_object(Module& module) {
  types_->drop_module(module.name);
  module_lines_.erase(module.name);
  kdive::unload_module_object(module);
}

const Kallsyms& Kernel::kallsyms() const {
  if (!kallsyms_) kallsyms_ = std::make_unique<Kallsyms>(read_kallsyms(*this));
  return *kallsyms_;
}

std::optional<SourceLine> Kernel::source_line(uint64_t address) const {
  if (!layout().in_image(VirtAddr{address})) {
    const Module* module = modules().containing(VirtAddr{address});
    if (module == nullptr) return std::nullopt;
    auto it = module_lines_.find(module->name);
    if (it == module_lines_.end()) return std::nullopt;
    return it->second->find(address);
  }
  if (!lines_) lines_ = std::make_unique<SourceLines>(*vmlinux_);
  return lines_->find(address - symbols().relocation());
}

const Symbol* Kernel::find_symbol(std::string_view name) const {
  if (const Symbol* s = symbols().find(name)) return s;
  if (const Symbol* s = modules().find_symbol(name)) return s;
  if (kallsyms_failed_) return nullptr;
  try {
    return kallsyms().symbols().find(name);
  } catch (const ModelError&) {
    kallsyms_failed_ = true;  // a dump without readable kallsyms: do not retry per lookup
    return nullptr;
  }
}

std::optional<SymbolHit> Kernel::symbol_at(VirtAddr address) const {
  // Modules live right above the kernel image mapping (MODULES_VADDR).
  if (layout().in_image(address)) return symbols().containing(address);
  return modules().symbol_at(address);
}

std::vector<std::pair<VirtAddr, VirtAddr>> Kernel::kernel_text_ranges() const {
  std::vector<std::pair<VirtAddr, VirtAddr>> out;
  for (auto [begin, end] : {std::pair{"_text", "_etext"}, std::pair{"_sinittext", "_einittext"}}) {
    auto lo = symbols().address(begin), hi = symbols().address(end);
    if (lo && hi && *lo < *hi) out.emplace_back(*lo, *hi);
  }
  return out;
}

std::string Kernel::set_type_scope(VirtAddr address) {
  const auto text = kernel_text_ranges();
  const bool kernel_text =
      std::any_of(text.begin(), text.end(), [&](const auto& r) { return address >= r.first && address < r.second; });
  if (layout().in_image(address) && kernel_text) {
    try {
      types_->set_scope(address.value() - symbols().relocation());
    } catch (const Error&) {
      // TypeScope names the link-time address; the user typed the run-time one.
      throw Error(Error::Kind::Lookup,
                  fmt::format("{:x}: no compilation unit of the vmlinux debug info holds it", address.value()));
    }
    return types_->scope()->unit_name();
  }
  const Module* module = layout().in_image(address) ? nullptr : modules().containing(address);
  bool module_text = false;
  if (module != nullptr) {
    for (const ModuleRegion& r : module->regions) {
      if (r.contains(address) && (r.kind == "text" || r.kind == "init_text")) module_text = true;
    }
    // Kernels that keep one core/init block per module say nothing of text
    // there: a text symbol at the address says it.
    if (auto hit = modules().symbol_at(address);
        !module_text && hit && (hit->symbol->type == 't' || hit->symbol->type == 'T')) {
      module_text = true;
    }
  }
  if (!module_text)
    throw Error(Error::Kind::Lookup, fmt::format("{:x}: not a kernel or module text address", address.value()));
  auto lines = module_lines_.find(module->name);
  ::Dwarf* dwarf = lines != module_lines_.end() ? lines->second->dwarf() : nullptr;
  if (dwarf == nullptr) {
    throw Error(Error::Kind::Lookup, fmt::format("{:x}: the debuginfo of module {} is not loaded (mod -s {} FILE)",
                                                 address.value(), module->name, module->name));
  }
  types_->set_scope(address.value(), module->name, dwarf);
  return types_->scope()->unit_name();
}

}  // namespace kdive
