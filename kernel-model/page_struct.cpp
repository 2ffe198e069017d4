#include "kernel-model/page_struct.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "kernel-model/kernel.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {

PageStructReader::PageStructReader(const Kernel& k) : kernel_(&k) {
  const Type& t = k.types().require("struct page");
  size_ = t.size();
  flags_ = t.require_member("flags").offset;
  mapping_ = t.require_member("mapping").offset;
  index_ = t.require_member("index").offset;
  refcount_ = t.require_member("_refcount").offset;
  mapcount_ = t.require_member("_mapcount").offset;
}

PageStruct PageStructReader::read(VirtAddr page) const {
  // struct page is 64 bytes on every x86_64 kernel kdive reads; the fields
  // crash shows all lie in its first 64.
  std::array<std::byte, 64> bytes{};
  const uint64_t span = std::min<uint64_t>(size_, bytes.size());
  kernel_->memory().read(page, std::span(bytes.data(), span));
  auto word = [&](uint64_t off, size_t n) {
    uint64_t v = 0;
    if (off + n <= span) std::memcpy(&v, bytes.data() + off, n);
    return v;
  };
  PageStruct p;
  p.page = page;
  p.pfn = (page - kernel_->layout().vmemmap_start) / size_;
  p.flags = word(flags_, 8);
  p.mapping = word(mapping_, 8);
  p.index = word(index_, 8);
  p.count = static_cast<int32_t>(word(refcount_, 4));
  p.mapcount = static_cast<int64_t>(static_cast<int32_t>(word(mapcount_, 4))) + 1;
  return p;
}

PageFlagNames::PageFlagNames(const Kernel& k) {
  const Type* e = k.types().lookup("enum pageflags");
  if (e == nullptr) return;
  int64_t limit = 64;
  for (const Enumerator& en : e->enumerators()) {
    if (en.name == "__NR_PAGEFLAGS") limit = std::min<int64_t>(limit, en.value);
  }
  names_.resize(static_cast<size_t>(limit));
  for (const Enumerator& en : e->enumerators()) {
    if (en.value < 0 || en.value >= limit || !names_[static_cast<size_t>(en.value)].empty()) continue;
    std::string n(en.name);
    names_[static_cast<size_t>(en.value)] = n.starts_with("PG_") ? n.substr(3) : n;
  }
}

std::string PageFlagNames::describe(uint64_t flags) const {
  std::string text;
  for (size_t bit = 0; bit < names_.size(); ++bit) {
    if (((flags >> bit) & 1) == 0 || names_[bit].empty()) continue;
    if (!text.empty()) text += ',';
    text += names_[bit];
  }
  return text;
}

}  // namespace kdive
