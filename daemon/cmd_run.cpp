// `sharekeeper run`: the daemon (DESIGN.md §3.1, §3.3). Wires the real config loader, the cloud
// factory and the reconcilers into daemon::Daemon; signals arrive on a signalfd thread.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "daemon/cloud_factory.hpp"
#include "daemon/commands.hpp"
#include "daemon/config_loader.hpp"
#include "daemon/daemon.hpp"
#include "daemon/logging.hpp"
#include "daemon/metrics.hpp"
#include "daemon/reconcile_runner.hpp"
#include "daemon/signals.hpp"

namespace sharekeeper::daemon {

namespace {

void audit_and_log(const std::string& account, const PassOutcome& o) {
  for (const auto& c : o.changes) log::audit(account, c);
  log::Fields f{{"account", account},
                {"result", to_string(o.result)},
                {"changesPlanned", std::to_string(o.changes_planned)},
                {"changesApplied", std::to_string(o.changes.size())},
                {"grants", std::to_string(o.grants.size())}};
  if (!o.error.empty()) f.emplace_back("error", o.error);
  if (o.result == PassResult::kSuccess)
    log::info("reconcile pass finished", f);
  else
    log::warn("reconcile pass failed", f);
}

// --once: one pass per account, then exit with apply's codes (0 converged, 1 any error).
int run_once(const std::string& path, AccountRunner& runner) {
  LoadedConfig loaded = load_config(path);
  if (!loaded.state) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.c_str());
    return 1;
  }
  const std::atomic<bool> stop{false};
  int rc = 0;
  for (const auto& a : loaded.state->accounts) {
    const PassOutcome o = runner.run_pass(*loaded.state, a.name, stop);
    audit_and_log(a.name, o);
    if (o.result != PassResult::kSuccess) rc = 1;
  }
  return rc;
}

}  // namespace

int cmd_run(const GlobalOptions& g, const RunOptions& o) {
  // Before any thread exists, so every thread inherits the mask and signals reach only the
  // signalfd.
  SignalThread::block();
  log::init(g.log_format, g.log_level);

  std::optional<AdminToken> token;
  if (!o.admin_token_file.empty()) {
    try {
      token = AdminToken::from_file(o.admin_token_file);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sharekeeper: %s\n", e.what());
      return 1;
    }
  }

  Metrics metrics(SHAREKEEPER_VERSION);
  CloudFactory factory(
      g, [&metrics](std::string_view product, std::string_view action, std::string_view code,
                    std::chrono::nanoseconds duration, int /*attempt*/) {
        metrics.observe_api_call(product, action, code,
                                 std::chrono::duration<double>(duration).count());
      });
  ReconcileRunner runner([&factory](const config::DesiredState& d,
                                    const config::Account& a) { return factory.make(d, a); },
                         {});

  if (o.once) return run_once(o.config_path, runner);

  DaemonOptions opts;
  opts.config_path = o.config_path;
  opts.http.listen = o.listen;
  opts.admin_token = std::move(token);
  opts.confirm_shrink = o.confirm_shrink;
  Daemon daemon(opts, load_config, runner, metrics);
  std::uint16_t port = 0;
  try {
    port = daemon.start();
  } catch (const StartupError& e) {
    for (const auto& d : e.diagnostics()) std::fprintf(stderr, "%s\n", d.c_str());
    std::fprintf(stderr, "sharekeeper: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sharekeeper: %s\n", e.what());
    return 1;
  }
  const std::string host = o.listen.substr(0, o.listen.rfind(':'));
  log::info("listening", {{"address", host + ":" + std::to_string(port)}});
  // Tests and the quickstart read the bound port (with --listen 127.0.0.1:0) from this line.
  std::printf("listening on http://%s:%u\n", host.c_str(), static_cast<unsigned>(port));
  std::fflush(stdout);

  SignalThread signals([&daemon](int signo) {
    if (signo == SIGHUP) {
      log::info("SIGHUP: reloading the config and reconciling every account");
      if (daemon.reload("SIGHUP") != "success") daemon.trigger(std::nullopt, "SIGHUP");
      return;
    }
    log::info(signo == SIGTERM ? "SIGTERM received" : "SIGINT received");
    daemon.request_stop();
  });
  signals.start();
  const bool in_time = daemon.run_until_stopped();
  signals.stop();
  if (!in_time) {
    // A worker is still inside a cloud call and would touch objects about to be destroyed.
    spdlog::shutdown();
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace sharekeeper::daemon
