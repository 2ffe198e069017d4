#include "kernel-model/kernel.hpp"

#include <fmt/format.h>

#include "kernel-model/errors.hpp"
#include "readers/open_dump.hpp"

namespace kdive {

std::unique_ptr<Kernel> Kernel::open(const std::filesystem::path& vmlinux, const std::vector<std::string>& dump_files,
                                     KernelOptions options) {
  std::unique_ptr<Kernel> k(new Kernel());
  k->vmlinux_ = Vmlinux::open(vmlinux);
  k->dump_ = open_dump(dump_files, {.cache_pages = options.cache_pages});
  k->vmcoreinfo_ = VmcoreInfo(k->dump_->notes().vmcoreinfo);
  KernelLayout layout = find_kernel_layout(*k->dump_, *k->vmlinux_, k->vmcoreinfo_,
                                           {.ignore_mismatch = options.ignore_mismatch});
  k->memory_ = std::make_unique<KernelMemory>(*k->dump_, std::move(layout));
  return k;
}

uint64_t Kernel::symbol_address(std::string_view name) const {
  if (auto a = symbols().address(name)) return *a;
  throw Error(Error::Kind::Lookup, fmt::format("no symbol '{}'", name));
}

}  // namespace kdive
