#pragma once
// The chain of links that must all hold for one target to use one shared resource (issue 16,
// docs/contract.md §1): the resource exists, it is encrypted with a customer master key (not a
// service key), the key is enabled, ECS may use the account's CMKs
// (AliyunECSDiskEncryptDefaultRole), the share role exists, its trust policy admits the target, an
// attached KMS policy grants the key, and the share itself (image share permission, or a Resource
// Sharing association and its invitation).
//
// One pure function of the observation, so `sharekeeper explain`, /status (blockedBy per grant)
// and `plan -o json` (the chain of grants that are not Ready) say the same thing. Thread-safe.
#include <string>
#include <vector>

#include "config/desired_state.hpp"
#include "config/grant.hpp"

namespace sharekeeper::reconcilers {

struct AccountObservation;

// In the order they are checked (and printed).
enum class Link {
  kResource,
  kEncryption,
  kKey,
  kDiskEncryptRole,
  kShareRole,
  kTrust,
  kKmsPolicy,
  kShare,
};
inline constexpr Link kAllLinks[] = {Link::kResource,        Link::kEncryption, Link::kKey,
                                     Link::kDiskEncryptRole, Link::kShareRole,  Link::kTrust,
                                     Link::kKmsPolicy,       Link::kShare};
// "resource" | "encryption" | "key" | "disk-encrypt-role" | "share-role" | "trust" | "kms-policy" |
// "share": what /status calls blockedBy and explain prints.
const char* to_string(Link l);

enum class LinkState {
  kHeld,
  kBroken,
  kUnknown,    // not observed (a failed call), or not checked because an earlier link is broken
  kNotNeeded,  // e.g. the key links of an unencrypted resource
};
const char* to_string(LinkState s);  // "held" | "broken" | "unknown" | "not needed"

struct ChainLink {
  Link link = Link::kResource;
  LinkState state = LinkState::kUnknown;
  std::string observed;  // what the observation says, with the ids involved
  std::string remedy;    // what to do about it ("" when held)
};

struct Chain {
  std::string resource_id;
  std::string region;
  std::vector<ChainLink> links;  // one per Link, in kAllLinks order

  // The first broken link, else the first unknown one; nullptr when the target can use it.
  const ChainLink* blocked_by() const;
  bool usable() const { return blocked_by() == nullptr; }
  // True when a link is broken: the verdict "cannot use" is certain (unknown links alone mean the
  // observation was incomplete).
  bool broken() const;
};

// The first broken link of `links`, else the first unknown one; nullptr when none.
const ChainLink* blocking_link(const std::vector<ChainLink>& links);

// The chain of `resource_id` (an s- or m- id in `region` of the observed account) for `target`.
// Reads what observe() read for it: run observe() with a share naming the resource and the target
// (explain does), or use it for the resources of the config's shares.
Chain explain_chain(const AccountObservation& obs, const config::Account& account,
                    const std::string& instance, const std::string& region,
                    const std::string& resource_id, const config::GrantTarget& target);

}  // namespace sharekeeper::reconcilers
