#include "daemon/daemon.hpp"

#include <algorithm>
#include <iterator>
#include <set>

#include "config/desired_state.hpp"
#include "daemon/config_watcher.hpp"
#include "daemon/logging.hpp"
#include "support/memory.hpp"

namespace sharekeeper::daemon {

namespace {

std::vector<std::string> account_names(const config::DesiredState& d) {
  std::vector<std::string> out;
  for (const auto& a : d.accounts) out.push_back(a.name);
  return out;
}

std::vector<GrantKey> all_grants(const config::DesiredState& d) {
  std::vector<GrantKey> out;
  for (const auto& a : d.accounts) {
    auto g = grants_of(d, a.name);
    out.insert(out.end(), g.begin(), g.end());
  }
  return out;
}

std::string join_first(const std::vector<std::string>& lines, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < lines.size() && i < n; ++i) {
    if (i) out += "\n";
    out += lines[i];
  }
  if (lines.size() > n) out += "\n... and " + std::to_string(lines.size() - n) + " more";
  return out;
}

std::string join_names(const std::vector<std::string>& names, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < n; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > n) out += ", ... and " + std::to_string(names.size() - n) + " more";
  return out;
}

// Shrink lists in logs and /status: enough to recognise a lost file, bounded for 10,000 shares.
constexpr std::size_t kShrinkListed = 50;

}  // namespace

std::string ConfigShrink::summary() const {
  return std::to_string(shares_removed.size()) + " share(s) and " +
         std::to_string(targets_removed.size()) + " target(s) (" + std::to_string(grants) +
         " grant(s))";
}

ConfigShrink config_shrink(const config::DesiredState& before, const config::DesiredState& after) {
  ConfigShrink out;
  const auto old_grants = all_grants(before);
  const auto new_grants = all_grants(after);  // both sorted and unique (grants_of)
  std::set<std::string> kept_shares;
  for (const auto& s : after.shares) kept_shares.insert(s.name);
  std::set<std::string> gone;
  std::vector<GrantKey> removed;
  std::set_difference(old_grants.begin(), old_grants.end(), new_grants.begin(), new_grants.end(),
                      std::back_inserter(removed));
  for (const auto& g : removed) {
    ++out.grants;
    if (kept_shares.count(g.share) == 0) {
      if (gone.insert(g.share).second)
        out.shares_removed.push_back(g.share + " (account " + g.account + ")");
    } else {
      out.targets_removed.push_back(g.share + " -> " + g.target_type + ":" + g.target);
    }
  }
  std::sort(out.shares_removed.begin(), out.shares_removed.end());
  std::sort(out.targets_removed.begin(), out.targets_removed.end());
  return out;
}

Daemon::Daemon(DaemonOptions options, ConfigLoader loader, AccountRunner& runner, Metrics& metrics)
    : options_(std::move(options)), loader_(std::move(loader)), runner_(runner), metrics_(metrics) {
  if (!options_.clock) options_.clock = support::SystemClock::shared();
  options_.scheduler.clock = options_.clock;
  scheduler_ = std::make_unique<Scheduler>(
      runner_, options_.scheduler,
      [this](const std::string& account) {
        // A handover waits for this pass before it hands the account on.
        if (coordinator_) coordinator_->pass_started(account);
        status_.pass_started(account, options_.clock->wall_now());
      },
      [this](const PassReport& r) {
        on_pass_finished(r);
        if (coordinator_) coordinator_->pass_finished(r.account);
      });
}

Daemon::~Daemon() {
  if (!stopped_) {
    if (watcher_) watcher_->stop();
    scheduler_->stop(options_.shutdown_timeout);
    if (coordinator_) coordinator_->stop(options_.coordination_stop_timeout);
    if (http_) http_->stop();
  }
}

void Daemon::install(std::shared_ptr<const config::DesiredState> desired, bool changed) {
  const auto now = options_.clock->wall_now();
  // Series and rows first, so the first pass's results land on pre-created series. With
  // coordination only the owned accounts get series: every replica serves the grants it owns, so a
  // sum over replicas counts each grant once.
  if (coordinator_) {
    coordinator_->set_accounts(account_names(*desired));
    publish_ownership(*desired, /*config_changed=*/true);
  } else {
    metrics_.set_config(account_names(*desired), all_grants(*desired), desired->revision);
  }
  status_.set_config(*desired, now);
  current_ = desired;
  scheduler_->update_config(std::move(desired), changed);
}

