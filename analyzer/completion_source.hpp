// SessionCompletionSource: the names Tab completion offers in a kdive session —
// the command registry and the alias table, and, with a dump open, the
// kernel's symbols (the vmlinux's and the loaded modules'), type names and
// variable types. The kernel's sorted name lists (NameLists) are built once,
// on a thread of their own started with the prompt, so the first Tab does
// not wait for a sort of 100k names; a Tab that comes sooner waits for them.
//
//   SessionCompletionSource source(session);
//   Completion c = complete_line(source, line, cursor);
#pragma once

#include <future>
#include <memory>

#include "analyzer/completer.hpp"
#include "kernel-model/name_lists.hpp"

namespace kdive {

class Session;

class SessionCompletionSource : public CompletionSource {
 public:
  explicit SessionCompletionSource(Session& session);
  ~SessionCompletionSource() override;
  // Waits until the background build of the name lists is over.
  void wait_until_prepared() {
    if (preparing_.valid()) preparing_.wait();
  }

  void commands(std::string_view prefix, std::vector<std::string>& out) override;
  const CommandSpec* command(std::string_view name) override;
  void symbols(std::string_view prefix, std::vector<std::string>& out) override;
  void types(NameKind kind, std::string_view prefix, std::vector<std::string>& out) override;
  const Type* symbol_type(std::string_view name) override;
  const Type* type_named(NameKind kind, std::string_view name) override;

 private:
  NameLists* names();

  Session& session_;
  std::unique_ptr<NameLists> names_;
  std::future<void> preparing_;
};

}  // namespace kdive
