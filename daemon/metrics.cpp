#include "daemon/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <mutex>

#include "daemon/grant_table.hpp"

namespace sharekeeper::daemon {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

double to_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// A label value from outside (API action, error Code, change operation): short identifier
// characters only, else "other". Alibaba error codes are dotted words ("Throttling.User"); anything
// longer or stranger is a bug or an echo of free text and must not become a series.
std::string bounded(std::string_view v) {
  if (v.empty() || v.size() > 64) return "other";
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return "other";
  }
  return std::string(v);
}

// Label value escaping of the text exposition format: backslash, double quote, line feed.
void append_escaped(std::string& out, std::string_view v) {
  if (v.find_first_of("\\\"\n") == std::string_view::npos) {  // config names: nothing to escape
    out.append(v);
    return;
  }
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

template <std::size_t N>
std::string one_of(std::string_view v, const char* const (&allowed)[N]) {
  for (const char* a : allowed)
    if (v == a) return std::string(v);
  return "other";
}

}  // namespace

std::vector<double> api_call_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}
std::vector<double> pass_buckets() {
  return {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};
}

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  Family<Counter>& reconcile_total = prometheus::BuildCounter()
                                         .Name("sharekeeper_reconcile_total")
                                         .Help("Reconcile passes per account by result")
                                         .Register(*registry);
  Family<Histogram>& reconcile_duration =
      prometheus::BuildHistogram()
          .Name("sharekeeper_reconcile_duration_seconds")
          .Help("Duration of one reconcile pass (observe, plan, apply, verify)")
          .Register(*registry);
  Family<Gauge>& last_success =
      prometheus::BuildGauge()
          .Name("sharekeeper_last_successful_reconcile_timestamp_seconds")
          .Help("Unix time of the account's last successful pass (0: never)")
          .Register(*registry);
  Family<Counter>& drift = prometheus::BuildCounter()
                               .Name("sharekeeper_drift_detected_total")
                               .Help("Objects found different from the desired state, by kind")
                               .Register(*registry);
  Family<Counter>& changes = prometheus::BuildCounter()
                                 .Name("sharekeeper_changes_total")
                                 .Help("Changes applied to the cloud, by operation")
                                 .Register(*registry);
  Family<Counter>& revocations_blocked = prometheus::BuildCounter()
                                             .Name("sharekeeper_revocations_blocked_total")
                                             .Help("Revocations a safety guard refused, by guard")
                                             .Register(*registry);
  Family<Counter>& api_requests =
      prometheus::BuildCounter()
          .Name("sharekeeper_api_requests_total")
          .Help("Alibaba Cloud API calls by product, action and result code")
          .Register(*registry);
  Family<Histogram>& api_duration = prometheus::BuildHistogram()
                                        .Name("sharekeeper_api_request_duration_seconds")
                                        .Help("Alibaba Cloud API call latency, retries included")
                                        .Register(*registry);
  Family<Counter>& config_reloads = prometheus::BuildCounter()
                                        .Name("sharekeeper_config_reloads_total")
                                        .Help("Config reload attempts by result")
                                        .Register(*registry);
  Family<Counter>& config_shrinks =
      prometheus::BuildCounter()
          .Name("sharekeeper_config_shrinks_total")
          .Help("Config reloads that remove shares or targets, by what happened to them")
          .Register(*registry);
  Family<Gauge>& config_last_reload_ok =
      prometheus::BuildGauge()
          .Name("sharekeeper_config_last_reload_successful")
          .Help(
              "1 when the last config load or reload was accepted (or unchanged), 0 when rejected")
          .Register(*registry);
  Family<Gauge>& config_info = prometheus::BuildGauge()
                                   .Name("sharekeeper_config_info")
                                   .Help("The config revision in use (git HEAD or content hash)")
                                   .Register(*registry);
  Family<Gauge>& build_info = prometheus::BuildGauge()
                                  .Name("sharekeeper_build_info")
                                  .Help("sharekeeper version")
                                  .Register(*registry);

  // Grant series live outside prometheus-cpp: 10,000 grants make 70,000 series, and TextSerializer
  // (ostringstream, per-sample label maps) needs over a second for that where a scrape should take
  // milliseconds. A grant keeps only its values (its labels are the map's key); every scrape writes
  // the exposition straight from them (issue 14: the rendered block of 30,000 grants, 28.5 MB, was
  // kept between scrapes and copied into every answer).
  struct GrantSeries {
    GrantState state = GrantState::kPending;
    bool judged = false;  // a pass has published a state (else every one-hot series is 0)
    double last_ready = 0;
  };
  struct AccountSeries {
    std::array<Counter*, std::size(kPassResults)> total{};
    Histogram* duration = nullptr;
    Gauge* last_success = nullptr;
    std::array<Counter*, std::size(kDriftObjects)> drift{};
    std::map<std::string, Counter*> changes;
  };

  mutable std::mutex mu;  // guards the maps below (prometheus-cpp guards its own families)
  GrantTable<GrantSeries> grants;
  void render_grants(std::string& out) const;
  std::map<std::string, AccountSeries> accounts;
  std::map<std::string, Counter*> api_counters;  // product\0action\0code
  std::map<std::string, Histogram*> api_histograms;
  std::map<std::string, Counter*> blocked;
  Gauge* config_gauge = nullptr;

  // Coordination families, registered on first use so a single replica never shows them.
  struct Coordination {
    Family<Gauge>* owned = nullptr;
    Family<Gauge>* members = nullptr;
    Family<Gauge>* ready = nullptr;
    Gauge* ready_gauge = nullptr;
    Family<Counter>* renewals = nullptr;
    Family<Counter>* handoffs = nullptr;
    std::map<std::string, Gauge*> owned_series;
    Gauge* members_gauge = nullptr;
    std::array<Counter*, std::size(kRenewalResults)> renewal_counters{};
    Counter* handoff_counter = nullptr;
  };
  std::unique_ptr<Coordination> coordination;

  void add_account(const std::string& a) {
    AccountSeries s;
    for (std::size_t i = 0; i < std::size(kPassResults); ++i)
      s.total[i] = &reconcile_total.Add({{"account", a}, {"result", kPassResults[i]}});
    s.duration = &reconcile_duration.Add({{"account", a}}, pass_buckets());
    s.last_success = &last_success.Add({{"account", a}});
    for (std::size_t i = 0; i < std::size(kDriftObjects); ++i)
      s.drift[i] = &drift.Add({{"account", a}, {"object", kDriftObjects[i]}});
    accounts.emplace(a, std::move(s));
  }

  void remove_account(const AccountSeries& s) {
    for (Counter* c : s.total) reconcile_total.Remove(c);
    reconcile_duration.Remove(s.duration);
    last_success.Remove(s.last_success);
    for (Counter* c : s.drift) drift.Remove(c);
    for (const auto& [op, c] : s.changes) changes.Remove(c);
  }
};

