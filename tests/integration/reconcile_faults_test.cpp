// The reconcilers under the emulator's faults (docs/failure-matrix.md §5), through the real
// AlibabaClient and wire protocol: throttling (A1), 5xx bursts (A2), commit-then-timeout and
// commit-then-reset (A3), consistency lag (B1), a policy already at 5 versions (B5), a failed read
// while the config shrank (B6) and an out-of-band edit between passes (B7). After every pass the
// model is checked against the safety invariants (S1 keep what is desired, S2 add nothing outside
// it, S3 touch nothing not ours); the journal shows that no write went out twice.
//
// Time never passes by sleeping: the client's retry sleeps and the apply's verification waits are
// no-ops or move the emulator's clock, and the client's wall clock follows the emulator's.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cloud/alibaba_client.hpp"
#include "cloud/credential_providers.hpp"
#include "cloud/endpoints.hpp"
#include "cloud/retry.hpp"
#include "cloud/transport.hpp"
#include "emulator/emulator.hpp"
#include "emulator_client.hpp"
#include "reconcilers/apply.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/policy_document.hpp"
#include "reconcilers/render.hpp"

namespace sharekeeper {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kUid = "1234567890123456";
constexpr const char* kA = "1111222233334444";
constexpr const char* kB = "5555666677778888";
constexpr const char* kOutsider = "9999888877776666";
constexpr const char* kRegion = "cn-hangzhou";
constexpr const char* kKey = "key-hzz6cmk0000000000001";
constexpr const char* kKey2 = "key-hzz6cmk0000000000002";
constexpr const char* kImage = "m-bp1aaaaaaaaaaaaaaaaa";
constexpr const char* kSnap = "s-bp1bbbbbbbbbbbbbbbbb";
constexpr const char* kImageSnap = "s-bp1ccccccccccccccccc";
constexpr const char* kSnap2 = "s-bp1ddddddddddddddddd";
constexpr const char* kImageRole = "AliyunECSShareEncryptImageDefaultRole";
constexpr const char* kSnapRole = "AliyunECSShareEncryptSnapshotDefaultRole";
constexpr const char* kSnapPolicy = "sharekeeper-ecs-share-snapshot-kms-1";
constexpr const char* kImagePolicy = "sharekeeper-ecs-share-image-kms-1";
constexpr const char* kForeignPolicy = "team-extra-kms";
constexpr const char* kAccessKeyId = "LTAI5tFaultTestKey0001";
constexpr const char* kAccessKeySecret = "FaultTestSecret0123456789abcdef";

std::string arn(const char* key) {
  return std::string("acs:kms:") + kRegion + ":" + kUid + ":key/" + key;
}

// The key each resource is encrypted with (as seeded below).
std::string key_of(const std::string& resource) { return resource == kSnap2 ? kKey2 : kKey; }

json seed() {
  json key = [](const char* id) {
    return json{{"keyId", id}, {"creator", kUid}, {"state", "Enabled"}};
  }(kKey);
  json key2 = {{"keyId", kKey2}, {"creator", kUid}, {"state", "Enabled"}};
  auto snap = [](const char* id, const char* k) {
    return json{{"snapshotId", id}, {"encrypted", true}, {"kmsKeyId", k}, {"tags", json::object()}};
  };
  json account = {
      {"uid", kUid},
      {"name", "prod"},
      {"accessKeys", json::array({{{"id", kAccessKeyId}, {"secret", kAccessKeySecret}}})},
      {"regions",
       {{kRegion,
         {{"kmsKeys", json::array({key, key2})},
          {"snapshots",
           json::array({snap(kSnap, kKey), snap(kImageSnap, kKey), snap(kSnap2, kKey2)})},
          {"images", json::array({{{"imageId", kImage},
                                   {"snapshotIds", json::array({kImageSnap})},
                                   {"tags", json::object()}}})}}}}}};
  json accounts = json::array({account});
  for (const char* uid : {kA, kB, kOutsider})
    accounts.push_back(
        {{"uid", uid}, {"name", std::string("c") + uid}, {"accessKeys", json::array()}});
  return {{"accounts", accounts}};
}

// Retry sleeps are skipped; the wall clock (x-acs-date, checked by the emulator's verifier) is the
// emulator's, so moving the emulator's clock never makes requests look skewed.
class EmulatorFollowingClock final : public cloud::Clock {
 public:
  explicit EmulatorFollowingClock(emulator::EmulatedClock& emu) : emu_(emu) {}
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() override { return emu_.now(); }
  void sleep_for(std::chrono::nanoseconds) override {}

