#include "kernel-model/page_struct.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "kernel-model/errors.hpp"
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
  read_bytes(page, std::span(bytes.data(), span));
  return decode(page, std::span<const std::byte>(bytes.data(), span));
}

void PageStructReader::read_bytes(VirtAddr at, std::span<std::byte> out) const { kernel_->memory().read(at, out); }

PageStruct PageStructReader::decode(VirtAddr page, std::span<const std::byte> bytes) const {
  const uint64_t span = std::min<uint64_t>(bytes.size(), 64);
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

PageMembers::PageMembers(const Kernel& k, const std::vector<std::string>& paths) {
  const Type& page = k.types().require("struct page");
  for (const std::string& path : paths) {
    std::optional<Member> m = page.member(path);
    if (!m) throw Error(Error::Kind::Lookup, "struct page has no member " + path);
    PageMember pm{.path = path, .offset = m->offset, .bit_offset = m->bit_offset, .bit_size = m->bit_size};
    const Type* t = &m->type->strip();
    // atomic_t, atomic_long_t, refcount_t...: a struct of one scalar.
    while (t->is_struct_like() && t->members().size() == 1) {
      pm.offset += t->members().front().offset;
      t = &t->members().front().type->strip();
    }
    if (t->kind() != TypeKind::Pointer && !t->is_integer()) {
      throw Error(Error::Kind::Lookup, fmt::format("struct page member {} is not a number or a pointer", path));
    }
    pm.size = t->size();
    if (pm.size == 0 || pm.size > 8 || pm.offset + pm.size > page.size()) {
      throw Error(Error::Kind::Lookup, fmt::format("struct page member {} has an unsupported size", path));
    }
    pm.pointer = t->kind() == TypeKind::Pointer;
    pm.is_signed = !pm.pointer && t->is_signed();
    pm.type = t;
    members_.push_back(pm);
  }
}

std::vector<uint64_t> PageMembers::values(std::span<const std::byte> page) const {
  std::vector<uint64_t> out;
  out.reserve(members_.size());
  for (const PageMember& m : members_) {
    if (m.offset + m.size > page.size()) {
      out.push_back(0);
      continue;
    }
    out.push_back(extract_scalar(*m.type, page.subspan(m.offset), m.bit_offset, m.bit_size));
  }
  return out;
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
    if (en.value >= 0 && en.value < limit && en.name != "__NR_PAGEFLAGS")
      entries_.push_back({en.name, static_cast<int>(en.value)});
  }
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
