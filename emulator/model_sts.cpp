// STS (docs/alibaba-api.md §4): GetCallerIdentity, AssumeRole (honouring the role's trust policy)
// and the anonymous AssumeRoleWithOIDC. Issued credentials are found by Model::find_key until they
// expire.
#include <random>

#include "emulator/model_state.hpp"
#include "emulator/policy_eval.hpp"

namespace sharekeeper::emulator {

namespace {

using nlohmann::json;

std::string random_text(std::size_t n, std::string_view alphabet) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(alphabet[pick(rng)]);
  return out;
}

constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

ApiResponse get_caller_identity(State& state, const ApiCall& call) {
  const Account* acc = state.account(call.caller.account_uid);
  const AccessKey* key = nullptr;
  for (const auto& k : acc->keys) {
    if (k.id == call.caller.access_key_id) key = &k;
  }
  for (const auto& k : state.sts_keys) {
    if (k.id == call.caller.access_key_id) key = &k;
  }
  json body;
  // AccountId is always a string: a 16-digit UID overflows a JSON double.
  body["AccountId"] = acc->uid;
  std::string type = key ? key->identity_type : call.caller.identity_type;
  body["IdentityType"] = type.empty() ? "Account" : type;
  body["Arn"] = key ? key->arn : call.caller.arn;
  std::string principal = key ? key->principal_id : acc->uid;
  body["PrincipalId"] = principal;
  if (body["IdentityType"] == "AssumedRoleUser") {
    body["RoleId"] = key ? key->role_id : "";
  } else {
    body["UserId"] = principal;
  }
  return ok(call, body);
}

struct RoleArn {
  std::string uid;
  std::string name;
};

RoleArn parse_role_arn(const std::string& arn) {
  // acs:ram::<uid>:role/<name>
  constexpr std::string_view kPrefix = "acs:ram::";
  auto bad = [&] {
    fail(400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed: " + arn);
  };
  if (arn.rfind(kPrefix, 0) != 0) bad();
  std::size_t colon = arn.find(':', kPrefix.size());
  if (colon == std::string::npos) bad();
  RoleArn out{arn.substr(kPrefix.size(), colon - kPrefix.size()), ""};
  std::string_view rest = std::string_view(arn).substr(colon + 1);
  if (!iequals(rest.substr(0, 5), "role/") || rest.size() <= 5 || !is_uid(out.uid)) bad();
  out.name = std::string(rest.substr(5));
  return out;
}

void check_session_name(const std::string& name) {
  bool ok = name.size() >= 2 && name.size() <= 64;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '@' || c == '_' ||
          c == '-')) {
      ok = false;
    }
  }
  if (!ok) {
    fail(400, "InvalidParameter.RoleSessionName",
         "The parameter RoleSessionName must be 2-64 characters of [A-Za-z0-9.@_-].");
  }
}

void check_session_policy(const ApiCall& call) {
  const std::string* p = find_param(call, "Policy");
  if (p == nullptr || p->empty()) return;
  if (p->size() > 2048) {
    fail(400, "InvalidParameter.PolicySize", "The size of the Policy must be at most 2048.");
  }
  json doc = json::parse(*p, nullptr, false);
  if (doc.is_discarded() || policy::validate(doc, policy::DocKind::Identity)) {
    fail(400, "InvalidParameter.PolicyGrammar", "The policy has a grammar error.");
  }
}

