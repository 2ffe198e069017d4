#include "analyzer/completion_source.hpp"

#include <algorithm>

#include "commands/api/command.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/modules.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {

SessionCompletionSource::SessionCompletionSource(Session& session) : session_(session) {
  if (!session_.has_kernel()) return;
  Kernel& k = session_.kernel();
  names_ = std::make_unique<NameLists>(&k.symbols(), &k.types());
  // Only the vmlinux's symbol table (fixed once the kernel is open) and the
  // DWARF index (made for use from any thread) are read there.
  preparing_ = std::async(std::launch::async, [lists = names_.get()] {
    try {
      lists->prepare();
    } catch (const std::exception&) {
      // No index: the lists stay empty and the Tab that needs one says nothing.
    }
  });
}

SessionCompletionSource::~SessionCompletionSource() {
  if (preparing_.valid()) preparing_.wait();
}

NameLists* SessionCompletionSource::names() { return names_.get(); }

void SessionCompletionSource::commands(std::string_view prefix, std::vector<std::string>& out) {
  for (const Command* c : CommandRegistry::instance().all()) {
    if (c->spec.name.starts_with(prefix)) out.emplace_back(c->spec.name);
    for (std::string_view alias : c->spec.aliases) {
      if (alias.starts_with(prefix)) out.emplace_back(alias);
    }
  }
  for (const Alias& a : session_.aliases().all()) {
    if (a.name.starts_with(prefix)) out.push_back(a.name);
  }
}

const CommandSpec* SessionCompletionSource::command(std::string_view name) {
  // An alias completes as the command it stands for ("alias pp ps -p": pp -<Tab>
  // offers ps's flags).
  std::string expanded;
  if (auto e = session_.aliases().expand(name)) {
    expanded = e->substr(0, e->find_first_of(" \t"));
    name = expanded;
  }
  const Command* c = CommandRegistry::instance().find(name);
  return c != nullptr ? &c->spec : nullptr;
}

void SessionCompletionSource::symbols(std::string_view prefix, std::vector<std::string>& out) {
  NameLists* lists = names();
  if (lists == nullptr) return;
  auto names = lists->symbols().with_prefix(prefix);
  out.reserve(out.size() + names.size());
  const size_t first = out.size();
  for (std::string_view s : names) out.emplace_back(s);
  try {
    // Kept in one sorted run (the completer then need not sort 100k names).
    const size_t modules_at = out.size();
    module_symbols_with_prefix(session_.kernel().modules(), prefix, out);
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(modules_at), out.end());
    std::inplace_merge(out.begin() + static_cast<std::ptrdiff_t>(first),
                       out.begin() + static_cast<std::ptrdiff_t>(modules_at), out.end());
  } catch (const std::exception&) {
    // The module list could not be read: the kernel's own symbols still complete.
  }
}

void SessionCompletionSource::types(NameKind kind, std::string_view prefix, std::vector<std::string>& out) {
  NameLists* lists = names();
  if (lists == nullptr) return;
  for (std::string_view s : lists->types(kind).with_prefix(prefix)) out.emplace_back(s);
}

const Type* SessionCompletionSource::symbol_type(std::string_view name) {
  if (!session_.has_kernel() || name.empty()) return nullptr;
  try {
    return session_.kernel().types().variable_type(name);
  } catch (const std::exception&) {
    return nullptr;  // unreadable DWARF for it: nothing to complete
  }
}

const Type* SessionCompletionSource::type_named(NameKind kind, std::string_view name) {
  if (!session_.has_kernel() || name.empty()) return nullptr;
  try {
    return session_.kernel().types().find(kind, name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace kdive
