#pragma once
// Principal: whom a share role's trust policy lets assume it, as a typed value (kind + id). The
// planner compares, adds and removes principals as values; their text form ("account:<uid>",
// "rd:<rd-id>", "folder:<path>", "foreign:<statement>") is rendered only at the edges (plans'
// renderings, notes, grant reasons). Pure; thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/grant.hpp"
#include "reconcilers/policy_document.hpp"

namespace sharekeeper::reconcilers {

// Declared in the order of their labels' prefixes (account < folder < foreign < rd), so sorting
// principals sorts their labels: the plans' lists keep the order they always had.
enum class PrincipalKind { kAccount, kFolder, kForeign, kResourceDirectory };

struct Principal {
  PrincipalKind kind = PrincipalKind::kAccount;
  // 16-digit UID | folder path without the trailing '*' | canonical JSON of a statement we do not
  // manage | rd- id.
  std::string id;

  static Principal of(const config::GrantTarget& t) { return {kind_of(t.type), t.id}; }
  static PrincipalKind kind_of(config::TargetType t);
  std::string label() const;
  // NOLINTNEXTLINE(modernize-use-nullptr): the 0 is in libstdc++'s comparison categories
  friend auto operator<=>(const Principal&, const Principal&) = default;
};

// The principals of a decomposed trust policy, sorted.
std::vector<Principal> principals_of(const TrustPrincipals& tp);
// The decomposition that holds exactly these principals (the inverse of principals_of).
template <class Range>
TrustPrincipals trust_principals(const Range& principals) {
  TrustPrincipals tp;
  for (const Principal& p : principals) {
    switch (p.kind) {
      case PrincipalKind::kAccount:
        tp.accounts.push_back(p.id);
        break;
      case PrincipalKind::kResourceDirectory:
        tp.rds.push_back(p.id);
        break;
      case PrincipalKind::kFolder:
        tp.folders.push_back(p.id);
        break;
      case PrincipalKind::kForeign:
        tp.foreign.push_back(p.id);
        break;
    }
  }
  return tp;
}

// A protectedPrincipals entry (UID, rd- id or folder path, the folder's trailing '*' optional) as a
// principal; nullopt for anything else (the config loader lets nothing else through).
std::optional<Principal> protected_principal(std::string_view entry);

// "account:<uid>" | "rd:<rd-id>" | "folder:<path>": a grant target as the principal it becomes.
std::string label(const config::GrantTarget& t);

}  // namespace sharekeeper::reconcilers
