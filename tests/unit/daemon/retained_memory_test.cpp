// What the daemon keeps per grant between passes (issue 14: RSS after a pass over 30,000 grants).
// The global operator new of this test binary counts the bytes live on the heap (by
// malloc_usable_size, so allocator rounding is counted too); each test fills a store the way a
// pass over a converged organisation does and bounds the bytes it retains per grant. A bound, not a
// timing: it fails when a retained value grows (a copied string per grant, a rendered document
// kept, a duplicated key), whatever the machine.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>

#include "../heap_counter.hpp"
#include "config/desired_state.hpp"
#include "daemon/metrics.hpp"
#include "daemon/status.hpp"

namespace sharekeeper::daemon {
namespace {

const auto kT0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
constexpr int kAccounts = 4;
constexpr int kShares = 50;  // per account, 3 targets each: bench_converge's organisation
// Bytes a grant may retain (measured: see bench/daemon/README.md, "Memory").
// StatusStore: 350 measured; 442 with a map node and a GrantKey a row, 746 with a copy of the
// details a row, 914 before the row dropped its key copy.
constexpr long long kStatusBudget = 400;
// Metrics: 148 measured; 245 with a map node and a GrantKey a grant, 1,457 with the rendered block
// kept.
constexpr long long kMetricsBudget = 200;

// `prefix` and n zero-padded to `width` digits.
std::string fmt(std::string prefix, int n, int width) {
  std::string digits = std::to_string(n);
  if (static_cast<int>(digits.size()) < width)
    digits.insert(0, static_cast<std::size_t>(width) - digits.size(), '0');
  return prefix + digits;
}

// bench_converge's shape: every share names 3 target accounts.
config::DesiredState organisation() {
  config::DesiredState d;
  d.revision = "0123456789abcdef0123456789abcdef01234567";
  d.content_hash = "sha256:0123456789abcdef";
  for (int a = 0; a < kAccounts; ++a) {
    config::Account acct;
    acct.name = fmt("sharer", a, 4);
    d.accounts.push_back(acct);
    for (int s = 0; s < kShares; ++s) {
      config::Share sh;
      sh.name = fmt(acct.name + "-", s, 2);
      sh.account = acct.name;
      for (int t = 0; t < 3; ++t) sh.to.accounts.push_back(fmt("19", a * 1000 + s * 3 + t, 14));
      d.shares.push_back(sh);
    }
  }
  return d;
}

// A converged pass: every grant Ready, its share's resource (an image or a snapshot) shared with
// each of the share's 3 targets, through an image share permission or a resource share.
PassReport converged_pass(const config::DesiredState& d, const std::string& account) {
  PassReport p;
  p.account = account;
  p.outcome.result = PassResult::kSuccess;
  p.outcome.observation_complete = true;
  p.outcome.plan_json = R"({"accounts":[{"account":")" + account + R"(","changes":[]}]})";
  p.finished = kT0 + std::chrono::seconds(60);
  int n = 0;
  for (auto& k : grants_of(d, account)) {
    GrantReport g;
    g.key = std::move(k);
    g.state = GrantState::kReady;
    const int share = n / 3;
    ResourceDetail r;
    r.id = share % 2 ? fmt("m-bp1img", share, 12) : fmt("s-bp1snap", share, 11);
    r.region = share % 2 ? "cn-hangzhou" : "cn-shanghai";
    r.state = GrantState::kReady;
    r.sharing = Sharing::kShared;
    r.sharing_detail = share % 2 ? "image share permission" : "resource share rs-0123456789abcdef";
    g.resources.push_back(std::move(r));
    p.outcome.grants.push_back(std::move(g));
    ++n;
  }
  return p;
}

long long live() { return sharekeeper::testing::heap::live(); }

TEST(RetainedMemory, StatusRowsPerGrant) {
  const config::DesiredState d = organisation();
  std::vector<PassReport> passes;
  for (const auto& a : d.accounts) passes.push_back(converged_pass(d, a.name));
  const std::size_t grants = static_cast<std::size_t>(kAccounts * kShares * 3);

  const long long before = live();
  {
    StatusStore s;
    s.set_config(d, kT0);
    for (const auto& p : passes) s.pass_finished(p);
    const long long after_one = live();
    const long long per_grant = (after_one - before) / static_cast<long long>(grants);
    std::printf("StatusStore: %lld bytes per grant retained after a converged pass\n", per_grant);
    EXPECT_LE(per_grant, kStatusBudget);
    // The next converged pass says the same: the store retains nothing more.
    for (const auto& p : passes) s.pass_finished(p);
    EXPECT_LE(live(), after_one);
  }
  EXPECT_LE(live() - before, 0);  // nothing outlives the store
}

// A plan as render_json_compact writes one for an account of bench_converge's organisation: every
// grant with its chain of links (about 1 KB a grant).
std::string plan_of(const config::DesiredState& d, const std::string& account) {
  nlohmann::json grants = nlohmann::json::array();
  for (const auto& k : grants_of(d, account)) {
    nlohmann::json chain = nlohmann::json::array();
    for (const char* link : {"resource", "key", "share-role", "trust", "kms-policy", "attachment",
                             "disk-encrypt-role", "share"})
      chain.push_back({{"link", link},
                       {"holds", true},
                       {"observed", std::string("observed ") + link + " of " + k.share},
                       {"remedy", ""}});
    grants.push_back({{"share", k.share},
                      {"target", {{"type", k.target_type}, {"id", k.target}}},
                      {"state", "Ready"},
                      {"reason", ""},
                      {"chain", std::move(chain)}});
  }
  return nlohmann::json{{"accounts",
                         {{{"account", account},
                           {"changes", nlohmann::json::array()},
                           {"grants", std::move(grants)}}}}}
      .dump();
}

TEST(RetainedMemory, AKeptPlanIsDeflated) {
  const config::DesiredState d = organisation();
  const std::string account = d.accounts[0].name;
  // What the same pass retains with a one-line plan and with the full one: the difference is
  // the plan's.
  auto retained = [&](const std::string& plan) {
    PassReport p = converged_pass(d, account);
    p.outcome.plan_json = plan;
    auto s = std::make_unique<StatusStore>();
    s->set_config(d, kT0);
    const long long before = live();
    s->pass_finished(p);
    return std::make_pair(live() - before, std::move(s));
  };
  const std::string plan = plan_of(d, account);
  const auto [small, unused] = retained(R"({"accounts":[]})");
  const auto [full, store] = retained(plan);
  const long long kept = full - small;
  std::printf("StatusStore: a plan of %zu bytes kept in %lld bytes\n", plan.size(), kept);
  EXPECT_LE(kept, static_cast<long long>(plan.size()) / 5);  // kept as text: more than its size
  // GET /plan answers the same plan.
  const auto answer = nlohmann::json::parse(store->plan_json());
  EXPECT_EQ(answer["accounts"][account], nlohmann::json::parse(plan));
}

TEST(RetainedMemory, MetricsPerGrantAfterAScrape) {
  const config::DesiredState d = organisation();
  std::vector<std::string> accounts;
  std::vector<GrantKey> keys;
  std::vector<PassReport> passes;
  for (const auto& a : d.accounts) {
    accounts.push_back(a.name);
    for (auto& k : grants_of(d, a.name)) keys.push_back(k);
    passes.push_back(converged_pass(d, a.name));
  }
  const long long before = live();
  {
    Metrics m("0.1.0");
    m.set_config(accounts, keys, d.revision);
    for (const auto& p : passes) m.publish_grants(p.outcome.grants, p.finished);
    const std::size_t body = m.serialize().size();
    const long long per_grant = (live() - before) / static_cast<long long>(keys.size());
    std::printf(
        "Metrics: %lld bytes per grant retained after a scrape (exposition %zu bytes, %zu "
        "per grant)\n",
        per_grant, body, body / keys.size());
    EXPECT_LE(per_grant, kMetricsBudget);
  }
}

}  // namespace
}  // namespace sharekeeper::daemon
