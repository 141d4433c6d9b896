// Adoption and explanation against the in-process emulator through the real client (issue 16):
//  - import of a hand-made brownfield world (roles with extra principals, KMS grants made by a
//    person, images already shared, resource shares not ours, two regions) writes a config that
//    loads, and plan on it has no changes;
//  - explain and the plan's grant statuses (what /status publishes) agree with the emulator's
//    access evaluator (/_emulator/access) on every resource x target of the brownfield world and of
//    the quickstart;
//  - explain on a table of broken worlds, one per link, each broken through the API as a person
//    would, names exactly that link.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "brownfield_world.hpp"
#include "config/loader.hpp"
#include "emulated_time.hpp"
#include "emulator/emulator.hpp"
#include "emulator_client.hpp"
#include "reconcilers/apply.hpp"
#include "reconcilers/explain.hpp"
#include "reconcilers/import.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/render.hpp"
#include "support/wire.hpp"

namespace sharekeeper {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using namespace testing::brownfield;  // kUid, kA, kB, kC, kFolder, trust(), brownfield_seed()

config::DesiredState load_yaml(const std::string& text, const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("sharekeeper-adopt-" + name + ".yaml");
  std::ofstream(p) << text;
  auto loaded = config::load(p);
  std::string diags;
  for (const auto& l : config::format_diagnostics(loaded.diagnostics)) diags += l + "\n";
  fs::remove(p);
  if (!loaded.ok()) throw std::runtime_error("config does not load:\n" + diags + text);
  return std::move(*loaded.state);
}

class AdoptTest : public ::testing::Test {
 protected:
  void start(json seed, const std::string& key, const std::string& secret) {
    emulator::EmulatorOptions eo;
    eo.seed = std::move(seed);
    emu_ = std::make_unique<emulator::Emulator>(eo);
    emu_->start();
    client_ = testing::emulator_client(emu_->url(), key, secret);
  }
  void TearDown() override {
    if (emu_) emu_->stop();
  }
  reconcilers::ClientFor client_for() {
    return [this](const config::Account&) -> cloud::CloudApi* { return client_.get(); };
  }
  reconcilers::Plan plan(const config::DesiredState& d) {
    return reconcilers::plan(d, reconcilers::observe(d, client_for()));
  }
  reconcilers::Explanation explain(const config::DesiredState& d, const std::string& id,
                                   const config::GrantTarget& t) {
    auto e = reconcilers::explain(d, id, t, {}, client_for());
    if (!e) throw std::runtime_error(e.error().message);
    return std::move(*e);
  }
  bool access(const std::string& uid, const std::string& id) {
    return emu_->model().access(uid, id, emu_->server().clock().now()).value("usable", false);
  }
  std::string access_dump(const std::string& uid, const std::string& id) {
    return emu_->model().access(uid, id, emu_->server().clock().now()).dump();
  }
  void call(std::string_view product, std::string_view version, std::string_view action,
            const std::string& region, cloud::Params params) {
    auto r = client_->invoke({product, version, action, region, std::move(params), false});
    ASSERT_TRUE(r.ok()) << action << ": " << r.error().to_string();
  }

  // Every resource x account: a decisive explain (0 or 2) equals the access evaluator; an
  // undecided one (1) would happen only where the account is reached through its directory or
  // folder and the membership could not be read (the worlds here have the management account in
  // the config: none is expected). Directory and folder targets: usable means every member below
  // them can use it. Returns the number of decisive account pairs.
  int agree(const config::DesiredState& d, const std::vector<std::string>& resources,
            const std::vector<std::string>& accounts,
            const std::map<std::string, std::vector<std::string>>& groups) {
    int decisive = 0;
    for (const auto& id : resources) {
      for (const auto& uid : accounts) {
        auto e = explain(d, id, {config::TargetType::kAccount, uid});
        const bool usable = access(uid, id);
        if (e.exit_code() == 1) {
          const reconcilers::ChainLink* b = e.chain.blocked_by();
          EXPECT_NE(b, nullptr) << id << " x " << uid << ": exit 1 without a reason";
          if (b == nullptr) continue;
          EXPECT_NE(b->observed.find("directory"), std::string::npos)
              << id << " x " << uid << ": " << reconcilers::render_explanation_text(e);
          continue;
        }
        ++decisive;
        EXPECT_EQ(e.exit_code() == 0, usable)
            << id << " x " << uid << "\n"
            << reconcilers::render_explanation_text(e) << "access: " << access_dump(uid, id);
      }
      for (const auto& [target, members] : groups) {
        auto t = reconcilers::parse_target(target);
        EXPECT_TRUE(t.ok()) << target;
        if (!t.ok()) continue;
        auto e = explain(d, id, *t);
        if (e.exit_code() != 0) continue;
        for (const auto& uid : members)
          EXPECT_TRUE(access(uid, id))
              << id << " x " << target << " (member " << uid << ")\n"
              << reconcilers::render_explanation_text(e) << access_dump(uid, id);
      }
    }
    std::printf("agreement: %d decisive account pair(s) of %zu\n", decisive,
                resources.size() * accounts.size());
    return decisive;
  }

