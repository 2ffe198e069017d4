#include "kernel-model/audit_backlog.hpp"

#include <algorithm>

#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// A queue longer than this is a corrupted list, not a backlog (the kernel's
// audit_backlog_limit defaults to 64 and is rarely raised past a few thousand).
constexpr uint64_t kMaxQueued = 1 << 20;
constexpr uint64_t kNlmsgHeader = 16;  // struct nlmsghdr, part of the netlink ABI
constexpr uint32_t kMaxRecord = 1 << 16;

void read_queue(const Kernel& k, std::string_view symbol, std::vector<AuditRecord>& out) {
  Object head = k.object(symbol);  // struct sk_buff_head
  const VirtAddr end = head.address();
  const Type& sk_buff = k.types().require("struct sk_buff");
  VirtAddr skb = head["next"].pointer();
  for (uint64_t n = 0; skb != end && !skb.is_null() && n < kMaxQueued; ++n) {
    Object s(k, skb, &sk_buff);
    VirtAddr data = s["data"].pointer();
    uint32_t len = static_cast<uint32_t>(s["len"].as_u64());
    if (!data.is_null() && len >= kNlmsgHeader) {
      // The netlink header: u32 nlmsg_len, u16 nlmsg_type, ...
      uint32_t msg_len = k.memory().read<uint32_t>(data);
      AuditRecord r;
      r.type = k.memory().read<uint16_t>(data + sizeof(uint32_t));
      uint32_t text_len = std::min({len, msg_len, kMaxRecord});
      if (text_len > kNlmsgHeader) {
        std::string text(text_len - kNlmsgHeader, '\0');
        k.memory().read(data + kNlmsgHeader, {reinterpret_cast<std::byte*>(text.data()), text.size()});
        text.resize(std::min(text.find('\0'), text.size()));
        r.text = std::move(text);
      }
      out.push_back(std::move(r));
    }
    skb = s["next"].pointer();
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
