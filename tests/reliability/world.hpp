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
// The resource directory of the share worlds: the sharer and consumers 0-2 are members (0 and 1 in
// the folder, 2 at the root); consumer 3 and the outsider are outside it (external targets).
inline constexpr const char* kRd = "rd-rel001";
inline constexpr const char* kRootFolder = "r-rel001";
inline constexpr const char* kFolder = "fd-rel0000001";
inline constexpr const char* kFolderPath = "rd-rel001/r-rel001/fd-rel0000001";
// A resource share of the sharer's that is not ours (untagged): snapshots()[1] to the outsider.
inline constexpr const char* kForeignShare = "team-share";
// An account on an image's list that no config names (besides the outsider).
inline constexpr const char* kStranger = "8888777766665555";

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
  bool to_rd = false;                // to.resourceDirectory: kRd
  std::vector<std::string> folders;  // to.folders (paths)
  friend bool operator==(const ShareSpec&, const ShareSpec&) = default;
};

struct ConfigSpec {
  std::vector<ShareSpec> shares;
  bool prune = true;
  bool allow_mass_revoke = false;
  bool authoritative = false;  // accounts[0].adopt
  bool invalid = false;        // written with a typo'd key: the loader must refuse it
  std::vector<std::string> protected_principals;
  // settings.manageShares: false writes `manageShares: false` (the RAM/KMS-only worlds); true
  // leaves the key out, so the default (true) is what runs.
  bool manage_shares = false;
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
  // The accounts on each image's share list at the start (an image not named: none); nullopt:
  // every consumer on every image (the RAM/KMS-only worlds, where the lists are not sharekeeper's).
  std::optional<std::map<std::string, std::vector<std::string>>> image_shared_with;
  bool resource_directory = false;  // kRd with kFolder, the sharer and consumers 0-2 members
  bool foreign_share = false;       // kForeignShare (needs resource_directory for the outsider)
};

nlohmann::json seed(const WorldSpec& w);

// The key ARN a resource is encrypted with, from the emulator's state (nullopt: unknown).
std::optional<std::string> key_arn_of(const nlohmann::json& state, const std::string& resource);

}  // namespace sharekeeper::reliability
