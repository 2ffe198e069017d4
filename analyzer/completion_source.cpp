#include "analyzer/completion_source.hpp"

#include "commands/api/command.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/modules.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {

NameLists* SessionCompletionSource::names() {
  if (!session_.has_kernel()) return nullptr;
  if (!names_) {
    Kernel& k = session_.kernel();
    names_ = std::make_unique<NameLists>(&k.symbols(), &k.types());
  }
  return names_.get();
}

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
  for (std::string_view s : lists->symbols().with_prefix(prefix)) out.emplace_back(s);
  try {
    module_symbols_with_prefix(session_.kernel().modules(), prefix, out);
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
