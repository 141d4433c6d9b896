#include "daemon/status.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/desired_state.hpp"

namespace sharekeeper::daemon {
namespace {

using nlohmann::json;
const auto kT0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

config::DesiredState desired(std::vector<std::string> targets) {
  config::DesiredState d;
  d.revision = "rev1";
  d.content_hash = "hash1";
  config::Account a;
  a.name = "prod";
  d.accounts.push_back(a);
  config::Share s;
  s.name = "golden";
  s.account = "prod";
  s.to.accounts = std::move(targets);
  s.to.resource_directory = "rd-abc123";
  d.shares.push_back(s);
  return d;
}

PassReport report(PassResult r, std::vector<GrantReport> grants, bool complete,
                  std::chrono::seconds at) {
  PassReport p;
  p.account = "prod";
  p.outcome.result = r;
  p.outcome.grants = std::move(grants);
  p.outcome.observation_complete = complete;
  p.outcome.plan_json = R"({"changes":[]})";
  p.started = kT0 + at - std::chrono::seconds(1);
  p.finished = kT0 + at;
  return p;
}

GrantKey key(std::string target) { return {"prod", "golden", "account", std::move(target)}; }

TEST(StatusStore, NotReadyUntilEveryAccountWasObservedCompletely) {
  StatusStore s;
  EXPECT_FALSE(s.readiness().ready);
  s.set_config(desired({"1111222233334444"}), kT0);
  EXPECT_FALSE(s.readiness().ready);
  s.pass_finished(report(PassResult::kPartial, {}, false, std::chrono::seconds(5)));
  EXPECT_FALSE(s.readiness().ready);
  s.pass_finished(report(PassResult::kSuccess, {}, true, std::chrono::seconds(10)));
  EXPECT_TRUE(s.readiness().ready);
}

TEST(StatusStore, GrantRowsWithTransitionsAndErrors) {
  StatusStore s;
  s.set_config(desired({"1111222233334444"}), kT0);
  auto j = json::parse(s.status_json({}));
  ASSERT_EQ(j["grants"].size(), 2u);  // one account target + the resource directory
  EXPECT_EQ(j["grants"][0]["state"], "Pending");
  EXPECT_EQ(j["grants"][0]["reason"], "not_reconciled_yet");
  EXPECT_EQ(j["config"]["revision"], "rev1");

  s.pass_finished(report(PassResult::kError,
                         {{key("1111222233334444"),
                           GrantState::kFailed,
                           "apply_failed",
                           "ram AttachPolicyToRole: Throttling",
                           {},
                           ""}},
                         true, std::chrono::seconds(10)));
  s.pass_finished(report(PassResult::kSuccess,
                         {{key("1111222233334444"),
                           GrantState::kReady,
                           "",
                           "",
                           {{"m-abc",
                             "cn-hangzhou",
                             GrantState::kReady,
                             "",
                             Sharing::kShared,
                             "image share permission",
                             {"9999888877776666"},
                             "",
                             "",
                             ""}},
                           ""}},
                         true, std::chrono::seconds(20)));
  j = json::parse(s.status_json({}));
  const auto& res = j["grants"][0]["resources"][0];
  EXPECT_EQ(res["id"], "m-abc");
  EXPECT_EQ(res["sharing"], "shared");
  EXPECT_EQ(res["sharingDetail"], "image share permission");
  // manageShares: the accounts an adopted image keeps that the config does not name.
  EXPECT_EQ(res["foreignAccounts"], json::array({"9999888877776666"}));
  s.pass_finished(report(PassResult::kSuccess,
                         {{key("1111222233334444"), GrantState::kReady, "", "", {}, ""}}, true,
                         std::chrono::seconds(30)));
  j = json::parse(s.status_json({}));
  const auto& g = j["grants"][0];
  EXPECT_EQ(g["target"], "1111222233334444");
  EXPECT_EQ(g["state"], "Ready");
  EXPECT_EQ(g["lastTransition"],
            format_time(kT0 + std::chrono::seconds(20)));  // not 30: no change then
  EXPECT_EQ(g["lastReady"], format_time(kT0 + std::chrono::seconds(30)));
  EXPECT_EQ(g["lastError"], "ram AttachPolicyToRole: Throttling");
  EXPECT_EQ(j["accounts"][0]["lastReconcile"]["result"], "success");
  EXPECT_EQ(j["summary"]["Ready"], 1);
  EXPECT_EQ(j["summary"]["Pending"], 1);
}

TEST(StatusStore, ScheduleAndPlanAreShown) {
  StatusStore s;
  s.set_config(desired({"1111222233334444"}), kT0);
  s.pass_finished(report(PassResult::kSuccess, {}, true, std::chrono::seconds(10)));
  auto j = json::parse(s.status_json(
      {{"prod", AccountSchedule::Phase::kWaiting, kT0 + std::chrono::minutes(5), 0}}));
  EXPECT_EQ(j["accounts"][0]["phase"], "waiting");
  EXPECT_EQ(j["accounts"][0]["nextRun"], format_time(kT0 + std::chrono::minutes(5)));
  auto p = json::parse(s.plan_json());
  EXPECT_EQ(p["accounts"]["prod"]["changes"], json::array());
}

TEST(StatusStore, RemovedGrantsDisappearAndStalePassesDoNotResurrectThem) {
  StatusStore s;
  s.set_config(desired({"1111222233334444", "5555666677778888"}), kT0);
  s.set_config(desired({"1111222233334444"}), kT0);
  auto r =
      report(PassResult::kSuccess, {{key("5555666677778888"), GrantState::kReady, "", "", {}, ""}},
             true, std::chrono::seconds(10));
  r.stale = true;
  s.pass_finished(r);
  const std::string text = s.status_json({});
  EXPECT_EQ(text.find("5555666677778888"), std::string::npos);
}

// The chain's verdict (reconcilers/chain.hpp): the grant's blockedBy, and per resource the link,
// what was observed and the remedy; null when the target can use everything.
TEST(StatusStore, BlockedByNamesTheLinkPerGrantAndResource) {
  StatusStore s;
  s.set_config(desired({"1111222233334444"}), kT0);
  GrantReport g;
  g.key = key("1111222233334444");
  g.state = GrantState::kBlocked;
  g.reason = "KMS key key-1 is Disabled";
  g.blocked_by = "key";
  ResourceDetail r;
  r.id = "m-abc";
  r.region = "cn-hangzhou";
  r.state = GrantState::kBlocked;
  r.blocked_by = "key";
  r.blocked_observed = "key key-1 is Disabled";
  r.blocked_remedy = "enable it: KMS EnableKey KeyId=key-1";
  g.resources.push_back(r);
  s.pass_finished(report(PassResult::kSuccess, {g}, true, std::chrono::seconds(10)));
  auto j = json::parse(s.status_json({}));
  EXPECT_EQ(j["grants"][0]["blockedBy"], "key");
  const auto& b = j["grants"][0]["resources"][0]["blockedBy"];
  EXPECT_EQ(b["link"], "key");
  EXPECT_EQ(b["observed"], "key key-1 is Disabled");
  EXPECT_EQ(b["remedy"], "enable it: KMS EnableKey KeyId=key-1");
  // The rd grant was never reported: no verdict yet.
  EXPECT_TRUE(j["grants"][1]["blockedBy"].is_null());
}

// Rows whose pass said the same thing share one value (daemon/status.hpp): each row must still
// show what its own pass said, when a neighbour's details differ and when they change later.
TEST(StatusStore, EachRowShowsItsOwnDetailsWhenNeighboursReadAlike) {
  StatusStore s;
  s.set_config(desired({"1111222233334444", "2222333344445555", "3333444455556666"}), kT0);
  auto ready = [](const std::string& target, const std::string& detail) {
    GrantReport g{key(target), GrantState::kReady, "", "", {}, ""};
    g.resources.push_back(
        {"m-abc", "cn-hangzhou", GrantState::kReady, "", Sharing::kShared, detail, {}, "", "", ""});
    return g;
  };
  GrantReport blocked = ready("2222333344445555", "not shared");
  blocked.state = GrantState::kBlocked;
  blocked.reason = "image_not_shared";
  blocked.blocked_by = "share";
  s.pass_finished(report(PassResult::kSuccess,
                         {ready("1111222233334444", "image share permission"), blocked,
                          ready("3333444455556666", "image share permission")},
                         true, std::chrono::seconds(10)));
  auto j = json::parse(s.status_json({}));
  auto row = [&j](const std::string& target) {
    for (const auto& g : j["grants"])
      if (g["target"] == target) return g;
    return json();
  };
  EXPECT_EQ(row("1111222233334444")["resources"][0]["sharingDetail"], "image share permission");
  EXPECT_EQ(row("2222333344445555")["reason"], "image_not_shared");
  EXPECT_EQ(row("2222333344445555")["blockedBy"], "share");
  EXPECT_EQ(row("2222333344445555")["resources"][0]["sharingDetail"], "not shared");
  EXPECT_EQ(row("3333444455556666")["resources"][0]["sharingDetail"], "image share permission");
  EXPECT_TRUE(row("3333444455556666")["blockedBy"].is_null());
  EXPECT_EQ(row("rd-abc123")["reason"], "not_reconciled_yet");

  // The next pass: the blocked one is shared, the first one now names another detail.
  s.pass_finished(report(PassResult::kSuccess,
                         {ready("1111222233334444", "resource share rs-1"),
                          ready("2222333344445555", "image share permission"),
                          ready("3333444455556666", "image share permission")},
                         true, std::chrono::seconds(20)));
  j = json::parse(s.status_json({}));
  EXPECT_EQ(row("1111222233334444")["resources"][0]["sharingDetail"], "resource share rs-1");
  EXPECT_EQ(row("2222333344445555")["reason"], "");
  EXPECT_TRUE(row("2222333344445555")["blockedBy"].is_null());
  EXPECT_EQ(row("2222333344445555")["resources"][0]["sharingDetail"], "image share permission");
  EXPECT_EQ(row("2222333344445555")["lastTransition"], format_time(kT0 + std::chrono::seconds(20)));
  EXPECT_EQ(row("3333444455556666")["lastTransition"], format_time(kT0 + std::chrono::seconds(10)));
}

// /status and /plan are rendered piece by piece (daemon/status.cpp): the text must be exactly
// what one document's dump(2) gives, which is what re-dumping the parsed text gives.
TEST(StatusStore, StatusAndPlanAreTheDocumentsIndentedDump) {
  StatusStore s;
  config::DesiredState d = desired({"1111222233334444", "2222333344445555"});
  for (const char* name : {"dev", "stage"}) {
    config::Account a;
    a.name = name;
    d.accounts.push_back(a);
  }
  EXPECT_EQ(json::parse(s.status_json({})).dump(2), s.status_json({}));  // no config yet
  EXPECT_EQ(s.plan_json(), json({{"accounts", json::object()}, {"revision", ""}}).dump(2));
  s.set_config(d, kT0);
  GrantReport g{key("1111222233334444"),
                GrantState::kBlocked,
                "image_not_shared",
                "a \"quoted\"\nline",
                {},
                "share"};
  g.resources.push_back({"m-abc",
                         "cn-hangzhou",
                         GrantState::kBlocked,
                         "",
                         Sharing::kNotShared,
                         "not shared",
                         {"9999888877776666", "8888777766665555"},
                         "share",
                         "no permission",
                         "share it: ECS ModifyImageSharePermission"});
  g.resources.push_back({"s-def",
                         "cn-hangzhou",
                         GrantState::kReady,
                         "",
                         Sharing::kShared,
                         "snapshot",
                         {},
                         "",
                         "",
                         ""});
  PassReport p = report(PassResult::kSuccess, {g}, true, std::chrono::seconds(10));
  p.outcome.plan_json =
      R"({"accounts":[{"account":"prod","changes":[{"op":"share","ids":[1,2]}],"ü":{}}]})";
  s.pass_finished(p);
  PassReport other = report(PassResult::kError, {}, true, std::chrono::seconds(11));
  other.account = "stage";
  other.outcome.plan_json = "not json: kept as a string";
  s.pass_finished(other);
  const std::string status =
      s.status_json({{"prod", AccountSchedule::Phase::kWaiting, kT0 + std::chrono::minutes(5), 0}});
  EXPECT_EQ(json::parse(status).dump(2), status);
  EXPECT_EQ(json::parse(status)["grants"].size(), 3u);
  EXPECT_EQ(json::parse(status)["grants"][0]["message"], "a \"quoted\"\nline");
  const std::string plan = s.plan_json();
  EXPECT_EQ(json::parse(plan).dump(2), plan);
  const auto pj = json::parse(plan);
  EXPECT_EQ(pj["revision"], "rev1");
  EXPECT_TRUE(pj["accounts"]["dev"].is_null());
  EXPECT_EQ(pj["accounts"]["stage"], "not json: kept as a string");
  EXPECT_EQ(pj["accounts"]["prod"]["accounts"][0]["changes"][0]["ids"], json::array({1, 2}));
}

TEST(StatusStore, RejectedReloadShowsDiagnostics) {
  StatusStore s;
  s.set_config(desired({"1111222233334444"}), kT0);
  s.config_rejected({"c.yaml:3:5: unknown key 'acounts'"}, kT0);
  auto j = json::parse(s.status_json({}));
  EXPECT_EQ(j["config"]["lastReload"]["result"], "rejected");
  EXPECT_EQ(j["config"]["lastReload"]["diagnostics"][0], "c.yaml:3:5: unknown key 'acounts'");
  EXPECT_EQ(j["config"]["revision"], "rev1");  // the last good config still runs
}

}  // namespace
}  // namespace sharekeeper::daemon