 private:
  emulator::EmulatedClock& emu_;
};

const std::set<std::string>& write_actions() {
  static const std::set<std::string> kWrites = {"CreateRole",
                                                "UpdateRole",
                                                "DeleteRole",
                                                "CreatePolicy",
                                                "DeletePolicy",
                                                "CreatePolicyVersion",
                                                "DeletePolicyVersion",
                                                "AttachPolicyToRole",
                                                "DetachPolicyFromRole",
                                                "TagResources",
                                                "UntagResources",
                                                "SetDefaultPolicyVersion",
                                                "ModifyImageSharePermission",
                                                "CreateResourceShare",
                                                "AssociateResourceShare",
                                                "DisassociateResourceShare"};
  return kWrites;
}

struct World {
  json seed = sharekeeper::seed();
  milliseconds consistency_lag{0};
  int page_size = 100;
  // Generous by default: on a loaded CI machine (the ASan tree, ctest -j2) an ordinary call must
  // not time out and turn into a re-read and a second write, which would change the journal counts.
  // The commit-then-timeout scenarios set it short, with the answer held 5x longer.
  milliseconds client_timeout{5000};
};

class ReconcileFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::Account a;
    a.name = "prod";
    a.uid = kUid;
    desired_.accounts = {a};
    config::Share s;
    s.name = "golden";
    s.account = "prod";
    s.region = kRegion;
    s.images = {kImage};
    s.snapshots = {kSnap};
    s.to.accounts = {kA, kB};
    desired_.shares = {s};
    desired_.revision = "faults";
  }
  void TearDown() override {
    if (emu_) emu_->stop();
  }

  void start(const World& world = {}) {
    emulator::EmulatorOptions eo;
    eo.seed = world.seed;
    eo.model.consistency_lag = world.consistency_lag;
    eo.server.fault_seed = 20261129;  // a fixed seed: the probabilistic rules replay exactly
    emu_ = std::make_unique<emulator::Emulator>(eo);
    emu_->start();
    cloud::AlibabaClientOptions co =
        testing::emulator_client_options(emu_->url(), kAccessKeyId, kAccessKeySecret);
    co.timeout = world.client_timeout;
    co.clock = std::make_shared<EmulatorFollowingClock>(emu_->server().clock());
    co.random = [] { return 0.5; };
    co.page_size = world.page_size;
    co.retry_quota = quota_;
    client_ = std::make_unique<cloud::AlibabaClient>(std::move(co));
  }

  reconcilers::ClientFor client_for() {
    return [this](const config::Account&) -> cloud::CloudApi* { return client_.get(); };
  }
  reconcilers::ApplyOptions options() {
    reconcilers::ApplyOptions o;
    o.sleep = [](milliseconds) {};
    return o;
  }
  reconcilers::Plan plan() {
    return reconcilers::plan(desired_, reconcilers::observe(desired_, client_for()));
  }
  // One reconcile pass (observe, plan, apply, verify), then the safety invariants over the model.
  reconcilers::ApplyResult pass() {
    const json before = account_state();
    auto r = reconcilers::apply(desired_, plan(), client_for(), options_ ? *options_ : options());
    check_invariants(before);
    return r;
  }
  // L1: passes until one converges; returns how many it took (max_passes + 1 when none did).
  int converge_within(int max_passes) {
    for (int i = 1; i <= max_passes; ++i) {
      auto r = pass();
      if (r.converged()) return i;
    }
    return max_passes + 1;
  }
  void add_fault(const json& rule) { ASSERT_EQ(emu_->server().faults().add(rule).size(), 1U); }

  // Journal counts: requests of `action` the emulator answered, and those the model ran.
  int sent(const std::string& action) const {
    int n = 0;
    for (const auto& e : emu_->server().journal().entries())
      if (e.action == action) ++n;
    return n;
  }
  // Applied: the model ran the call and accepted it (an after-commit fault answers with an error
  // or nothing, but the change was made).
  static bool applied(const emulator::JournalEntry& e) {
    return e.committed && ((e.status >= 200 && e.status < 300) || e.fault_rule != 0);
  }
  int committed(const std::string& action) const {
    int n = 0;
    for (const auto& e : emu_->server().journal().entries())
      if (e.action == action && applied(e)) ++n;
    return n;
  }
  int committed_writes() const {
    int n = 0;
    for (const auto& e : emu_->server().journal().entries())
      if (applied(e) && write_actions().count(e.action) != 0U) ++n;
    return n;
  }
  int faulted(const std::string& action) const {
    int n = 0;
    for (const auto& e : emu_->server().journal().entries())
      if (e.action == action && e.fault_rule != 0) ++n;
    return n;
  }

  // The sharer account as the emulator holds it.
  json account_state() const {
    const json state = emu_->model().state();
    for (const auto& a : state["accounts"])
      if (a["uid"] == kUid) return a;
    ADD_FAILURE() << "no sharer account in the emulator";
    return json::object();
  }
  static const json* find_named(const json& list, const std::string& name) {
    for (const auto& x : list)
      if (x["name"] == name) return &x;
    return nullptr;
  }
  json role_state(const std::string& name) const {
    auto s = account_state();
    const json* r = find_named(s["roles"], name);
    return r ? *r : json();
  }
  json policy_state(const std::string& name) const {
    auto s = account_state();
    const json* p = find_named(s["policies"], name);
    return p ? *p : json();
  }
  static std::set<std::string> principals_of(const json& role) {
    if (!role.is_object()) return {};
    auto tp = reconcilers::parse_trust_policy(role["trustPolicy"].dump());
    EXPECT_TRUE(tp.has_value()) << role["trustPolicy"].dump();
    if (!tp) return {};
    return {tp->accounts.begin(), tp->accounts.end()};
  }
  static json default_version(const json& policy) {
    if (!policy.is_object()) return json();
    for (const auto& v : policy["versions"])
      if (v["default"] == true) return v;
    return json();
  }
  static std::set<std::string> keys_of(const json& policy) {
    json v = default_version(policy);
    if (!v.is_object()) return {};
    auto c = reconcilers::parse_kms_policy(v["document"].get<std::string>());
    EXPECT_TRUE(c.has_value()) << v.dump();
    if (!c) return {};
    return {c->key_arns.begin(), c->key_arns.end()};
  }
  // What the config asks of a share role: its target accounts and key ARNs (the image role serves
  // shares with images, the snapshot role shares with snapshots).
  std::set<std::string> desired_accounts(const std::string& role) const {
    std::set<std::string> out;
    for (const auto& s : desired_.shares)
      if (!(role == kImageRole ? s.images : s.snapshots).empty())
        out.insert(s.to.accounts.begin(), s.to.accounts.end());
    return out;
  }
  std::set<std::string> desired_keys(const std::string& role) const {
    std::set<std::string> out;
    for (const auto& s : desired_.shares)
      for (const auto& id : role == kImageRole ? s.images : s.snapshots)
        out.insert(arn(key_of(id).c_str()));
    return out;
  }
  // The keys the policies of ours attached to `role` grant (default versions).
  static std::set<std::string> granted_keys(const json& account, const json& role) {
    std::set<std::string> out;
    for (const auto& at : role["policies"]) {
      if (!ours(at["name"])) continue;
      if (const json* p = find_named(account["policies"], at["name"])) {
        auto k = keys_of(*p);
        out.insert(k.begin(), k.end());
      }
    }
    return out;
  }
  static bool ours(const std::string& policy) { return policy.rfind("sharekeeper-", 0) == 0; }
  static bool share_role(const std::string& role) {
    return role == kImageRole || role == kSnapRole;
  }

  // S3 for one collection of the model: what `mine` does not claim is as before, and none appeared.
  static void expect_untouched(const json& before, const json& now, const char* collection,
                               bool (*mine)(const std::string&)) {
    for (const auto& x : before[collection])
      if (!mine(x["name"])) {
        const json* after = find_named(now[collection], x["name"]);
        EXPECT_TRUE(after != nullptr && *after == x)
            << "S3: " << collection << " " << x["name"] << " changed";
      }
    for (const auto& x : now[collection])
      EXPECT_TRUE(mine(x["name"]) || find_named(before[collection], x["name"]) != nullptr)
          << "S3: " << collection << " " << x["name"] << " created";
  }

  // S1-S3 over the model (docs/failure-matrix.md §5): `before` is the account before the pass.
  void check_invariants(const json& before_pass) {
    const json now = account_state();
    // S3: roles other than the two share roles and policies not named sharekeeper-* are exactly
    // as before the pass (not created, edited, re-attached or deleted).
    expect_untouched(before_pass, now, "roles", share_role);
    expect_untouched(before_pass, now, "policies", ours);
    for (const char* rn : {kImageRole, kSnapRole}) {
      const json* r = find_named(now["roles"], rn);
      const json* before = find_named(before_pass["roles"], rn);
      const auto want_accounts = desired_accounts(rn);
      const auto want_keys = desired_keys(rn);
      const auto had = before ? principals_of(*before) : std::set<std::string>{};
      const auto had_keys = before ? granted_keys(before_pass, *before) : std::set<std::string>{};
      const auto trusted = r ? principals_of(*r) : std::set<std::string>{};
      const auto granted = r ? granted_keys(now, *r) : std::set<std::string>{};
      // S1: a grant that was in place and is still desired is never removed.
      for (const auto& uid : had) {
        if (want_accounts.count(uid) == 0U) continue;
        EXPECT_EQ(trusted.count(uid), 1U) << "S1: " << rn << " lost " << uid;
      }
      for (const auto& k : had_keys) {
        if (want_keys.count(k) == 0U) continue;
        EXPECT_EQ(granted.count(k), 1U) << "S1: " << rn << " lost key " << k;
      }
      // S2: nothing added outside the config (what was there may be kept by a guard).
      for (const auto& uid : trusted)
        EXPECT_TRUE(want_accounts.count(uid) != 0U || had.count(uid) != 0U)
            << "S2: " << rn << " trusts " << uid << " outside the config";
      for (const auto& k : granted)
        EXPECT_TRUE(want_keys.count(k) != 0U || had_keys.count(k) != 0U)
            << "S2: " << rn << " grants " << k << " outside the config";
      // S3: a new attachment is always one of ours.
      if (r == nullptr) continue;
      for (const auto& at : (*r)["policies"]) {
        bool was = false;
        if (before != nullptr)
          for (const auto& x : (*before)["policies"]) was = was || x == at;
        EXPECT_TRUE(was || ours(at["name"])) << "S3: " << at["name"] << " attached to " << rn;
      }
    }
  }

  // Whom the image is shared with, and the targets of our snapshot resource share in effect.
  std::set<std::string> image_accounts() {
    auto l = client_->describe_image_share_permission(kRegion, kImage);
    EXPECT_TRUE(l.ok()) << l.error().to_string();
    return l.ok() ? std::set<std::string>(l->begin(), l->end()) : std::set<std::string>{};
  }
  std::set<std::string> snapshot_targets() {
    cloud::ResourceShareFilter f;
    f.name = "sharekeeper-golden-snapshot";
    f.status = "Active";
    auto shares = client_->list_resource_shares(kRegion, f);
    EXPECT_TRUE(shares.ok() && shares->size() == 1U) << "one resource share of ours";
    if (!shares.ok() || shares->empty()) return {};
    auto t = client_->list_resource_share_associations(kRegion, "Target",
                                                       {(*shares)[0].resource_share_id});
    EXPECT_TRUE(t.ok());
    std::set<std::string> out;
    if (t.ok())
      for (const auto& a : *t)
        if (a.association_status == "Associated" || a.association_status == "Associating")
          out.insert(a.entity_id);
    return out;
  }

  // Every ChangeResult of the pass, flattened.
  static std::vector<reconcilers::ChangeResult> results(const reconcilers::ApplyResult& r) {
    std::vector<reconcilers::ChangeResult> out;
    for (const auto& a : r.accounts) out.insert(out.end(), a.results.begin(), a.results.end());
    return out;
  }

  std::unique_ptr<emulator::Emulator> emu_;
  std::unique_ptr<cloud::AlibabaClient> client_;
  std::shared_ptr<cloud::RetryQuota> quota_ = std::make_shared<cloud::RetryQuota>();
  config::DesiredState desired_;
  std::optional<reconcilers::ApplyOptions> options_;
};