// Issues STS credentials for `role` in `owner` and registers them for signature verification.
json issue_credentials(State& state, const ModelOptions& options, const ApiCall& call,
                       const Account& owner, const Role& role, const std::string& session) {
  long duration = int_param(call, "DurationSeconds", options.sts_duration_default.count(), 900,
                            role.max_session_duration);
  AccessKey key;
  key.id = "STS." + random_text(25, kAlnum);
  key.secret = random_text(44, kAlnum);
  key.security_token = "CAIS" + random_text(300, kBase64);
  // Expiration has no fractional seconds: the credentials SDK's parseUTC accepts exactly that form.
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(call.now);
  key.expires = now + std::chrono::seconds(duration);
  key.identity_type = "AssumedRoleUser";
  key.role_id = role.id;
  key.principal_id = role.id + ":" + session;
  key.arn = "acs:ram::" + owner.uid + ":assumed-role/" + lower(role.name) + "/" + session;
  // Drop expired sessions so a long-running emulator does not grow without bound.
  std::erase_if(state.sts_keys, [&](const AccessKey& k) { return *k.expires <= call.now; });
  state.sts_keys.push_back(key);
  state.sts_key_account[key.id] = owner.uid;
  json body;
  body["Credentials"] = {{"AccessKeyId", key.id},
                         {"AccessKeySecret", key.secret},
                         {"SecurityToken", *key.security_token},
                         {"Expiration", iso_seconds(*key.expires)}};
  body["AssumedRoleUser"] = {
      {"AssumedRoleId", key.principal_id},
      {"Arn", "acs:ram::" + owner.uid + ":role/" + lower(role.name) + "/" + session}};
  return body;
}

const Role& visible_role(const Account& owner, const std::string& name, Clock::time_point now) {
  const Role* role = find_role(owner, name);
  if (role == nullptr || role->visible_at > now) {
    fail(404, "EntityNotExist.Role", "The role not exists: " + name + ".");
  }
  return *role;
}

ApiResponse assume_role(State& state, const ModelOptions& options, const ApiCall& call) {
  RoleArn arn = parse_role_arn(required_param(call, "RoleArn"));
  std::string session = required_param(call, "RoleSessionName");
  check_session_name(session);
  check_session_policy(call);
  if (const std::string* ext = find_param(call, "ExternalId")) {
    if (ext->size() < 2 || ext->size() > 1224) {
      fail(400, "InvalidParameter.ExternalId", "The ExternalId must be 2-1224 characters.");
    }
  }
  if (call.caller.identity_type == "Account") {
    // [META] the account's own (root) AccessKey may not assume roles; use a RAM user's key.
    fail(403, "NoPermission",
         "Roles may not be assumed by root accounts. Use the AccessKey of a RAM user.");
  }
  const Account* owner = state.account(arn.uid);
  if (owner == nullptr) fail(404, "EntityNotExist.Role", "The role not exists: " + arn.name + ".");
  const Role& role = visible_role(*owner, arn.name, call.now);
  const std::string caller_uid = call.caller.account_uid;
  const std::string caller_arn = call.caller.arn;
  auto matcher = [&](std::string_view kind, std::string_view value) {
    if (kind != "RAM") return false;
    // "<uid>" and "acs:ram::<uid>:root" trust every identity of that account.
    if (value == caller_uid || value == "acs:ram::" + caller_uid + ":root") return true;
    if (policy::wildcard_match(value, caller_arn, true)) return true;
    // acs:ram::<uid>:role/<name> admits sessions of that role (role chaining).
    std::string prefix = "acs:ram::" + caller_uid + ":assumed-role/";
    if (caller_arn.rfind(prefix, 0) == 0 &&
        iequals(value.substr(0, value.find('/') + 1), "acs:ram::" + caller_uid + ":role/")) {
      std::string role_name = caller_arn.substr(prefix.size());
      role_name = role_name.substr(0, role_name.find('/'));
      return iequals(value.substr(value.find('/') + 1), role_name);
    }
    return false;
  };
  if (policy::evaluate_trust(role.trust, "sts:AssumeRole", matcher, {}) !=
      policy::Decision::Allow) {
    fail(403, "NoPermission",
         "You are not authorized to do this action. The trust policy of role " + role.name +
             " does not admit " + caller_arn + ".");
  }
  return ok(call, issue_credentials(state, options, call, *owner, role, session));
}

json decode_jwt_payload(const std::string& token) {
  std::size_t a = token.find('.');
  std::size_t b = a == std::string::npos ? a : token.find('.', a + 1);
  if (b == std::string::npos) return nullptr;
  std::string part = token.substr(a + 1, b - a - 1);
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : part) {
    if (c == '=') break;
    std::size_t v = kAlphabet.find(c == '+' ? '-' : c == '/' ? '_' : c);
    if (v == std::string::npos) return nullptr;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  json payload = json::parse(out, nullptr, false);
  return payload.is_object() ? payload : json();
}

