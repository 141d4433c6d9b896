#include "daemon/config_watcher.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>

namespace sharekeeper::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct TempDir {
  TempDir() {
    path = fs::temp_directory_path() /
           ("sk_watch_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
  static inline int counter = 0;
};

struct Counter {
  std::mutex mu;
  std::condition_variable cv;
  int n = 0;
  void bump() {
    std::lock_guard lock(mu);
    ++n;
    cv.notify_all();
  }
  // Waits for the count to pass `than`; the deadline is a failure bound, not a sleep.
  bool wait_above(int than) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return n > than; });
  }
  int get() {
    std::lock_guard lock(mu);
    return n;
  }
};

void write_file(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

TEST(ConfigWatcher, SeesAnInPlaceWrite) {
  TempDir d;
  write_file(d.path / "c.yaml", "a: 1\n");
  Counter c;
  ConfigWatcher w(
      d.path / "c.yaml", [&] { c.bump(); }, 20ms);
  w.start();
  write_file(d.path / "c.yaml", "a: 2\n");
  EXPECT_TRUE(c.wait_above(0));
}

TEST(ConfigWatcher, SeesAnAtomicRenameReplace) {
  TempDir d;
  write_file(d.path / "c.yaml", "a: 1\n");
  Counter c;
  ConfigWatcher w(
      d.path / "c.yaml", [&] { c.bump(); }, 20ms);
  w.start();
  write_file(d.path / ".c.yaml.tmp", "a: 2\n");
  fs::rename(d.path / ".c.yaml.tmp", d.path / "c.yaml");
  EXPECT_TRUE(c.wait_above(0));
}

// Kubernetes ConfigMap volume layout: config.yaml -> ..data/config.yaml, ..data -> ..2026_v1; an
// update writes ..2026_v2, points ..data_tmp at it and renames ..data_tmp over ..data.
TEST(ConfigWatcher, SeesAConfigMapSymlinkSwapTwice) {
  TempDir d;
  fs::create_directory(d.path / "..v1");
  write_file(d.path / "..v1" / "config.yaml", "a: 1\n");
  fs::create_directory_symlink("..v1", d.path / "..data");
  fs::create_symlink("..data/config.yaml", d.path / "config.yaml");
  Counter c;
  ConfigWatcher w(
      d.path / "config.yaml", [&] { c.bump(); }, 20ms);
  w.start();
  for (int v = 2; v <= 3; ++v) {
    const int before = c.get();
    const std::string dir = "..v" + std::to_string(v);
    fs::create_directory(d.path / dir);
    write_file(d.path / dir / "config.yaml", "a: " + std::to_string(v) + "\n");
    fs::create_directory_symlink(dir, d.path / "..data_tmp");
    fs::rename(d.path / "..data_tmp", d.path / "..data");
    fs::remove_all(d.path / ("..v" + std::to_string(v - 1)));
    EXPECT_TRUE(c.wait_above(before)) << "swap " << v;
  }
}

// git-sync layout with the config as a directory inside the synced worktree: root/current -> rev-1,
// config path root/current/config (a directory of *.yaml).
TEST(ConfigWatcher, SeesAGitSyncWorktreeSwapOfADirectoryConfig) {
  TempDir d;
  fs::create_directories(d.path / "rev-1" / "config");
  write_file(d.path / "rev-1" / "config" / "a.yaml", "a: 1\n");
  fs::create_directory_symlink("rev-1", d.path / "current");
  const auto dirs = ConfigWatcher::watch_dirs(d.path / "current" / "config");
  EXPECT_TRUE(dirs.count(d.path)) << "the directory holding the swapped link is watched";
  Counter c;
  ConfigWatcher w(
      d.path / "current" / "config", [&] { c.bump(); }, 20ms);
  w.start();
  fs::create_directories(d.path / "rev-2" / "config");
  write_file(d.path / "rev-2" / "config" / "a.yaml", "a: 2\n");
  fs::create_directory_symlink("rev-2", d.path / "tmp-link");
  fs::rename(d.path / "tmp-link", d.path / "current");
  EXPECT_TRUE(c.wait_above(0));
  // And a later in-place edit inside the new worktree is seen (the watch followed the swap).
  const int before = c.get();
  write_file(d.path / "rev-2" / "config" / "b.yaml", "b: 1\n");
  EXPECT_TRUE(c.wait_above(before));
}

TEST(ConfigWatcher, DebouncesABurstIntoOneCallback) {
  TempDir d;
  write_file(d.path / "c.yaml", "a: 1\n");
  Counter c;
  ConfigWatcher w(
      d.path / "c.yaml", [&] { c.bump(); }, 1000ms);
  w.start();
  for (int i = 0; i < 20; ++i) write_file(d.path / "c.yaml", "a: " + std::to_string(i) + "\n");
  EXPECT_TRUE(c.wait_above(0));
  w.stop();
  EXPECT_LE(c.get(), 2);  // a burst well inside the window: typically exactly one
}

}  // namespace
}  // namespace sharekeeper::daemon
