#pragma once
// Seeding helpers for planner and apply tests: a converged or drifted account in a FakeCloud, and a
// compact text form of plan changes ("<stage> <Action> <object> +item -item") for table assertions.
#include <string>
#include <vector>

#include "reconcilers/plan.hpp"
#include "reconcilers/policy_document.hpp"
#include "tests/unit/reconcilers/support/fixtures.hpp"

namespace sharekeeper::testing {

inline std::string key_arn(const std::string& key_id, const std::string& region = kRegion) {
  return "acs:kms:" + region + ":" + std::string(kUid) + ":key/" + key_id;
}

inline std::string short_item(std::string s) {
  const std::string prefix = "acs:kms:" + std::string(kRegion) + ":" + std::string(kUid) + ":";
  if (s.rfind(prefix, 0) == 0) s = s.substr(prefix.size());
  return s;
}

inline std::string short_name(const std::string& n) {
  if (n == kSnapRole) return "SnapRole";
  if (n == kImageRole) return "ImageRole";
  return n;
}

inline std::string describe(const reconcilers::Change& c) {
  std::string s =
      std::to_string(static_cast<int>(c.stage)) + " " + reconcilers::to_string(c.action) + " ";
  s += !c.image_id.empty()              ? c.image_id
       : !c.resource_share_name.empty() ? c.resource_share_name
       : c.policy_name.empty()          ? short_name(c.role)
                                        : c.policy_name;
  if (!c.version_id.empty()) s += " " + c.version_id;
  for (const auto& a : c.added.labels()) s += " +" + short_item(a);
  for (const auto& r : c.removed.labels()) s += " -" + short_item(r);
  return s;
}

// "<share> -> <target label>" of each grant a change serves.
inline std::vector<std::string> grant_labels(const reconcilers::Change& c) {
  std::vector<std::string> out;
  for (const auto& g : c.grants) out.push_back(g.label());
  return out;
}

inline std::vector<std::string> describe_all(const reconcilers::Plan& p) {
  std::vector<std::string> out;
  for (const auto& a : p.accounts)
    for (const auto& c : a.changes) out.push_back(describe(c));
  return out;
}

inline std::vector<std::string> blocked_items(const reconcilers::Plan& p) {
  std::vector<std::string> out;
  for (const auto& b : p.blocked)
    out.push_back(short_item(b.item_label()) + " (" + reconcilers::to_string(b.guard) + ")");
  return out;
}

inline std::string trust_for(std::vector<std::string> accounts, std::vector<std::string> rds = {},
                             std::vector<std::string> folders = {}) {
  reconcilers::TrustPrincipals tp;
  tp.accounts = std::move(accounts);
  tp.rds = std::move(rds);
  tp.folders = std::move(folders);
  return reconcilers::build_trust_policy(tp);
}

inline std::string kms_for(const std::vector<std::string>& key_ids) {
  reconcilers::KmsPolicyContent c;
  c.list_resources = {"acs:kms:" + std::string(kRegion) + ":" + std::string(kUid) + ":key"};
  for (const auto& k : key_ids) c.key_arns.push_back(key_arn(k));
  return reconcilers::build_kms_policy(c);
}

// The snapshot role owned by us with `accounts` trusted and a KMS policy for `keys`, attached.
inline void seed_snapshot_role(FakeCloud& cloud, const std::vector<std::string>& accounts,
                               const std::vector<std::string>& keys, bool owned = true) {
  cloud.add_role(kSnapRole, trust_for(accounts), owned ? managed_tag() : std::vector<cloud::Tag>{});
  if (keys.empty()) return;
  std::string name =
      reconcilers::kms_policy_name("sharekeeper", reconcilers::RoleKind::kSnapshot, 1);
  cloud.add_policy(name, kms_for(keys), managed_tag());
  cloud.attach(kSnapRole, "Custom", name);
}

inline std::string state_of(const reconcilers::Plan& p, const std::string& share,
                            const std::string& target_label) {
  for (const auto& g : p.grants)
    if (g.share == share && reconcilers::label(g.target) == target_label)
      return std::string(reconcilers::to_string(g.state)) + ": " + g.reason;
  return "missing grant";
}

// A CMK-encrypted snapshot in the default region, its key, and the disk-encryption role.
inline void seed_world(FakeCloud& cloud) {
  cloud.add_role("AliyunECSDiskEncryptDefaultRole", trust_for({}));
  cloud.add_key(kRegion, "k1");
  cloud.add_key(kRegion, "k2");
  cloud.add_snapshot(kRegion, "s-1", "k1");
  cloud.add_snapshot(kRegion, "s-2", "k2");
}

}  // namespace sharekeeper::testing
