#pragma once
// Process harness for the daemon's integration and end-to-end tests: starts `sharekeeper-emulator`
// and `sharekeeper run` as real processes on port 0, reads their bound ports, talks HTTP to them,
// and stops them with signals. Every wait polls a condition under a deadline; none sleeps a fixed
// time.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../unit/daemon/support/http_client.hpp"

extern char** environ;

namespace sharekeeper::daemon::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file_atomic(const fs::path& p, const std::string& content) {
  const fs::path tmp = p.parent_path() / ("." + p.filename().string() + ".tmp");
  std::ofstream(tmp, std::ios::binary) << content;
  fs::rename(tmp, p);
}

// Polls `pred` every 20 ms until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

struct TempDir {
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("sk_it_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

// A child process with stdout and stderr in files.
class Process {
 public:
  Process(std::vector<std::string> argv, const fs::path& out, const fs::path& err,
          const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> envs;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv = *e;
      if (env.count(kv.substr(0, kv.find('='))) == 0) envs.push_back(kv);
    }
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> av, ev;
    for (auto& a : argv) av.push_back(a.data());
    av.push_back(nullptr);
    for (auto& e : envs) ev.push_back(e.data());
    ev.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int rc = posix_spawn(&pid_, av[0], &fa, nullptr, av.data(), ev.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  }
  ~Process() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int s) { ::kill(pid_, s); }
  // The exit code (128+signal when killed), or nullopt when still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (exit_code_) return exit_code_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return exit_code_;
      }
      std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
  }
  bool running() {
    if (exit_code_) return false;
    return !wait(0ms).has_value();
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// "listening on http://127.0.0.1:PORT" in a process's stdout.
inline std::optional<std::uint16_t> listening_port(const fs::path& stdout_file) {
  const std::string s = read_file(stdout_file);
  const auto at = s.find("listening on http");
  if (at == std::string::npos) return std::nullopt;
  const auto colon = s.find(':', s.find("//", at) + 2);
  const auto nl = s.find('\n', colon);
  if (colon == std::string::npos || nl == std::string::npos) return std::nullopt;
  return static_cast<std::uint16_t>(std::stoi(s.substr(colon + 1, nl - colon - 1)));
}

// Quickstart world (examples/seed/quickstart.json): sharer "prod" 1234567890123456 with this key.
inline constexpr const char* kSharerKeyId = "LTAI5tQuickstartSharer01";
inline constexpr const char* kSharerSecret = "QuickstartSharerSecret0123456789";
inline constexpr const char* kAdminToken = "itAdminToken-0123456789abcdef0123456789abcdef";

struct Emulator {
  explicit Emulator(const fs::path& dir, std::string seed = std::string(SHAREKEEPER_SOURCE_DIR) +
                                                            "/examples/seed/quickstart.json") {
    proc = std::make_unique<Process>(
        std::vector<std::string>{SK_EMULATOR_BIN, "--listen", "127.0.0.1:0", "--seed",
                                 std::move(seed)},
        dir / "emulator.out", dir / "emulator.err");
    if (!eventually([&] { return listening_port(dir / "emulator.out").has_value(); }))
      throw std::runtime_error("emulator did not start: " + read_file(dir / "emulator.err"));
    port = *listening_port(dir / "emulator.out");
    url = "http://127.0.0.1:" + std::to_string(port);
  }
  std::unique_ptr<Process> proc;
  std::uint16_t port = 0;
  std::string url;
};

// examples/single-account.yaml with a chosen interval.
inline std::string single_account_config(const std::string& interval) {
  std::string c = read_file(std::string(SHAREKEEPER_SOURCE_DIR) + "/examples/single-account.yaml");
  const auto at = c.find("interval: 5m");
  if (at == std::string::npos)
    throw std::runtime_error("examples/single-account.yaml changed: no 'interval: 5m'");
  c.replace(at, 12, "interval: " + interval);
  return c;
}

struct Daemon {
  // env: the quickstart seed's sharer credentials unless given.
  Daemon(const fs::path& dir, const std::string& emulator_url, std::vector<std::string> extra = {},
         std::map<std::string, std::string> env = {{"ALIBABA_CLOUD_ACCESS_KEY_ID", kSharerKeyId},
                                                   {"ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                                                    kSharerSecret}})
      : dir_(dir) {
    write_file_atomic(dir / "token", std::string(kAdminToken) + "\n");
    std::vector<std::string> argv{SK_DAEMON_BIN,
                                  "run",
                                  "-c",
                                  (dir / "config.yaml").string(),
                                  "--listen",
                                  "127.0.0.1:0",
                                  "--admin-token-file",
                                  (dir / "token").string(),
                                  "--endpoint-override",
                                  emulator_url};
    argv.insert(argv.end(), extra.begin(), extra.end());
    env["TZ"] = "UTC";
    proc = std::make_unique<Process>(argv, dir / "daemon.out", dir / "daemon.err", env);
    if (!eventually(
            [&] { return listening_port(dir / "daemon.out").has_value() || !proc->running(); }) ||
        !listening_port(dir / "daemon.out"))
      throw std::runtime_error("daemon did not start: " + read_file(dir / "daemon.err"));
    port = *listening_port(dir / "daemon.out");
  }
  Response get(const std::string& path) { return http_request(port, "GET", path); }
  Response post(const std::string& path, bool with_token) {
    return http_request(
        port, "POST", path,
        with_token ? "Authorization: Bearer " + std::string(kAdminToken) + "\r\n" : "");
  }
  std::string logs() { return read_file(dir_ / "daemon.err"); }
  std::unique_ptr<Process> proc;
  std::uint16_t port = 0;

 private:
  fs::path dir_;
};

// The value of one series in an exposition, or nullopt.
inline std::optional<double> metric(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

}  // namespace sharekeeper::daemon::testing
