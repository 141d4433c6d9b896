#include "emulator/policy_eval.hpp"

#include <algorithm>
#include <cctype>

namespace sharekeeper::emulator::policy {

namespace {

char fold(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return fold(x) == fold(y); });
}

bool is_string_or_list(const nlohmann::json& v) {
  if (v.is_string()) return true;
  if (!v.is_array() || v.empty()) return false;
  return std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) { return e.is_string(); });
}

std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

std::vector<std::string> condition_values(const nlohmann::json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& e : v) out.push_back(scalar_text(e));
  } else {
    out.push_back(scalar_text(v));
  }
  return out;
}

const std::string* context_value(const Context& context, std::string_view key) {
  for (const auto& [k, v] : context) {
    if (ieq(k, key)) return &v;
  }
  return nullptr;
}

bool action_matches(const nlohmann::json& stmt, std::string_view action) {
  auto any = [&](const nlohmann::json& list) {
    for (const auto& p : string_list(list)) {
      if (wildcard_match(p, action, /*ignore_case=*/true)) return true;
    }
    return false;
  };
  if (stmt.contains("Action")) return any(stmt["Action"]);
  if (stmt.contains("NotAction")) return !any(stmt["NotAction"]);
  return false;
}

bool resource_matches(const nlohmann::json& stmt, std::string_view resource) {
  if (!stmt.contains("Resource")) return false;
  for (const auto& p : string_list(stmt["Resource"])) {
    if (wildcard_match(p, resource)) return true;
  }
  return false;
}

std::vector<const nlohmann::json*> statements(const nlohmann::json& doc) {
  std::vector<const nlohmann::json*> out;
  if (!doc.is_object() || !doc.contains("Statement")) return out;
  const auto& s = doc["Statement"];
  if (s.is_array()) {
    for (const auto& e : s) {
      if (e.is_object()) out.push_back(&e);
    }
  } else if (s.is_object()) {
    out.push_back(&s);
  }
  return out;
}

}  // namespace

std::vector<std::string> string_list(const nlohmann::json& value) {
  std::vector<std::string> out;
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
  } else if (value.is_array()) {
    for (const auto& e : value) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
  }
  return out;
}