Metrics::Metrics(std::string version) : impl_(std::make_unique<Impl>()) {
  impl_->build_info.Add({{"version", std::move(version)}}).Set(1);
  for (const char* r : kReloadResults) impl_->config_reloads.Add({{"result", r}});
  for (const char* r : kShrinkResults) impl_->config_shrinks.Add({{"result", r}});
  // The daemon only starts with a valid config.
  impl_->config_last_reload_ok.Add({}).Set(1);
  for (const char* r : kBlockedReasons)
    impl_->blocked.emplace(r, &impl_->revocations_blocked.Add({{"reason", r}}));
}

Metrics::~Metrics() = default;

void Metrics::set_config(const std::vector<std::string>& accounts,
                         const std::vector<GrantKey>& grants, const std::string& revision) {
  std::lock_guard lock(impl_->mu);
  const std::set<std::string> want_accounts(accounts.begin(), accounts.end());
  impl_->grants.assign(grants, Impl::GrantSeries{});
  for (auto it = impl_->accounts.begin(); it != impl_->accounts.end();) {
    if (want_accounts.count(it->first) == 0) {
      impl_->remove_account(it->second);
      it = impl_->accounts.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& a : want_accounts)
    if (impl_->accounts.count(a) == 0) impl_->add_account(a);
  if (impl_->config_gauge != nullptr) impl_->config_info.Remove(impl_->config_gauge);
  impl_->config_gauge = &impl_->config_info.Add({{"revision", revision}});
  impl_->config_gauge->Set(1);
}

void Metrics::publish_grants(const std::vector<GrantReport>& grants,
                             std::chrono::system_clock::time_point now) {
  std::lock_guard lock(impl_->mu);
  for (const auto& g : grants) {
    Impl::GrantSeries* series = impl_->grants.find(g.key);
    if (series == nullptr) continue;
    series->state = g.state;
    series->judged = true;
    if (g.state == GrantState::kReady) series->last_ready = to_seconds(now);
  }
}

void Metrics::observe_pass(const std::string& account, PassResult result, double seconds,
                           std::chrono::system_clock::time_point finished) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->accounts.find(account);
  if (it == impl_->accounts.end()) return;
  const auto idx = static_cast<std::size_t>(result == PassResult::kSuccess ? 0
                                            : result == PassResult::kError ? 1
                                                                           : 2);
  it->second.total[idx]->Increment();
  it->second.duration->Observe(seconds);
  if (result == PassResult::kSuccess) it->second.last_success->Set(to_seconds(finished));
}

