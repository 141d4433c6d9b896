// `sharekeeper run`: the daemon (docs/contract.md §3.1, §3.3). Wires the real config loader, the
// cloud factory and the reconcilers into daemon::Daemon; signals arrive on a signalfd thread.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "config/loader.hpp"
#include "coordination/etcd_client.hpp"
#include "coordination/etcd_coordinator.hpp"
#include "coordination/fence.hpp"
#include "coordination/fenced_transport.hpp"
#include "daemon/cloud_factory.hpp"
#include "daemon/commands.hpp"
#include "daemon/config_loader.hpp"
#include "daemon/daemon.hpp"
#include "daemon/logging.hpp"
#include "daemon/metrics.hpp"
#include "daemon/reconcile_runner.hpp"
#include "daemon/signals.hpp"
#include "support/memory.hpp"

namespace sharekeeper::daemon {

namespace {

// ---- several replicas (settings.coordination)

bool replica_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// It becomes an etcd key segment and a log and status value.
bool valid_replica_id(const std::string& id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), replica_id_char);
}

// <hostname>-<pid>: unique per process on a host, and a restarted process is a new member (its old
// keys expire with the old lease instead of being mistaken for its own).
std::string default_replica_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "host");
  std::string h;
  for (const char* p = host; *p != '\0' && h.size() < 100; ++p)
    h.push_back(replica_id_char(*p) ? *p : '-');
  return h + "-" + std::to_string(::getpid());
}

// The password file's content without its trailing newline. Errors name the file, never content.
std::string read_password_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read settings.coordination.etcd.passwordFile " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string pw = ss.str();
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  if (pw.empty())
    throw std::runtime_error("settings.coordination.etcd.passwordFile " + path + " is empty");
  return pw;
}

void log_coordination_event(const std::string& replica,
                            const coordination::OwnershipMachine::Event& e) {
  log::Fields f{{"replica", replica}, {"event", e.kind}};
  if (!e.account.empty()) f.emplace_back("account", e.account);
  if (!e.detail.empty()) f.emplace_back("detail", e.detail);
  const bool bad = e.kind == "etcd_error" || e.kind == "lease_lost" || e.kind == "lost" ||
                   e.kind == "conflict" || e.kind == "abandoning" || e.kind == "member_key_gone";
  if (bad)
    log::warn("coordination", f);
  else
    log::info("coordination", f);
}

