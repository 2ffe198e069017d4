// kdive-dump: filters and compresses a crash dump (makedumpfile's job). See
// dump_help() in dump_options.cpp for the command line.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "capture/dump/dump_options.hpp"
#include "capture/dump/filter_classifier.hpp"
#include "capture/filter/dmesg_extract.hpp"
#include "capture/filter/page_class.hpp"
#include "capture/filter/vmlinux_vmcoreinfo.hpp"
#include "capture/writers/dump_copier.hpp"
#include "capture/writers/output_sink.hpp"
#include "capture/writers/rearrange.hpp"
#include "capture/writers/staged_file.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/printk_log.hpp"
#include "readers/byte_reader.hpp"
#include "readers/open_dump.hpp"

using namespace kdive;
using namespace kdive::capture;

namespace {

std::atomic<int> g_stop{0};
static_assert(std::atomic<int>::is_always_lock_free);

void on_signal(int sig) { g_stop.store(sig); }

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A reader that goes away (ssh dropped) is a write error, not a silent death.
  signal(SIGPIPE, SIG_IGN);
}

int fail(const std::string& line) {
  std::fprintf(stderr, "kdive-dump: %s\n", line.c_str());
  return 1;
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a stop request"; }

// "Copying data : [ 45.0 %]" on a terminal; nothing otherwise.
class Progress {
 public:
  explicit Progress(bool on) : on_(on && isatty(STDERR_FILENO)) {}
  void operator()(uint64_t done, uint64_t total) {
    if (!on_ || total == 0) return;
    int tenths = static_cast<int>(done * 1000 / total);
    if (tenths == last_) return;
    last_ = tenths;
    std::fprintf(stderr, "\rCopying data                      : [%5.1f %%] ", tenths / 10.0);
    std::fflush(stderr);
  }
  void end() {
    if (on_ && last_ >= 0) std::fputc('\n', stderr);
  }

 private:
  bool on_;
  int last_ = -1;
};

void print_report(std::FILE* out, const DumpOptions& o, const CopyResult& r) {
  std::fprintf(out, "Pages left out at dump level %d:\n", o.dump_level);
  for (PageClass c : {PageClass::Zero, PageClass::Cache, PageClass::CachePrivate, PageClass::User, PageClass::Free,
                      PageClass::Hwpoison, PageClass::Offline}) {
    std::fprintf(out, "  %-15s %12llu\n", std::string(to_string(c)).c_str(),
                 static_cast<unsigned long long>(r.counts[c]));
  }
  uint64_t excluded = 0;
  for (size_t i = 0; i < kPageClassCount; ++i) {
    auto c = static_cast<PageClass>(i);
    if (c != PageClass::Kept && c != PageClass::Hole) excluded += r.counts[c];
  }
  std::fprintf(out, "  %-15s %12llu\n", "total", static_cast<unsigned long long>(excluded));
  if (r.source_excluded) {
    std::fprintf(out, "  %-15s %12llu (already left out in the source)\n", "source",
                 static_cast<unsigned long long>(r.source_excluded));
  }
  std::fprintf(out, "Pages written: %llu\n", static_cast<unsigned long long>(r.counts[PageClass::Kept]));
}

// Warnings of the source that make a copy of it a lie: refused.
bool fatal_warning(const std::string& w) { return w.find("truncated") != std::string::npos; }

std::unique_ptr<DumpSource> open_source(const DumpOptions& o) {
  auto source = open_dump({o.source});
  for (const std::string& w : source->warnings()) {
    if (fatal_warning(w)) throw FormatError(w);
    if (o.message_level & kMessageCommon) std::fprintf(stderr, "kdive-dump: warning: %s\n", w.c_str());
  }
  return source;
}

// The codec must round-trip here, now: a build without it must not quietly
// write something else (Debian's makedumpfile writes raw pages instead).
void check_codec(PageCodec codec) {
  if (codec == PageCodec::Raw) return;
  std::vector<std::byte> page(4096);
  for (size_t i = 0; i < page.size(); ++i) page[i] = static_cast<std::byte>(i / 64);
  auto packed = compress_page(codec, page);
  std::vector<std::byte> back(page.size());
  if (!packed || !decompress_page(codec, *packed, back) || back != page) {
    throw std::runtime_error(
        fmt::format("{} compression does not work in this build; refusing to write "
                    "uncompressed pages instead",
                    to_string(codec)));
  }
}

int finish_copy(const DumpOptions& o, const CopyResult& r, std::vector<std::unique_ptr<StagedFile>>& staged,
                Progress& progress) {
  progress.end();
  std::FILE* report = o.mode == DumpMode::Flatten ? stderr : stdout;
  if (r.unreadable) {
    std::string list;
    for (uint64_t pfn : r.unreadable_pfns) list += fmt::format(" {:#x}", pfn);
    std::fprintf(stderr, "kdive-dump: warning: %llu pages of the source are damaged and were left out (PFN%s%s)\n",
                 static_cast<unsigned long long>(r.unreadable), list.c_str(),
                 r.unreadable > r.unreadable_pfns.size() ? " ..." : "");
  }
  if (r.source_missing && (o.message_level & kMessageCommon)) {
    std::fprintf(stderr, "kdive-dump: warning: %llu pages inside the source's memory ranges are not in it\n",
                 static_cast<unsigned long long>(r.source_missing));
  }
  if (r.complete) {
    try {
      for (auto& s : staged) s->commit();
    } catch (const StageError& e) {
      return fail(e.what());
    }
    if (o.message_level & kMessageReport) print_report(report, o, r);
    return 0;
  }
  std::string why = r.stopped_by ? fmt::format("interrupted by {}", signal_name(r.stopped_by)) : r.error;
  std::string kept;
  try {
    for (auto& s : staged) {
      // Not even a header made it (no room at all): an empty file is no dump;
      // the temporary goes away with `s`.
      struct stat st {};
      if (::fstat(s->fd(), &st) == 0 && st.st_size == 0) continue;
      kept += (kept.empty() ? "" : ", ") + s->keep_incomplete();
    }
  } catch (const StageError& e) {
    return fail(fmt::format("{}; and {}", why, e.what()));
  }
  if (staged.empty()) return fail(fmt::format("{}; the stream says the dump is incomplete", why));
  if (kept.empty()) return fail(fmt::format("{}; nothing could be written", why));
  return fail(
      fmt::format("{}; the {} pages written are kept in {} (marked incomplete)", why, r.counts[PageClass::Kept], kept));
}

// The VMCOREINFO the filter reads when the source has none: from -x VMLINUX.
// The dump's own note wins; levels 0 and 1 need none.
std::string vmcoreinfo_for_filter(const DumpOptions& o, const DumpSource& source) {
  constexpr int kStructPageLevels = 2 | 4 | 8 | 16;
  if (!o.vmlinux || !(o.dump_level & kStructPageLevels)) return {};
  const bool say = (o.message_level & kMessageCommon) != 0;
  if (!source.notes().vmcoreinfo.empty()) {
    if (say) std::fprintf(stderr, "kdive-dump: the dump has VMCOREINFO: it is used, not -x %s\n", o.vmlinux->c_str());
    return {};
  }
  VmlinuxVmcoreinfo v;
  try {
    auto kernel = Kernel::open(*o.vmlinux, {o.source});
    v = vmcoreinfo_from_vmlinux(*kernel);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("-x {}: {}", *o.vmlinux, e.what()));
  }
  if (say) {
    std::fprintf(stderr, "kdive-dump: the dump has no VMCOREINFO; using %s\n", v.source.c_str());
    for (const std::string& n : v.notes) std::fprintf(stderr, "kdive-dump: note: %s\n", n.c_str());
  }
  return v.text;
}