// ---- A1: Throttling.User on 30 % of calls ------------------------------------------------------

TEST_F(ReconcileFaultsTest, A1ThrottlingOnAThirdOfCallsConvergesWithoutDuplicates) {
  start();
  add_fault({{"probability", 0.3}, {"code", "Throttling.User"}});
  int passes = converge_within(5);
  EXPECT_LE(passes, 5) << "L1: no convergence in 5 passes under 30 % throttling";
  EXPECT_GT(faulted("GetRole") + faulted("ListPoliciesForRole") + faulted("CreateRole") +
                faulted("CreatePolicy") + faulted("AttachPolicyToRole"),
            0)
      << "the rule never fired";
  // Throttled calls never reach the model: each object was created exactly once.
  EXPECT_EQ(committed("CreateRole"), 2);
  EXPECT_EQ(committed("CreatePolicy"), 2);
  EXPECT_EQ(committed("AttachPolicyToRole"), 2);
  EXPECT_EQ(principals_of(role_state(kImageRole)), (std::set<std::string>{kA, kB}));
  EXPECT_EQ(keys_of(policy_state(kSnapPolicy)), (std::set<std::string>{arn(kKey)}));
  EXPECT_GE(quota_->available(), 0) << "the retry quota never goes negative";

  // L1: the faults stop, and the next pass has nothing left to do.
  emu_->server().faults().clear();
  auto quiet = pass();
  EXPECT_TRUE(quiet.converged()) << reconcilers::render_apply_text(quiet);
  EXPECT_EQ(quiet.writes(), 0);
}