// The etcd coordinator of this replica, and the fence its accounts' cloud clients send through.
// Throws std::runtime_error (one line) when it cannot be set up.
std::shared_ptr<coordination::Coordinator> make_coordinator(
    const config::CoordinationSettings& c, const std::string& replica,
    std::shared_ptr<coordination::Fence>& fence) {
  const config::EtcdSettings& e = c.etcd;
  const coordination::Timing timing = coordination::timing_for(e.lease_ttl);
  coordination::EtcdTlsOptions tls;
  tls.ca_file = e.ca_file;
  tls.cert_file = e.cert_file;
  tls.key_file = e.key_file;
  tls.allow_http = std::any_of(e.endpoints.begin(), e.endpoints.end(),
                               [](const std::string& u) { return u.starts_with("http://"); });
  auto transport = coordination::make_etcd_transport(tls);
  if (!transport.ok())
    throw std::runtime_error("coordination: etcd TLS: " + transport.error().to_string());
  coordination::EtcdClientOptions co;
  co.endpoints = e.endpoints;
  co.timeout = timing.etcd_timeout;
  co.username = e.username;
  if (!e.password_file.empty()) co.password = read_password_file(e.password_file);
  auto client = coordination::EtcdClient::create(std::move(co), transport.value());
  if (!client.ok()) throw std::runtime_error("coordination: " + client.error().to_string());
  fence = std::make_shared<coordination::Fence>(timing.margin, timing.max_request);
  coordination::OwnershipOptions oo;
  oo.replica = replica;
  oo.prefix = e.prefix;
  oo.ttl = e.lease_ttl;
  log::info("coordination on etcd", {{"replica", replica},
                                     {"endpoints", std::to_string(e.endpoints.size())},
                                     {"prefix", e.prefix},
                                     {"leaseTTLSeconds", std::to_string(e.lease_ttl.count())},
                                     {"maxRequestMs", std::to_string(timing.max_request.count())},
                                     {"marginMs", std::to_string(timing.margin.count())}});
  return std::make_shared<coordination::EtcdCoordinator>(
      oo, std::move(client.value()), fence,
      [replica](const coordination::OwnershipMachine::Event& ev) {
        log_coordination_event(replica, ev);
      });
}

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
  // The daemon's resident size after a pass stays (support/memory.hpp); one-shot commands exit.
  support::fix_malloc_thresholds(std::size_t{128} * 1024, std::size_t{1024} * 1024);
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

  const std::string replica = o.replica_id.empty() ? default_replica_id() : o.replica_id;
  if (!valid_replica_id(replica)) {
    std::fprintf(stderr,
                 "sharekeeper: --replica-id must be 1-128 letters, digits, '.', '_' or '-'\n");
    return 1;
  }

  Metrics metrics(SHAREKEEPER_VERSION);
  CloudFactory factory(
      g, [&metrics](std::string_view product, std::string_view action, std::string_view code,
                    std::chrono::nanoseconds duration, int /*attempt*/) {
        metrics.observe_api_call(product, action, code,
                                 std::chrono::duration<double>(duration).count());
      });
  // Set once, by the coordinator factory below, before the first pass can build a client.
  std::shared_ptr<coordination::Fence> fence;
  factory.set_account_transport_wrapper(
      [&fence](const config::Account& account,
               std::shared_ptr<cloud::Transport> inner) -> std::shared_ptr<cloud::Transport> {
        if (!fence) return inner;
        return std::make_shared<coordination::FencedTransport>(std::move(inner), fence,
                                                               account.name);
      });
  ReconcileRunner runner([&factory](const config::DesiredState& d,
                                    const config::Account& a) { return factory.make(d, a); },
                         {});

  if (o.once) {
    LoadedConfig peek = load_config(o.config_path);
    if (peek.state && peek.state->settings.coordination) {
      std::fprintf(
          stderr,
          "sharekeeper: run --once cannot be used with settings.coordination: one pass over "
          "every account would write without owning them\n");
      return 1;
    }
    return run_once(o.config_path, runner);
  }

  // The coordination settings are fixed at start: a reload that changes them is rejected (a
  // replica switching etcd clusters or prefixes mid-run would leave its owner keys behind).
  std::optional<std::optional<config::CoordinationSettings>> started_with;
  auto loader = [&started_with](const std::string& path) {
    LoadedConfig out = load_config(path);
    if (!out.state) return out;
    const auto& now = out.state->settings.coordination;
    if (!started_with) {
      started_with = now;
      return out;
    }
    if (!(now == *started_with)) {
      config::Diagnostic d;
      d.where = now ? now->where : config::SourceLocation{path, 0, 0};
      d.message =
          std::string("settings.coordination cannot change while sharekeeper runs (") +
          (*started_with ? "it started with etcd coordination" : "it started as one replica") + ")";
      d.hint = "restart the replicas to apply a new coordination block";
      out.diagnostics.push_back(config::format_diagnostic(d));
      out.errors = std::max<std::size_t>(out.errors, 1);
      out.state.reset();
    }
    return out;
  };

  DaemonOptions opts;
  opts.config_path = o.config_path;
  opts.http.listen = o.listen;
  opts.admin_token = token;
  opts.confirm_shrink = o.confirm_shrink;
  // Accounts do not share rate limits (reconcilers::account_workers): as many lanes as a pass uses.
  opts.scheduler.max_concurrency = reconcilers::kMaxAccountWorkers;
  opts.coordinator =
      [&replica,
       &fence](const config::DesiredState& d) -> std::shared_ptr<coordination::Coordinator> {
    if (!d.settings.coordination) return nullptr;
    return make_coordinator(*d.settings.coordination, replica, fence);
  };
  Daemon daemon(opts, loader, runner, metrics);
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