void Metrics::count_drift(const std::string& account, const std::string& object, int n) {
  if (n <= 0) return;
  std::lock_guard lock(impl_->mu);
  auto it = impl_->accounts.find(account);
  if (it == impl_->accounts.end()) return;
  for (std::size_t i = 0; i < std::size(kDriftObjects); ++i)
    if (object == kDriftObjects[i]) it->second.drift[i]->Increment(n);
}

void Metrics::count_change(const std::string& account, const std::string& operation) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->accounts.find(account);
  if (it == impl_->accounts.end()) return;
  const std::string op = bounded(operation);
  auto c = it->second.changes.find(op);
  if (c == it->second.changes.end())
    c = it->second.changes
            .emplace(op, &impl_->changes.Add({{"account", account}, {"operation", op}}))
            .first;
  c->second->Increment();
}

void Metrics::count_revocations_blocked(const std::string& reason, int n) {
  if (n <= 0) return;
  std::lock_guard lock(impl_->mu);
  const std::string r = bounded(reason);
  auto it = impl_->blocked.find(r);
  if (it == impl_->blocked.end())
    it = impl_->blocked.emplace(r, &impl_->revocations_blocked.Add({{"reason", r}})).first;
  it->second->Increment(n);
}

void Metrics::observe_api_call(std::string_view product, std::string_view action,
                               std::string_view code, double seconds) {
  const std::string p = bounded(product), a = bounded(action), c = bounded(code);
  std::lock_guard lock(impl_->mu);
  std::string key = p;
  key.append(1, '\0').append(a).append(1, '\0').append(c);
  auto it = impl_->api_counters.find(key);
  if (it == impl_->api_counters.end())
    it = impl_->api_counters
             .emplace(std::move(key),
                      &impl_->api_requests.Add({{"product", p}, {"action", a}, {"code", c}}))
             .first;
  it->second->Increment();
  auto h = impl_->api_histograms.find(p);
  if (h == impl_->api_histograms.end())
    h = impl_->api_histograms
            .emplace(p, &impl_->api_duration.Add({{"product", p}}, api_call_buckets()))
            .first;
  h->second->Observe(seconds);
}

void Metrics::count_config_reload(std::string_view result) {
  // Family::Add returns the existing series for known labels.
  const std::string r = one_of(result, kReloadResults);
  if (r == "other") return;  // a caller bug; never a new series
  impl_->config_reloads.Add({{"result", r}}).Increment();
  impl_->config_last_reload_ok.Add({}).Set(r == "rejected" ? 0 : 1);
}

void Metrics::set_coordination(const std::set<std::string>& owned,
                               const CoordinationCounts& counts) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->coordination) {
    auto c = std::make_unique<Impl::Coordination>();
    c->owned = &prometheus::BuildGauge()
                    .Name("sharekeeper_account_owned")
                    .Help("1 for each account this replica owns (coordination); absent otherwise")
                    .Register(*impl_->registry);
    c->members = &prometheus::BuildGauge()
                      .Name("sharekeeper_coordination_members")
                      .Help("Live replicas, as this replica last read them from etcd")
                      .Register(*impl_->registry);
    c->ready =
        &prometheus::BuildGauge()
             .Name("sharekeeper_coordination_ready")
             .Help("1 while coordination lets this replica write (a member, lease time left)")
             .Register(*impl_->registry);
    c->ready_gauge = &c->ready->Add({});
    c->renewals = &prometheus::BuildCounter()
                       .Name("sharekeeper_coordination_lease_renewals_total")
                       .Help("etcd lease renewals by result (lost: etcd no longer knew the lease)")
                       .Register(*impl_->registry);
    c->handoffs = &prometheus::BuildCounter()
                       .Name("sharekeeper_account_handoffs_total")
                       .Help("Accounts this replica took over (created their owner key)")
                       .Register(*impl_->registry);
    c->members_gauge = &c->members->Add({});
    for (std::size_t i = 0; i < std::size(kRenewalResults); ++i)
      c->renewal_counters[i] = &c->renewals->Add({{"result", kRenewalResults[i]}});
    c->handoff_counter = &c->handoffs->Add({});
    impl_->coordination = std::move(c);
  }
  auto& c = *impl_->coordination;
  for (auto it = c.owned_series.begin(); it != c.owned_series.end();) {
    if (owned.count(it->first) == 0) {
      c.owned->Remove(it->second);
      it = c.owned_series.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& a : owned) {
    if (c.owned_series.count(a) != 0) continue;
    Gauge* g = &c.owned->Add({{"account", a}});
    g->Set(1);
    c.owned_series.emplace(a, g);
  }
  c.members_gauge->Set(static_cast<double>(counts.members));
  c.ready_gauge->Set(counts.ready ? 1 : 0);
  // Counters only move forward: advance each to the coordinator's cumulative count.
  auto advance = [](Counter* counter, std::uint64_t total) {
    const double have = counter->Value();
    if (static_cast<double>(total) > have) counter->Increment(static_cast<double>(total) - have);
  };
  const std::uint64_t totals[] = {counts.renewals_ok, counts.renewals_failed, counts.renewals_lost};
  for (std::size_t i = 0; i < std::size(kRenewalResults); ++i)
    advance(c.renewal_counters[i], totals[i]);
  advance(c.handoff_counter, counts.handoffs);
}

