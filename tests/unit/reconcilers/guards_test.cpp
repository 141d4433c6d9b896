// apply_guards, the pure function that decides which revocations may happen: a table of candidate
// lists, settings and the verdicts.
#include "reconcilers/guards.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sharekeeper::reconcilers::planner {
namespace {

Candidate trust(const std::string& account, const std::string& uid, bool partial = false) {
  Candidate c;
  c.revocation.account = account;
  c.revocation.role = RoleKind::kSnapshot;
  c.revocation.object = ObjectKind::kTrustPolicy;
  c.revocation.principal = {PrincipalKind::kAccount, uid};
  c.partial = partial;
  return c;
}

Candidate kms(const std::string& account, const std::string& resource, bool partial = false) {
  Candidate c;
  c.revocation.account = account;
  c.revocation.role = RoleKind::kImage;
  c.revocation.object = ObjectKind::kKmsPolicy;
  c.revocation.kms_resource = resource;
  c.partial = partial;
  return c;
}

// "<account> <item>" of each allowed revocation; "<account> <item> (<guard>: <detail>)" of each
// blocked one.
std::vector<std::string> allowed_of(const GuardOutcome& g) {
  std::vector<std::string> out;
  for (const auto& r : g.allowed) out.push_back(r.account + " " + r.item_label());
  return out;
}
std::vector<std::string> blocked_of(const GuardOutcome& g) {
  std::vector<std::string> out;
  for (const auto& b : g.blocked)
    out.push_back(b.account + " " + b.item_label() + " (" + to_string(b.guard) + ": " + b.detail +
                  ")");
  return out;
}

GuardSettings defaults() { return GuardSettings{}; }

struct GuardCase {
  const char* name;
  std::vector<Candidate> candidates;
  int in_place;
  GuardSettings settings;
  std::vector<std::string> allowed;
  std::vector<std::string> blocked;
};

class ApplyGuardsTest : public ::testing::TestWithParam<GuardCase> {};

TEST_P(ApplyGuardsTest, Verdicts) {
  const GuardCase& c = GetParam();
  GuardOutcome g = apply_guards(c.candidates, c.in_place, c.settings);
  EXPECT_EQ(allowed_of(g), c.allowed);
  EXPECT_EQ(blocked_of(g), c.blocked);
}

GuardSettings with(void (*edit)(GuardSettings&)) {
  GuardSettings s;
  edit(s);
  return s;
}

const char* kPartial =
    "partial observation: a call failed while observing this account; no "
    "revocation this cycle)";

INSTANTIATE_TEST_SUITE_P(
    Table, ApplyGuardsTest,
    ::testing::Values(
        GuardCase{"NothingToRevoke", {}, 10, defaults(), {}, {}},
        GuardCase{"WithinEveryLimit",
                  {trust("prod", "1111222233334444"), kms("prod", "acs:kms:r:1:key/k1")},
                  10,
                  defaults(),
                  // Sorted by object as plans show it: "KMS policies of ..." before "role ...".
                  {"prod acs:kms:r:1:key/k1", "prod account:1111222233334444"},
                  {}},
        GuardCase{"PartialObservationBlocksOnlyItsAccount",
                  {trust("prod", "1111222233334444", true), trust("dev", "2222333344445555")},
                  10,
                  defaults(),
                  {"dev account:2222333344445555"},
                  {std::string("prod account:1111222233334444 (") + kPartial}},
        GuardCase{"PartialWinsOverPruneDisabled",
                  {trust("prod", "1111222233334444", true)},
                  10,
                  with([](GuardSettings& s) { s.prune = false; }),
                  {},
                  {std::string("prod account:1111222233334444 (") + kPartial}},
        GuardCase{"PruneDisabled",
                  {trust("prod", "1111222233334444")},
                  10,
                  with([](GuardSettings& s) { s.prune = false; }),
                  {},
                  {"prod account:1111222233334444 (prune disabled: settings.prune is false)"}},
        GuardCase{"EmptyConfig",
                  {kms("prod", "acs:kms:r:1:key")},
                  1,
                  with([](GuardSettings& s) { s.config_has_shares = false; }),
                  {},
                  {"prod acs:kms:r:1:key (empty config: the config has no shares; set "
                   "allowMassRevoke to revoke everything)"}},
        GuardCase{"EmptyConfigWithAllowMassRevoke",
                  {kms("prod", "acs:kms:r:1:key")},
                  1,
                  with([](GuardSettings& s) {
                    s.config_has_shares = false;
                    s.allow_mass_revoke = true;
                  }),
                  {"prod acs:kms:r:1:key"},
                  {}},
        GuardCase{"MoreThanTheFractionBlocksAll",
                  {trust("prod", "1111222233334444"), trust("prod", "2222333344445555"),
                   trust("prod", "3333444455556666")},
                  4,
                  defaults(),
                  {},
                  {"prod account:1111222233334444 (max revoke fraction: 3 of 4 grants in place "
                   "exceeds maxRevokeFraction 0.500000)",
                   "prod account:2222333344445555 (max revoke fraction: 3 of 4 grants in place "
                   "exceeds maxRevokeFraction 0.500000)",
                   "prod account:3333444455556666 (max revoke fraction: 3 of 4 grants in place "
                   "exceeds maxRevokeFraction 0.500000)"}},
        GuardCase{"ExactlyTheFractionIsAllowed",
                  {trust("prod", "1111222233334444"), trust("prod", "2222333344445555")},
                  4,
                  defaults(),
                  {"prod account:1111222233334444", "prod account:2222333344445555"},
                  {}},
        GuardCase{"TheFractionCountsOnlyOpenCandidates",
                  // The partial account's two do not count against prod's one.
                  {trust("dev", "1111222233334444", true), trust("dev", "2222333344445555", true),
                   trust("prod", "3333444455556666")},
                  2,
                  defaults(),
                  {"prod account:3333444455556666"},
                  {std::string("dev account:1111222233334444 (") + kPartial,
                   std::string("dev account:2222333344445555 (") + kPartial}},
        GuardCase{"AllowMassRevokeSkipsTheFraction",
                  {trust("prod", "1111222233334444"), trust("prod", "2222333344445555")},
                  2,
                  with([](GuardSettings& s) { s.allow_mass_revoke = true; }),
                  {"prod account:1111222233334444", "prod account:2222333344445555"},
                  {}},
        GuardCase{"PerCycleBudgetGoesToTheFirstInSortedOrder",
                  {trust("prod", "3333444455556666"), trust("prod", "1111222233334444"),
                   trust("prod", "2222333344445555")},
                  100,
                  with([](GuardSettings& s) { s.max_revocations_per_cycle = 2; }),
                  {"prod account:1111222233334444", "prod account:2222333344445555"},
                  {"prod account:3333444455556666 (max revocations per cycle: at most 2 "
                   "revocations per cycle)"}},
        GuardCase{"ZeroBudgetBlocksEverything",
                  {trust("prod", "1111222233334444")},
                  100,
                  with([](GuardSettings& s) { s.max_revocations_per_cycle = 0; }),
                  {},
                  {"prod account:1111222233334444 (max revocations per cycle: at most 0 "
                   "revocations per cycle)"}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ApplyGuardsTest, TheOrderOfTheCandidatesDoesNotMatter) {
  std::vector<Candidate> a = {trust("b", "1111222233334444"), kms("a", "acs:kms:r:1:key"),
                              trust("a", "2222333344445555"), kms("b", "acs:kms:r:1:key/k")};
  std::vector<Candidate> b(a.rbegin(), a.rend());
  GuardSettings s;
  s.max_revocations_per_cycle = 2;
  EXPECT_EQ(allowed_of(apply_guards(a, 100, s)), allowed_of(apply_guards(b, 100, s)));
  EXPECT_EQ(blocked_of(apply_guards(a, 100, s)), blocked_of(apply_guards(b, 100, s)));
  EXPECT_EQ(allowed_of(apply_guards(a, 100, s)),
            (std::vector<std::string>{"a acs:kms:r:1:key", "a account:2222333344445555"}));
}

TEST(GuardSettingsTest, ReadFromTheDesiredState) {
  config::DesiredState d;
  d.settings.prune = false;
  d.settings.allow_mass_revoke = true;
  d.settings.max_revoke_fraction = 0.25;
  d.settings.max_revocations_per_cycle = 7;
  GuardSettings g = GuardSettings::of(d);
  EXPECT_FALSE(g.prune);
  EXPECT_TRUE(g.allow_mass_revoke);
  EXPECT_EQ(g.max_revoke_fraction, 0.25);
  EXPECT_EQ(g.max_revocations_per_cycle, 7);
  EXPECT_FALSE(g.config_has_shares);
  d.shares.emplace_back();
  EXPECT_TRUE(GuardSettings::of(d).config_has_shares);
}

}  // namespace
}  // namespace sharekeeper::reconcilers::planner