void Daemon::publish_ownership(const config::DesiredState& desired, bool config_changed) {
  const coordination::CoordinationView v = coordinator_->view();
  std::set<std::string> owned, schedulable;
  for (const auto& a : desired.accounts) {
    if (v.owned.count(a.name) != 0) owned.insert(a.name);
    if (v.schedulable.count(a.name) != 0) schedulable.insert(a.name);
  }
  std::vector<std::string> newly_owned;
  for (const auto& a : owned)
    if (published_owned_ && published_owned_->count(a) == 0) newly_owned.push_back(a);
  // A new config may have new grants for the same accounts: the series are rebuilt then too.
  if (config_changed || !published_owned_ || *published_owned_ != owned) {
    std::vector<GrantKey> grants;
    for (const auto& a : owned) {
      auto g = grants_of(desired, a);
      grants.insert(grants.end(), g.begin(), g.end());
    }
    metrics_.set_config(std::vector<std::string>(owned.begin(), owned.end()), grants,
                        desired.revision);
    if (published_owned_) {
      for (const auto& a : owned)
        if (published_owned_->count(a) == 0) log::info("account owned", {{"account", a}});
      for (const auto& a : *published_owned_)
        if (owned.count(a) == 0) log::info("account no longer owned", {{"account", a}});
    }
    published_owned_ = owned;
  }
  Metrics::CoordinationCounts counts;
  counts.ready = v.ready;
  counts.members = v.members.size();
  counts.renewals_ok = v.renewals_ok;
  counts.renewals_failed = v.renewals_failed;
  counts.renewals_lost = v.renewals_lost;
  counts.handoffs = v.handoffs;
  metrics_.set_coordination(owned, counts);
  CoordinationStatus cs;
  cs.backend = v.backend;
  cs.replica = v.replica;
  cs.members = v.members;
  cs.owned = owned;
  cs.ready = v.ready;
  cs.reason = v.reason;
  if (v.lease_left)
    cs.lease_remaining_seconds = std::chrono::duration<double>(*v.lease_left).count();
  status_.set_coordination(std::move(cs));
  // A new owner re-observes at once: the previous owner's last pass may be an interval old, and
  // drift made during the handover must not wait for it. Made due before it becomes eligible, so it
  // runs once (a trigger after would queue a second pass behind the first).
  for (const auto& a : newly_owned) scheduler_->trigger(a);
  scheduler_->set_eligible(std::move(schedulable));
}

void Daemon::on_coordination_changed() {
  std::lock_guard lock(reload_mu_);
  if (current_) publish_ownership(*current_, /*config_changed=*/false);
}

std::uint16_t Daemon::start() {
  LoadedConfig first = loader_(options_.config_path);
  if (!first.state)
    throw StartupError("invalid config " + options_.config_path + " (" +
                           std::to_string(first.errors ? first.errors : first.diagnostics.size()) +
                           " error(s))",
                       first.diagnostics);
  if (options_.coordinator) {
    coordinator_ = options_.coordinator(*first.state);
    // Nothing is owned until etcd says so: no pass may start before.
    if (coordinator_) scheduler_->set_eligible(std::set<std::string>{});
  }
  {
    std::lock_guard lock(reload_mu_);
    install(first.state, true);
  }
  log::info("config loaded", {{"path", options_.config_path},
                              {"revision", first.state->revision},
                              {"accounts", std::to_string(first.state->accounts.size())},
                              {"shares", std::to_string(first.state->shares.size())}});

  AdminHandlers h;
  h.metrics = [this] { return metrics_.serialize(); };
  h.healthy = [this] { return healthy(); };
  h.ready = [this] {
    if (coordinator_) {
      const auto v = coordinator_->view();
      if (!v.ready) return std::pair<bool, std::string>{false, "coordination: " + v.reason};
    }
    auto r = status_.readiness();
    return std::pair<bool, std::string>{r.ready, r.reason};
  };
  // /status and /plan render their answer from many small JSON values (a row, an account's plan),
  // freed into the arenas, which would keep them; the answer itself is one mapped block
  // (support::fix_malloc_thresholds). The free pages go back after each request (their time is in
  // the request's: bench/daemon/README.md "Memory").
  h.status = [this] {
    std::string body = status_.status_json(scheduler_->snapshot());
    support::release_free_memory();
    return body;
  };
  h.plan = [this] {
    std::string body = status_.plan_json();
    support::release_free_memory();
    return body;
  };
  h.reconcile = [this](const std::optional<std::string>& account) {
    return trigger(account, "http");
  };
  h.confirm_shrink = [this](const std::string& revision) { return confirm_shrink(revision); };
  AdminLimits limits;
  limits.clock = options_.clock;
  http_ = std::make_unique<HttpServer>(
      options_.http,
      std::make_shared<const HttpRouter>(std::move(h), options_.admin_token, std::move(limits)));
  const std::uint16_t port = http_->start();

  {
    std::lock_guard lock(health_mu_);
    last_heartbeat_change_ = options_.clock->now();
  }
  scheduler_->start();
  if (coordinator_) coordinator_->start([this] { on_coordination_changed(); });
  if (options_.watch_config) {
    watcher_ = std::make_unique<ConfigWatcher>(
        options_.config_path, [this] { reload("inotify"); }, options_.watch_debounce);
    try {
      watcher_->start();
    } catch (const std::exception& e) {
      // Not fatal: SIGHUP and restarts still pick up changes.
      log::warn("config watch unavailable; reload with SIGHUP", {{"error", e.what()}});
      watcher_.reset();
    }
  }
  return port;
}

