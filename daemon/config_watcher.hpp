#pragma once
// Tells the daemon when its config may have changed on disk, with inotify. Watches the directories
// where a change can appear, not only the file: editors replace files by rename, Kubernetes
// ConfigMaps swap a `..data` symlink in the mount directory, and git-sync swaps a symlink in its
// root. So it watches the config path itself (when a directory), its parent, and the directory
// holding every symlink on the way to it, re-arming after each batch of events since a swap moves
// the real target. Events are debounced; the callback only says "look again" (the reload compares
// content hashes). The callback runs on the watcher's own thread.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>

namespace sharekeeper::daemon {

class ConfigWatcher {
 public:
  ConfigWatcher(std::filesystem::path path, std::function<void()> on_change,
                std::chrono::milliseconds debounce = std::chrono::milliseconds(200));
  ~ConfigWatcher();
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // Throws std::runtime_error when inotify is unavailable.
  void start();
  void stop();

  // The directories that would be watched for `path` now (exposed for tests).
  static std::set<std::filesystem::path> watch_dirs(const std::filesystem::path& path);

 private:
  void rearm();
  void loop();

  std::filesystem::path path_;
  std::function<void()> on_change_;
  std::chrono::milliseconds debounce_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;
  std::map<int, std::filesystem::path> watches_;  // wd -> dir
  std::thread thread_;
};

}  // namespace sharekeeper::daemon
