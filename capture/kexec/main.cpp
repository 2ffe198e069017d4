// kdive-kexec: loads kernels with kexec_file_load (see kexec_cli.hpp).
#include <iostream>
#include <string>
#include <vector>

#include "capture/kexec/kexec_cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  kdive::capture::LinuxKexecSystem system;
  return kdive::capture::run_kexec_cli(args, kdive::capture::SystemRoot(), system, std::cout, std::cerr);
}
