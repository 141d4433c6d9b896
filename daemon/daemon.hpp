#pragma once
// `sharekeeper run` assembled: config (with last-good reload), scheduler, HTTP server, metrics,
// status, watcher and audit logging, around an AccountRunner. Independent of reconcilers/ and
// cloud/ (those come in through the runner and the loader), so the whole daemon is tested
// in-process with fakes.
//
// Threads: the HTTP io_context thread, the scheduler's coordinator and workers, the watcher;
// reloads are serialized by a mutex; the caller's thread waits in run_until_stopped().
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "coordination/coordinator.hpp"
#include "daemon/account_runner.hpp"
#include "daemon/http_router.hpp"
#include "daemon/http_server.hpp"
#include "daemon/metrics.hpp"
#include "daemon/scheduler.hpp"
#include "daemon/status.hpp"

namespace sharekeeper::daemon {

class ConfigWatcher;

// Builds the coordinator for the first config (nullptr: settings.coordination is absent, one
// replica). May throw std::runtime_error (one line) when coordination cannot be set up.
using CoordinatorFactory =
    std::function<std::shared_ptr<coordination::Coordinator>(const config::DesiredState&)>;

// The result of loading the config: a state, or the diagnostics (file:line:col: message) that
// reject it.
struct LoadedConfig {
  std::shared_ptr<const config::DesiredState> state;
  std::vector<std::string> diagnostics;  // capped (config::format_diagnostics)
  std::size_t errors = 0;                // all of them; 0 = count `diagnostics`
};

// What a new config takes away compared with the running one (issue 11): whole shares, and
// targets of shares that stay (a share moved to another account loses its grants there too).
// Lists are sorted; `grants` counts every (share, target) pair removed.
struct ConfigShrink {
  std::vector<std::string> shares_removed;   // "golden-images (account prod)"
  std::vector<std::string> targets_removed;  // "golden-images -> account:1111222233334444"
  std::size_t grants = 0;
  bool empty() const { return grants == 0; }
  // "2 share(s) and 1 target(s) (5 grant(s))" for logs and /status.
  std::string summary() const;
};
ConfigShrink config_shrink(const config::DesiredState& before, const config::DesiredState& after);
using ConfigLoader = std::function<LoadedConfig(const std::string& path)>;

// The initial config is invalid: the daemon does not start. what() is one line; diagnostics() all.
class StartupError : public std::runtime_error {
 public:
  StartupError(const std::string& what, std::vector<std::string> diagnostics)
      : std::runtime_error(what), diagnostics_(std::move(diagnostics)) {}
  const std::vector<std::string>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<std::string> diagnostics_;
};

struct DaemonOptions {
  std::string config_path;
  HttpServerOptions http;
  std::optional<AdminToken> admin_token;
  Scheduler::Options scheduler;  // its clock is replaced by `clock`
  // The one time source of the daemon: the scheduler, /healthz's liveness window, status times and
  // the admin rate limits read it (tests pass a support::ManualClock).
  std::shared_ptr<support::Clock> clock = support::SystemClock::shared();
  bool watch_config = true;
  std::chrono::milliseconds watch_debounce{500};
  // SIGTERM: passes in flight get this long to finish (Kubernetes' default grace period is 30 s).
  std::chrono::milliseconds shutdown_timeout{25000};
  // /healthz fails when the scheduler loop has not ticked for this long.
  std::chrono::milliseconds liveness_window{15000};
  // Several replicas (settings.coordination); unset or returning nullptr: this replica does every
  // account, exactly as before.
  CoordinatorFactory coordinator;
  // SIGTERM with coordination: handing the accounts back (fence closed, requests in flight ended,
  // lease revoked) gets this long after the passes stopped.
  std::chrono::milliseconds coordination_stop_timeout{10000};
  // `run --confirm-shrink`: a reload that removes shares or targets is held (the running config
  // stays) until POST /config/confirm-shrink?revision=R names it. Off: it is applied, with a
  // warning and sharekeeper_config_shrinks_total{result="applied"}.
  bool confirm_shrink = false;
};

class Daemon {
 public:
  Daemon(DaemonOptions options, ConfigLoader loader, AccountRunner& runner, Metrics& metrics);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Loads the config (StartupError when invalid), binds the HTTP listener (std::runtime_error when
  // it cannot), starts the scheduler and the watcher. Returns the HTTP port.
  std::uint16_t start();
  // Reload now (inotify, SIGHUP): a valid new config replaces the current one; an invalid one is
  // rejected, counted and logged, and the last good one keeps running. Returns the result label.
  std::string reload(const std::string& trigger);
  // Installs the held shrinking config (POST /config/confirm-shrink) when `revision` is its
  // revision. {200, ...} installed; {404, why} nothing is held; {409, why} another revision is.
  std::pair<int, std::string> confirm_shrink(const std::string& revision);
  // Runs passes now (POST /reconcile, SIGHUP). False when the account is unknown.
  bool trigger(const std::optional<std::string>& account, const std::string& source);
  // Asks run_until_stopped() to return (SIGTERM, SIGINT). Async-signal-unsafe: call from a thread.
  void request_stop();
  // Blocks until request_stop(), then stops gracefully. True when every pass in flight finished
  // within the shutdown timeout.
  bool run_until_stopped();

  StatusStore& status() { return status_; }
  Scheduler& scheduler() { return *scheduler_; }

 private:
  void install(std::shared_ptr<const config::DesiredState> desired, bool changed);
  // Coordination: publish what this replica owns to the scheduler, metrics and status
  // (reload_mu_ held).
  void publish_ownership(const config::DesiredState& desired, bool config_changed);
  void on_coordination_changed();
  void on_pass_finished(const PassReport& report);
  std::pair<bool, std::string> healthy();

  DaemonOptions options_;
  ConfigLoader loader_;
  AccountRunner& runner_;
  Metrics& metrics_;
  StatusStore status_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<ConfigWatcher> watcher_;

  std::mutex reload_mu_;
  std::shared_ptr<const config::DesiredState> current_;
  // Set in start() before any pass or notification can run; never replaced.
  std::shared_ptr<coordination::Coordinator> coordinator_;
  std::optional<std::set<std::string>> published_owned_;  // guarded by reload_mu_
  std::shared_ptr<const config::DesiredState> held_;  // a shrinking reload awaiting confirmation

  std::mutex health_mu_;
  std::uint64_t last_heartbeat_ = 0;
  SteadyTime last_heartbeat_change_{};

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_requested_ = false;
  bool stopped_ = false;
};

}  // namespace sharekeeper::daemon
