#pragma once
// Builders for DesiredState values and a one-account world (FakeCloud) used by the reconciler
// tests.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/desired_state.hpp"
#include "reconcilers/observe.hpp"
#include "reconcilers/plan.hpp"
#include "tests/unit/reconcilers/support/fake_cloud.hpp"

namespace sharekeeper::testing {

inline constexpr const char* kUid = "1234567890123456";
inline constexpr const char* kRegion = "cn-hangzhou";
inline constexpr const char* kSnapRole = "AliyunECSShareEncryptSnapshotDefaultRole";
inline constexpr const char* kImageRole = "AliyunECSShareEncryptImageDefaultRole";

inline config::Account make_account(const std::string& name = "prod",
                                    const std::string& uid = kUid) {
  config::Account a;
  a.name = name;
  a.uid = uid;
  return a;
}

inline config::Share make_share(const std::string& name, std::vector<std::string> snapshots,
                                std::vector<std::string> images,
                                std::vector<std::string> to_accounts,
                                const std::string& account = "prod") {
  config::Share s;
  s.name = name;
  s.account = account;
  s.region = kRegion;
  s.snapshots = std::move(snapshots);
  s.images = std::move(images);
  s.to.accounts = std::move(to_accounts);
  return s;
}

inline config::DesiredState make_desired(std::vector<config::Share> shares,
                                         std::vector<config::Account> accounts = {make_account()}) {
  config::DesiredState d;
  d.accounts = std::move(accounts);
  d.shares = std::move(shares);
  d.revision = "test";
  // The RAM/KMS tests state worlds without share data; the share phases (manageShares, the
  // product's default) are tested with it set (share_plan_test, the emulator tests).
  d.settings.manage_shares = false;
  return d;
}

inline std::vector<cloud::Tag> managed_tag(const std::string& instance = "sharekeeper") {
  return {{"sharekeeper:managed-by", instance}};
}

// Observes every account of `d` with one FakeCloud per account name.
inline reconcilers::Observation observe_all(const config::DesiredState& d,
                                            std::map<std::string, FakeCloud*> clouds) {
  return reconcilers::observe(
      d,
      [&](const config::Account& a) -> cloud::CloudApi* {
        auto it = clouds.find(a.name);
        return it == clouds.end() ? nullptr : it->second;
      },
      2);
}

inline reconcilers::Plan plan_one(const config::DesiredState& d, FakeCloud& cloud) {
  return reconcilers::plan(d, observe_all(d, {{d.accounts.at(0).name, &cloud}}));
}

}  // namespace sharekeeper::testing