// ---- A2: 500/503 bursts on writes --------------------------------------------------------------

TEST_F(ReconcileFaultsTest, A2ServerErrorBurstOnAWriteFailsThePassThenConverges) {
  start();
  // A 5xx on a write may come after the commit, so the client does not retry it blind: apply
  // re-reads and writes once more. Both attempts at both CreatePolicy calls get 503; the first
  // AttachPolicyToRole (a later pass) gets one 500 that the re-read and second attempt absorb.
  add_fault({{"action", "CreatePolicy"}, {"times", 4U}, {"code", "ServiceUnavailable"}});
  add_fault({{"action", "AttachPolicyToRole"}, {"nth", 1U}, {"code", "InternalError"}});
  auto first = pass();
  EXPECT_FALSE(first.converged());
  EXPECT_EQ(faulted("CreatePolicy"), 4);
  int failed_create = 0;
  int skipped_attach = 0;
  for (const auto& r : results(first)) {
    if (r.change.action == reconcilers::Action::kCreatePolicy && !r.ok) {
      ++failed_create;
      ASSERT_TRUE(r.error.has_value());
      EXPECT_EQ(r.error->code, "ServiceUnavailable");
    }
    if (r.change.action == reconcilers::Action::kAttachPolicy && r.skipped) ++skipped_attach;
  }
  EXPECT_EQ(failed_create, 2) << reconcilers::render_apply_text(first);
  EXPECT_EQ(skipped_attach, 2) << "the attach of a policy that was not created is not tried";
  EXPECT_EQ(faulted("AttachPolicyToRole"), 0);

  EXPECT_LE(converge_within(3), 3) << "L1: the burst is over, yet no pass converges";
  EXPECT_EQ(faulted("AttachPolicyToRole"), 1);
  EXPECT_EQ(committed("CreateRole"), 2);
  EXPECT_EQ(committed("CreatePolicy"), 2);
  EXPECT_EQ(committed("AttachPolicyToRole"), 2);
}

TEST_F(ReconcileFaultsTest, A2ServerErrorsWhileWideningNeverRevoke) {
  start();
  ASSERT_EQ(converge_within(1), 1);
  // A new target: the trust update fails on every attempt, and nothing that was granted is lost.
  desired_.shares[0].to.accounts = {kA, kB, kOutsider};
  add_fault({{"action", "UpdateRole"}, {"times", 8U}, {"code", "ServiceUnavailable"}});
  auto failing = pass();
  EXPECT_FALSE(failing.converged());
  EXPECT_EQ(committed("UpdateRole"), 0);
  EXPECT_EQ(principals_of(role_state(kImageRole)), (std::set<std::string>{kA, kB}));
  EXPECT_EQ(principals_of(role_state(kSnapRole)), (std::set<std::string>{kA, kB}));
  emu_->server().faults().clear();
  EXPECT_EQ(converge_within(2), 1);
  EXPECT_EQ(principals_of(role_state(kImageRole)), (std::set<std::string>{kA, kB, kOutsider}));
}

// ---- A3: the write is applied, the answer never arrives ----------------------------------------

TEST_F(ReconcileFaultsTest, A3CommitThenTimeoutOnAttachIsOneAttachment) {
  // Applied, then the answer is held 2 s, past the client's 400 ms deadline.
  World w;
  w.client_timeout = milliseconds(400);
  start(w);
  add_fault({{"action", "AttachPolicyToRole"},
             {"nth", 1U},
             {"afterCommit", true},
             {"drop", true},
             {"latencyMs", 2000U}});
  auto r = pass();
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  int re_observed = 0;
  for (const auto& c : results(r))
    if (c.change.action == reconcilers::Action::kAttachPolicy && c.re_observed && c.ok)
      ++re_observed;
  EXPECT_EQ(re_observed, 1) << "the timed-out attach is confirmed by re-reading";
  // (The held call is journalled only when its 2 s are over: the model is the witness here.)
  for (const char* rn : {kImageRole, kSnapRole})
    EXPECT_EQ(role_state(rn)["policies"].size(), 1U) << role_state(rn).dump();
}

