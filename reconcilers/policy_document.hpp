#pragma once
// RAM policy documents: canonical comparison (docs/alibaba-api.md §10) and the one stable form
// we write.
//
// Everything we send is built as a JSON value and serialised by nlohmann_json (compact, keys
// sorted, lists everywhere, list items sorted) — never by string concatenation — and re-parsed and
// compared before it is sent (verify_written_form). Pure functions; thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/result.hpp"

namespace sharekeeper::reconcilers {

// The six key actions a share role needs on each CMK (docs/contract.md §1.3), sorted.
inline const std::vector<std::string>& kms_key_actions() {
  static const std::vector<std::string> kActions = {"kms:Decrypt",     "kms:DescribeKey",
                                                    "kms:Encrypt",     "kms:GenerateDataKey",
                                                    "kms:TagResource", "kms:UntagResource"};
  return kActions;
}

// Canonical JSON text of a policy document (docs/alibaba-api.md §10): Version must be "1";
// Action/NotAction/ Resource become sorted de-duplicated lists (Action lower-cased); Principal keys
// upper-cased and values sorted lists (Service lower-cased); Condition operator and key names kept,
// values sorted lists; statements sorted by their canonical text. A failure says why the text is
// not a policy.
support::Result<std::string, support::Failure> canonicalize_policy(std::string_view document);

// True when both parse and their canonical forms are equal. An unparsable document equals nothing.
bool policies_equivalent(std::string_view a, std::string_view b);

// The principals of a share role's trust policy that sharekeeper understands (docs/contract.md
// §1.2), plus the canonical text of every statement (or statement remainder) it does not
// ("foreign"). Sorted, unique.
struct TrustPrincipals {
  std::vector<std::string> accounts;  // 16-digit UIDs ("<UID>@ecs.aliyuncs.com")
  std::vector<std::string> rds;       // "rd-..." (StringEquals sts:ServiceOwnerRDId)
  std::vector<std::string> folders;   // "rd-.../r-.../fd-..." without the trailing '*' (StringLike)
  std::vector<std::string> foreign;   // canonical JSON of each statement we do not manage
  bool empty() const {
    return accounts.empty() && rds.empty() && folders.empty() && foreign.empty();
  }
  friend bool operator==(const TrustPrincipals&, const TrustPrincipals&) = default;
};

// Decomposes a trust policy. A statement mixing recognised and other Service principals is split:
// the recognised ones are extracted and the rest kept as a foreign statement. A failure says why
// the document is unparsable.
support::Result<TrustPrincipals, support::Failure> parse_trust_policy(std::string_view document);

// The stable form of a trust policy: one statement for accounts, one for RDs, one for folders (each
// only when non-empty), then the foreign statements. Zero principals give one statement denying
// sts:AssumeRole to every ECS account (RAM refuses an empty Statement list); parse_trust_policy
// reads that placeholder back as no principal.
std::string build_trust_policy(const TrustPrincipals& principals);

// A trust policy that lets one cloud service assume the role (`Principal.Service [service]`): the
// disk-encryption role's, with "ecs.aliyuncs.com".
std::string build_service_trust_policy(std::string_view service);

// (The principals as typed values, and their labels: principal.hpp.)

// A KMS permission policy: kms:List* on each region's key listing, the six key actions on each key
// ARN.
struct KmsPolicyContent {
  std::vector<std::string> list_resources;  // "acs:kms:<region>:<uid>:key", sorted, unique
  std::vector<std::string> key_arns;        // "acs:kms:<region>:<uid>:key/<id>", sorted, unique
  friend bool operator==(const KmsPolicyContent&, const KmsPolicyContent&) = default;
};
std::string build_kms_policy(const KmsPolicyContent& content);
// Extracts the listing resources and key ARNs from a policy we wrote (or one edited by a person):
// resources of statements that allow kms:List* / all six key actions. nullopt when unparsable.
std::optional<KmsPolicyContent> parse_kms_policy(std::string_view document);

// Splits content across as many documents as the size limit needs: keys in sorted order fill policy
// 1 (which also carries the kms:List* statement), then policy 2, ... Each returned document is at
// most max_chars characters. Empty content gives no documents.
std::vector<KmsPolicyContent> split_kms_policy(const KmsPolicyContent& content,
                                               std::size_t max_chars);

// Re-parses a document we are about to send and checks it is equivalent to what we meant (guards
// against a builder bug ever reaching the cloud): a failure says how it differs.
support::Result<void, support::Failure> verify_written_form(std::string_view document,
                                                            std::string_view intended);

}  // namespace sharekeeper::reconcilers
