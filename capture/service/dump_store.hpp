// DumpStore: the save directory as the capture service keeps it — one
// directory per crash, named <host>-<YYYY-MM-DD-HH:MM:SS> so that names sort by
// time, the oldest removed beyond keep_old_dumps, and a save refused before it
// starts when the file system would be left with less than min_free.
//
//   DumpStore store("/var/crash");
//   store.prune(5, std::cout);                           // keeps the 5 newest
//   store.check_space(512 << 20, estimate);               // throws StoreError
//   std::string dir = store.create_dump_dir("web1", std::time(nullptr));
//
// Only directories with that name shape are ever counted or removed: a save
// directory shared with other files (a user's notes) loses nothing else.
#pragma once

#include <cstdint>
#include <ctime>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kdive::capture {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "<host>-2026-12-02-16:14:38" for WHEN in UTC (the capture kernel has no
// time zone data).
std::string dump_dir_name(const std::string& host, std::time_t when);
// True if NAME has the shape dump_dir_name makes (any host).
bool is_dump_dir_name(const std::string& name);

class DumpStore {
 public:
  explicit DumpStore(std::string savedir) : savedir_(std::move(savedir)) {}

  const std::string& savedir() const { return savedir_; }

  // The dump directories in savedir, oldest first (by the time in the name).
  std::vector<std::string> dumps() const;

  // Removes the oldest dump directories until at most KEEP remain; KEEP 0
  // keeps all. Says on LOG what it removed. Returns the names removed.
  std::vector<std::string> prune(int keep, std::ostream& log) const;

  // Bytes available to an unprivileged writer in savedir's file system.
  uint64_t free_bytes() const;

  // Throws StoreError (naming the numbers) unless free space minus ESTIMATE
  // stays at or above MIN_FREE.
  void check_space(uint64_t min_free, uint64_t estimate) const;

  // Creates <savedir>/<name> (savedir itself too, if missing); if that exists
  // (two crashes within one second), <name>.1, <name>.2, ... Returns the path.
  std::string create_dump_dir(const std::string& host, std::time_t when) const;

 private:
  std::string savedir_;
};

}  // namespace kdive::capture