void Metrics::count_config_shrink(std::string_view result) {
  const std::string r = one_of(result, kShrinkResults);
  if (r == "other") return;  // a caller bug; never a new series
  impl_->config_shrinks.Add({{"result", r}}).Increment();
}

std::string Metrics::serialize() const {
  const std::string registry = prometheus::TextSerializer().Serialize(impl_->registry->Collect());
  std::lock_guard lock(impl_->mu);
  // One allocation of the answer's size (7 lines of about 130 bytes a grant), no copy of it.
  std::string out;
  out.reserve(registry.size() + impl_->grants.size() * 1024 + 1024);
  out += registry;
  impl_->render_grants(out);
  return out;
}

void Metrics::Impl::render_grants(std::string& out) const {
  // Label names in sorted order (as TextSerializer writes them): account, share, [state,] target,
  // target_type. `head` and `tail` are rebuilt per grant in buffers that keep their capacity.
  std::string head, tail;
  auto labels = [&head, &tail](const GrantKeyView& k) {
    head.assign("account=\"");
    append_escaped(head, k.account);
    head.append("\",share=\"");
    append_escaped(head, k.share);
    head.append(1, '"');
    tail.assign("target=\"");
    append_escaped(tail, k.target);
    tail.append("\",target_type=\"");
    append_escaped(tail, k.target_type);
    tail.append(1, '"');
  };
  // `name{account="..",share="..",[state="..",]target="..",target_type=".."} `
  auto series = [&](std::string_view name, const char* state) {
    out.append(name).append(1, '{').append(head);
    if (state != nullptr) out.append(",state=\"").append(state).append(1, '"');
    out.append(1, ',').append(tail).append("} ");
  };
  out +=
      "# HELP sharekeeper_grant_ready 1 when the grant (share x target) is Ready, else 0\n"
      "# TYPE sharekeeper_grant_ready gauge\n";
  for (std::size_t i = 0; i < grants.size(); ++i) {
    const GrantSeries& g = grants.row(i);
    labels(grants.key(i));
    series("sharekeeper_grant_ready", nullptr);
    out += g.judged && g.state == GrantState::kReady ? "1\n" : "0\n";
  }
  out +=
      "# HELP sharekeeper_grant_state One-hot grant state: Ready|Pending|Blocked|Failed|Observed\n"
      "# TYPE sharekeeper_grant_state gauge\n";
  for (std::size_t i = 0; i < grants.size(); ++i) {
    const GrantSeries& g = grants.row(i);
    labels(grants.key(i));
    for (GrantState st : kAllGrantStates) {
      series("sharekeeper_grant_state", to_string(st));
      out += g.judged && g.state == st ? "1\n" : "0\n";
    }
  }
  out +=
      "# HELP sharekeeper_grant_last_ready_timestamp_seconds Unix time the grant was last seen "
      "Ready (0: never)\n"
      "# TYPE sharekeeper_grant_last_ready_timestamp_seconds gauge\n";
  char num[32];
  for (std::size_t i = 0; i < grants.size(); ++i) {
    const GrantSeries& g = grants.row(i);
    labels(grants.key(i));
    series("sharekeeper_grant_last_ready_timestamp_seconds", nullptr);
    const auto r = std::to_chars(num, num + sizeof num, g.last_ready, std::chars_format::fixed);
    out.append(num, r.ptr).append(1, '\n');
  }
}

}  // namespace sharekeeper::daemon
