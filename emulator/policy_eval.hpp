#pragma once
// A small RAM policy evaluator (docs/alibaba-api.md §10): grammar check for
// MalformedPolicyDocument, identity policy evaluation (Allow/Deny, Action/NotAction, Resource,
// `*`/`?` wildcards, explicit Deny wins) and trust-policy evaluation (Principal
// RAM/Service/Federated). Conditions: StringEquals, StringNotEquals, StringLike, StringNotLike and
// their IgnoreCase forms. Pure functions, thread-safe.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sharekeeper::emulator::policy {

enum class DocKind { Identity, Trust };

// nullopt when the document follows the grammar; otherwise why not (for MalformedPolicyDocument).
std::optional<std::string> validate(const nlohmann::json& doc, DocKind kind);

// `*` matches any run (also empty), `?` exactly one character.
bool wildcard_match(std::string_view pattern, std::string_view value, bool ignore_case = false);

// Condition keys are looked up case-insensitively.
using Context = std::map<std::string, std::string>;
bool conditions_hold(const nlohmann::json& condition, const Context& context);

enum class Decision { Allow, ExplicitDeny, ImplicitDeny };

struct Request {
  std::string action;    // e.g. kms:Decrypt (matched case-insensitively)
  std::string resource;  // e.g. acs:kms:cn-hangzhou:<uid>:key/<id> (case-sensitive)
  Context context;
};

// Identity policies: explicit Deny in any document wins over Allow.
Decision evaluate(const std::vector<nlohmann::json>& documents, const Request& request);

// Trust policies: does some statement with `action` name a principal for which `matches(kind,
// value)` holds (kind is RAM, Service or Federated in canonical case) with its conditions met, and
// no such Deny?
using PrincipalMatcher = std::function<bool(std::string_view kind, std::string_view value)>;
Decision evaluate_trust(const nlohmann::json& document, std::string_view action,
                        const PrincipalMatcher& matches, const Context& context);

// A JSON value that is a string or a list of strings, as a list.
std::vector<std::string> string_list(const nlohmann::json& value);

}  // namespace sharekeeper::emulator::policy