bool wildcard_match(std::string_view pattern, std::string_view value, bool ignore_case) {
  auto eq = [&](char a, char b) { return ignore_case ? fold(a) == fold(b) : a == b; };
  std::size_t p = 0, v = 0, star = std::string_view::npos, mark = 0;
  while (v < value.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || (pattern[p] != '*' && eq(pattern[p], value[v])))) {
      ++p;
      ++v;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = v;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool conditions_hold(const nlohmann::json& condition, const Context& context) {
  if (condition.is_null()) return true;
  if (!condition.is_object()) return false;
  // Operators are ANDed, keys within an operator are ANDed, values within a key are ORed.
  for (const auto& [op, keys] : condition.items()) {
    if (!keys.is_object()) return false;
    bool negate = false;
    bool like = false;
    bool icase = false;
    std::string base = op;
    if (base.size() > 10 && ieq(std::string_view(base).substr(base.size() - 10), "IgnoreCase")) {
      icase = true;
      base.resize(base.size() - 10);
    }
    if (ieq(base, "StringEquals")) {
    } else if (ieq(base, "StringNotEquals")) {
      negate = true;
    } else if (ieq(base, "StringLike")) {
      like = true;
    } else if (ieq(base, "StringNotLike")) {
      like = true;
      negate = true;
    } else {
      return false;  // unsupported operator: the statement does not apply
    }
    for (const auto& [key, values] : keys.items()) {
      const std::string* actual = context_value(context, key);
      bool any = false;
      if (actual != nullptr) {
        for (const auto& want : condition_values(values)) {
          bool m = like ? wildcard_match(want, *actual, icase)
                        : (icase ? ieq(want, *actual) : want == *actual);
          if (m) {
            any = true;
            break;
          }
        }
      }
      // A missing key never satisfies a positive operator and always satisfies a negated one.
      bool holds = negate ? !any : any;
      if (!holds) return false;
    }
  }
  return true;
}

std::optional<std::string> validate(const nlohmann::json& doc, DocKind kind) {
  if (!doc.is_object()) return "The policy document must be a JSON object.";
  for (const auto& [k, v] : doc.items()) {
    if (k != "Version" && k != "Statement") return "Unknown element \"" + k + "\" in policy.";
  }
  if (!doc.contains("Version") || !doc["Version"].is_string() || doc["Version"] != "1") {
    return "The policy Version must be \"1\".";
  }
  if (!doc.contains("Statement") || !doc["Statement"].is_array() || doc["Statement"].empty()) {
    return "The policy must contain a non-empty Statement list.";
  }
  std::size_t i = 0;
  for (const auto& stmt : doc["Statement"]) {
    std::string where = "Statement[" + std::to_string(i++) + "]";
    if (!stmt.is_object()) return where + " must be an object.";
    for (const auto& [k, v] : stmt.items()) {
      static const char* const kKnown[] = {"Effect",    "Action",    "NotAction", "Resource",
                                           "Principal", "Condition", "Sid"};
      // An init-capture: clang before 16 cannot capture a structured binding.
      if (std::none_of(std::begin(kKnown), std::end(kKnown),
                       [&k = k](const char* n) { return k == n; })) {
        return where + ": unknown element \"" + k + "\".";
      }
    }
    if (!stmt.contains("Effect") || !stmt["Effect"].is_string() ||
        (stmt["Effect"] != "Allow" && stmt["Effect"] != "Deny")) {
      return where + ".Effect must be Allow or Deny.";
    }
    bool has_action = stmt.contains("Action");
    bool has_not_action = stmt.contains("NotAction");
    if (has_action == has_not_action) return where + " needs exactly one of Action and NotAction.";
    if (!is_string_or_list(stmt[has_action ? "Action" : "NotAction"])) {
      return where + ".Action must be a string or a non-empty list of strings.";
    }
    if (kind == DocKind::Identity) {
      if (!stmt.contains("Resource") || !is_string_or_list(stmt["Resource"])) {
        return where + ".Resource must be a string or a non-empty list of strings.";
      }
      if (stmt.contains("Principal")) return where + ": Principal is not allowed here.";
    } else {
      if (!stmt.contains("Principal") || !stmt["Principal"].is_object() ||
          stmt["Principal"].empty()) {
        return where + ".Principal must be an object.";
      }
      for (const auto& [k, v] : stmt["Principal"].items()) {
        if (!ieq(k, "RAM") && !ieq(k, "Service") && !ieq(k, "Federated")) {
          return where + ".Principal: unknown principal type \"" + k + "\".";
        }
        if (!is_string_or_list(v)) return where + ".Principal." + k + " must be a string or list.";
      }
    }
    if (stmt.contains("Condition")) {
      const auto& c = stmt["Condition"];
      if (!c.is_object()) return where + ".Condition must be an object.";
      for (const auto& [op, keys] : c.items()) {
        if (!keys.is_object() || keys.empty()) {
          return where + ".Condition." + op + " must be an object of keys.";
        }
        for (const auto& [key, values] : keys.items()) {
          bool ok = values.is_string() || values.is_boolean() || values.is_number() ||
                    (values.is_array() && !values.empty());
          if (!ok) return where + ".Condition." + op + "." + key + " has an invalid value.";
        }
      }
    }
  }
  return std::nullopt;
}

Decision evaluate(const std::vector<nlohmann::json>& documents, const Request& request) {
  bool allowed = false;
  for (const auto& doc : documents) {
    for (const nlohmann::json* stmt : statements(doc)) {
      if (!action_matches(*stmt, request.action)) continue;
      if (!resource_matches(*stmt, request.resource)) continue;
      if (!conditions_hold(stmt->contains("Condition") ? (*stmt)["Condition"] : nlohmann::json(),
                           request.context)) {
        continue;
      }
      if (stmt->value("Effect", "") == "Deny") return Decision::ExplicitDeny;
      if (stmt->value("Effect", "") == "Allow") allowed = true;
    }
  }
  return allowed ? Decision::Allow : Decision::ImplicitDeny;
}

Decision evaluate_trust(const nlohmann::json& document, std::string_view action,
                        const PrincipalMatcher& matches, const Context& context) {
  bool allowed = false;
  for (const nlohmann::json* stmt : statements(document)) {
    if (!action_matches(*stmt, action)) continue;
    if (!stmt->contains("Principal") || !(*stmt)["Principal"].is_object()) continue;
    bool principal = false;
    for (const auto& [k, v] : (*stmt)["Principal"].items()) {
      std::string kind = ieq(k, "RAM") ? "RAM" : ieq(k, "Service") ? "Service" : "Federated";
      if (!ieq(k, kind)) continue;
      for (const auto& value : string_list(v)) {
        if (matches(kind, value)) principal = true;
      }
    }
    if (!principal) continue;
    if (!conditions_hold(stmt->contains("Condition") ? (*stmt)["Condition"] : nlohmann::json(),
                         context)) {
      continue;
    }
    if (stmt->value("Effect", "") == "Deny") return Decision::ExplicitDeny;
    if (stmt->value("Effect", "") == "Allow") allowed = true;
  }
  return allowed ? Decision::Allow : Decision::ImplicitDeny;
}

}  // namespace sharekeeper::emulator::policy
