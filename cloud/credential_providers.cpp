// Static, env, refreshing base, STS AssumeRole / AssumeRoleWithOIDC, metadata service, credentials
// URI, and the factory. The file-based providers and the default chain are in
// credentials_files.cpp.
#include "cloud/credential_providers.hpp"

#include <openssl/rand.h>

#include <cctype>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "cloud/credentials_internal.hpp"
#include "cloud/errors.hpp"
#include "cloud/redact.hpp"
#include "cloud/signer.hpp"
#include "support/wire.hpp"

namespace sharekeeper::cloud {

using Json = nlohmann::json;
using std::chrono::system_clock;

namespace credentials_internal {

Error error(std::string_view provider, std::string code, ErrorClass cls,
            const std::string& message) {
  Error e;
  e.product = "credentials";
  e.action = std::string(provider);
  e.code = std::move(code);
  e.cls = cls;
  e.message = redact::scrub(message);
  return e;
}

Error wrap(Error e, std::string_view provider) {
  e.message = std::string(provider) + ": " + e.message;
  return e;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool env_true(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (!v) return false;
  std::string s = trim(*v);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "true";
}

std::string env_or(const EnvLookup& env, std::string_view name, std::string fallback) {
  auto v = env(name);
  if (!v || trim(*v).empty()) return fallback;
  return trim(*v);
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string sts_url(const CredentialsDeps& deps, const StsRoleOptions& role) {
  if (!deps.sts_endpoint.empty()) return deps.sts_endpoint;
  if (!role.endpoint.empty()) {
    return role.endpoint.find("://") == std::string::npos ? "https://" + role.endpoint
                                                          : role.endpoint;
  }
  if (!role.region.empty()) {
    return std::string(role.vpc ? "https://sts-vpc." : "https://sts.") + role.region +
           ".aliyuncs.com";
  }
  return "https://sts.aliyuncs.com";
}

std::string random_hex32();

CredentialsDeps basic_defaults(CredentialsDeps deps) {
  if (!deps.clock) deps.clock = support::SystemClock::shared();
  if (!deps.env) deps.env = process_env();
  if (deps.home_dir.empty()) deps.home_dir = deps.env("HOME").value_or("");
  if (!deps.nonce) deps.nonce = random_hex32;
  return deps;
}

std::string random_hex32() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no randomness: nothing is safe
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

}  // namespace credentials_internal

namespace {

using namespace credentials_internal;

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += percent_encode(k) + "=" + percent_encode(v);
  }
  return out;
}

Result<HttpRequest> request_for(std::string_view provider, const std::string& url,
                                std::string method, std::string_view what) {
  auto u = parse_url(url);
  if (!u) {
    // The URL itself may carry a token in its query: name it, do not print it.
    return error(provider, "Credentials.Invalid", ErrorClass::kTerminal,
                 "malformed " + std::string(what) + " URL");
  }
  HttpRequest r;
  r.method = std::move(method);
  r.scheme = u->scheme;
  r.host = u->host;
  r.port = u->port;
  r.target = u->target;
  return r;
}

Error no_transport(std::string_view provider) {
  return error(provider, "Credentials.Invalid", ErrorClass::kTerminal,
               "no transport in CredentialsDeps (build them with complete_deps)");
}

std::string join_path(std::string base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + std::string(path);
}

const Json* field(const Json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return nullptr;
  }
  return &*it;
}

// {AccessKeyId, AccessKeySecret, SecurityToken, Expiration} from `obj`. Error texts name the
// missing field, never the document (it holds the secret).
Result<Credentials> credentials_from(const Json& obj, std::string_view provider) {
  Credentials c;
  for (const char* name : {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}) {
    if (field(obj, name) == nullptr) {
      return error(provider, std::string(kCodeMalformedResponse), ErrorClass::kTransient,
                   std::string("response lacks ") + name);
    }
  }
  c.access_key_id = obj["AccessKeyId"].get<std::string>();
  c.access_key_secret = obj["AccessKeySecret"].get<std::string>();
  c.security_token = obj["SecurityToken"].get<std::string>();
  redact::register_secret(c.access_key_secret);
  redact::register_secret(c.security_token);
  c.expiration = parse_utc_timestamp(obj["Expiration"].get<std::string>());
  if (!c.expiration) {
    return error(provider, std::string(kCodeMalformedResponse), ErrorClass::kTransient,
                 "Expiration is not yyyy-MM-ddTHH:mm:ssZ");
  }
  c.provider = std::string(provider);
  return c;
}

Result<Json> parse_json(const HttpResponse& res, std::string_view provider) {
  Json j = Json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return error(provider, std::string(kCodeMalformedResponse), ErrorClass::kTransient,
                 "response is not a JSON object");
  }
  return j;
}

