#include "capture/service/dump_store.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <regex>

namespace kdive::capture {
namespace fs = std::filesystem;
namespace {

constexpr size_t kDateLength = 19;  // "YYYY-MM-DD-HH:MM:SS"

const std::regex& name_shape() {
  static const std::regex re(R"(.+-\d{4}-\d\d-\d\d-\d\d:\d\d:\d\d(\.\d+)?)");
  return re;
}

// The sort key of a dump directory: its date, then the collision suffix.
std::pair<std::string, int> date_key(const std::string& name) {
  size_t dot = name.rfind('.');
  int suffix = 0;
  std::string base = name;
  if (dot != std::string::npos && dot + 1 < name.size() && name.find(':', dot) == std::string::npos) {
    suffix = std::atoi(name.c_str() + dot + 1);
    base = name.substr(0, dot);
  }
  return {base.size() >= kDateLength ? base.substr(base.size() - kDateLength) : base, suffix};
}

std::string human(uint64_t bytes) {
  if (bytes >= (1ull << 30)) return fmt::format("{:.1f} GiB", bytes / double(1ull << 30));
  if (bytes >= (1ull << 20)) return fmt::format("{:.1f} MiB", bytes / double(1ull << 20));
  return fmt::format("{} bytes", bytes);
}

}  // namespace

std::string dump_dir_name(const std::string& host, std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d-%H:%M:%S", &tm);
  return fmt::format("{}-{}", host.empty() ? "localhost" : host, date);
}

bool is_dump_dir_name(const std::string& name) { return std::regex_match(name, name_shape()); }

std::vector<std::string> DumpStore::dumps() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(savedir_, ec)) {
    std::error_code ec2;
    if (!e.is_directory(ec2) || e.is_symlink(ec2)) continue;
    std::string name = e.path().filename().string();
    if (is_dump_dir_name(name)) names.push_back(name);
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw StoreError(fmt::format("{}: cannot list: {}", savedir_, ec.message()));
  }
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    auto ka = date_key(a), kb = date_key(b);
    return ka != kb ? ka < kb : a < b;
  });
  return names;
}

std::vector<std::string> DumpStore::prune(int keep, std::ostream& log) const {
  std::vector<std::string> removed;
  if (keep <= 0) return removed;
  auto names = dumps();
  while (names.size() > static_cast<size_t>(keep)) {
    fs::path victim = fs::path(savedir_) / names.front();
    std::error_code ec;
    fs::remove_all(victim, ec);
    if (ec) throw StoreError(fmt::format("{}: cannot remove an old dump: {}", victim.string(), ec.message()));
    log << fmt::format("kdive-capture: removed old dump {} (keep_old_dumps = {})\n", victim.string(), keep);
    removed.push_back(names.front());
    names.erase(names.begin());
  }
  return removed;
}

uint64_t DumpStore::free_bytes() const {
  struct statvfs st {};
  if (statvfs(savedir_.c_str(), &st) != 0) {
    throw StoreError(fmt::format("{}: cannot read free space: {}", savedir_, std::strerror(errno)));
  }
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

void DumpStore::check_space(uint64_t min_free, uint64_t estimate) const {
  uint64_t free = free_bytes();
  if (free < estimate || free - estimate < min_free) {
    if (estimate > 0) {
      throw StoreError(fmt::format("{}: {} free, the dump needs about {} and min_free keeps {}: not saving", savedir_,
                                   human(free), human(estimate), human(min_free)));
    }
    throw StoreError(
        fmt::format("{}: {} free, less than min_free ({}): not saving", savedir_, human(free), human(min_free)));
  }
}

std::string DumpStore::create_dump_dir(const std::string& host, std::time_t when) const {
  std::error_code ec;
  fs::create_directories(savedir_, ec);
  if (ec) throw StoreError(fmt::format("{}: cannot create: {}", savedir_, ec.message()));
  std::string base = (fs::path(savedir_) / dump_dir_name(host, when)).string();
  for (int n = 0; n < 1000; ++n) {
    std::string path = n == 0 ? base : fmt::format("{}.{}", base, n);
    if (::mkdir(path.c_str(), 0700) == 0) return path;
    if (errno != EEXIST) throw StoreError(fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
  }
  throw StoreError(fmt::format("{}: a thousand dumps with this name exist", base));
}

}  // namespace kdive::capture
