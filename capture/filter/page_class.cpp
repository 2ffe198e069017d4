#include "capture/filter/page_class.hpp"

namespace kdive::capture {

std::string_view to_string(PageClass c) {
  switch (c) {
    case PageClass::Kept:
      return "kept";
    case PageClass::Hole:
      return "hole";
    case PageClass::Zero:
      return "zero";
    case PageClass::Cache:
      return "cache";
    case PageClass::CachePrivate:
      return "cache-private";
    case PageClass::User:
      return "user";
    case PageClass::Free:
      return "free";
    case PageClass::Hwpoison:
      return "hwpoison";
    case PageClass::Offline:
      return "offline";
  }
  return "?";
}

bool level_excludes(int dump_level, PageClass c) {
  switch (c) {
    case PageClass::Kept:
      return false;
    case PageClass::Hole:
      return true;
    case PageClass::Zero:
      return (dump_level & 1) != 0;
    // Bit 4 excludes all page cache, with private data or without.
    case PageClass::Cache:
      return (dump_level & (2 | 4)) != 0;
    case PageClass::CachePrivate:
      return (dump_level & 4) != 0;
    case PageClass::User:
      return (dump_level & 8) != 0;
    case PageClass::Free:
      return (dump_level & 16) != 0;
    case PageClass::Hwpoison:
    case PageClass::Offline:
      return true;
  }
  return false;
}

}  // namespace kdive::capture