ApiResponse assume_role_with_oidc(State& state, const ModelOptions& options, const ApiCall& call) {
  std::string provider_arn = required_param(call, "OIDCProviderArn");
  RoleArn arn = parse_role_arn(required_param(call, "RoleArn"));
  std::string token = required_param(call, "OIDCToken");
  std::string session = param_or(call, "RoleSessionName", "");
  if (session.empty()) fail(400, "MissingParameter", "RoleSessionName is mandatory.");
  check_session_name(session);
  check_session_policy(call);
  if (token.size() < 4 || token.size() > 20000) {
    fail(400, "InvalidParameter.OIDCToken", "The OIDCToken must be 4-20000 characters.");
  }
  const Account* owner = state.account(arn.uid);
  if (owner == nullptr) fail(404, "EntityNotExist.Role", "The role not exists: " + arn.name + ".");
  std::string prefix = "acs:ram::" + owner->uid + ":oidc-provider/";
  const OidcProvider* provider = nullptr;
  if (provider_arn.rfind(prefix, 0) == 0) {
    for (const auto& p : owner->oidc_providers) {
      if (iequals(p.name, provider_arn.substr(prefix.size()))) provider = &p;
    }
  }
  if (provider == nullptr) {
    fail(404, "EntityNotExist.OIDCProvider",
         "The OIDC provider does not exist in the role's account: " + provider_arn + ".");
  }
  const Role& role = visible_role(*owner, arn.name, call.now);
  json claims = decode_jwt_payload(token);
  policy::Context ctx;
  auto claim = [&](const char* name) -> std::string {
    if (!claims.is_object() || !claims.contains(name)) return "";
    const json& v = claims[name];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array() && !v.empty() && v[0].is_string()) return v[0].get<std::string>();
    return "";
  };
  if (!claim("iss").empty()) ctx["oidc:iss"] = claim("iss");
  if (!claim("sub").empty()) ctx["oidc:sub"] = claim("sub");
  if (!claim("aud").empty()) ctx["oidc:aud"] = claim("aud");
  std::string canonical_arn = prefix + provider->name;
  auto matcher = [&](std::string_view kind, std::string_view value) {
    return kind == "Federated" && iequals(value, canonical_arn);
  };
  if (policy::evaluate_trust(role.trust, "sts:AssumeRole", matcher, ctx) !=
      policy::Decision::Allow) {
    fail(403, "NoPermission",
         "The trust policy of role " + role.name + " does not admit OIDC provider " +
             provider->name + " with this token.");
  }
  json body = issue_credentials(state, options, call, *owner, role, session);
  // ClientIds is one comma-separated string in the STS model, not a JSON array.
  std::string client_ids;
  if (claims.is_object() && claims.contains("aud")) {
    for (const auto& a : policy::string_list(claims["aud"])) {
      client_ids += (client_ids.empty() ? "" : ",") + a;
    }
  }
  body["OIDCTokenInfo"] = {{"Subject", claim("sub")},
                           {"Issuer", claim("iss").empty() ? provider->issuer_url : claim("iss")},
                           {"ClientIds", client_ids},
                           {"IssuanceTime", iso_seconds(call.now)},
                           {"ExpirationTime", iso_seconds(call.now + std::chrono::hours(1))},
                           {"VerificationInfo", "Success"}};
  return ok(call, body);
}

}  // namespace

ApiResponse sts_call(State& state, const ModelOptions& options, const ApiCall& call) {
  const std::string& a = call.action;
  if (a == "AssumeRoleWithOIDC") return assume_role_with_oidc(state, options, call);
  // SAML federation is not modelled (no SAML providers in the seed).
  if (a == "AssumeRoleWithSAML") {
    fail(404, "InvalidAction.NotFound", "AssumeRoleWithSAML is not implemented by the emulator.");
  }
  if (call.caller.anonymous) {
    // Only the OIDC/SAML federation calls are anonymous; the verifier should have refused this one.
    fail(400, "MissingParameter", "AccessKeyId is mandatory for this action.");
  }
  if (a == "GetCallerIdentity") return get_caller_identity(state, call);
  if (a == "AssumeRole") return assume_role(state, options, call);
  fail(404, "InvalidAction.NotFound",
       "Specified api is not found, please check your url and method.");
}

}  // namespace sharekeeper::emulator
