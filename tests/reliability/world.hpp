#pragma once
// The worlds the reliability tests run in (docs/reliability.md "Invariants and worlds"): one sharer
// account with KMS keys, encrypted snapshots and images already shared with every consumer, a few
// consumer accounts, an outsider, and, depending on the world, pre-existing share roles (ours,
// adopted, drifted), a foreign role and a foreign policy. Plus the config of one moment, written
// as the YAML a user would commit (so invalid edits go through the real loader).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/desired_state.hpp"

namespace sharekeeper::reliability {

inline constexpr const char* kSharer = "1234567890123456";
inline constexpr const char* kOutsider = "9999888877776666";
inline constexpr const char* kRegion = "cn-hangzhou";
inline constexpr const char* kAccessKeyId = "LTAI5tReliabilityKey01";
// The canary (S4): it must never appear in any output, error or log.
inline constexpr const char* kCanarySecret = "CanarySecret7f3a9c1e5b2d8f4a6c0e";
inline constexpr const char* kImageRole = "AliyunECSShareEncryptImageDefaultRole";
inline constexpr const char* kSnapshotRole = "AliyunECSShareEncryptSnapshotDefaultRole";
inline constexpr const char* kForeignRole = "team-ops";
inline constexpr const char* kForeignPolicy = "team-extra-kms";
inline constexpr const char* kInstance = "sharekeeper";

// The consumer accounts a config may target.
const std::vector<std::string>& consumers();
// Every image and snapshot of the sharer (all encrypted with one of the sharer's CMKs).
const std::vector<std::string>& images();
const std::vector<std::string>& snapshots();

// One share entry of a config.
struct ShareSpec {
  std::string name;
  std::vector<std::string> images;
  std::vector<std::string> snapshots;
  std::vector<std::string> targets;
  friend bool operator==(const ShareSpec&, const ShareSpec&) = default;
};

struct ConfigSpec {
  std::vector<ShareSpec> shares;
  bool prune = true;
  bool allow_mass_revoke = false;
  bool authoritative = false;  // accounts[0].adopt
  bool invalid = false;        // written with a typo'd key: the loader must refuse it
  std::vector<std::string> protected_principals;
};

// The YAML text of a config (credentials from the environment).
std::string config_yaml(const ConfigSpec& c);
// Loads it through config::load_sources; nullopt when the loader refuses it.
std::optional<config::DesiredState> load_config(const ConfigSpec& c);

// What exists before sharekeeper first runs.
struct WorldSpec {
  std::string name;
  bool image_role_adopted = false;  // the image role exists untagged and trusts the outsider
  bool foreign_role = true;         // a role and a policy that are not ours
  bool foreign_attachment = false;  // the foreign policy attached to the snapshot role
  std::vector<std::string> extra_consumers_trusted;  // trusted by the adopted role as well
};

nlohmann::json seed(const WorldSpec& w);

// The key ARN a resource is encrypted with, from the emulator's state (nullopt: unknown).
std::optional<std::string> key_arn_of(const nlohmann::json& state, const std::string& resource);

}  // namespace sharekeeper::reliability