  // What /status publishes (the plan's grant statuses) says the same as explain, per resource.
  void status_agrees(const config::DesiredState& d) {
    auto p = plan(d);
    for (const auto& g : p.grants) {
      for (const auto& r : g.resources) {
        auto e = explain(d, r.resource_id, g.target);
        const reconcilers::ChainLink* mine = reconcilers::blocking_link(r.chain);
        const reconcilers::ChainLink* theirs = e.chain.blocked_by();
        EXPECT_EQ(mine == nullptr, theirs == nullptr) << g.share << " " << r.resource_id;
        if (mine != nullptr && theirs != nullptr) {
          EXPECT_STREQ(to_string(mine->link), to_string(theirs->link))
              << g.share << " " << r.resource_id << " -> " << g.target.id;
        }
        if (g.target.type == config::TargetType::kAccount && e.exit_code() != 1) {
          EXPECT_EQ(mine == nullptr, access(g.target.id, r.resource_id))
              << g.share << " " << r.resource_id << " -> " << g.target.id;
        }
      }
    }
  }

  std::unique_ptr<emulator::Emulator> emu_;
  std::unique_ptr<cloud::AlibabaClient> client_;
};

// RAM/KMS only (manageShares: false): every pair whose role, trust and grant exist is adopted, the
// resource shares not ours included. With the default (manageShares: true) see the next test.
const char* kBrownfieldAccounts = R"(apiVersion: sharekeeper/v1
settings:
  manageShares: false
accounts:
  - name: prod
    uid: "1234567890123456"
    credentials:
      source: default
)";

