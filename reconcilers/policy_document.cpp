#include "reconcilers/policy_document.hpp"
#include "support/text.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "support/wire.hpp"

namespace sharekeeper::reconcilers {
namespace {

using nlohmann::json;

using support::ascii_lower;
std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// A scalar or a list becomes a sorted, de-duplicated list (sorted by canonical text, so strings,
// numbers and bools can mix). `fold` lower-cases strings.
json to_sorted_list(const json& v, bool fold) {
  // Fast path for the usual all-string list (trust policies list one principal per account).
  if (v.is_string() || (v.is_array() && std::all_of(v.begin(), v.end(),
                                                    [](const json& x) { return x.is_string(); }))) {
    std::vector<std::string> strings;
    auto add = [&](const json& x) {
      strings.push_back(fold ? ascii_lower(x.get<std::string>()) : x.get<std::string>());
    };
    if (v.is_array()) {
      strings.reserve(v.size());
      for (const auto& item : v) add(item);
    } else {
      add(v);
    }
    std::sort(strings.begin(), strings.end());
    strings.erase(std::unique(strings.begin(), strings.end()), strings.end());
    // NOLINTNEXTLINE(modernize-return-braced-init-list): json{strings} is an array holding strings
    return json(strings);
  }
  std::map<std::string, json> items;
  auto add = [&](const json& item) {
    json x = item;
    if (fold && x.is_string()) x = ascii_lower(x.get<std::string>());
    items.emplace(x.dump(), x);
  };
  if (v.is_array()) {
    for (const auto& item : v) add(item);
  } else {
    add(v);
  }
  json out = json::array();
  for (auto& [k, x] : items) out.push_back(std::move(x));
  return out;
}

// Normalises one statement. canonical=true gives the comparison form (§10: actions lower-cased,
// principal keys upper-cased, Service values lower-cased); false gives the write form (lists
// sorted, case kept) used to carry statements we do not manage through a rewrite unchanged in
// meaning.
json normalize_statement(const json& st, bool canonical) {
  if (!st.is_object()) throw std::invalid_argument("statement is not an object");
  json out = json::object();
  for (const auto& [key, value] : st.items()) {
    if (key == "Action" || key == "NotAction") {
      out[key] = to_sorted_list(value, canonical);
    } else if (key == "Resource" || key == "NotResource") {
      out[key] = to_sorted_list(value, false);
    } else if (key == "Principal") {
      if (value.is_object()) {
        json p = json::object();
        for (const auto& [pk, pv] : value.items()) {
          std::string k = canonical ? upper(pk) : pk;
          bool fold = canonical && upper(pk) == "SERVICE";
          json list = to_sorted_list(pv, fold);
          if (p.contains(k)) {  // "Service" and "service" in one document: merge
            for (auto& x : list) p[k].push_back(x);
            list = to_sorted_list(p[k], false);
          }
          p[k] = list;
        }
        out[key] = p;
      } else {
        out[key] = value;
      }
    } else if (key == "Condition") {
      if (!value.is_object()) throw std::invalid_argument("Condition is not an object");
      json c = json::object();
      for (const auto& [op, keys] : value.items()) {
        if (!keys.is_object()) throw std::invalid_argument("Condition operator is not an object");
        json ck = json::object();
        for (const auto& [ckey, cval] : keys.items()) ck[ckey] = to_sorted_list(cval, false);
        c[op] = ck;
      }
      out[key] = c;
    } else {
      out[key] = value;
    }
  }
  return out;
}

// RAM documents nest about six levels (Statement, Condition, operator, key, values); anything much
// deeper is not a policy, and re-serialising it recursively could exhaust the stack.
constexpr int kMaxDepth = 32;

// The deepest nesting of lists and objects in `document`, counted outside strings. A scan, so
// that the parse itself needs no callback: nlohmann's callback parser calls it for every value
// (issue 14: a converged plan parses every role's trust policy and every KMS policy of ours).
int nesting_depth(std::string_view document) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < document.size(); ++i) {
    const char c = document[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

json parse_document(std::string_view document) {
  if (nesting_depth(document) > kMaxDepth)
    throw std::invalid_argument("policy document nests deeper than " + std::to_string(kMaxDepth));
  json doc = json::parse(document);
  if (!doc.is_object()) throw std::invalid_argument("policy document is not a JSON object");
  if (!doc.contains("Version") || doc["Version"] != "1")
    throw std::invalid_argument("policy Version must be \"1\"");
  if (!doc.contains("Statement")) throw std::invalid_argument("policy has no Statement");
  return doc;
}

// The statements of a parsed document, in place (a trust policy's one statement can list hundreds
// of principals: copying it cost as much as parsing it).
std::vector<const json*> statements_of(const json& doc) {
  const json& st = doc["Statement"];
  std::vector<const json*> out;
  if (st.is_array()) {
    out.reserve(st.size());
    for (const auto& s : st) out.push_back(&s);
  } else if (st.is_object()) {
    out.push_back(&st);
  } else {
    throw std::invalid_argument("Statement is neither a list nor an object");
  }
  return out;
}

// The document's statements in their comparison form, in the document's order.
std::vector<json> canonical_statements(std::string_view document) {
  json doc = parse_document(document);
  std::vector<json> out;
  for (const json* s : statements_of(doc)) out.push_back(normalize_statement(*s, true));
  return out;
}

json canonical_json(std::string_view document) {
  std::vector<std::pair<std::string, json>> sts;
  for (json& c : canonical_statements(document)) {
    std::string text = c.dump();
    sts.emplace_back(std::move(text), std::move(c));
  }
  std::sort(sts.begin(), sts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  json out = json::object();
  out["Version"] = "1";
  out["Statement"] = json::array();
  for (auto& [k, s] : sts) out["Statement"].push_back(std::move(s));
  return out;
}

bool is_account_principal(std::string_view v) {
  const std::string_view suffix = wire::kEcsServiceSuffix;
  if (v.size() != 16 + suffix.size()) return false;
  if (v.substr(16) != suffix) return false;
  return std::all_of(v.begin(), v.begin() + 16, [](unsigned char c) { return std::isdigit(c); });
}

const std::string& wildcard_ecs() {
  static const std::string kWildcard = "*" + std::string(wire::kEcsServiceSuffix);
  return kWildcard;
}

json assume_role_statement(const json& services) {
  json st = json::object();
  st["Action"] = json::array({"sts:AssumeRole"});
  st["Effect"] = "Allow";
  st["Principal"] = json::object({{"Service", services}});
  return st;
}

// RAM refuses a trust policy with an empty Statement list (MalformedPolicyDocument), so a role left
// with no principal gets this one statement: it lets no ECS account assume the role.
json deny_all_statement() {
  json st = json::object();
  st["Action"] = json::array({"sts:AssumeRole"});
  st["Effect"] = "Deny";
  st["Principal"] = json::object({{"Service", json::array({wildcard_ecs()})}});
  return st;
}

std::vector<std::string> string_list(const json& list) {
  std::vector<std::string> out;
  for (const auto& v : list) {
    if (!v.is_string()) throw std::invalid_argument("non-string value");
    out.push_back(v.get<std::string>());
  }
  return out;
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// The text around and between the principals of an accounts-only trust policy, in one layout:
// what comes before the first principal, between two, and after the last.
struct WrittenFrame {
  std::string head, separator, tail;
};

// The two layouts a converged role's trust policy comes back in: as build_trust_policy writes it
// (compact), and as RAM re-serialises it for GetRole (2-space indentation, keys sorted:
// docs/alibaba-api.md §3; the emulator answers so; that real RAM's spacing is exactly nlohmann's is
// not confirmed). Both are taken from the writer itself, with two placeholder accounts.
const std::vector<WrittenFrame>& written_frames() {
  static const std::vector<WrittenFrame> kFrames = [] {
    TrustPrincipals two;
    two.accounts = {std::string(16, '0'), std::string(15, '0') + "1"};
    const std::string compact = build_trust_policy(two);
    std::vector<WrittenFrame> out;
    for (const std::string& doc : {compact, json::parse(compact).dump(2)}) {
      const std::string first = '"' + two.accounts[0] + std::string(wire::kEcsServiceSuffix) + '"';
      const std::string second = '"' + two.accounts[1] + std::string(wire::kEcsServiceSuffix) + '"';
      const std::size_t a = doc.find(first), b = doc.find(second);
      out.push_back({doc.substr(0, a), doc.substr(a + first.size(), b - a - first.size()),
                     doc.substr(b + second.size())});
    }
    return out;
  }();
  return kFrames;
}

// The accounts of a trust policy laid out exactly as written_frames() says, recognised without
// parsing it; nullopt for any other text (another layout or spacing, a second statement, a
// principal that is not an account): parse_trust_policy then parses it. Parsing a converged
// role's document was most of a converged plan's time for its roles (issue 14,
// bench/planner/README.md). Such a text is one JSON document whose decomposition is these accounts
// and nothing else (tested against the parse).
std::optional<std::vector<std::string>> written_accounts_only(std::string_view document) {
  const std::size_t item = 1 + 16 + wire::kEcsServiceSuffix.size() + 1;  // "<principal>"
  for (const WrittenFrame& frame : written_frames()) {
    if (document.size() < frame.head.size() + frame.tail.size() ||
        !document.starts_with(frame.head) || !document.ends_with(frame.tail))
      continue;
    std::string_view list =
        document.substr(frame.head.size(), document.size() - frame.head.size() - frame.tail.size());
    std::vector<std::string> out;
    out.reserve(list.size() / item + 1);
    while (true) {
      if (list.size() < item || list.front() != '"' || list[item - 1] != '"' ||
          !is_account_principal(list.substr(1, item - 2)))
        return std::nullopt;
      out.emplace_back(list.substr(1, 16));
      list.remove_prefix(item);
      if (list.empty()) return out;
      if (!list.starts_with(frame.separator)) return std::nullopt;
      list.remove_prefix(frame.separator.size());
    }
  }
  return std::nullopt;
}

}  // namespace

support::Result<std::string, support::Failure> canonicalize_policy(std::string_view document) {
  // nlohmann_json and our normaliser throw on what is not a policy: this is the boundary where
  // that becomes a value.
  try {
    return canonical_json(document).dump();
  } catch (const std::exception& e) {
    return support::Failure{e.what()};
  }
}

bool policies_equivalent(std::string_view a, std::string_view b) {
  // The same text (a converged policy reads back as we wrote it): equivalent when it is a policy.
  // One parse and no serialising, instead of two of each.
  if (a == b) {
    try {
      canonical_statements(a);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
  auto ca = canonicalize_policy(a);
  auto cb = canonicalize_policy(b);
  return ca && cb && *ca == *cb;
}

support::Result<TrustPrincipals, support::Failure> parse_trust_policy(std::string_view document) {
  if (auto accounts = written_accounts_only(document)) {
    TrustPrincipals out;
    out.accounts = std::move(*accounts);
    sort_unique(out.accounts);
    return out;
  }
  try {
    json doc = parse_document(document);
    TrustPrincipals out;
    static const json kDenyAll = normalize_statement(deny_all_statement(), true);
    for (const json* raw_statement : statements_of(doc)) {
      const json& raw = *raw_statement;
      json canon = normalize_statement(raw, true);
      if (canon == kDenyAll) continue;  // our "no principal" placeholder
      // The write form (case kept) is only needed for statements we carry through unchanged.
      auto write_form = [&] { return normalize_statement(raw, false); };
      bool shape_ok = canon.value("Effect", "") == "Allow" && canon.contains("Action") &&
                      canon["Action"] == json::array({"sts:assumerole"}) &&
                      canon.contains("Principal") && canon["Principal"].is_object() &&
                      canon["Principal"].size() == 1 && canon["Principal"].contains("SERVICE");
      for (const auto& [k, v] : canon.items()) {
        if (k != "Effect" && k != "Action" && k != "Principal" && k != "Condition")
          shape_ok = false;
      }
      if (!shape_ok) {
        out.foreign.push_back(write_form().dump());
        continue;
      }
      std::vector<std::string> services;
      for (const auto& v : canon["Principal"]["SERVICE"]) {
        if (!v.is_string()) {
          shape_ok = false;
          break;
        }
        services.push_back(v.get<std::string>());
      }
      if (!shape_ok) {
        out.foreign.push_back(write_form().dump());
        continue;
      }
      if (!canon.contains("Condition")) {
        // Account principals are extracted; any other Service value stays as a foreign remainder.
        if (std::all_of(services.begin(), services.end(), is_account_principal)) {
          for (const auto& sv : services) out.accounts.push_back(sv.substr(0, 16));
          continue;  // the common case: no write form needed
        }
        // Every Principal key is a spelling of "Service" here (the canonical form has only
        // SERVICE), and a person may have used two ("Service" and "SERVICE"): split each, so no
        // other principal is dropped from the remainder.
        json write = write_form();
        json remainder_principal = json::object();
        for (const auto& [pk, pv] : write["Principal"].items()) {
          json rest = json::array();
          for (const auto& v : pv) {
            std::string s = v.is_string() ? ascii_lower(v.get<std::string>()) : "";
            if (is_account_principal(s)) {
              out.accounts.push_back(s.substr(0, 16));
            } else {
              rest.push_back(v);
            }
          }
          if (!rest.empty()) remainder_principal[pk] = rest;
        }
        if (!remainder_principal.empty()) {
          json remainder = write;
          remainder["Principal"] = remainder_principal;
          out.foreign.push_back(remainder.dump());
        }
        continue;
      }
      const json& cond = canon["Condition"];
      bool wildcard_only = services.size() == 1 && services[0] == wildcard_ecs();
      bool handled = false;
      if (wildcard_only && cond.size() == 1) {
        const std::string rd_key(wire::kRdIdConditionKey);
        const std::string path_key(wire::kRdPathConditionKey);
        if (cond.contains("StringEquals") && cond["StringEquals"].size() == 1 &&
            cond["StringEquals"].contains(rd_key)) {
          for (auto& s : string_list(cond["StringEquals"][rd_key])) out.rds.push_back(s);
          handled = true;
        } else if (cond.contains("StringLike") && cond["StringLike"].size() == 1 &&
                   cond["StringLike"].contains(path_key)) {
          auto paths = string_list(cond["StringLike"][path_key]);
          if (std::all_of(paths.begin(), paths.end(),
                          [](const std::string& p) { return p.size() > 1 && p.back() == '*'; })) {
            for (auto& p : paths) out.folders.push_back(p.substr(0, p.size() - 1));
            handled = true;
          }
        }
      }
      if (!handled) out.foreign.push_back(write_form().dump());
    }
    sort_unique(out.accounts);
    sort_unique(out.rds);
    sort_unique(out.folders);
    sort_unique(out.foreign);
    return out;
  } catch (const std::exception& e) {
    return support::Failure{e.what()};
  }
}

std::string build_trust_policy(const TrustPrincipals& principals) {
  json statements = json::array();
  if (!principals.accounts.empty()) {
    json services = json::array();
    std::vector<std::string> accounts = principals.accounts;
    sort_unique(accounts);
    for (const auto& uid : accounts) services.push_back(uid + std::string(wire::kEcsServiceSuffix));
    statements.push_back(assume_role_statement(services));
  }
  if (!principals.rds.empty()) {
    std::vector<std::string> rds = principals.rds;
    sort_unique(rds);
    json st = assume_role_statement(json::array({wildcard_ecs()}));
    st["Condition"] = {{"StringEquals", {{std::string(wire::kRdIdConditionKey), rds}}}};
    statements.push_back(st);
  }
  if (!principals.folders.empty()) {
    std::vector<std::string> paths;
    for (const auto& f : principals.folders) paths.push_back(f + "*");
    sort_unique(paths);
    json st = assume_role_statement(json::array({wildcard_ecs()}));
    st["Condition"] = {{"StringLike", {{std::string(wire::kRdPathConditionKey), paths}}}};
    statements.push_back(st);
  }
  std::vector<std::string> foreign = principals.foreign;
  sort_unique(foreign);
  for (const auto& f : foreign) statements.push_back(json::parse(f));
  if (statements.empty()) statements.push_back(deny_all_statement());
  json doc = json::object();
  doc["Statement"] = statements;
  doc["Version"] = "1";
  return doc.dump();
}

std::string build_service_trust_policy(std::string_view service) {
  json doc = json::object();
  doc["Statement"] = json::array({assume_role_statement(json::array({std::string(service)}))});
  doc["Version"] = "1";
  return doc.dump();
}

std::string build_kms_policy(const KmsPolicyContent& content) {
  json statements = json::array();
  if (!content.list_resources.empty()) {
    std::vector<std::string> r = content.list_resources;
    sort_unique(r);
    json st = json::object();
    st["Action"] = json::array({"kms:List*"});
    st["Effect"] = "Allow";
    st["Resource"] = r;
    statements.push_back(st);
  }
  if (!content.key_arns.empty()) {
    std::vector<std::string> r = content.key_arns;
    sort_unique(r);
    json st = json::object();
    st["Action"] = kms_key_actions();
    st["Effect"] = "Allow";
    st["Resource"] = r;
    statements.push_back(st);
  }
  json doc = json::object();
  doc["Statement"] = statements;
  doc["Version"] = "1";
  return doc.dump();
}

std::optional<KmsPolicyContent> parse_kms_policy(std::string_view document) {
  try {
    // The statements' order does not matter here: no sorting, no serialising.
    const std::vector<json> statements = canonical_statements(document);
    static const std::set<std::string> kNeeded = [] {
      std::set<std::string> lower;
      for (const auto& a : kms_key_actions()) lower.insert(ascii_lower(a));
      return lower;
    }();
    KmsPolicyContent out;
    for (const auto& st : statements) {
      if (st.value("Effect", "") != "Allow" || !st.contains("Action") || !st.contains("Resource"))
        continue;
      std::set<std::string> actions;
      for (const auto& a : st["Action"])
        if (a.is_string()) actions.insert(a.get<std::string>());
      auto resources = string_list(st["Resource"]);
      if (actions.count("kms:list*") != 0U)
        out.list_resources.insert(out.list_resources.end(), resources.begin(), resources.end());
      if (std::includes(actions.begin(), actions.end(), kNeeded.begin(), kNeeded.end()))
        out.key_arns.insert(out.key_arns.end(), resources.begin(), resources.end());
    }
    sort_unique(out.list_resources);
    sort_unique(out.key_arns);
    return out;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<KmsPolicyContent> split_kms_policy(const KmsPolicyContent& content,
                                               std::size_t max_chars) {
  KmsPolicyContent all = content;
  sort_unique(all.list_resources);
  sort_unique(all.key_arns);
  std::vector<KmsPolicyContent> out;
  if (all.list_resources.empty() && all.key_arns.empty()) return out;
  KmsPolicyContent current;
  current.list_resources = all.list_resources;
  std::size_t size = 0;  // exact size of build_kms_policy(current) once it holds a key
  for (const auto& arn : all.key_arns) {
    // Appending one string to a compact JSON list adds exactly its quoted length plus a comma.
    std::size_t grow = json(arn).dump().size() + 1;
    if (!current.key_arns.empty() && size + grow > max_chars) {
      out.push_back(std::move(current));
      current = KmsPolicyContent{};
      current.key_arns.clear();
    }
    if (current.key_arns.empty()) {
      current.key_arns.push_back(arn);
      size = build_kms_policy(current).size();
    } else {
      current.key_arns.push_back(arn);
      size += grow;
    }
  }
  out.push_back(std::move(current));
  return out;
}

support::Result<void, support::Failure> verify_written_form(std::string_view document,
                                                            std::string_view intended) {
  auto a = canonicalize_policy(document).transform_error([](const support::Failure& f) {
    return support::Failure{"document we built does not parse: " + f.message};
  });
  if (!a) return std::move(a).error();
  auto b = canonicalize_policy(intended).transform_error([](const support::Failure& f) {
    return support::Failure{"intended document does not parse: " + f.message};
  });
  if (!b) return std::move(b).error();
  if (*a != *b) return support::Failure{"document we built differs from the intended one"};
  return {};
}

}  // namespace sharekeeper::reconcilers