// A non-2xx answer from the metadata service or a credentials URI: status only, never the body.
Error http_error(std::string_view provider, std::string_view what, int status) {
  Error e = error(provider, "Http." + std::to_string(status),
                  classify("Http." + std::to_string(status), status),
                  std::string(what) + " answered HTTP " + std::to_string(status));
  e.http_status = status;
  return e;
}

// STS call shared by AssumeRole and AssumeRoleWithOIDC.
Result<Credentials> call_sts(const CredentialsDeps& deps, const StsRoleOptions& role,
                             std::string_view provider, std::string_view action,
                             const std::vector<std::pair<std::string, std::string>>& query,
                             const std::vector<std::pair<std::string, std::string>>& body,
                             std::vector<std::pair<std::string, std::string>> headers) {
  auto req = request_for(provider, sts_url(deps, role), "POST", "STS endpoint");
  if (!req.ok()) return req.error();
  HttpRequest& r = req.value();
  const auto q = r.target.find('?');
  r.target = r.target.substr(0, q) + "?" + form_encode(query);
  r.headers = std::move(headers);
  r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  r.body = form_encode(body);
  if (!deps.sts_transport) return no_transport(provider);
  auto res = deps.sts_transport->send(r, deps.sts_timeout);
  if (!res.ok()) return wrap(res.error(), provider);
  if (res->status / 100 != 2) {
    Error e = error_from_response("sts", action, *res);
    e.message = std::string(provider) + ": " + e.message;
    return e;
  }
  auto j = parse_json(*res, provider);
  if (!j.ok()) return j.error();
  if (!j->contains("Credentials")) {
    return error(provider, std::string(kCodeMalformedResponse), ErrorClass::kTransient,
                 std::string(action) + " response lacks Credentials");
  }
  return credentials_from((*j)["Credentials"], provider);
}

std::string duration_text(std::chrono::seconds d) {
  return std::to_string(d.count() < 900 ? 900 : d.count());  // STS minimum
}

}  // namespace

// ---- Timestamps

std::optional<system_clock::time_point> parse_utc_timestamp(std::string_view s) {
  // yyyy-MM-ddTHH:mm:ssZ (20) or yyyy-MM-ddTHH:mm:ss.sssZ (24)
  if (s.size() != 20 && s.size() != 24) return std::nullopt;
  auto digits = [&s](std::size_t pos, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s.back() != 'Z') {
    return std::nullopt;
  }
  int millis = 0;
  if (s.size() == 24) {
    if (s[19] != '.') return std::nullopt;
    auto m = digits(20, 3);
    if (!m) return std::nullopt;
    millis = *m;
  }
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
       minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 59) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  // timegm, never mktime: mktime reads the fields as local time (docs/failure-matrix.md §0.3).
  const std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1) || tm.tm_mday != *day) return std::nullopt;  // Feb 30
  return system_clock::from_time_t(t) + std::chrono::milliseconds(millis);
}

