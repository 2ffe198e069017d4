// struct cpumask, read from a dump: which CPUs a mask names, whether the mask
// is embedded (cpumask_t) or behind a pointer (cpumask_var_t with
// CONFIG_CPUMASK_OFFSTACK, which Debian's x86_64 kernels set), and crash's
// compact "0-3,6" text of it.
//
//   std::vector<int> cpus = read_cpumask(k, desc["irq_common_data.affinity"], nr_cpus);
//   cpu_ranges(cpus);  // "0-1"
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kernel-model/object.hpp"

namespace kdive {

class Kernel;

// The CPUs below `cpu_count` set in `mask`: a struct cpumask, an array of
// them (cpumask_var_t without OFFSTACK is `struct cpumask[1]`) or a pointer
// to one. Throws Fault when the bits cannot be read, Error(BadData) for a
// NULL pointer.
std::vector<int> read_cpumask(const Kernel& k, const Object& mask, int cpu_count);

// The CPUs below `cpu_count` in cpu_online_mask at the crash (panic's stop of
// the other CPUs takes them out of it, as a hot-unplug does); nullopt when
// the kernel has no such mask or it cannot be read.
std::optional<std::vector<int>> read_online_cpus(const Kernel& k, int cpu_count);

// "0-1", "0,2-5": runs of consecutive CPUs, as crash and /proc show masks.
std::string cpu_ranges(const std::vector<int>& cpus);

}  // namespace kdive
