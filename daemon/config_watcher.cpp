#include "daemon/config_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace sharekeeper::daemon {

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

}  // namespace

std::set<fs::path> ConfigWatcher::watch_dirs(const fs::path& path) {
  std::set<fs::path> dirs;
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec).lexically_normal();
  if (ec) return dirs;
  auto add = [&](const fs::path& d) {
    if (!d.empty() && is_dir(d)) dirs.insert(d);
  };
  if (is_dir(abs)) add(abs);
  add(abs.parent_path());
  // Every symlink on the way (a ConfigMap's `config.yaml -> ..data/config.yaml`, git-sync's
  // `current -> rev-abc`): the swap renames an entry in the directory that holds the link.
  fs::path prefix;
  for (const auto& part : abs) {
    prefix /= part;
    if (fs::is_symlink(prefix, ec)) {
      add(prefix.parent_path());
      fs::path target = fs::read_symlink(prefix, ec);
      if (!ec) {
        if (target.is_relative()) target = prefix.parent_path() / target;
        target = target.lexically_normal();
        add(is_dir(target) ? target : target.parent_path());
      }
    }
  }
  const fs::path real = fs::canonical(abs, ec);
  if (!ec) {
    if (is_dir(real)) add(real);
    add(real.parent_path());
  }
  return dirs;
}

ConfigWatcher::ConfigWatcher(fs::path path, std::function<void()> on_change,
                             std::chrono::milliseconds debounce)
    : path_(std::move(path)), on_change_(std::move(on_change)), debounce_(debounce) {}

ConfigWatcher::~ConfigWatcher() { stop(); }

void ConfigWatcher::start() {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0)
    throw std::runtime_error(std::string("inotify_init1: ") + std::strerror(errno));
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  rearm();
  thread_ = std::thread([this] { loop(); });
}

void ConfigWatcher::stop() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  inotify_fd_ = stop_fd_ = -1;
}

void ConfigWatcher::rearm() {
  const auto want = watch_dirs(path_);
  std::map<int, fs::path> next;
  for (const auto& d : want) {
    const int wd = inotify_add_watch(inotify_fd_, d.c_str(), kMask);
    if (wd >= 0) next[wd] = d;  // the same inode answers the same wd
  }
  for (const auto& [wd, d] : watches_)
    if (next.count(wd) == 0) inotify_rm_watch(inotify_fd_, wd);
  watches_ = std::move(next);
}

void ConfigWatcher::loop() {
  alignas(inotify_event) char buf[16 * 1024];
  bool pending = false;
  for (;;) {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    // While a change is pending, wait only for quiet; then report once.
    const int timeout = pending ? static_cast<int>(debounce_.count()) : -1;
    const int n = ::poll(fds, 2, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    if (fds[1].revents & POLLIN) return;
    if (n == 0) {
      pending = false;
      rearm();
      on_change_();
      continue;
    }
    if (fds[0].revents & POLLIN) {
      while (::read(inotify_fd_, buf, sizeof buf) > 0) {
      }
      pending = true;
      // A symlink swap may have replaced a watched directory: follow it now, so a second swap
      // inside the debounce window is seen too.
      rearm();
    }
  }
}

}  // namespace sharekeeper::daemon