TEST_F(ReconcileFaultsTest, A3CommitThenResetOnAttachIsOneAttachment) {
  start();
  // Applied, then the connection is closed without an answer (a reset, no waiting).
  add_fault({{"action", "AttachPolicyToRole"}, {"nth", 1U}, {"afterCommit", true}, {"drop", true}});
  auto r = pass();
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  // The transport re-sends on a fresh connection and RAM refuses the copy (SignatureNonceUsed): a
  // copy arrived, so the outcome is unknown and apply re-reads instead of writing again; the
  // second AttachPolicyToRole is the other role's.
  std::vector<std::string> codes;
  for (const auto& e : emu_->server().journal().entries())
    if (e.action == "AttachPolicyToRole")
      codes.push_back(e.dropped ? "dropped" : e.code.empty() ? "OK" : e.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"dropped", "SignatureNonceUsed", "OK"}));
  EXPECT_EQ(committed("AttachPolicyToRole"), 2);
  for (const char* rn : {kImageRole, kSnapRole})
    EXPECT_EQ(role_state(rn)["policies"].size(), 1U) << role_state(rn).dump();
}

TEST_F(ReconcileFaultsTest, A3CommitThenServerErrorOnCreateRoleAndAttachIsOneEach) {
  start();
  // Applied, then answered 500: the outcome is unknown, so apply re-reads and finds it done.
  add_fault(
      {{"action", "CreateRole"}, {"nth", 1U}, {"afterCommit", true}, {"code", "InternalError"}});
  add_fault({{"action", "AttachPolicyToRole"},
             {"nth", 1U},
             {"afterCommit", true},
             {"code", "InternalError"}});
  auto r = pass();
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  EXPECT_EQ(account_state()["roles"].size(), 2U);
  EXPECT_EQ(committed("CreateRole"), 2);
  EXPECT_EQ(committed("AttachPolicyToRole"), 2);
  for (const char* rn : {kImageRole, kSnapRole})
    EXPECT_EQ(role_state(rn)["policies"].size(), 1U) << role_state(rn).dump();
}

// A converged account whose share gains kSnap2 (another key): the snapshot role's KMS policy needs
// a new version. `rule` is put on CreatePolicyVersion for that pass.
class ReconcileFaultsPolicyVersionTest : public ReconcileFaultsTest {
 protected:
  reconcilers::ApplyResult widen_with(const json& rule, const World& world = {}) {
    start(world);
    EXPECT_EQ(converge_within(1), 1);
    desired_.shares[0].snapshots = {kSnap, kSnap2};
    add_fault(rule);
    return pass();
  }
  // The CreatePolicyVersion requests as the journal saw them: "<status> <code>" each.
  std::string version_calls() const {
    std::string out;
    for (const auto& e : emu_->server().journal().entries())
      if (e.action == "CreatePolicyVersion")
        out += std::to_string(e.status) + " " + (e.code.empty() ? "OK" : e.code) +
               (e.committed ? " (committed)" : "") + "; ";
    return out;
  }
  void expect_one_new_version() {
    json p = policy_state(kSnapPolicy);
    std::vector<std::string> ids;
    for (const auto& v : p["versions"]) ids.push_back(v["versionId"]);
    EXPECT_EQ(ids, (std::vector<std::string>{"v1", "v2"}))
        << "duplicate version; CreatePolicyVersion calls: " << version_calls();
    EXPECT_EQ(default_version(p)["versionId"], "v2");
    EXPECT_EQ(keys_of(p), (std::set<std::string>{arn(kKey), arn(kKey2)}));
    EXPECT_EQ(policy_state(kImagePolicy)["versions"].size(), 1U);
  }
};

TEST_F(ReconcileFaultsPolicyVersionTest, A3CommitThenTimeoutOnCreatePolicyVersionIsOneVersion) {
  World w;
  w.client_timeout = milliseconds(400);  // the answer is held 2 s
  auto r = widen_with({{"action", "CreatePolicyVersion"},
                       {"nth", 1U},
                       {"afterCommit", true},
                       {"drop", true},
                       {"latencyMs", 2000U}},
                      w);
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  expect_one_new_version();
}

TEST_F(ReconcileFaultsPolicyVersionTest, A3CommitThenResetOnCreatePolicyVersionIsOneVersion) {
  auto r = widen_with(
      {{"action", "CreatePolicyVersion"}, {"nth", 1U}, {"afterCommit", true}, {"drop", true}});
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  expect_one_new_version();
}

TEST_F(ReconcileFaultsPolicyVersionTest, A3CommitThenServerErrorOnCreatePolicyVersionIsOneVersion) {
  // Applied, then answered 500: the "did it happen?" case arriving as a server error.
  auto r = widen_with({{"action", "CreatePolicyVersion"},
                       {"nth", 1U},
                       {"afterCommit", true},
                       {"code", "InternalError"}});
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  expect_one_new_version();
}

// ---- B1: a created role or policy stays invisible to reads for a while --------------------------