TEST_F(AdoptTest, ImportOfABrownfieldWorldPlansNoChange) {
  start(brownfield_seed(), "LTAI5tBrownfieldKey001", "BrownfieldSecret0123456789abcd");
  const auto given = load_yaml(kBrownfieldAccounts, "given");
  auto r = reconcilers::import_config(given, {"cn-hangzhou", "cn-shanghai"}, client_for());
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string& y = r->yaml;
  // Two images with the same targets in one share, one per region, the snapshots per target set.
  EXPECT_NE(y.find("images: [\"m-bp1browngolden00001\", \"m-bp1browntools000001\"]"),
            std::string::npos)
      << y;
  EXPECT_NE(y.find("name: base-sh"), std::string::npos) << y;
  EXPECT_NE(y.find("region: cn-shanghai"), std::string::npos) << y;
  EXPECT_NE(y.find("name: forensics"), std::string::npos) << y;
  EXPECT_NE(y.find("folders: [\"" + std::string(kFolder) + "\"]"), std::string::npos) << y;
  EXPECT_NE(y.find("resourceDirectory: rd-abc123"), std::string::npos) << y;
  // Where it had to choose: the image whose key no policy grants, the extra principal.
  EXPECT_NE(y.find("# m-bp1brownnokey000001 -> account:1111222233334444: shared, but not imported"),
            std::string::npos)
      << y;
  EXPECT_NE(y.find("AliyunECSShareEncryptImageDefaultRole trusts account:2222333344445555, but "
                   "no image is shared with it"),
            std::string::npos)
      << y;
  EXPECT_EQ(y.find("m-bp1brownnokey000001\"]"), std::string::npos) << y;

  const auto imported = load_yaml(y, "imported");
  EXPECT_EQ(imported.shares.size(), static_cast<std::size_t>(r->shares));
  auto p = plan(imported);
  EXPECT_FALSE(p.has_errors()) << reconcilers::render_text(p);
  EXPECT_FALSE(p.has_changes()) << y << reconcilers::render_text(p);
  for (const auto& g : p.grants)
    EXPECT_EQ(g.state, reconcilers::GrantState::kReady)
        << g.share << " -> " << g.target.id << ": " << g.reason;
  // Importing again gives the same bytes.
  auto again = reconcilers::import_config(given, {"cn-hangzhou", "cn-shanghai"}, client_for());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->yaml, y);
  // Without --region, import finds the two regions the account uses itself (ECS DescribeRegions,
  // then the regions holding its images or resource shares): the same config.
  auto discovered = reconcilers::import_config(given, {}, client_for());
  ASSERT_TRUE(discovered.ok()) << discovered.error().message;
  EXPECT_EQ(discovered->yaml, y);

  // Explain, /status and the access evaluator agree on every resource x target of the world.
  const std::vector<std::string> resources = {"m-bp1browngolden00001", "m-bp1browntools000001",
                                              "m-bp1brownnokey000001", "m-sh1brownbase0000001",
                                              "s-bp1brownforensic001", "s-bp1brownaudit000001",
                                              "s-bp1brownplain000001"};
  const int decisive =
      agree(imported, resources, {kA, kB, kC}, {{"rd-abc123", {kA, kB}}, {kFolder, {kB}}});
  // 7 resources x 3 accounts, each decided: prod manages the directory, so explain reads where A
  // and B sit (ResourceManager ListAccounts) and judges the folder and directory links.
  EXPECT_EQ(decisive, 21);
  status_agrees(imported);
}

// The brownfield accounts with one share: the audit snapshot to the whole resource directory.
const std::string kAuditToDirectory = std::string(kBrownfieldAccounts) + R"(shares:
  - name: audit
    account: prod
    region: cn-hangzhou
    snapshots: [s-bp1brownaudit000001]
    to:
      resourceDirectory: rd-abc123
)";

// Without the management account in the config, membership is not read: an account reached only
// through its directory stays unknown (exit 1), saying why; with it, the same pair is decided.
TEST_F(AdoptTest, MembershipNeedsTheManagementAccount) {
  json seed = brownfield_seed();
  seed["resourceDirectory"]["masterAccountId"] = kA;  // prod is only a member
  start(seed, "LTAI5tBrownfieldKey001", "BrownfieldSecret0123456789abcd");
  const auto d = load_yaml(kAuditToDirectory, "member-only");
  auto e = explain(d, "s-bp1brownaudit000001", {config::TargetType::kAccount, kB});
  EXPECT_EQ(e.exit_code(), 1) << reconcilers::render_explanation_text(e);
  const reconcilers::ChainLink* b = e.chain.blocked_by();
  ASSERT_NE(b, nullptr);
  EXPECT_NE(b->observed.find("management account " + std::string(kA)), std::string::npos)
      << b->observed;
  // With prod as the management account (the seed's default), explain decides: B can use it.
  emu_->stop();
  start(brownfield_seed(), "LTAI5tBrownfieldKey001", "BrownfieldSecret0123456789abcd");
  auto decided = explain(d, "s-bp1brownaudit000001", {config::TargetType::kAccount, kB});
  EXPECT_EQ(decided.exit_code(), 0) << reconcilers::render_explanation_text(decided);
  EXPECT_TRUE(access(kB, "s-bp1brownaudit000001"));
  // C is outside the directory: broken (not unknown) now that the membership is known.
  auto outside = explain(d, "s-bp1brownaudit000001", {config::TargetType::kAccount, kC});
  EXPECT_EQ(outside.exit_code(), 2) << reconcilers::render_explanation_text(outside);
  EXPECT_FALSE(access(kC, "s-bp1brownaudit000001"));
}

