#include "daemon/status.hpp"

#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "config/desired_state.hpp"

namespace sharekeeper::daemon {

using nlohmann::json;

std::string format_time(WallTime t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

json opt_time(const std::optional<WallTime>& t) {
  return t ? json(format_time(*t)) : json(nullptr);
}

// `text` (a value dumped with indent 2 at the top) appended as the value of a member `depth` levels
// down: each line after the first shifted by 2 × depth spaces. nlohmann's dump(2) of a document
// indents a nested value by exactly that, so the text equals the whole document's dump (strings
// hold no raw newline: dump escapes them).
void append_nested(std::string& out, const std::string& text, int depth) {
  const std::string shift(static_cast<std::size_t>(2 * depth), ' ');
  std::size_t from = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', from)) {
    out.append(text, from, nl + 1 - from).append(shift);
    from = nl + 1;
  }
  out.append(text, from, std::string::npos);
}

// Puts `value_text` where `doc` (a dump(2) with a top-level member `name` set to []) has that
// member's placeholder.
std::string splice_member(std::string doc, const std::string& name, const std::string& value_text) {
  const std::string placeholder = "\n  " + json(name).dump() + ": []";
  const auto at = doc.find(placeholder);
  if (at == std::string::npos) return doc;
  doc.replace(at + placeholder.size() - 2, 2, value_text);
  return doc;
}

}  // namespace

bool StatusStore::says(const GrantDetails& d, const GrantReport& g) {
  return d.reason == g.reason && d.message == g.message && d.blocked_by == g.blocked_by &&
         d.resources == g.resources;
}

void StatusStore::set_config(const config::DesiredState& desired, WallTime now) {
  std::lock_guard lock(mu_);
  have_config_ = true;
  revision_ = desired.revision;
  content_hash_ = desired.content_hash;
  config_loaded_at_ = now;
  last_reload_ = Reload{"success", now, {}};
  std::vector<GrantKey> want;
  std::set<std::string> accounts;
  for (const auto& a : desired.accounts) {
    accounts.insert(a.name);
    for (auto& k : grants_of(desired, a.name)) want.push_back(std::move(k));
  }
  if (!not_reconciled_)
    not_reconciled_ =
        std::make_shared<const GrantDetails>(GrantDetails{"not_reconciled_yet", "", {}, ""});
  GrantRow fresh;
  fresh.state = GrantState::kPending;
  fresh.details = not_reconciled_;
  fresh.last_transition = now;
  grants_.assign(std::move(want), fresh);
  for (auto it = accounts_.begin(); it != accounts_.end();)
    it = accounts.count(it->first) ? std::next(it) : accounts_.erase(it);
  for (const auto& a : accounts) accounts_.try_emplace(a);
}

void StatusStore::config_rejected(const std::vector<std::string>& diagnostics, WallTime now) {
  std::lock_guard lock(mu_);
  last_reload_ = Reload{"rejected", now, diagnostics};
}

void StatusStore::config_held(const std::vector<std::string>& lines, WallTime now) {
  std::lock_guard lock(mu_);
  last_reload_ = Reload{"held", now, lines};
}

void StatusStore::config_unchanged(WallTime now) {
  std::lock_guard lock(mu_);
  last_reload_ = Reload{"unchanged", now, {}};
}

void StatusStore::pass_started(const std::string& account, WallTime now) {
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account);
  if (it == accounts_.end()) return;
  it->second.running = true;
  it->second.last_started = now;
}

