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
  uint16_t type = 0;   // AUDIT_* message type (nlmsg_type)
  std::string text;    // the record's text, as auditd would log it after "type=N"
  std::string damage;  // set when this record, or the queue at this place, could not be read
};

// nullopt when the kernel has none of the queues. A queue is walked with the
// recovering list walk: a break, or a record that cannot be read, is a record
// with `damage` in its place.
std::optional<std::vector<AuditRecord>> read_audit_backlog(const Kernel& kernel);

}  // namespace kdive