std::string format_utc_timestamp(system_clock::time_point t) {
  const std::time_t tt = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---- Deps

Result<CredentialsDeps> complete_deps(CredentialsDeps deps) {
  deps = basic_defaults(std::move(deps));
  if (!deps.sts_transport) {
    TransportOptions o;
    o.proxy = ProxySettings::from_environment(deps.env);
    auto t = HttpsTransport::create(std::move(o));
    if (!t.ok()) return t.error();
    deps.sts_transport = std::shared_ptr<Transport>(std::move(t).value());
  }
  if (!deps.metadata_transport) {
    TransportOptions o;
    o.allow_http = true;
    o.proxy = ProxySettings{};
    auto t = HttpsTransport::create(std::move(o));
    if (!t.ok()) return t.error();
    deps.metadata_transport = std::shared_ptr<Transport>(std::move(t).value());
  }
  return deps;
}

// ---- Static and env

StaticCredentialsProvider::StaticCredentialsProvider(Credentials credentials)
    : credentials_(std::move(credentials)) {
  if (credentials_.provider.empty()) {
    credentials_.provider = credentials_.security_token.empty() ? "static_ak" : "static_sts";
  }
  redact::register_secret(credentials_.access_key_secret);
  redact::register_secret(credentials_.security_token);
}

Result<Credentials> StaticCredentialsProvider::get() { return credentials_; }

EnvCredentialsProvider::EnvCredentialsProvider(EnvLookup env, std::string id_var,
                                               std::string secret_var, std::string token_var)
    : env_(std::move(env)),
      id_var_(std::move(id_var)),
      secret_var_(std::move(secret_var)),
      token_var_(std::move(token_var)) {}

Result<Credentials> EnvCredentialsProvider::get() {
  Credentials c;
  c.access_key_id = env_or(env_, id_var_, "");
  c.access_key_secret = env_or(env_, secret_var_, "");
  if (c.access_key_id.empty() || c.access_key_secret.empty()) {
    return error(name(), "Credentials.NotConfigured", ErrorClass::kTerminal,
                 (c.access_key_id.empty() ? id_var_ : secret_var_) + " is not set");
  }
  if (!token_var_.empty()) c.security_token = env_or(env_, token_var_, "");
  redact::register_secret(c.access_key_secret);
  redact::register_secret(c.security_token);
  c.provider = "env";
  return c;
}

// ---- Refreshing base

RefreshingCredentialsProvider::RefreshingCredentialsProvider(std::shared_ptr<support::Clock> clock,
                                                             std::chrono::seconds stale_window)
    : clock_(clock ? std::move(clock) : support::SystemClock::shared()),
      stale_window_(stale_window) {}

Result<Credentials> RefreshingCredentialsProvider::get() {
  std::lock_guard lock(mu_);
  const auto now = clock_->wall_now();
  const auto valid = [&now](const Credentials& c) { return !c.expiration || now < *c.expiration; };
  const auto fresh = [&](const Credentials& c) {
    return !c.expiration || *c.expiration - now > stale_window_;
  };
  const bool forced = std::exchange(invalidated_, false);
  if (!forced && cached_ && fresh(*cached_)) return *cached_;
  if (!forced && cached_ && valid(*cached_) && now < next_attempt_) return *cached_;
  auto fetched = fetch();
  if (fetched.ok()) {
    cached_ = std::move(fetched).value();
    // Credentials issued already inside the window (a short DurationSeconds) must not make every
    // call a fetch.
    next_attempt_ = fresh(*cached_) ? system_clock::time_point{} : now + kRefreshRetryInterval;
    return *cached_;
  }
  if (cached_ && valid(*cached_)) {
    next_attempt_ = now + kRefreshRetryInterval;
    return *cached_;
  }
  return fetched.error();
}

void RefreshingCredentialsProvider::invalidate() {
  std::lock_guard lock(mu_);
  invalidated_ = true;
}

// ---- STS AssumeRole

AssumeRoleCredentialsProvider::AssumeRoleCredentialsProvider(
    std::shared_ptr<CredentialsProvider> source, StsRoleOptions role, CredentialsDeps deps)
    : RefreshingCredentialsProvider(deps.clock, kStaleWindow),
      source_(std::move(source)),
      role_(std::move(role)),
      deps_(basic_defaults(std::move(deps))) {}

Result<Credentials> AssumeRoleCredentialsProvider::fetch() {
  auto src = source_->get();
  if (!src.ok()) return wrap(src.error(), "ram_role_arn source");
  const Credentials& s = src.value();
  // Order as the official credentials provider sends them (sdk-wire-captures.json).
  std::vector<std::pair<std::string, std::string>> query = {
      {"Version", std::string(wire::kStsVersion)},
      {"Action", "AssumeRole"},
      {"Format", "JSON"},
      {"Timestamp", format_utc_timestamp(deps_.clock->wall_now())},
      {"SignatureMethod", std::string(wire::kV1SignatureMethod)},
      {"SignatureVersion", std::string(wire::kV1SignatureVersion)},
      {"SignatureNonce", deps_.nonce()},
      {"AccessKeyId", s.access_key_id},
  };
  if (!s.security_token.empty()) query.emplace_back("SecurityToken", s.security_token);
  std::vector<std::pair<std::string, std::string>> body = {
      {"RoleArn", role_.role_arn},
      {"RoleSessionName", role_.role_session_name},
      {"DurationSeconds", duration_text(role_.duration)},
  };
  if (!role_.policy.empty()) body.emplace_back("Policy", role_.policy);
  if (!role_.external_id.empty()) body.emplace_back("ExternalId", role_.external_id);
  Params all(query.begin(), query.end());
  all.insert(body.begin(), body.end());
  query.emplace_back("Signature", sign_v1("POST", all, s.access_key_secret).signature);
  return call_sts(deps_, role_, name(), "AssumeRole", query, body,
                  {{"x-acs-credentials-provider", s.provider}});
}

// ---- STS AssumeRoleWithOIDC

OidcCredentialsProvider::OidcCredentialsProvider(std::string oidc_provider_arn,
                                                 std::string token_file, StsRoleOptions role,
                                                 CredentialsDeps deps)
    : RefreshingCredentialsProvider(deps.clock, kStaleWindow),
      provider_arn_(std::move(oidc_provider_arn)),
      token_file_(std::move(token_file)),
      role_(std::move(role)),
      deps_(basic_defaults(std::move(deps))) {}

Result<Credentials> OidcCredentialsProvider::fetch() {
  auto raw = read_file(token_file_);
  const std::string token = raw ? trim(*raw) : "";
  if (token.empty()) {
    // Transient: the kubelet may be rotating the projected token right now.
    return error(name(), "Credentials.TokenFile", ErrorClass::kTransient,
                 "cannot read the OIDC token file " + token_file_);
  }
  redact::register_secret(token);
  // Anonymous: no signature; business parameters in a form body (sdk-wire-captures.json).
  const std::vector<std::pair<std::string, std::string>> query = {
      {"Version", std::string(wire::kStsVersion)},
      {"Action", "AssumeRoleWithOIDC"},
      {"Format", "JSON"},
      {"Timestamp", format_utc_timestamp(deps_.clock->wall_now())},
  };
  std::vector<std::pair<std::string, std::string>> body = {
      {"OIDCProviderArn", provider_arn_},
      {"OIDCToken", token},
      {"RoleArn", role_.role_arn},
      {"RoleSessionName", role_.role_session_name},
      {"DurationSeconds", duration_text(role_.duration)},
  };
  if (!role_.policy.empty()) body.emplace_back("Policy", role_.policy);
  return call_sts(deps_, role_, name(), "AssumeRoleWithOIDC", query, body, {});
}

// ---- ECS metadata service

EcsRamRoleCredentialsProvider::EcsRamRoleCredentialsProvider(std::string role_name,
                                                             bool imdsv1_disabled,
                                                             CredentialsDeps deps)
    : RefreshingCredentialsProvider(deps.clock, kMetadataStaleWindow),
      role_name_(std::move(role_name)),
      imdsv1_disabled_(imdsv1_disabled),
      deps_(basic_defaults(std::move(deps))) {}

Result<Credentials> EcsRamRoleCredentialsProvider::fetch() {
  const auto get =
      [this](std::string method, std::string_view path,
             std::vector<std::pair<std::string, std::string>> headers) -> Result<HttpResponse> {
    auto req = request_for(name(), join_path(deps_.metadata_base_url, path), std::move(method),
                           "metadata");
    if (!req.ok()) return req.error();
    req->headers = std::move(headers);
    if (!deps_.metadata_transport) return no_transport(name());
    auto res = deps_.metadata_transport->send(*req, deps_.metadata_timeout);
    if (!res.ok()) return wrap(res.error(), name());
    return res;
  };

  std::string token;
  {
    auto res =
        get("PUT", "/latest/api/token", {{"x-aliyun-ecs-metadata-token-ttl-seconds", "21600"}});
    if (res.ok() && res->status == 200) token = trim(res->body);
    if (token.empty() && imdsv1_disabled_) {
      if (!res.ok()) return res.error();
      return error(name(), "Credentials.MetadataToken", ErrorClass::kTransient,
                   "no IMDSv2 token (HTTP " + std::to_string(res->status) +
                       ") and ALIBABA_CLOUD_IMDSV1_DISABLED forbids v1");
    }
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) {
    redact::register_secret(token);
    headers.emplace_back("x-aliyun-ecs-metadata-token", token);
  }
  if (role_name_.empty()) {
    auto res = get("GET", "/latest/meta-data/ram/security-credentials/", headers);
    if (!res.ok()) return res.error();
    if (res->status != 200) return http_error(name(), "role discovery", res->status);
    std::string role = trim(res->body);
    role = role.substr(0, role.find('\n'));
    if (role.empty()) {
      return error(name(), "Credentials.NotConfigured", ErrorClass::kTerminal,
                   "no RAM role is attached to this instance");
    }
    role_name_ = trim(role);
  }
  auto res = get("GET", "/latest/meta-data/ram/security-credentials/" + role_name_, headers);
  if (!res.ok()) return res.error();
  if (res->status != 200) return http_error(name(), "role " + role_name_, res->status);
  auto j = parse_json(*res, name());
  if (!j.ok()) return j.error();
  const auto code = j->find("Code");
  if (code == j->end() || !code->is_string() || code->get<std::string>() != "Success") {
    return error(name(), "Credentials.MetadataNotSuccess", ErrorClass::kTransient,
                 "metadata service did not answer Code=Success for role " + role_name_);
  }
  return credentials_from(*j, name());
}

// ---- Credentials URI

CredentialsUriProvider::CredentialsUriProvider(std::string uri, CredentialsDeps deps)
    : RefreshingCredentialsProvider(deps.clock, kStaleWindow),
      uri_(std::move(uri)),
      deps_(basic_defaults(std::move(deps))) {}

Result<Credentials> CredentialsUriProvider::fetch() {
  auto req = request_for(name(), uri_, "GET", "credentials");
  if (!req.ok()) return req.error();
  if (!deps_.metadata_transport) return no_transport(name());
  auto res = deps_.metadata_transport->send(*req, deps_.sts_timeout);
  if (!res.ok()) return wrap(res.error(), name());
  if (res->status != 200) return http_error(name(), "credentials URI", res->status);
  auto j = parse_json(*res, name());
  if (!j.ok()) return j.error();
  if (const auto code = j->find("Code");
      code != j->end() && !(code->is_string() && code->get<std::string>() == "Success")) {
    return error(name(), "Credentials.UriNotSuccess", ErrorClass::kTransient,
                 "credentials URI did not answer Code=Success");
  }
  return credentials_from(*j, name());
}

// ---- Factory

Result<std::shared_ptr<CredentialsProvider>> make_credentials_provider(const CredentialsOptions& o,
                                                                       const CredentialsDeps& in) {
  auto completed = complete_deps(in);
  if (!completed.ok()) return completed.error();
  const CredentialsDeps& deps = completed.value();
  const auto invalid = [](std::string_view provider, const std::string& what) -> Error {
    return error(provider, "Credentials.Invalid", ErrorClass::kTerminal, what);
  };
  StsRoleOptions role;
  role.role_arn = o.role_arn;
  role.role_session_name = o.role_session_name.empty() ? "sharekeeper" : o.role_session_name;
  role.duration = o.duration;
  role.policy = o.policy;
  role.external_id = o.external_id;
  role.region = o.sts_region;
  role.vpc = o.sts_vpc;

  switch (o.source) {
    case CredentialsSource::kDefault:
      return std::shared_ptr<CredentialsProvider>(std::make_shared<DefaultCredentialsChain>(deps));
    case CredentialsSource::kStatic:
      if (o.static_credentials.access_key_id.empty() ||
          o.static_credentials.access_key_secret.empty()) {
        return invalid("static", "access key id and secret are required");
      }
      return std::shared_ptr<CredentialsProvider>(
          std::make_shared<StaticCredentialsProvider>(o.static_credentials));
    case CredentialsSource::kEnv:
      return std::shared_ptr<CredentialsProvider>(std::make_shared<EnvCredentialsProvider>(
          deps.env,
          o.access_key_id_env.empty() ? "ALIBABA_CLOUD_ACCESS_KEY_ID" : o.access_key_id_env,
          o.access_key_secret_env.empty() ? "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
                                          : o.access_key_secret_env,
          o.security_token_env.empty() && o.access_key_id_env.empty()
              ? "ALIBABA_CLOUD_SECURITY_TOKEN"
              : o.security_token_env));
    case CredentialsSource::kProfile:
      return make_profile_provider(o.profile, deps);
    case CredentialsSource::kEcsRamRole:
      return std::shared_ptr<CredentialsProvider>(std::make_shared<EcsRamRoleCredentialsProvider>(
          o.role_name, env_true(deps.env, "ALIBABA_CLOUD_IMDSV1_DISABLED"), deps));
    case CredentialsSource::kOidc:
      if (o.role_arn.empty() || o.oidc_provider_arn.empty() || o.oidc_token_file.empty()) {
        return invalid("oidc_role_arn", "roleArn, oidcProviderArn and oidcTokenFile are required");
      }
      return std::shared_ptr<CredentialsProvider>(std::make_shared<OidcCredentialsProvider>(
          o.oidc_provider_arn, o.oidc_token_file, role, deps));
    case CredentialsSource::kAssumeRole: {
      if (o.role_arn.empty()) return invalid("ram_role_arn", "roleArn is required");
      std::shared_ptr<CredentialsProvider> source = o.from;
      if (!source) source = std::make_shared<DefaultCredentialsChain>(deps);
      return std::shared_ptr<CredentialsProvider>(
          std::make_shared<AssumeRoleCredentialsProvider>(std::move(source), role, deps));
    }
  }
  return invalid("credentials", "unknown source");
}

}  // namespace sharekeeper::cloud