TEST_F(ReconcileFaultsTest, B1ConsistencyLagCreatesEachRoleOnce) {
  World w;
  w.consistency_lag = milliseconds(5000);
  start(w);
  // The apply's verification wait moves the emulator's clock instead of sleeping.
  milliseconds offset{0};
  reconcilers::ApplyOptions o = options();
  o.sleep = [&](milliseconds d) {
    offset += d;
    emu_->server().clock().set_offset(offset);
  };
  options_ = o;
  auto first = pass();
  // Attaching right after the create sees the new role/policy as missing: only the attaches fail
  // (and the shares after them wait: never share before the role and keys are in place).
  for (const auto& c : results(first)) {
    if (c.change.action == reconcilers::Action::kAttachPolicy || c.skipped) continue;
    EXPECT_TRUE(c.ok) << reconcilers::to_string(c.change.action) << ": "
                      << (c.error ? c.error->to_string() : c.detail);
  }
  EXPECT_GE(offset, milliseconds(5000)) << "verification waited out the lag";
  int passes = converge_within(3);
  EXPECT_LE(passes, 3);
  EXPECT_EQ(sent("CreateRole"), 2) << "no re-create: one CreateRole per role ever sent";
  EXPECT_EQ(sent("CreatePolicy"), 2);
  EXPECT_EQ(committed("AttachPolicyToRole"), 2);
}

