// The kernel's build configuration as the kernel itself carries it
// (CONFIG_IKCONFIG=y): a gzip-compressed .config between the symbols
// kernel_config_data and kernel_config_data_end. With CONFIG_IKCONFIG=m it lives
// in configs.ko instead, and without it nowhere in memory.
//
//   std::string config = read_kernel_config(kernel);   // "CONFIG_X86_64=y\n..."
#pragma once

#include <string>

namespace kdive {

class Kernel;

// The .config text. Throws Error(Lookup) when the kernel has no built-in
// config data, Error(BadData) when the blob does not decompress.
std::string read_kernel_config(const Kernel& kernel);

}  // namespace kdive
