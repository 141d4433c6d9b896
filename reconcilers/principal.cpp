#include "reconcilers/principal.hpp"

#include <algorithm>
#include <cctype>

namespace sharekeeper::reconcilers {

PrincipalKind Principal::kind_of(config::TargetType t) {
  switch (t) {
    case config::TargetType::kAccount:
      return PrincipalKind::kAccount;
    case config::TargetType::kResourceDirectory:
      return PrincipalKind::kResourceDirectory;
    case config::TargetType::kFolder:
      return PrincipalKind::kFolder;
  }
  return PrincipalKind::kAccount;
}

std::string Principal::label() const {
  switch (kind) {
    case PrincipalKind::kAccount:
      return "account:" + id;
    case PrincipalKind::kResourceDirectory:
      return "rd:" + id;
    case PrincipalKind::kFolder:
      return "folder:" + id;
    case PrincipalKind::kForeign:
      return "foreign:" + id;
  }
  return id;
}

std::vector<Principal> principals_of(const TrustPrincipals& tp) {
  std::vector<Principal> out;
  out.reserve(tp.accounts.size() + tp.rds.size() + tp.folders.size() + tp.foreign.size());
  for (const auto& a : tp.accounts) out.push_back({PrincipalKind::kAccount, a});
  for (const auto& r : tp.rds) out.push_back({PrincipalKind::kResourceDirectory, r});
  for (const auto& f : tp.folders) out.push_back({PrincipalKind::kFolder, f});
  for (const auto& f : tp.foreign) out.push_back({PrincipalKind::kForeign, f});
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<Principal> protected_principal(std::string_view entry) {
  std::string e(entry);
  if (!e.empty() &&
      std::all_of(e.begin(), e.end(), [](unsigned char c) { return std::isdigit(c); }))
    return Principal{PrincipalKind::kAccount, e};
  if (e.rfind("rd-", 0) == 0 && e.find('/') != std::string::npos) {
    if (e.back() == '*') e.pop_back();
    return Principal{PrincipalKind::kFolder, e};
  }
  if (e.rfind("rd-", 0) == 0) return Principal{PrincipalKind::kResourceDirectory, e};
  return std::nullopt;
}

std::string label(const config::GrantTarget& t) { return Principal::of(t).label(); }

}  // namespace sharekeeper::reconcilers