void StatusStore::pass_finished(const PassReport& r) {
  // Deflated before the lock is taken: /status and /metrics need not wait for it.
  CompressedText plan;
  if (!r.stale && !r.outcome.plan_json.empty()) plan = CompressedText::of(r.outcome.plan_json);
  std::lock_guard lock(mu_);
  auto it = accounts_.find(r.account);
  if (it == accounts_.end()) return;
  auto& a = it->second;
  a.running = false;
  a.last_finished = r.finished;
  a.last_result = to_string(r.outcome.result);
  a.last_duration_seconds = std::chrono::duration<double>(r.duration).count();
  a.last_error = r.outcome.error;
  a.terminal = r.outcome.terminal;
  a.changes_last_pass = static_cast<int>(r.outcome.changes.size());
  if (r.outcome.result == PassResult::kSuccess) a.last_success = r.finished;
  if (r.stale) return;  // its grants and plan describe a config that is no longer current
  if (r.outcome.observation_complete) a.observed = true;
  if (!plan.empty()) a.plan = std::move(plan);
  // The details this pass gave the grant before (its targets come one after another).
  std::shared_ptr<const GrantDetails> previous;
  for (const auto& g : r.outcome.grants) {
    GrantRow* found = grants_.find(g.key);
    if (found == nullptr) continue;
    GrantRow& row = *found;
    if (row.state != g.state || row.details->reason != g.reason) row.last_transition = r.finished;
    if (g.state == GrantState::kReady) row.last_ready = r.finished;
    if (g.state == GrantState::kFailed) {
      row.last_error = g.message;
      row.last_error_at = r.finished;
    }
    row.state = g.state;
    if (!says(*row.details, g)) {
      if (previous && says(*previous, g))
        row.details = previous;
      else
        row.details = std::make_shared<const GrantDetails>(
            GrantDetails{g.reason, g.message, g.resources, g.blocked_by});
    }
    previous = row.details;
  }
  // A pass that failed before it could judge the grants leaves them as they were, but says why.
  if (r.outcome.grants.empty() && r.outcome.result != PassResult::kSuccess) {
    const auto [first, last] = grants_.account_range(r.account);
    for (std::size_t i = first; i < last; ++i) {
      grants_.row(i).last_error = r.outcome.error;
      grants_.row(i).last_error_at = r.finished;
    }
  }
}

StatusStore::Readiness StatusStore::readiness() const {
  std::lock_guard lock(mu_);
  if (!have_config_) return {false, "no valid config loaded"};
  for (const auto& [name, a] : accounts_) {
    // Another replica answers for an account this one does not own.
    if (coordination_ && coordination_->owned.count(name) == 0) continue;
    if (!a.observed) return {false, "account " + name + " not completely observed yet"};
  }
  return {true, "ok"};
}

void StatusStore::set_coordination(CoordinationStatus c) {
  std::lock_guard lock(mu_);
  coordination_ = std::move(c);
}