TEST_F(ReconcileFaultsTest, B1PassDuringTheLagNeverCreatesTwice) {
  World w;
  w.consistency_lag = milliseconds(60'000);
  start(w);
  // Two passes inside the lag (the role still reads as missing), then the lag passes.
  pass();
  pass();
  // The second pass still sees no role and tries once more per role; RAM answers
  // EntityAlreadyExists (existence ignores the lag), which is not a loop and creates nothing.
  EXPECT_LE(sent("CreateRole"), 4) << "at most one CreateRole per role per pass";
  EXPECT_EQ(committed("CreateRole"), 2);
  EXPECT_EQ(committed("CreatePolicy"), 2);
  EXPECT_EQ(account_state()["roles"].size(), 2U);
  emu_->server().clock().set_offset(milliseconds(61'000));
  EXPECT_LE(converge_within(2), 2);
  EXPECT_EQ(committed("CreateRole"), 2);
  EXPECT_EQ(committed("CreatePolicy"), 2);
  EXPECT_EQ(committed("AttachPolicyToRole"), 2);
}

// ---- B5: our policy already has 5 versions -----------------------------------------------------

TEST_F(ReconcileFaultsTest, B5RotationDeletesTheOldestNonDefaultVersion) {
  World w;
  json& acc = w.seed["accounts"][0];
  auto doc = [](std::vector<std::string> keys) {
    reconcilers::KmsPolicyContent c;
    c.key_arns = std::move(keys);
    return reconcilers::build_kms_policy(c);
  };
  // v1 (the oldest) is the default and grants kKey; v2..v5 are older experiments.
  json versions = json::array({{{"document", doc({arn(kKey)})}, {"default", true}}});
  for (int i = 2; i <= 5; ++i) versions.push_back({{"document", doc({arn(kKey2)})}});
  json tags = {{"sharekeeper:managed-by", "sharekeeper"}};
  acc["policies"] = json::array({{{"name", kSnapPolicy}, {"versions", versions}, {"tags", tags}}});
  reconcilers::TrustPrincipals tp;
  tp.accounts = {kA, kB};
  acc["roles"] = json::array({{{"name", kSnapRole},
                               {"trustPolicy", reconcilers::build_trust_policy(tp)},
                               {"policies", json::array({kSnapPolicy})},
                               {"tags", tags}}});
  start(w);
  desired_.shares[0].images.clear();
  desired_.shares[0].snapshots = {kSnap, kSnap2};  // the policy needs kKey2 as well

  const json before = account_state();
  auto p = plan();
  std::vector<std::string> policy_changes;
  for (const auto& c : p.accounts.at(0).changes)
    if (c.policy_name == kSnapPolicy)
      policy_changes.push_back(std::string(reconcilers::to_string(c.action)) + " " + c.version_id);
  EXPECT_EQ(policy_changes,
            (std::vector<std::string>{"DeletePolicyVersion v2", "CreatePolicyVersion "}))
      << reconcilers::render_text(p);
  auto r = reconcilers::apply(desired_, p, client_for(), options());
  check_invariants(before);
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  json pol = policy_state(kSnapPolicy);
  std::vector<std::string> ids;
  for (const auto& v : pol["versions"]) ids.push_back(v["versionId"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"v1", "v3", "v4", "v5", "v6"}))
      << "the default v1 is never deleted";
  EXPECT_EQ(default_version(pol)["versionId"], "v6");
  EXPECT_EQ(keys_of(pol), (std::set<std::string>{arn(kKey), arn(kKey2)}));
  EXPECT_EQ(committed("DeletePolicyVersion"), 1);
  EXPECT_EQ(sent("DeletePolicyVersion"), 1);
}

// ---- B6: a failed read while the config shrank: no revocation that pass ------------------------

class ReconcileFaultsShrinkTest : public ReconcileFaultsTest {
 protected:
  // Converges {A, B}, shrinks the config to {A}, and runs one pass under `rule`, then one clean.
  // `persistent`: the rule keeps firing, so a plan made after the pass is still without
  // revocations.
  void run(const json& rule, bool persistent = true, int page_size = 100) {
    World w;
    w.page_size = page_size;
    start(w);
    ASSERT_EQ(converge_within(1), 1);
    desired_.shares[0].to.accounts = {kA};
    desired_.settings.max_revoke_fraction = 1.0;
    add_fault(rule);
    const int writes_before = committed_writes();
    auto guarded = pass();
    EXPECT_GE(faulted(rule["action"]), 1) << "the rule never fired";
    EXPECT_EQ(committed_writes(), writes_before) << reconcilers::render_apply_text(guarded);
    if (persistent) {
      auto p = plan();
      ASSERT_EQ(p.accounts.size(), 1U);
      EXPECT_TRUE(p.accounts[0].partial) << reconcilers::render_text(p);
      EXPECT_EQ(p.summary.revocations, 0) << reconcilers::render_text(p);
      for (const auto& c : p.accounts[0].changes)
        EXPECT_FALSE(c.is_revocation()) << reconcilers::render_text(p);
    }
    EXPECT_EQ(principals_of(role_state(kImageRole)), (std::set<std::string>{kA, kB}));
    EXPECT_EQ(principals_of(role_state(kSnapRole)), (std::set<std::string>{kA, kB}));

    emu_->server().faults().clear();
    // Nothing was unshared either (settings.manageShares, the default).
    EXPECT_EQ(image_accounts(), (std::set<std::string>{kA, kB}));
    EXPECT_EQ(snapshot_targets(), (std::set<std::string>{kA, kB}));
    auto clean = pass();
    EXPECT_TRUE(clean.converged()) << reconcilers::render_apply_text(clean);
    EXPECT_EQ(principals_of(role_state(kImageRole)), (std::set<std::string>{kA}));
    EXPECT_EQ(principals_of(role_state(kSnapRole)), (std::set<std::string>{kA}));
    EXPECT_EQ(image_accounts(), (std::set<std::string>{kA}));
    EXPECT_EQ(snapshot_targets(), (std::set<std::string>{kA}));
  }
};

TEST_F(ReconcileFaultsShrinkTest, B6ListPoliciesForRoleFailing) {
  run({{"action", "ListPoliciesForRole"}, {"code", "ServiceUnavailable"}});
}

TEST_F(ReconcileFaultsShrinkTest, B6GetRoleFailing) {
  run({{"action", "GetRole"}, {"code", "InternalError"}});
}

TEST_F(ReconcileFaultsShrinkTest, B6DescribeSnapshotsFailing) {
  run({{"action", "DescribeSnapshots"}, {"code", "NoPermission"}});
}

TEST_F(ReconcileFaultsShrinkTest, B6SecondPageOfTagsFailing) {
  // One tag resource per page: the roles' tags come in two pages, and the second always fails.
  run({{"action", "ListTagResources"}, {"nth", 2U}, {"code", "NoPermission"}}, false, 1);
}

// ---- B7: a person edits the roles between two passes -------------------------------------------

TEST_F(ReconcileFaultsTest, B7OutOfBandEditsOutsiderRemovedForeignAttachmentKept) {
  start();
  ASSERT_EQ(converge_within(1), 1);
  // In the console: an outsider joins the image role's trust policy, and the team attaches a
  // policy of its own to the snapshot role.
  reconcilers::TrustPrincipals tp;
  tp.accounts = {kA, kB, kOutsider};
  ASSERT_TRUE(
      client_->update_role_trust_policy(kImageRole, reconcilers::build_trust_policy(tp)).ok());
  reconcilers::KmsPolicyContent kc;
  kc.key_arns = {arn(kKey2)};
  ASSERT_TRUE(
      client_->create_policy(kForeignPolicy, reconcilers::build_kms_policy(kc), "team", {}).ok());
  ASSERT_TRUE(client_->attach_policy_to_role("Custom", kForeignPolicy, kSnapRole).ok());
  const json foreign_before = policy_state(kForeignPolicy);
  emu_->server().journal().clear();
  const json before = account_state();

  auto p = plan();
  bool noted = false;
  for (const auto& n : p.accounts.at(0).notes)
    noted = noted || (n.message.find(kForeignPolicy) != std::string::npos &&
                      n.message.find("never detached") != std::string::npos);
  EXPECT_TRUE(noted) << reconcilers::render_text(p);
  auto r = reconcilers::apply(desired_, p, client_for(), options());
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  EXPECT_EQ(principals_of(role_state(kImageRole)), (std::set<std::string>{kA, kB}));
  EXPECT_EQ(sent("DetachPolicyFromRole"), 0);
  EXPECT_EQ(committed_writes(), 1) << "only the trust narrowing";
  EXPECT_EQ(committed("UpdateRole"), 1);
  bool still_attached = false;
  const json snap_role = role_state(kSnapRole);
  for (const auto& at : snap_role["policies"])
    still_attached = still_attached || at["name"] == kForeignPolicy;
  EXPECT_TRUE(still_attached) << role_state(kSnapRole).dump();
  EXPECT_EQ(policy_state(kForeignPolicy), foreign_before);
  check_invariants(before);
}

// The image role exists but was not created by sharekeeper (no managed-by tag, e.g. made in the
// console): it is adopted additively.
World adopted_image_role() {
  World w;
  reconcilers::TrustPrincipals tp;
  tp.accounts = {kA, kOutsider};
  w.seed["accounts"][0]["roles"] =
      json::array({{{"name", kImageRole}, {"trustPolicy", reconcilers::build_trust_policy(tp)}}});
  return w;
}

TEST_F(ReconcileFaultsTest, B7OutsiderInAnAdoptedRoleIsKept) {
  // A principal someone else put in a role sharekeeper does not own is reported, never removed.
  start(adopted_image_role());
  pass();
  pass();
  EXPECT_EQ(principals_of(role_state(kImageRole)), (std::set<std::string>{kA, kB, kOutsider}));
  EXPECT_EQ(principals_of(role_state(kSnapRole)), (std::set<std::string>{kA, kB}));
  EXPECT_EQ(committed("UpdateRole"), 1) << "B added once, the outsider never removed";
  auto p = plan();
  bool noted = false;
  for (const auto& n : p.accounts.at(0).notes)
    noted = noted || (n.message.find("foreign principal kept") != std::string::npos &&
                      n.message.find(kOutsider) != std::string::npos);
  EXPECT_TRUE(noted) << reconcilers::render_text(p);
}

TEST_F(ReconcileFaultsTest, AdoptedRoleWithoutOurPolicyConverges) {
  start(adopted_image_role());
  EXPECT_LE(converge_within(3), 3) << reconcilers::render_text(plan());
  EXPECT_EQ(keys_of(policy_state(kImagePolicy)), (std::set<std::string>{arn(kKey)}));
}

}  // namespace
}  // namespace sharekeeper

