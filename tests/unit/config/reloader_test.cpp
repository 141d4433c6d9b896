// Reload keeps the last good state, reports what changed, and says when nothing did.
#include <gtest/gtest.h>

#include "config/reloader.hpp"
#include "support/temp_dir.hpp"

namespace sharekeeper::config {
namespace {

using testing::TempDir;

std::string config(const std::string& shares, const std::string& extra = "") {
  return "apiVersion: sharekeeper/v1\n"
         "accounts:\n  - {name: prod, uid: \"1234567890123456\"}\n  - {name: dev}\n" +
         extra + "shares:\n" + shares;
}
std::string share(const std::string& name, const std::string& target = "1111222233334444") {
  return "  - {name: " + name + ", account: prod, region: cn-hangzhou, images: [m-" + name +
         "aaaaaaaaaaaaaa], to: {accounts: [\"" + target + "\"]}}\n";
}

TEST(Reloader, FirstLoadAddsEverything) {
  TempDir d;
  d.write("c.yaml", config(share("aaa") + share("bbb")));
  Reloader r(d.path());
  EXPECT_EQ(r.current(), nullptr);
  auto rep = r.reload();
  ASSERT_EQ(rep.outcome, ReloadOutcome::kSuccess);
  EXPECT_EQ(rep.changes.shares_added, (std::vector<std::string>{"aaa", "bbb"}));
  EXPECT_EQ(rep.changes.accounts_added, (std::vector<std::string>{"dev", "prod"}));
  EXPECT_TRUE(rep.changes.settings_changed);
  EXPECT_TRUE(rep.revision_changed);
  ASSERT_NE(r.current(), nullptr);
  EXPECT_EQ(r.current(), rep.state);
  EXPECT_EQ(to_string(rep.outcome), "success");
}

TEST(Reloader, SameBytesAreUnchanged) {
  TempDir d;
  d.write("c.yaml", config(share("aaa")));
  Reloader r(d.path());
  auto first = r.reload().state;
  auto rep = r.reload();
  EXPECT_EQ(rep.outcome, ReloadOutcome::kUnchanged);
  EXPECT_TRUE(rep.changes.empty());
  EXPECT_FALSE(rep.revision_changed);
  EXPECT_EQ(r.current(), first);  // the very same object
  EXPECT_EQ(to_string(rep.outcome), "unchanged");
}

TEST(Reloader, InvalidConfigKeepsTheLastGoodOne) {
  TempDir d;
  d.write("c.yaml", config(share("aaa")));
  Reloader r(d.path());
  auto good = r.reload().state;
  d.write("c.yaml", config(share("aaa") + "  - {name: broken, account: nobody}\n"));
  auto rep = r.reload();
  EXPECT_EQ(rep.outcome, ReloadOutcome::kRejected);
  EXPECT_FALSE(rep.diagnostics.empty());
  EXPECT_EQ(rep.state, good);
  EXPECT_EQ(r.current(), good);
  auto again = r.reload();  // same bad bytes: same verdict
  EXPECT_EQ(again.outcome, ReloadOutcome::kRejected);
  EXPECT_EQ(again.diagnostics, rep.diagnostics);
  std::filesystem::remove(d.path() / "c.yaml");
  EXPECT_EQ(r.reload().outcome, ReloadOutcome::kRejected);  // nothing to read
  EXPECT_EQ(r.current(), good);
}

TEST(Reloader, ReportsAddedRemovedModifiedAndSettings) {
  TempDir d;
  d.write("c.yaml", config(share("aaa") + share("bbb") + share("ccc")));
  Reloader r(d.path());
  r.reload();
  // bbb removed, ccc retargeted, ddd added, aaa moved to another line only; settings changed.
  d.write("c.yaml", config("\n\n" + share("aaa") + share("ccc", "5555666677778888") + share("ddd"),
                           "settings: {prune: false}\n"));
  auto rep = r.reload();
  ASSERT_EQ(rep.outcome, ReloadOutcome::kSuccess);
  EXPECT_EQ(rep.changes.shares_added, (std::vector<std::string>{"ddd"}));
  EXPECT_EQ(rep.changes.shares_removed, (std::vector<std::string>{"bbb"}));
  EXPECT_EQ(rep.changes.shares_modified, (std::vector<std::string>{"ccc"}));
  EXPECT_TRUE(rep.changes.accounts_added.empty());
  EXPECT_TRUE(rep.changes.settings_changed);
  EXPECT_EQ(rep.changes.summary(), "shares +1 -1 ~1, accounts +0 -0 ~0, settings changed");
  EXPECT_FALSE(r.current()->settings.prune);
}

TEST(Reloader, NewCommitWithSameBytesUpdatesOnlyTheRevision) {
  TempDir d;
  d.write(".git/HEAD", "ref: refs/heads/main\n");
  d.write(".git/refs/heads/main", std::string(40, 'a') + "\n");
  d.write("cfg/c.yaml", config(share("aaa")));
  Reloader r(d.path() / "cfg");
  auto first = r.reload();
  ASSERT_EQ(first.outcome, ReloadOutcome::kSuccess);
  EXPECT_EQ(first.state->revision, std::string(40, 'a'));
  d.write(".git/refs/heads/main", std::string(40, 'b') + "\n");
  auto rep = r.reload();
  EXPECT_EQ(rep.outcome, ReloadOutcome::kUnchanged);
  EXPECT_TRUE(rep.revision_changed);
  EXPECT_EQ(r.current()->revision, std::string(40, 'b'));
  EXPECT_EQ(r.current()->content_hash, first.state->content_hash);
}

TEST(Diff, IgnoresPositionsAndComparesEveryField) {
  DesiredState a;
  a.shares.push_back({});
  a.shares[0].name = "s";
  a.shares[0].where = {"a.yaml", 3, 5};
  DesiredState b = a;
  b.shares[0].where = {"b.yaml", 9, 1};
  EXPECT_TRUE(diff(a, b).empty());
  b.shares[0].selector_tags["k"] = "v";
  EXPECT_EQ(diff(a, b).shares_modified, (std::vector<std::string>{"s"}));
  DesiredState c = a;
  c.accounts.push_back({});
  c.accounts[0].name = "x";
  EXPECT_EQ(diff(a, c).accounts_added, (std::vector<std::string>{"x"}));
  EXPECT_EQ(diff(c, a).accounts_removed, (std::vector<std::string>{"x"}));
}

}  // namespace
}  // namespace sharekeeper::config
