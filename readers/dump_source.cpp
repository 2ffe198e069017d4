#include "readers/dump_source.hpp"

#include <stdexcept>
#include <string>

namespace kdive {

std::string_view to_string(PageState s) {
  switch (s) {
    case PageState::Present:
      return "present";
    case PageState::Zero:
      return "zero";
    case PageState::Excluded:
      return "excluded from the dump";
    case PageState::Missing:
      return "not in the dump";
  }
  return "unknown";
}

void check_within_page(PhysAddr addr, size_t len, uint64_t page_size) {
  if (len == 0) return;
  if (addr.offset_in(page_size) + len > page_size) {
    throw std::logic_error("read_phys across a page boundary at " + std::to_string(addr.value()));
  }
}

}  // namespace kdive