std::string StatusStore::status_json(const std::vector<Scheduler::AccountView>& schedule) const {
  std::map<std::string, const Scheduler::AccountView*> sched;
  for (const auto& v : schedule) sched[v.account] = &v;
  std::lock_guard lock(mu_);
  json out;
  out["config"] = {
      {"revision", revision_},
      {"contentHash", content_hash_},
      {"loadedAt", have_config_ ? json(format_time(config_loaded_at_)) : json(nullptr)}};
  if (last_reload_) {
    out["config"]["lastReload"] = {{"result", last_reload_->result},
                                   {"at", format_time(last_reload_->at)},
                                   {"diagnostics", last_reload_->diagnostics}};
  }
  json accounts = json::array();
  for (const auto& [name, a] : accounts_) {
    json j = {{"name", name},
              {"observed", a.observed},
              {"running", a.running},
              {"lastReconcile",
               {{"started", opt_time(a.last_started)},
                {"finished", opt_time(a.last_finished)},
                {"result", a.last_result.empty() ? json(nullptr) : json(a.last_result)},
                {"durationSeconds", a.last_duration_seconds},
                {"changes", a.changes_last_pass},
                {"error", a.last_error}}},
              {"lastSuccess", opt_time(a.last_success)},
              {"terminalError", a.terminal}};
    if (coordination_) j["owned"] = coordination_->owned.count(name) != 0;
    if (auto s = sched.find(name); s != sched.end()) {
      j["phase"] = to_string(s->second->phase);
      j["nextRun"] = opt_time(s->second->next_run);
      j["consecutiveFailures"] = s->second->consecutive_failures;
    }
    accounts.push_back(std::move(j));
  }
  out["accounts"] = std::move(accounts);
  if (coordination_) {
    const auto& c = *coordination_;
    out["coordination"] = {
        {"backend", c.backend},
        {"replica", c.replica},
        {"members", c.members},
        {"owned", std::vector<std::string>(c.owned.begin(), c.owned.end())},
        {"ready", c.ready},
        {"reason", c.reason},
        {"leaseRemainingSeconds",
         c.lease_remaining_seconds ? json(*c.lease_remaining_seconds) : json(nullptr)}};
  }
  // The grants are rendered row by row into their text, not built as one document first: at
  // 30,000 grants the document was several hundred MB of small nodes for an answer of 30 MB
  // (bench/daemon/README.md "Memory"). The answer is the same text.
  std::string grants;
  std::map<std::string, int> counts;
  for (std::size_t i = 0; i < grants_.size(); ++i) {
    const GrantKeyView k = grants_.key(i);
    const GrantRow& row = grants_.row(i);
    ++counts[to_string(row.state)];
    const GrantDetails& d = *row.details;
    json res = json::array();
    for (const auto& r : d.resources) {
      json blocked = nullptr;
      if (!r.blocked_by.empty())
        blocked = {
            {"link", r.blocked_by}, {"observed", r.blocked_observed}, {"remedy", r.blocked_remedy}};
      res.push_back({{"id", r.id},
                     {"region", r.region},
                     {"state", to_string(r.state)},
                     {"reason", r.reason},
                     {"sharing", to_string(r.sharing)},
                     {"sharingDetail", r.sharing_detail},
                     {"blockedBy", std::move(blocked)}});
      if (!r.foreign_accounts.empty()) res.back()["foreignAccounts"] = r.foreign_accounts;
    }
    const json g = {{"account", std::string(k.account)},
                    {"share", std::string(k.share)},
                    {"targetType", std::string(k.target_type)},
                    {"target", std::string(k.target)},
                    {"state", to_string(row.state)},
                    {"reason", d.reason},
                    {"message", d.message},
                    {"lastTransition", format_time(row.last_transition)},
                    {"lastReady", opt_time(row.last_ready)},
                    {"lastError", row.last_error},
                    {"lastErrorAt", opt_time(row.last_error_at)},
                    {"blockedBy", d.blocked_by.empty() ? json(nullptr) : json(d.blocked_by)},
                    {"resources", std::move(res)}};
    grants.append(grants.empty() ? "[\n    " : ",\n    ");
    append_nested(grants, g.dump(2), 2);
  }
  if (!grants.empty()) grants.append("\n  ]");
  out["grants"] = json::array();
  out["summary"] = counts;
  if (grants.empty()) return out.dump(2);
  return splice_member(out.dump(2), "grants", grants);
}

std::string StatusStore::plan_json() const {
  // The deflated plans are copied under the lock (about 16 KB an account at 150 grants) and
  // rendered after it, one account at a time: the answer is the same text as one document's
  // dump(2), without the document (at 200 accounts it peaked at about 500 MB for an answer of 110
  // MB) and without holding the workers' pass_finished for the whole rendering.
  std::string revision;
  std::vector<std::pair<std::string, CompressedText>> plans;
  {
    std::lock_guard lock(mu_);
    revision = revision_;
    plans.reserve(accounts_.size());
    for (const auto& [name, a] : accounts_) plans.emplace_back(name, a.plan);
  }
  std::string out = "{\n  \"accounts\": ";
  if (plans.empty()) out.append("{}");
  for (std::size_t i = 0; i < plans.size(); ++i) {
    out.append(i == 0 ? "{\n    " : ",\n    ").append(json(plans[i].first).dump()).append(": ");
    const CompressedText& plan = plans[i].second;
    if (plan.empty()) {
      out.append("null");
      continue;
    }
    // The runner's plan is JSON already; embed it as a value, not a string.
    const std::string text = plan.text();
    auto parsed = json::parse(text, nullptr, false);
    append_nested(out, parsed.is_discarded() ? json(text).dump(2) : parsed.dump(2), 2);
  }
  if (!plans.empty()) out.append("\n  }");
  out.append(",\n  \"revision\": ").append(json(revision).dump()).append("\n}");
  return out;
}

}  // namespace sharekeeper::daemon