std::string Daemon::reload(const std::string& trigger) {
  std::lock_guard lock(reload_mu_);
  LoadedConfig next = loader_(options_.config_path);
  const auto now = options_.clock->wall_now();
  if (!next.state) {
    held_.reset();  // what was held is no longer what the files say
    metrics_.count_config_reload("rejected");
    status_.config_rejected(next.diagnostics, now);
    log::warn("config rejected; the last good config keeps running",
              {{"trigger", trigger},
               {"path", options_.config_path},
               {"revision", current_ ? current_->revision : ""},
               {"errors", std::to_string(next.errors ? next.errors : next.diagnostics.size())},
               {"diagnostics", join_first(next.diagnostics, 20)}});
    return "rejected";
  }
  if (current_ && next.state->content_hash == current_->content_hash &&
      next.state->revision == current_->revision) {
    held_.reset();
    metrics_.count_config_reload("unchanged");
    status_.config_unchanged(now);
    log::debug("config unchanged", {{"trigger", trigger}});
    return "unchanged";
  }
  const std::string old_revision = current_ ? current_->revision : "";
  // A reload that takes grants away is always visible; with --confirm-shrink it also waits for a
  // person (issue 11: one lost file of a ConfigMap was revoked under maxRevokeFraction, where no
  // plan guard looks). The plan's own guards still apply once it is installed.
  if (const ConfigShrink shrink = current_ ? config_shrink(*current_, *next.state) : ConfigShrink{};
      !shrink.empty()) {
    const bool hold = options_.confirm_shrink;
    log::warn(
        hold ? "config reload removes shares or targets; held until confirmed"
             : "config reload removes shares or targets",
        {{"trigger", trigger},
         {"revision", next.state->revision},
         {"previousRevision", old_revision},
         {"grantsRemoved", std::to_string(shrink.grants)},
         {"sharesRemoved", join_names(shrink.shares_removed, kShrinkListed)},
         {"targetsRemoved", join_names(shrink.targets_removed, kShrinkListed)},
         {"confirm", hold ? "POST /config/confirm-shrink?revision=" + next.state->revision : ""}});
    if (hold) {
      held_ = next.state;
      metrics_.count_config_shrink("held");
      metrics_.count_config_reload("rejected");  // not applied: the last good config keeps running
      std::vector<std::string> lines{
          "held: this config removes " + shrink.summary() + " compared with revision " +
          old_revision +
          "; confirm with POST /config/confirm-shrink?revision=" + next.state->revision};
      for (std::size_t i = 0; i < shrink.shares_removed.size() && i < kShrinkListed; ++i)
        lines.push_back("share removed: " + shrink.shares_removed[i]);
      for (std::size_t i = 0; i < shrink.targets_removed.size() && i < kShrinkListed; ++i)
        lines.push_back("target removed: " + shrink.targets_removed[i]);
      status_.config_held(lines, now);
      return "held";
    }
    metrics_.count_config_shrink("applied");
  }
  held_.reset();
  install(next.state, true);
  metrics_.count_config_reload("success");
  log::info("config reloaded", {{"trigger", trigger},
                                {"revision", next.state->revision},
                                {"previousRevision", old_revision},
                                {"accounts", std::to_string(next.state->accounts.size())},
                                {"shares", std::to_string(next.state->shares.size())}});
  return "success";
}

