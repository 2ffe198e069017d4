#include "commands/struct_command.hpp"

#include <fmt/format.h>

#include <memory>

#include "commands/address_arg.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/container_args.hpp"
#include "commands/context_space.hpp"
#include "commands/cpu_list.hpp"
#include "commands/offline_cpus.hpp"
#include "commands/struct_display.hpp"
#include "commands/type_layout.hpp"
#include "commands/value_format.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/task_sources.hpp"
#include "readers/byte_source.hpp"

namespace kdive {

std::vector<OptionSpec> struct_command_options() {
  return {{'o', "", "show member offsets (with an address: member addresses)"},
          {'l', "offset", "the address points at this member (struct.member or bytes) inside the instance"},
          {'r', "", "raw dump of the instance's bytes"},
          {'f', "", "the address is an offset into the dump file"},
          {'u', "", "the address is a user virtual address of the current context"},
          {'p', "", "follow pointer members: show their type and what they point at"},
          {'c', "count", "count of instances (may be negative); for when it is not last"},
          {'x', "", "integers in hexadecimal"},
          {'d', "", "integers in decimal (the default)"}};
}

namespace {

enum class Memory { Kernel, User, DumpFile };

struct Request {
  StructTarget target;
  std::optional<uint64_t> address;
  std::optional<std::vector<int>> cpus;  // :cpuspec
  int64_t count = 1;
  Memory memory = Memory::Kernel;
  int radix = 10;
};

int64_t parse_signed_count(std::string_view c) {
  bool negative = !c.empty() && c[0] == '-';
  if (negative) c.remove_prefix(1);
  auto count = static_cast<int64_t>(parse_count(c));
  if (count == 0) throw CommandError("the count must not be 0");
  return negative ? -count : count;
}

Request parse_request(Session& session, const ParsedArgs& args, std::string_view keyword) {
  const Kernel& k = session.kernel();
  const auto& pos = args.positional();
  if (pos.empty())
    throw CommandError(fmt::format("a {} name is required", keyword.empty() ? "struct or union" : keyword));
  if (args.has('x') && args.has('d')) throw CommandError("-x and -d exclude each other");
  if (args.has('u') && args.has('f')) throw CommandError("-u and -f exclude each other");
  Request r;
  r.target = parse_struct_target(k.types(), pos[0], keyword);
  r.radix = args.has('x') ? 16 : args.has('d') ? 10 : session.settings().radix;
  r.memory = args.has('u') ? Memory::User : args.has('f') ? Memory::DumpFile : Memory::Kernel;
  const size_t max_words = args.has('c') ? 2 : 3;
  if (pos.size() > max_words) throw CommandError(fmt::format("unexpected argument '{}'", pos[max_words]));
  if (pos.size() >= 2) {
    CpuSuffix word = split_cpu_suffix(pos[1]);
    if (word.cpus) {
      if (r.memory != Memory::Kernel) throw CommandError("a :cpuspec names per-CPU kernel data: not with -u or -f");
      const Task& context = session.context();
      r.cpus = parse_cpu_spec(*word.cpus, possible_cpus(k), context.cpu);
    }
    if (r.memory == Memory::DumpFile) {
      auto offset = parse_number(word.base, 10);
      if (!offset) throw CommandError(fmt::format("invalid dump file offset: '{}'", word.base));
      r.address = *offset;
    } else if (r.memory == Memory::User) {
      r.address = parse_address(&k, word.base).value();
    } else {
      r.address = parse_start(k, word.base);
    }
  }
  if (pos.size() == 3) r.count = parse_signed_count(pos[2]);
  if (auto c = args.value('c')) r.count = parse_signed_count(*c);
  if ((pos.size() == 3 || args.has('c')) && !r.address) throw CommandError("a count needs an address");
  if (args.has('p') && !r.address) throw CommandError("-p needs an address");
  if (args.has('p') && r.memory != Memory::Kernel) throw CommandError("-p follows kernel pointers: not with -u or -f");
  if (args.has('r') && !r.address) throw CommandError("-r needs an address");
  if (args.has('o') && r.address && r.target.members.size() > 1) {
    throw CommandError("-o with an address shows one member, or the whole struct");
  }
  if (auto l = args.value('l')) {
    if (!r.address) throw CommandError("-l needs an address");
    *r.address -= parse_member_offset(k, *l);
  }
  return r;
}

// The memory the instances are read from.
std::unique_ptr<EvalContext> memory_context(Session& session, const Request& r) {
  const Kernel& k = session.kernel();
  if (r.memory == Memory::User) {
    auto space = std::make_shared<AddressSpace>(
        context_space(k, session.context(), VirtAddr{*r.address}, AddressSpace::Kind::User));
    return std::make_unique<ReaderEvalContext>(k,
                                               [space](VirtAddr a, std::span<std::byte> out) { space->read(a, out); });
  }
  if (r.memory == Memory::DumpFile) {
    const auto& dumps = session.files().dumps;
    if (dumps.size() != 1) {
      throw CommandError(dumps.empty() ? "-f reads the dump file: none is open"
                                       : "-f reads one dump file: this dump is split into several");
    }
    std::shared_ptr<FileSource> file = FileSource::open(dumps.front());
    const uint64_t span = r.target.type->size() * static_cast<uint64_t>(std::abs(r.count));
    if (*r.address > file->size() || span > file->size() - *r.address) {
      throw CommandError(
          fmt::format("offset {} is past the end of {} ({} bytes)", *r.address, file->name(), file->size()));
    }
    return std::make_unique<ReaderEvalContext>(k, [file](VirtAddr a, std::span<std::byte> out) {
      if (!file->read(a.value(), out)) {
        throw Error(Error::Kind::BadData, fmt::format("offset {} is past the end of {}", a.value(), file->name()));
      }
    });
  }
  return std::make_unique<KernelEvalContext>(k);
}

// `count` instances from `address` (a negative count: those before it, ending with it).
Json print_instances(Session& session, const ParsedArgs& args, const Request& r, uint64_t address, Output& out) {
  const Kernel& k = session.kernel();
  const uint64_t size = r.target.type->size();
  int64_t count = r.count;
  if (count < 0) {
    address -= static_cast<uint64_t>(-count - 1) * size;
    count = -count;
  }
  std::unique_ptr<EvalContext> ctx = memory_context(session, r);
  ValueFormat f = value_format_for(k, r.radix, session.settings());
  Json instances = Json::array();
  for (int64_t i = 0; i < count; ++i) {
    uint64_t at = address + static_cast<uint64_t>(i) * size;
    if (i > 0 && (r.target.members.empty() || args.has('r'))) out.print("\n");
    if (args.has('o')) {
      // Each member of each instance, told apart by their addresses.
      for (Json& member : print_member_addresses(r.target, at, out)) instances.push_back(std::move(member));
    } else if (args.has('r')) {
      instances.push_back(print_raw_instance(*ctx, r.target, at, out));
    } else if (args.has('p') && r.target.members.empty()) {
      instances.push_back(print_dereferenced_instance(k, r.target, at, f, out));
    } else {
      instances.push_back(print_struct_instance(*ctx, r.target, at, f, out));
    }
  }
  return instances;
}

}  // namespace

void run_struct_command(Session& session, const ParsedArgs& args, Output& out, std::string_view keyword) {
  const Kernel& k = session.kernel();
  Request r = parse_request(session, args, keyword);

  if (!r.address) {
    TypeLayoutOptions o{.offsets = args.has('o'), .radix = r.radix};
    if (r.target.members.empty()) {
      out.write(format_layout(*r.target.type, o));
      out.result(layout_json(*r.target.type));
    } else {
      out.write(format_member_layout(*r.target.type, r.target.members, o));
      out.result(member_layout_json(*r.target.type, r.target.members));
    }
    return;
  }
  if (!r.cpus) return out.result(print_instances(session, args, r, *r.address, out));
  // Per-CPU: the address is an offset into each CPU's area.
  Json all = Json::array();
  const OfflineCpus offline(session);
  for (int cpu : *r.cpus) {
    if (offline.hidden(cpu)) {
      out.print("[{}]: [OFFLINE]\n", cpu);
      all.push_back({{"cpu", cpu}, {"offline", true}});
      continue;
    }
    uint64_t at = *r.address + k.per_cpu_offset(cpu);
    out.print("[{}]: {:x}\n", cpu, at);
    all.push_back({{"cpu", cpu}, {"address", json_hex(at)}, {"instances", print_instances(session, args, r, at, out)}});
  }
  out.result(std::move(all));
}

}  // namespace kdive
