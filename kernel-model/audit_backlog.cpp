#include "kernel-model/audit_backlog.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/object_links.hpp"

namespace kdive {
namespace {

// A queue longer than this is a corrupted list, not a backlog (the kernel's
// audit_backlog_limit defaults to 64 and is rarely raised past a few thousand).
constexpr uint64_t kMaxQueued = 1 << 20;
constexpr uint64_t kNlmsgHeader = 16;  // struct nlmsghdr, part of the netlink ABI
constexpr uint32_t kMaxRecord = 1 << 16;

// One queued record, or a record naming why it could not be read.
AuditRecord read_record(const Kernel& k, const Object& skb) {
  AuditRecord r;
  try {
    VirtAddr data = skb["data"].pointer();
    uint32_t len = static_cast<uint32_t>(skb["len"].as_u64());
    if (data.is_null() || len < kNlmsgHeader) {
      r.damage =
          fmt::format("sk_buff {:x}: no netlink message (data {:x}, len {})", skb.address().value(), data.value(), len);
      return r;
    }
    // The netlink header: u32 nlmsg_len, u16 nlmsg_type, ...
    uint32_t msg_len = k.memory().read<uint32_t>(data);
    r.type = k.memory().read<uint16_t>(data + sizeof(uint32_t));
    uint32_t text_len = std::min({len, msg_len, kMaxRecord});
    if (text_len > kNlmsgHeader) {
      std::string text(text_len - kNlmsgHeader, '\0');
      k.memory().read(data + kNlmsgHeader, {reinterpret_cast<std::byte*>(text.data()), text.size()});
      text.resize(std::min(text.find('\0'), text.size()));
      r.text = std::move(text);
    }
  } catch (const ModelError& e) {
    r.damage = fmt::format("sk_buff {:x}: {}", skb.address().value(), e.what());
  }
  return r;
}

// An sk_buff_head and its sk_buffs begin with { next; prev; }, the shape of a
// list_head ring, so the recovering list walk applies.
void read_queue(const Kernel& k, std::string_view symbol, std::vector<AuditRecord>& out) {
  const VirtAddr head = k.symbol_address(symbol);
  const Type& sk_buff = k.types().require("struct sk_buff");
  Walked<VirtAddr> queue = walk_list(k.memory(), head, member_offset(sk_buff, "next"), kMaxQueued);
  for (size_t i = 0; i <= queue.entries.size(); ++i) {
    for (const WalkBreak* b : queue.breaks_at(i)) {
      AuditRecord r;
      r.damage = fmt::format("{} at {}", symbol, b->describe());
      out.push_back(std::move(r));
    }
    if (i < queue.entries.size()) out.push_back(read_record(k, Object(k, queue.entries[i], &sk_buff)));
  }
}

}  // namespace

std::optional<std::vector<AuditRecord>> read_audit_backlog(const Kernel& k) {
  // kernel/audit.c: the 4.11 rework (kauditd with retry and hold queues)
  // renamed audit_skb_queue to audit_queue.
  static const char* const kQueues[] = {"audit_queue", "audit_retry_queue", "audit_hold_queue", "audit_skb_queue"};
  bool any = false;
  std::vector<AuditRecord> out;
  for (const char* q : kQueues) {
    if (k.symbols().find(q) == nullptr) continue;
    any = true;
    read_queue(k, q, out);
  }
  if (!any) return std::nullopt;
  return out;
}

}  // namespace kdive