std::pair<int, std::string> Daemon::confirm_shrink(const std::string& revision) {
  std::lock_guard lock(reload_mu_);
  if (!held_) return {404, "no shrinking reload is waiting for confirmation"};
  if (held_->revision != revision)
    return {409, "the held config is revision " + held_->revision + ", not " + revision};
  const std::string old_revision = current_ ? current_->revision : "";
  auto next = std::move(held_);
  held_.reset();
  install(next, true);
  metrics_.count_config_shrink("confirmed");
  metrics_.count_config_reload("success");
  log::info("shrinking config confirmed and installed",
            {{"revision", next->revision}, {"previousRevision", old_revision}});
  return {200, next->revision};
}

bool Daemon::trigger(const std::optional<std::string>& account, const std::string& source) {
  const bool ok = scheduler_->trigger(account);
  log::info(ok ? "reconcile triggered" : "reconcile trigger for an unknown account",
            {{"source", source}, {"account", account.value_or("*")}});
  return ok;
}

std::pair<bool, std::string> Daemon::healthy() {
  const auto hb = scheduler_->heartbeat();
  const auto now = options_.clock->now();
  std::lock_guard lock(health_mu_);
  if (hb != last_heartbeat_) {
    last_heartbeat_ = hb;
    last_heartbeat_change_ = now;
  }
  if (now - last_heartbeat_change_ > options_.liveness_window)
    return {false, "scheduler loop stalled"};
  return {true, ""};
}

void Daemon::on_pass_finished(const PassReport& r) {
  const PassOutcome& o = r.outcome;
  // Audit even a stale pass: its changes happened.
  for (const auto& c : o.changes) {
    log::audit(r.account, c);
    metrics_.count_change(r.account, c.operation);
  }
  const double seconds = std::chrono::duration<double>(r.duration).count();
  metrics_.observe_pass(r.account, o.result, seconds, r.finished);
  for (const auto& [object, n] : o.drift) metrics_.count_drift(r.account, object, n);
  for (const auto& [reason, n] : o.revocations_blocked)
    metrics_.count_revocations_blocked(reason, n);
  if (!r.stale) metrics_.publish_grants(o.grants, r.finished);
  status_.pass_finished(r);

  int ready = 0;
  for (const auto& g : o.grants) ready += g.state == GrantState::kReady ? 1 : 0;
  log::Fields f{{"account", r.account},
                {"result", to_string(o.result)},
                {"durationSeconds", std::to_string(seconds)},
                {"changesPlanned", std::to_string(o.changes_planned)},
                {"changesApplied", std::to_string(o.changes.size())},
                {"grants", std::to_string(o.grants.size())},
                {"grantsReady", std::to_string(ready)},
                {"phase", to_string(r.phase)},
                {"nextRun", r.next_run ? format_time(*r.next_run) : ""}};
  if (!o.error.empty()) f.emplace_back("error", o.error);
  if (o.terminal) f.emplace_back("terminal", "true");
  if (r.stale) f.emplace_back("stale", "true");
  if (o.result == PassResult::kSuccess)
    log::info("reconcile pass finished", f);
  else
    log::warn(o.terminal ? "reconcile pass failed; waiting for a config change or POST /reconcile"
                         : "reconcile pass failed; retrying with backoff",
              f);
}

void Daemon::request_stop() {
  std::lock_guard lock(stop_mu_);
  stop_requested_ = true;
  stop_cv_.notify_all();
}

bool Daemon::run_until_stopped() {
  {
    std::unique_lock lock(stop_mu_);
    stop_cv_.wait(lock, [this] { return stop_requested_; });
  }
  log::info("shutting down: no new passes; waiting for passes in flight",
            {{"timeoutSeconds", std::to_string(options_.shutdown_timeout.count() / 1000)}});
  if (watcher_) watcher_->stop();
  const bool in_time = scheduler_->stop(options_.shutdown_timeout);
  if (!in_time) log::warn("passes still in flight at the shutdown deadline; abandoning them");
  if (coordinator_) {
    // After the passes: close the fence, let requests in flight end, revoke the lease, so the other
    // replicas take the accounts at their next read instead of one TTL later.
    log::info("handing the accounts back to the other replicas");
    coordinator_->stop(options_.coordination_stop_timeout);
  }
  // HTTP last, so /healthz and /metrics answer while passes drain.
  if (http_) http_->stop();
  stopped_ = true;
  log::info("stopped");
  return in_time;
}

}  // namespace sharekeeper::daemon
