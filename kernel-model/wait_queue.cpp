#include "kernel-model/wait_queue.hpp"

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/object_links.hpp"
#include "kernel-model/tasks.hpp"

namespace kdive {
namespace {

// A wait queue with more waiters than this loops.
constexpr size_t kMaxWaiters = 1u << 16;

}  // namespace

Walked<WaitQueueEntry> read_wait_queue(const Kernel& k, VirtAddr head) {
  TypeSystem& types = k.types();
  const Type* head_type = types.lookup("struct wait_queue_head");
  const Type* entry_type = types.lookup("struct wait_queue_entry");
  const char* head_member = "head";
  const char* entry_member = "entry";
  if (head_type == nullptr || entry_type == nullptr) {
    // Before 4.13: struct __wait_queue_head { lock; task_list } and
    // struct __wait_queue { flags; private; func; task_list }.
    head_type = types.lookup("struct __wait_queue_head");
    entry_type = types.lookup("struct __wait_queue");
    head_member = entry_member = "task_list";
  }
  if (head_type == nullptr || entry_type == nullptr) {
    throw Error(Error::Kind::Unsupported, "this kernel has neither struct wait_queue_head nor __wait_queue_head");
  }
  Walked<VirtAddr> w = walk_list(k.memory(), head + member_offset(*head_type, head_member),
                                 member_offset(*entry_type, entry_member), kMaxWaiters);
  Walked<WaitQueueEntry> out;
  out.breaks = std::move(w.breaks);
  for (VirtAddr a : w.entries) {
    Object e(k, a, entry_type);
    WaitQueueEntry we{.entry = a, .private_ = {}, .func = {}, .flags = 0, .task = {}};
    try {
      we.private_ = e["private"].pointer();
      we.func = e["func"].pointer();
      we.flags = static_cast<uint32_t>(e["flags"].as_u64());
    } catch (const ModelError& err) {
      out.breaks.push_back({out.entries.size(), a, err.what()});
      continue;
    }
    if (k.tasks().by_address(we.private_) != nullptr) we.task = we.private_;
    out.entries.push_back(we);
  }
  return out;
}

}  // namespace kdive
