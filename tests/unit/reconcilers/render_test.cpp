// Golden-file tests of the plan renderers. A scenario with every kind of line: creation, widening
// and narrowing, a blocked revocation, a foreign attachment, a service-key share, an observe-mode
// share. Regenerate after an intended change with SHAREKEEPER_UPDATE_GOLDEN=1 and review the diff.
#include "reconcilers/render.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/unit/reconcilers/support/observation.hpp"
#include "tests/unit/reconcilers/support/scenario.hpp"

namespace sharekeeper::testing {
namespace {

constexpr const char* kA = "1111222233334444";
constexpr const char* kB = "2222333344445555";
constexpr const char* kX = "9999888877776666";

std::string golden_path(const std::string& name) {
  return std::string(SHAREKEEPER_SOURCE_DIR) + "/tests/unit/reconcilers/golden/" + name;
}

void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = golden_path(name);
  if (std::getenv("SHAREKEEPER_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "updated " << path;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with SHAREKEEPER_UPDATE_GOLDEN=1)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "golden " << name << " differs";
}

reconcilers::Plan mixed_plan() {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_key(kRegion, "ks", "Enabled", "Ecs", {"alias/acs/ecs"});
  cloud.add_snapshot(kRegion, "s-svc", "ks");
  cloud.add_image(kRegion, "m-1", {"s-2"});
  // Snapshot role: ours, with a principal nobody asked for and a policy missing k2.
  seed_snapshot_role(cloud, {kA, kX}, {"k1"});
  cloud.attach(kSnapRole, "System", "AliyunOSSReadOnlyAccess");
  // Image role: created by a person, adopted additively.
  cloud.add_role(kImageRole, trust_for({kX}));
  auto golden = make_share("golden", {"s-1", "s-2"}, {"m-1"}, {kA, kB});
  golden.to.resource_directory = "rd-abc123";
  auto legacy = make_share("legacy", {"s-svc"}, {}, {kB});
  auto watch = make_share("watch", {"s-1"}, {}, {"3333444455556666"});
  watch.mode = config::ShareMode::kObserve;
  auto d = make_desired({golden, legacy, watch});
  d.settings.max_revocations_per_cycle = 0;
  return plan_one(d, cloud);
}

reconcilers::Plan fresh_plan() {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  return plan_one(make_desired({make_share("snaps", {"s-1"}, {}, {kA})}), cloud);
}

// settings.manageShares: every kind of share line — an image tagged then shared, an adopted
// image's foreign account kept, a resource share created, one extended and narrowed, an account
// unshared from an image of ours, an unshare blocked by the per-cycle budget.
reconcilers::Plan shares_plan() {
  AccountBuilder o;
  o.snapshot("s-1", "").snapshot("s-2", "").snapshot("s-img", "");
  o.image("m-new", {"s-img"}).image("m-adopted", {"s-img"}).image("m-ours", {"s-img"});
  o.image_shared("m-new", {});
  o.image_shared("m-adopted", {kX});
  o.image_shared("m-ours", {kA, kB, kX}, /*owned=*/true);
  o.managed_share("sharekeeper-snaps-snapshot", "rs-1", {{"s-1", "Associated"}},
                  {{kA, "Associated"}, {kX, "Associated"}});
  auto imgs = make_share("imgs", {}, {"m-adopted", "m-new", "m-ours"}, {kA});
  imgs.to.folders = {"rd-abc123/r-ab12cd/fd-0123456789"};
  auto snaps = make_share("snaps", {"s-1", "s-2"}, {}, {kA, kB});
  auto d = make_desired({imgs, snaps});
  d.settings.manage_shares = true;
  d.settings.max_revoke_fraction = 1.0;
  d.settings.max_revocations_per_cycle = 2;
  return reconcilers::plan(d, observation_of({o.build()}));
}

TEST(RenderTest, SharesText) { expect_golden("shares.txt", reconcilers::render_text(shares_plan())); }
TEST(RenderTest, SharesMarkdown) {
  expect_golden("shares.md", reconcilers::render_markdown(shares_plan()));
}
TEST(RenderTest, SharesJson) { expect_golden("shares.json", reconcilers::render_json(shares_plan())); }

TEST(RenderTest, MixedText) { expect_golden("mixed.txt", reconcilers::render_text(mixed_plan())); }
TEST(RenderTest, MixedMarkdown) {
  expect_golden("mixed.md", reconcilers::render_markdown(mixed_plan()));
}
TEST(RenderTest, MixedJson) { expect_golden("mixed.json", reconcilers::render_json(mixed_plan())); }
TEST(RenderTest, FreshText) { expect_golden("fresh.txt", reconcilers::render_text(fresh_plan())); }

TEST(RenderTest, JsonIsValidAndCarriesEveryChange) {
  auto p = mixed_plan();
  auto j = nlohmann::json::parse(reconcilers::render_json(p));
  std::size_t changes = 0;
  for (const auto& a : j["accounts"]) changes += a["changes"].size();
  EXPECT_EQ(changes, p.accounts[0].changes.size());
  EXPECT_EQ(j["blocked_revocations"].size(), p.blocked.size());
  EXPECT_EQ(j["grants"].size(), p.grants.size());
}

TEST(RenderTest, SummaryLineCountsEverything) {
  auto p = fresh_plan();
  EXPECT_EQ(reconcilers::render_summary_line(p),
            "Plan: 3 to add, 0 to change, 0 to remove; 0 revocation(s), 0 blocked. Grants: 1 "
            "Pending.");
}

}  // namespace
}  // namespace sharekeeper::testing
