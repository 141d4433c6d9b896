// bench/planner: prints
//  1. plan() time for 10,000 shares across 100 accounts and 1,000 keys (goal < 25 ms): converged
//     (with and without the sharing report's data), converged with settings.manageShares (every
//     snapshot in its resource share of ours: the share phases run for every grant) next to the
//     same world without it (alternated, must not regress by more than 10 %), and fresh
//     (nothing exists yet), median of 9;
//  2. for a converged account, the API calls one `plan` makes against the in-process emulator, next
//     to the minimum of docs/reconcilers.md ("Calls per plan").
// Build with the release preset: cmake --preset release && cmake --build --preset release
//   --target bench_planner && build/release/bench/planner/bench_planner
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cloud/alibaba_client.hpp"
#include "cloud/credential_providers.hpp"
#include "cloud/endpoints.hpp"
#include "cloud/transport.hpp"
#include "emulator/emulator.hpp"
#include "reconcilers/apply.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/policy_document.hpp"
#include "reconcilers/render.hpp"

using namespace sharekeeper;
using reconcilers::Presence;

namespace {

constexpr int kAccounts = 100;
constexpr int kSharesPerAccount = 100;  // 10,000 shares
constexpr int kKeysPerAccount = 10;     // 1,000 keys
constexpr const char* kRegion = "cn-hangzhou";

std::string uid_of(int a) {
  std::string s = std::to_string(1000000000000000LL + a);
  return s;
}
std::string target_of(int i) { return std::to_string(2000000000000000LL + i); }

struct World {
  config::DesiredState desired;  // manageShares off (the RAM/KMS planner alone)
  reconcilers::Observation converged;
  reconcilers::Observation fresh;
  config::DesiredState managed;  // the same with manageShares
  reconcilers::Observation managed_converged;
};

World build_world() {
  World w;
  w.desired.revision = "bench";
  w.desired.settings.manage_shares = false;
  for (int a = 0; a < kAccounts; ++a) {
    config::Account acc;
    acc.name = "acct" + std::to_string(1000 + a);
    acc.uid = uid_of(a);
    w.desired.accounts.push_back(acc);
    reconcilers::AccountObservation o;
    o.account = acc.name;
    o.uid = *acc.uid;
    o.disk_role.presence = Presence::kPresent;
    reconcilers::ObservedRegion& r = o.regions[kRegion];
    r.region = kRegion;
    reconcilers::TrustPrincipals tp;
    reconcilers::KmsPolicyContent kc;
    kc.list_resources = {"acs:kms:" + std::string(kRegion) + ":" + o.uid + ":key"};
    for (int k = 0; k < kKeysPerAccount; ++k) {
      std::string id = "key-bench" + std::to_string(a * 100 + k);
      reconcilers::ObservedKey key;
      key.region = kRegion;
      key.key_id = id;
      key.presence = Presence::kPresent;
      key.meta.key_id = id;
      key.meta.creator = o.uid;
      key.meta.key_state = "Enabled";
      key.arn = "acs:kms:" + std::string(kRegion) + ":" + o.uid + ":key/" + id;
      kc.key_arns.push_back(key.arn);
      r.keys[id] = key;
    }
    for (int s = 0; s < kSharesPerAccount; ++s) {
      config::Share sh;
      sh.name = acc.name + "-share" + std::to_string(1000 + s);
      sh.account = acc.name;
      sh.region = kRegion;
      std::string snap = "s-bench" + std::to_string(a * 1000 + s);
      sh.snapshots = {snap};
      sh.to.accounts = {target_of(s % 50), target_of(50 + s % 50)};
      std::sort(sh.to.accounts.begin(), sh.to.accounts.end());
      w.desired.shares.push_back(sh);
      reconcilers::ObservedSnapshot os;
      os.presence = Presence::kPresent;
      os.snapshot.snapshot_id = snap;
      os.snapshot.encrypted = true;
      os.snapshot.kms_key_id = "key-bench" + std::to_string(a * 100 + s % kKeysPerAccount);
      r.snapshots[snap] = os;
      for (const auto& t : sh.to.accounts) tp.accounts.push_back(t);
      // Every snapshot is in a resource share with both targets, so the sharing report does its
      // full lookup for every grant.
      for (const auto& t : sh.to.accounts)
        r.shares.resource_targets[snap][t] = {"Associated", "",
                                              "rs-bench" + std::to_string(a * 1000 + s), false};
    }
    r.shares.resource_sharing_known = true;
    std::sort(tp.accounts.begin(), tp.accounts.end());
    tp.accounts.erase(std::unique(tp.accounts.begin(), tp.accounts.end()), tp.accounts.end());

    reconcilers::AccountObservation fresh = o;
    fresh.snapshot_role.presence = Presence::kAbsent;
    fresh.image_role.presence = Presence::kAbsent;
    w.fresh.accounts[acc.name] = fresh;

    o.snapshot_role.presence = Presence::kPresent;
    o.snapshot_role.role.role_name = reconcilers::role_name(reconcilers::RoleKind::kSnapshot);
    // As GetRole returns it: RAM re-serialises trust policies (2-space indentation, keys sorted;
    // the emulator answers so), so a plan never reads the compact text we wrote.
    o.snapshot_role.role.trust_policy =
        nlohmann::json::parse(reconcilers::build_trust_policy(tp)).dump(2);
    o.snapshot_role.tags_known = true;
    o.snapshot_role.managed_by = "sharekeeper";
    o.snapshot_role.attachments_known = true;
    std::string pol =
        reconcilers::kms_policy_name("sharekeeper", reconcilers::RoleKind::kSnapshot, 1);
    cloud::AttachedPolicy ap;
    ap.policy_name = pol;
    ap.policy_type = "Custom";
    o.snapshot_role.attached = {ap};
    o.image_role.presence = Presence::kAbsent;
    reconcilers::ObservedPolicy op;
    op.name = pol;
    op.presence = Presence::kPresent;
    op.tags_known = true;
    op.managed_by = "sharekeeper";
    op.versions_known = true;
    op.default_version = "v1";
    op.default_document = reconcilers::build_kms_policy(kc);
    op.versions = {{"v1", true, op.default_document, "2026-01-01T00:00:00Z"}};
    o.policies[pol] = op;
    w.converged.accounts[acc.name] = o;
    // With manageShares: our resource share of each share entry holds its snapshot and targets.
    reconcilers::ObservedShares& ms = o.regions[kRegion].shares;
    ms.managed_known = true;
    for (int s = 0; s < kSharesPerAccount; ++s) {
      const std::string name =
          "sharekeeper-" + acc.name + "-share" + std::to_string(1000 + s) + "-snapshot";
      auto& m = ms.managed[name];
      m.share.resource_share_name = name;
      m.share.resource_share_id = "rs-bench" + std::to_string(a * 1000 + s);
      m.share.allow_external_targets = true;
      m.share.resource_share_status = "Active";
      cloud::ResourceShareAssociation res;
      res.resource_share_id = m.share.resource_share_id;
      res.association_type = "Resource";
      res.association_status = "Associated";
      res.entity_id = "s-bench" + std::to_string(a * 1000 + s);
      m.resources.push_back(res);
      for (const auto& t : {target_of(s % 50), target_of(50 + s % 50)}) {
        cloud::ResourceShareAssociation ta = res;
        ta.association_type = "Target";
        ta.entity_id = t;
        m.targets.push_back(ta);
      }
    }
    w.managed_converged.accounts[acc.name] = std::move(o);
  }
  std::sort(w.desired.shares.begin(), w.desired.shares.end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  w.managed = w.desired;
  w.managed.settings.manage_shares = true;
  return w;
}

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;  // this thread's CPU time: what the figure is on an idle machine
};

// Median of `runs` (wall and CPU time), the result destroyed outside the timed region.
Timing median(const config::DesiredState& d, const reconcilers::Observation& o, int runs,
              std::size_t* changes) {
  std::vector<double> wall;
  std::vector<double> cpu;
  for (int i = 0; i < runs; ++i) {
    double c0 = cpu_ms();
    auto t0 = std::chrono::steady_clock::now();
    reconcilers::Plan p = reconcilers::plan(d, o);
    auto t1 = std::chrono::steady_clock::now();
    double c1 = cpu_ms();
    wall.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    cpu.push_back(c1 - c0);
    *changes = 0;
    for (const auto& a : p.accounts) *changes += a.changes.size();
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

// The CPU time of one plan() (the plan destroyed outside the timed region).
double plan_cpu_ms(const config::DesiredState& d, const reconcilers::Observation& o,
                   std::size_t* changes) {
  const double c0 = cpu_ms();
  reconcilers::Plan p = reconcilers::plan(d, o);
  const double c1 = cpu_ms();
  *changes = 0;
  for (const auto& a : p.accounts) *changes += a.changes.size();
  return c1 - c0;
}

// ---- calls against the emulator

// Calls of one plan of the converged account, or nullopt (with the reason on stderr) when the
// account did not converge or the plan after it was not empty: then the figure would be wrong.
std::optional<int> emulator_calls(int* minimum) {
  using nlohmann::json;
  const std::string uid = "1234567890123456";
  const std::string kTarget = "1111222233334444";
  const int kSnapshots = 150;  // two DescribeSnapshots pages of 100
  const int kImages = 3;
  const int kKeys = 4;
  json region = {
      {"kmsKeys", json::array()}, {"snapshots", json::array()}, {"images", json::array()}};
  for (int k = 0; k < kKeys; ++k)
    region["kmsKeys"].push_back({{"keyId", "key-hzz6bench00000000000" + std::to_string(k)},
                                 {"creator", uid},
                                 {"state", "Enabled"},
                                 {"aliases", json::array()}});
  config::Share snaps;
  snaps.name = "snaps";
  snaps.account = "prod";
  snaps.region = kRegion;
  snaps.to.accounts = {kTarget};
  config::Share imgs = snaps;
  imgs.name = "imgs";
  char id[32];
  for (int s = 0; s < kSnapshots + kImages; ++s) {
    std::snprintf(id, sizeof id, "s-bp1bench%011d", s);
    region["snapshots"].push_back(
        {{"snapshotId", id},
         {"encrypted", true},
         {"kmsKeyId", "key-hzz6bench00000000000" + std::to_string(s % kKeys)},
         {"tags", json::object()}});
    if (s < kSnapshots) {
      snaps.snapshots.push_back(id);
    } else {
      char img[32];
      std::snprintf(img, sizeof img, "m-bp1bench%011d", s);
      region["images"].push_back(
          {{"imageId", img}, {"snapshotIds", json::array({id})}, {"tags", json::object()}});
      imgs.images.push_back(img);
    }
  }
  json seed = {
      {"accounts",
       json::array(
           {{{"uid", uid},
             {"name", "prod"},
             {"accessKeys", json::array({{{"id", "LTAI5tBenchKey00000001"},
                                          {"secret", "BenchSecret0123456789abcdefgh"}}})},
             {"roles",
              json::array(
                  {{{"name", "AliyunECSDiskEncryptDefaultRole"},
                    {"trustPolicy",
                     {{"Version", "1"},
                      {"Statement",
                       json::array({{{"Effect", "Allow"},
                                     {"Action", "sts:AssumeRole"},
                                     {"Principal", {{"Service", "ecs.aliyuncs.com"}}}}})}}}}})},
             {"regions", {{kRegion, region}}}},
            // The target: an account the emulator knows (ModifyImageSharePermission refuses an
            // unknown one), in the sharer's resource directory, so its snapshot associations are
            // Associated at once instead of waiting for an invitation to be accepted.
            {{"uid", kTarget}, {"name", "target"}, {"accessKeys", json::array()}}})},
      {"resourceDirectory",
       {{"id", "rd-bench01"},
        {"rootFolderId", "r-bench1"},
        {"accounts", {{uid, "r-bench1"}, {kTarget, "r-bench1"}}}}}};
  emulator::EmulatorOptions eo;
  eo.seed = seed;
  emulator::Emulator emu(eo);
  emu.start();
  cloud::TransportOptions to;
  to.allow_http = true;
  auto t = cloud::HttpsTransport::create(to);
  cloud::EndpointOptions epo;
  epo.override_all = emu.url();
  auto resolver = cloud::EndpointResolver::create(epo);
  cloud::Credentials creds;
  creds.access_key_id = "LTAI5tBenchKey00000001";
  creds.access_key_secret = "BenchSecret0123456789abcdefgh";
  creds.provider = "static_ak";
  cloud::AlibabaClientOptions co;
  co.transport = std::shared_ptr<cloud::Transport>(std::move(t.value()));
  co.credentials = std::make_shared<cloud::StaticCredentialsProvider>(creds);
  co.endpoints = std::make_shared<const cloud::EndpointResolver>(std::move(resolver.value()));
  cloud::AlibabaClient client(std::move(co));

  config::DesiredState d;
  config::Account acc;
  acc.name = "prod";
  acc.uid = uid;
  d.accounts = {acc};
  d.shares = {imgs, snaps};
  auto client_for = [&](const config::Account&) -> cloud::CloudApi* { return &client; };
  reconcilers::ApplyOptions ao;
  ao.clock = std::make_shared<support::ManualClock>();  // verification waits take no time
  auto first = reconcilers::apply(d, reconcilers::plan(d, reconcilers::observe(d, client_for)),
                                  client_for, ao);
  if (!first.converged()) {
    std::fprintf(stderr, "error: the bench account did not converge:\n%s\n",
                 reconcilers::render_apply_text(first).substr(0, 4000).c_str());
    emu.stop();
    return std::nullopt;
  }
  emu.server().journal().clear();
  auto p = reconcilers::plan(d, reconcilers::observe(d, client_for));
  int calls = static_cast<int>(emu.server().journal().entries().size());
  // Minimum (docs/reconcilers.md): 1 STS + 3 GetRole + 1 role tags + R attachments + 1 policy tags
  // + P versions + per region one DescribeImages page (I = 3 named images, and the account owns
  // no more than 100: its own listing is one page) + ceil(S/100)
  // DescribeSnapshots + K DescribeKey, with R = 2 roles, P = 2 policies, I = 3,
  // S = 150 + 3 image disks, K = 4; and for the shares M = 3 DescribeImageSharePermission
  // (images with account targets) + the two ListResourceShareAssociations listings of the
  // snapshot share, paged by 100: ceil(150 / 100) resource pages + 1 target page + 2
  // (manageShares: DescribeImages and ListResourceShares by our tag).
  const int roles = 2, policies = 2;
  const int image_pages = (kImages + 99) / 100;
  *minimum = 1 + 3 + 1 + roles + 1 + policies + image_pages + (kSnapshots + kImages + 99) / 100 +
             kKeys + kImages + (kSnapshots + 99) / 100 + 1 + 2;
  emu.stop();
  if (p.has_changes()) {
    std::fprintf(stderr, "error: the plan after apply is not empty:\n%s\n",
                 reconcilers::render_text(p).substr(0, 4000).c_str());
    return std::nullopt;
  }
  return calls;
}

}  // namespace

int main() {
  World w = build_world();
  std::size_t changes = 0;
  std::printf("bench/planner: %zu shares, %zu accounts, %d keys, %d grants\n",
              w.desired.shares.size(), w.desired.accounts.size(), kAccounts * kKeysPerAccount,
              static_cast<int>(w.desired.shares.size()) * 2);
  Timing conv = median(w.desired, w.converged, 9, &changes);
  std::printf(
      "  plan, converged: %8.2f ms wall, %8.2f ms CPU (median of 9), %zu changes   goal < 25 ms\n",
      conv.wall_ms, conv.cpu_ms, changes);
  std::fflush(stdout);
  {
    // The same converged world without Resource Sharing data: what the sharing report costs.
    reconcilers::Observation bare = w.converged;
    for (auto& [name, a] : bare.accounts)
      for (auto& [region, r] : a.regions) r.shares = {};
    Timing no_sharing = median(w.desired, bare, 9, &changes);
    std::printf(
        "  plan, converged, no sharing data: %8.2f ms wall (the sharing report: %+.2f ms)\n",
        no_sharing.wall_ms, conv.wall_ms - no_sharing.wall_ms);
    std::fflush(stdout);
  }
  {
    // settings.manageShares: the share phases for every grant, against the same converged world
    // without them, alternately (off, on, off, on, ...: the machine's noise drifts slower than
    // one plan), 21 of each; the medians and their ratio.
    std::size_t managed_changes = 0;
    std::vector<double> off_ms, on_ms;
    for (int i = 0; i < 21; ++i) {
      off_ms.push_back(plan_cpu_ms(w.desired, w.converged, &changes));
      on_ms.push_back(plan_cpu_ms(w.managed, w.managed_converged, &managed_changes));
    }
    std::sort(off_ms.begin(), off_ms.end());
    std::sort(on_ms.begin(), on_ms.end());
    const double off = off_ms[off_ms.size() / 2], on = on_ms[on_ms.size() / 2];
    std::printf(
        "  plan, converged, manageShares off: %8.2f ms CPU, on: %8.2f ms CPU (medians of 21, "
        "alternated; %zu changes): %+.1f %%   goal <= +10 %%\n",
        off, on, managed_changes, 100.0 * (on - off) / off);
    std::fflush(stdout);
  }
  Timing fresh = median(w.desired, w.fresh, 9, &changes);
  std::printf("  plan, fresh:     %8.2f ms wall, %8.2f ms CPU (median of 9), %zu changes\n",
              fresh.wall_ms, fresh.cpu_ms, changes);
  std::fflush(stdout);
  int minimum = 0;
  const std::optional<int> calls = emulator_calls(&minimum);
  if (!calls) {
    std::printf("  converged account, one plan against the emulator: FAILED (see stderr)\n");
    return 1;
  }
  std::printf("  converged account, one plan against the emulator: %d API calls, minimum %d%s\n",
              *calls, minimum, *calls == minimum ? "" : " (NOT the minimum)");
  return 0;
}
