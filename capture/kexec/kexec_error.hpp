// KexecError: the one error type of kdive-kexec. Its message is one line that
// names the file or option concerned and the cause; the program prints it
// after "kdive-kexec: error: " and exits non-zero.
//
//   throw KexecError(fmt::format("--initrd {}: cannot open: {}", path, std::strerror(errno)));
#pragma once

#include <stdexcept>

namespace kdive::capture {

class KexecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace kdive::capture