int run_copy(const DumpOptions& o) {
  check_codec(o.codec);
  auto source = open_source(o);
  ClassifierFactory classifier = filter_classifier(*source, o.dump_level, vmcoreinfo_for_filter(o, *source));
  if (o.mode == DumpMode::Flatten && isatty(STDOUT_FILENO)) {
    return fail("-F writes a binary stream to stdout, which is a terminal: redirect it");
  }

  std::vector<std::unique_ptr<StagedFile>> staged;
  std::vector<std::unique_ptr<OutputSink>> sinks;
  if (o.mode == DumpMode::Flatten) {
    sinks.push_back(std::make_unique<FlattenedSink>(STDOUT_FILENO, "<stdout>"));
  } else {
    for (const std::string& dst : o.outputs) {
      staged.push_back(std::make_unique<StagedFile>(dst));
      sinks.push_back(std::make_unique<FileSink>(staged.back()->fd(), dst));
    }
  }
  std::vector<OutputSink*> sink_ptrs;
  for (auto& s : sinks) sink_ptrs.push_back(s.get());

  Progress progress((o.message_level & kMessageProgress) != 0);
  CopyOptions copy;
  copy.dump_level = o.dump_level;
  copy.codec = o.codec;
  copy.format = o.elf ? OutputFormat::Elf : OutputFormat::Kdump;
  copy.threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  copy.stop = &g_stop;
  copy.progress = [&](uint64_t done, uint64_t total) { progress(done, total); };
  CopyResult r = copy_dump(*source, classifier, sink_ptrs, copy);
  return finish_copy(o, r, staged, progress);
}