namespace sharekeeper {
namespace {

// ---- The share calls (settings.manageShares, the default) --------------------------------------

// How many changes of `action` were confirmed by re-reading after their answer was lost.
int confirmed_by_reread(const reconcilers::ApplyResult& r, reconcilers::Action action) {
  int n = 0;
  for (const auto& a : r.accounts)
    for (const auto& c : a.results)
      if (c.change.action == action && c.re_observed && c.ok) ++n;
  return n;
}

TEST_F(ReconcileFaultsTest, A3CommitThenTimeoutOnModifyImageSharePermissionIsOneShare) {
  World w;
  w.client_timeout = milliseconds(400);
  start(w);
  add_fault({{"action", "ModifyImageSharePermission"},
             {"nth", 1U},
             {"afterCommit", true},
             {"drop", true},
             {"latencyMs", 2000U}});
  auto r = pass();
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  EXPECT_EQ(confirmed_by_reread(r, reconcilers::Action::kModifyImageShare), 1)
      << "the timed-out share is confirmed by re-reading, not sent again";
  EXPECT_EQ(image_accounts(), (std::set<std::string>{kA, kB}));
  auto again = pass();
  EXPECT_EQ(again.writes(), 0) << reconcilers::render_apply_text(again);
}

TEST_F(ReconcileFaultsTest, A3CommitThenTimeoutOnCreateResourceShareIsOneShare) {
  World w;
  w.client_timeout = milliseconds(400);
  start(w);
  add_fault({{"action", "CreateResourceShare"},
             {"nth", 1U},
             {"afterCommit", true},
             {"drop", true},
             {"latencyMs", 2000U}});
  auto r = pass();
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  EXPECT_EQ(confirmed_by_reread(r, reconcilers::Action::kCreateResourceShare), 1);
  EXPECT_EQ(snapshot_targets(), (std::set<std::string>{kA, kB}));  // and exactly one share
}

TEST_F(ReconcileFaultsTest, A3CommitThenTimeoutOnAssociateResourceShareIsOneAssociation) {
  World w;
  w.client_timeout = milliseconds(400);
  start(w);
  ASSERT_EQ(converge_within(1), 1);
  // A third target joins: an association to the existing share, whose answer is lost.
  desired_.shares[0].to.accounts = {kA, kB, kOutsider};
  add_fault({{"action", "AssociateResourceShare"},
             {"nth", 1U},
             {"afterCommit", true},
             {"drop", true},
             {"latencyMs", 2000U}});
  auto r = pass();
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  EXPECT_EQ(confirmed_by_reread(r, reconcilers::Action::kAssociateResourceShare), 1);
  EXPECT_EQ(snapshot_targets(), (std::set<std::string>{kA, kB, kOutsider}));
}

TEST_F(ReconcileFaultsTest, A1ThrottlingOnTheShareCallsConvergesWithoutDuplicates) {
  start();
  for (const char* action :
       {"ModifyImageSharePermission", "CreateResourceShare", "ListResourceShares",
        "DescribeImageSharePermission", "ListResourceShareAssociations", "TagResources"})
    add_fault({{"action", action}, {"probability", 0.5}, {"code", "Throttling.User"}});
  EXPECT_LE(converge_within(5), 5);
  EXPECT_GT(faulted("ModifyImageSharePermission") + faulted("CreateResourceShare") +
                faulted("ListResourceShares") + faulted("DescribeImageSharePermission") +
                faulted("ListResourceShareAssociations"),
            0)
      << "the rules never fired";
  EXPECT_EQ(committed("CreateResourceShare"), 1);
  EXPECT_EQ(committed("ModifyImageSharePermission"), 1);
  emu_->server().faults().clear();
  auto quiet = pass();
  EXPECT_TRUE(quiet.converged()) << reconcilers::render_apply_text(quiet);
  EXPECT_EQ(quiet.writes(), 0);
  EXPECT_EQ(image_accounts(), (std::set<std::string>{kA, kB}));
  EXPECT_EQ(snapshot_targets(), (std::set<std::string>{kA, kB}));
}

TEST_F(ReconcileFaultsShrinkTest, B6DescribeImageSharePermissionFailing) {
  run({{"action", "DescribeImageSharePermission"}, {"code", "ServiceUnavailable"}});
}

TEST_F(ReconcileFaultsShrinkTest, B6ListResourceSharesFailing) {
  run({{"action", "ListResourceShares"}, {"code", "NoPermission"}});
}

TEST_F(ReconcileFaultsShrinkTest, B6SecondPageOfAssociationsFailing) {
  // One association per page: the listing takes several pages, and the second always fails.
  run({{"action", "ListResourceShareAssociations"}, {"nth", 2U}, {"code", "NoPermission"}}, false,
      1);
}

}  // namespace
}  // namespace sharekeeper
