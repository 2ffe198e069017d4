// The kernel audit backlog: audit records queued for auditd (kauditd) that had
// not been delivered when the kernel crashed. They sit as netlink messages in
// sk_buff queues — audit_queue, audit_retry_queue and audit_hold_queue since
// 4.11, audit_skb_queue before.
//
//   std::optional<std::vector<AuditRecord>> q = read_audit_backlog(kernel);
//   if (!q) ...   // this kernel has no audit queue (CONFIG_AUDIT off)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kdive {

class Kernel;

struct AuditRecord {
  uint16_t type = 0;  // AUDIT_* message type (nlmsg_type)
  std::string text;   // the record's text, as auditd would log it after "type=N"
};

// nullopt when the kernel has none of the queues; a queue that cannot be
// walked throws Fault.
std::optional<std::vector<AuditRecord>> read_audit_backlog(const Kernel& kernel);

}  // namespace kdive