// A failed ListAccounts page (here: the management account may not call it, a terminal error, so
// the client does not retry and the test does not wait) leaves the membership unknown: nothing is
// judged broken from it, and the plan that reads it still plans no revocation.
TEST_F(AdoptTest, AFailedMembershipReadIsUnknownAndRevokesNothing) {
  start(brownfield_seed(), "LTAI5tBrownfieldKey001", "BrownfieldSecret0123456789abcd");
  const auto d = load_yaml(kAuditToDirectory, "rd-fault");
  ASSERT_EQ(emu_->server()
                .faults()
                .add(json{{"action", "ListAccounts"}, {"code", "NoPermission"}, {"status", 403}})
                .size(),
            1U);
  auto e = explain(d, "s-bp1brownaudit000001", {config::TargetType::kAccount, kC});
  EXPECT_EQ(e.exit_code(), 1) << reconcilers::render_explanation_text(e);
  ASSERT_NE(e.chain.blocked_by(), nullptr);
  EXPECT_NE(e.chain.blocked_by()->observed.find("ListAccounts"), std::string::npos)
      << e.chain.blocked_by()->observed;
  auto p = plan(d);
  EXPECT_EQ(p.summary.revocations, 0) << reconcilers::render_text(p);
  emu_->server().faults().clear();
}

// With manageShares (the default), pairs held by resource shares that are not ours would make
// sharekeeper create its own: they are comments, the image permissions are adopted, plan is empty.
TEST_F(AdoptTest, ImportWithManageSharesAdoptsImagePermissionsOnly) {
  start(brownfield_seed(), "LTAI5tBrownfieldKey001", "BrownfieldSecret0123456789abcd");
  const auto given = load_yaml(R"(apiVersion: sharekeeper/v1
accounts:
  - name: prod
    uid: "1234567890123456"
    credentials:
      source: default
)",
                               "given-managed");
  ASSERT_TRUE(given.settings.manage_shares);
  auto r = reconcilers::import_config(given, {"cn-hangzhou", "cn-shanghai"}, client_for());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->yaml.find("# s-bp1brownforensic001 -> 1111222233334444 (resource share "),
            std::string::npos)
      << r->yaml;
  EXPECT_NE(r->yaml.find("name: base-sh"), std::string::npos) << r->yaml;
  const auto imported = load_yaml(r->yaml, "imported-managed");
  auto p = plan(imported);
  EXPECT_FALSE(p.has_errors()) << reconcilers::render_text(p);
  EXPECT_FALSE(p.has_changes()) << r->yaml << reconcilers::render_text(p);
}

// The quickstart world once applied, with its shares made by hand (as a person would until
// settings.manageShares converges them).
class QuickstartTest : public AdoptTest {
 protected:
  void SetUp() override {
    std::ifstream in(fs::path(SHAREKEEPER_SOURCE_DIR) / "examples/seed/quickstart.json");
    start(json::parse(in), "LTAI5tQuickstartSharer01", "QuickstartSharerSecret0123456789");
    desired_ =
        config::load(fs::path(SHAREKEEPER_SOURCE_DIR) / "examples/quickstart.yaml").state.value();
    reconcilers::ApplyOptions o;
    o.clock = std::make_shared<testing::EmulatorTime>(emu_->server().clock());  // waits skipped
    auto r = reconcilers::apply(desired_, plan(desired_), client_for(), o);
    ASSERT_EQ(r.failures(), 0);
    ASSERT_TRUE(client_->modify_image_share_permission("cn-hangzhou", kGolden, {kA, kB}, {}).ok());
    auto rs = client_->create_resource_share("cn-hangzhou", "by-hand",
                                             {{"Image", "m-bp1hardened000000001"},
                                              {"Snapshot", kForensic1},
                                              {"Snapshot", "s-bp1forensic00000002"}},
                                             {"rd-abc123"}, false, {});
    ASSERT_TRUE(rs.ok()) << rs.error().to_string();
    // Associations are asynchronous: move the emulated clock instead of sleeping.
    emu_->server().clock().set_offset(std::chrono::seconds(10));
  }
  static constexpr const char* kGolden = "m-bp1aaaaaaaaaaaaaaaaa";
  static constexpr const char* kForensic1 = "s-bp1forensic00000001";
  config::DesiredState desired_;
};