int run_rearrange(const DumpOptions& o) {
  if (isatty(STDIN_FILENO)) return fail("-R reads a flattened stream from stdin, which is a terminal");
  StagedFile staged(o.outputs[0]);
  FileSink sink(staged.fd(), o.outputs[0]);
  RearrangeResult r;
  try {
    r = rearrange_flattened(STDIN_FILENO, "<stdin>", sink, &g_stop);
  } catch (const WriteError& e) {
    std::string kept = staged.keep_incomplete();
    return fail(fmt::format("{}; what was received is kept in {}", e.what(), kept));
  }
  if (r.complete && !r.dump_incomplete) {
    staged.commit();
    return 0;
  }
  std::string why = r.stopped_by ? fmt::format("interrupted by {}", signal_name(r.stopped_by))
                    : r.complete ? "the sender says the dump is incomplete"
                                 : r.problem;
  std::string kept = staged.keep_incomplete();
  return fail(fmt::format("{}: {}; what was received is kept in {} (marked incomplete)", o.outputs[0], why, kept));
}

// The log as dmesg prints it. VMCOREINFO alone finds it (the capture kernel
// has no vmlinux); -x VMLINUX serves dumps whose VMCOREINFO lacks the log's
// keys.
std::vector<std::string> dmesg_of(const DumpOptions& o) {
  if (!o.vmlinux) return extract_dmesg(*open_dump({o.source})).lines;
  auto kernel = Kernel::open(*o.vmlinux, {o.source});
  std::vector<std::string> lines;
  for (const LogRecord& r : read_printk_log(*kernel)) {
    if (!r.damage.empty()) {
      lines.push_back(fmt::format("[kdive-dump: a log record could not be read: {}]", r.damage));
      continue;
    }
    for (std::string& line : dmesg_lines(r.ts_nsec, r.text)) lines.push_back(std::move(line));
  }
  return lines;
}

int run_dump_dmesg(const DumpOptions& o) {
  StagedFile staged(o.outputs[0]);  // a missing directory is said before the slow part
  std::string text;
  for (const std::string& line : dmesg_of(o)) {
    text += line;
    text += '\n';
  }
  FileSink sink(staged.fd(), o.outputs[0]);
  sink.write_at(0, std::as_bytes(std::span(text)));
  staged.commit();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  DumpOptions o;
  try {
    o = parse_dump_options(argc, argv);
  } catch (const UsageError& e) {
    return fail(e.what());
  }
  if (o.help) {
    std::cout << dump_help();
    return 0;
  }
  install_signals();
  try {
    switch (o.mode) {
      case DumpMode::Dump:
      case DumpMode::Flatten:
        return run_copy(o);
      case DumpMode::Rearrange:
        return run_rearrange(o);
      case DumpMode::DumpDmesg:
        return run_dump_dmesg(o);
    }
  } catch (const std::exception& e) {
    // FormatError, FilterError, StageError, WriteError, Error: each one line.
    return fail(e.what());
  }
  return 1;
}