TEST_F(QuickstartTest, ExplainAndStatusAgreeWithTheAccessEvaluator) {
  const std::vector<std::string> resources = {
      kGolden,    "m-bp1hardened000000001", "m-bp1legacy00000000001", "m-bp1plain000000000001",
      kForensic1, "s-bp1forensic00000002"};
  const int decisive = agree(desired_, resources, {kA, kB, "9999888877776666"},
                             {{"rd-abc123", {kA, kB}}, {"rd-abc123/r-ab12cd/fd-abcdefghij", {kB}}});
  // 6 resources x 3 accounts, each decided (prod manages the directory: docs/adoption.md).
  EXPECT_EQ(decisive, 18);
  status_agrees(desired_);
  auto e = explain(desired_, kGolden, {config::TargetType::kAccount, kA});
  EXPECT_EQ(e.exit_code(), 0) << reconcilers::render_explanation_text(e);
}

// One broken world per link, each broken through the API; explain names exactly that link (its
// first broken one), exits 2, and the access evaluator agrees that the target cannot use it.
TEST_F(QuickstartTest, EachBrokenLinkIsNamed) {
  const std::string image_role(wire::kImageShareRole);
  const std::string kms_policy =
      reconcilers::kms_policy_name("quickstart", reconcilers::RoleKind::kImage, 1);
  struct Row {
    const char* link;
    std::string resource;
    std::function<void()> breaks;
  };
  const std::vector<Row> rows = {
      {"resource", "m-bp1doesnotexist00001", [] {}},
      {"encryption", "m-bp1legacy00000000001", [] {}},
      {"key", kGolden,
       [&] {
         call("kms", wire::kKmsVersion, "DisableKey", "cn-hangzhou",
              {{"KeyId", "key-hzz62f1a2b3c4d5e6f7g8h"}});
       }},
      {"disk-encrypt-role", kGolden,
       [&] {
         call("ram", wire::kRamVersion, "DetachPolicyFromRole", "",
              {{"PolicyType", "System"},
               {"PolicyName", "AliyunECSDiskEncryptRolePolicy"},
               {"RoleName", "AliyunECSDiskEncryptDefaultRole"}});
       }},
      {"share-role", kGolden,
       [&] {
         call("ram", wire::kRamVersion, "DetachPolicyFromRole", "",
              {{"PolicyType", "Custom"}, {"PolicyName", kms_policy}, {"RoleName", image_role}});
         call("ram", wire::kRamVersion, "DeleteRole", "", {{"RoleName", image_role}});
       }},
      {"trust", kGolden,
       [&] {
         reconcilers::TrustPrincipals tp;
         tp.accounts = {kB};  // and no directory A belongs to
         ASSERT_TRUE(
             client_->update_role_trust_policy(image_role, reconcilers::build_trust_policy(tp))
                 .ok());
       }},
      {"kms-policy", kGolden,
       [&] {
         call("ram", wire::kRamVersion, "DetachPolicyFromRole", "",
              {{"PolicyType", "Custom"}, {"PolicyName", kms_policy}, {"RoleName", image_role}});
       }},
      {"share", kGolden,
       [&] {
         ASSERT_TRUE(client_->modify_image_share_permission("cn-hangzhou", kGolden, {}, {kA}).ok());
       }},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.link);
    // A fresh world for each row.
    TearDown();
    SetUp();
    ASSERT_TRUE(explain(desired_, kGolden, {config::TargetType::kAccount, kA}).chain.usable());
    row.breaks();
    auto e = explain(desired_, row.resource, {config::TargetType::kAccount, kA});
    ASSERT_NE(e.chain.blocked_by(), nullptr) << reconcilers::render_explanation_text(e);
    EXPECT_EQ(std::string(to_string(e.chain.blocked_by()->link)), row.link)
        << reconcilers::render_explanation_text(e);
    EXPECT_EQ(e.exit_code(), 2) << reconcilers::render_explanation_text(e);
    EXPECT_FALSE(access(kA, row.resource)) << access_dump(kA, row.resource);
    const std::string text = reconcilers::render_explanation_text(e);
    EXPECT_NE(text.find("verdict: account:1111222233334444 cannot use " + row.resource +
                        ": blocked by " + row.link),
              std::string::npos)
        << text;
  }
}

}  // namespace
}  // namespace sharekeeper
