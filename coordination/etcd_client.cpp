#include "coordination/etcd_client.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "cloud/redact.hpp"
#include "cloud/transport.hpp"

namespace sharekeeper::coordination {

using cloud::Error;
using cloud::ErrorClass;
using cloud::Result;
using nlohmann::json;
using SteadyTimePoint = std::chrono::steady_clock::time_point;

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  if (in.empty()) return std::string();
  std::string out(3 * (in.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

namespace {

const char* grpc_name(int code) {
  static constexpr const char* kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "Unknown";
  return kNames[code];
}

ErrorClass grpc_class(int code) {
  switch (code) {
    case 2:   // Unknown
    case 4:   // DeadlineExceeded: the proposal may still commit
    case 13:  // Internal
    case 14:  // Unavailable (no leader, stopping)
      return ErrorClass::kTransient;
    case 5:
      return ErrorClass::kNotFound;
    default:
      return ErrorClass::kTerminal;
  }
}

Error etcd_error(std::string_view action, std::string code, ErrorClass cls,
                 const std::string& message, int http_status = 0) {
  Error e;
  e.product = "etcd";
  e.action = std::string(action);
  e.code = std::move(code);
  e.cls = cls;
  e.http_status = http_status;
  e.message = cloud::redact::scrub(message);
  return e;
}

Error malformed(std::string_view action, const std::string& what) {
  return etcd_error(action, "Etcd.MalformedResponse", ErrorClass::kOutcomeUnknown, what, 200);
}

// int64 fields arrive as strings ("123"); zero values are left out; numbers are accepted too.
std::optional<std::int64_t> i64(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (!it->is_string()) return std::nullopt;
  const auto& s = it->get_ref<const std::string&>();
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<KeyValue> parse_kv(const json& j) {
  if (!j.is_object()) return std::nullopt;
  KeyValue kv;
  auto key = base64_decode(j.value("key", ""));
  auto value = base64_decode(j.value("value", ""));
  auto cr = i64(j, "create_revision"), mr = i64(j, "mod_revision"), lease = i64(j, "lease");
  if (!key || !value || !cr || !mr || !lease) return std::nullopt;
  kv.key = std::move(*key);
  kv.value = std::move(*value);
  kv.create_revision = *cr;
  kv.mod_revision = *mr;
  kv.lease = *lease;
  return kv;
}

Result<json> parse(std::string_view action, const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return malformed(action, "not a JSON object");
  // A streaming method (keepalive) reports an error inside the stream: {"error": {...}}.
  if (auto e = j.find("error"); e != j.end() && e->is_object()) {
    const int code = e->value("grpc_code", e->value("code", 2));
    return etcd_error(action, std::string("Etcd.") + grpc_name(code), grpc_class(code),
                      e->value("message", std::string("stream error")));
  }
  return j;
}

// The parsed answer of a call, or its error.
Result<json> parsed(Result<std::string> body, std::string_view action) {
  if (!body.ok()) return body.error();
  return parse(action, *body);
}

Result<std::int64_t> header_revision(const json& j, std::string_view action) {
  auto rev = i64(j.value("header", json::object()), "revision");
  if (!rev) return malformed(action, "header.revision is not an integer");
  return *rev;
}

std::string str_i64(std::int64_t v) { return std::to_string(v); }

bool failover(const Error& e) {
  // Nothing was sent, or the member cannot serve (no leader, stopping): another member may.
  return e.code == "Transport.Connect" || e.code == "Transport.Resolve" ||
         e.code == "Etcd.Unavailable";
}

std::optional<EtcdClient::Endpoint> parse_endpoint(const std::string& url) {
  auto u = cloud::parse_url(url);
  if (!u || (u->scheme != "https" && u->scheme != "http") || u->host.empty() ||
      !u->userinfo.empty() || (u->target != "/" && !u->target.empty()))
    return std::nullopt;
  return EtcdClient::Endpoint{u->scheme, u->host, u->port, url};
}

}  // namespace

Result<std::shared_ptr<cloud::Transport>> make_etcd_transport(const EtcdTlsOptions& tls) {
  cloud::TransportOptions o;
  o.ca_file = tls.ca_file;
  o.client_cert_file = tls.cert_file;
  o.client_key_file = tls.key_file;
  o.allow_http = tls.allow_http;
  o.user_agent = std::string("sharekeeper/") + SHAREKEEPER_VERSION;
  // Two connections per endpoint are plenty: one driver thread makes one call at a time.
  o.max_idle_per_host = 2;
  auto t = cloud::HttpsTransport::create(o);
  if (!t.ok()) return t.error();
  return std::shared_ptr<cloud::Transport>(std::move(t.value()));
}

EtcdClient::EtcdClient(EtcdClientOptions options, std::vector<Endpoint> endpoints,
                       std::shared_ptr<cloud::Transport> transport)
    : options_(std::move(options)),
      endpoints_(std::move(endpoints)),
      transport_(std::move(transport)) {
  if (!options_.password.empty()) cloud::redact::register_secret(options_.password);
}

EtcdClient::~EtcdClient() = default;

Result<std::unique_ptr<EtcdClient>> EtcdClient::create(
    EtcdClientOptions options, std::shared_ptr<cloud::Transport> transport) {
  std::vector<Endpoint> endpoints;
  for (const auto& url : options.endpoints) {
    auto e = parse_endpoint(url);
    if (!e)
      return etcd_error("create", "Etcd.BadEndpoint", ErrorClass::kTerminal,
                        "not an etcd endpoint (scheme://host:port): " + url);
    endpoints.push_back(std::move(*e));
  }
  if (endpoints.empty())
    return etcd_error("create", "Etcd.BadEndpoint", ErrorClass::kTerminal, "no etcd endpoint");
  if (!transport)
    return etcd_error("create", "Etcd.BadEndpoint", ErrorClass::kTerminal, "no transport");
  return std::unique_ptr<EtcdClient>(
      new EtcdClient(std::move(options), std::move(endpoints), std::move(transport)));
}

std::string EtcdClient::current_endpoint() const {
  std::lock_guard lock(mu_);
  return endpoints_[current_].url;
}

Result<std::string> EtcdClient::call_once(std::string_view path, const std::string& body,
                                          SteadyTimePoint deadline) {
  Endpoint ep;
  std::string token;
  {
    std::lock_guard lock(mu_);
    ep = endpoints_[current_];
    token = token_;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left <= std::chrono::milliseconds(0))
    return etcd_error(path, "Transport.Timeout", ErrorClass::kOutcomeUnknown,
                      "no time left for " + std::string(path) + " at " + ep.url);
  cloud::HttpRequest req;
  req.method = "POST";
  req.scheme = ep.scheme;
  req.host = ep.host;
  req.port = ep.port;
  req.target = std::string(path);
  req.headers.emplace_back("content-type", "application/json");
  // The gateway takes the bare token (no "Bearer").
  if (!token.empty()) req.headers.emplace_back("authorization", token);
  req.body = body;
  auto r = transport_->send(req, left);
  if (!r.ok()) {
    Error e = r.error();
    e.product = "etcd";
    e.action = std::string(path);
    e.message = cloud::redact::scrub(e.message);
    return e;
  }
  if (r->status == 200) return std::move(r->body);
  auto j = json::parse(r->body, nullptr, false);
  if (j.is_object() && j.contains("code")) {
    const int code = j["code"].is_number_integer() ? j["code"].get<int>() : 2;
    return etcd_error(path, std::string("Etcd.") + grpc_name(code), grpc_class(code),
                      j.value("message", std::string()) + " (" + ep.url + ")", r->status);
  }
  return etcd_error(path, "Etcd.Http" + std::to_string(r->status),
                    r->status >= 500 ? ErrorClass::kTransient : ErrorClass::kTerminal,
                    "HTTP " + std::to_string(r->status) + " from " + ep.url, r->status);
}

Result<std::string> EtcdClient::authenticate(SteadyTimePoint deadline) {
  json req = {{"name", options_.username}, {"password", options_.password}};
  auto r = call_once("/v3/auth/authenticate", req.dump(), deadline);
  if (!r.ok()) return r.error();
  auto j = parse("/v3/auth/authenticate", *r);
  if (!j.ok()) return j.error();
  std::string token = j->value("token", "");
  if (token.empty()) return malformed("/v3/auth/authenticate", "no token in the answer");
  cloud::redact::register_secret(token);
  std::lock_guard lock(mu_);
  token_ = token;
  return token;
}

Result<std::string> EtcdClient::call(std::string_view path, const std::string& body) {
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  bool reauthenticated = false;
  std::optional<Error> last;
  for (std::size_t tried = 0; tried < endpoints_.size();) {
    bool need_token = false;
    if (!options_.username.empty()) {
      std::lock_guard lock(mu_);
      need_token = token_.empty();
    }
    Result<std::string> r =
        need_token ? authenticate(deadline) : Result<std::string>(std::string());
    if (r.ok()) r = call_once(path, body, deadline);
    if (r.ok()) return r;
    Error e = r.error();
    // etcd's simple tokens expire (--auth-token-ttl, 5 min idle): authenticate again, once.
    if (!options_.username.empty() && !reauthenticated &&
        (e.code == "Etcd.Unauthenticated" ||
         e.message.find("invalid auth token") != std::string::npos)) {
      reauthenticated = true;
      std::lock_guard lock(mu_);
      token_.clear();
      continue;
    }
    last = e;
    if (!failover(e) || std::chrono::steady_clock::now() >= deadline) {
      // A member that accepts connections but does not answer (hung, partitioned, overloaded) used
      // up this call's deadline: the next call starts at the next member.
      if (e.code == "Transport.Timeout" || e.code == "Transport.Reset" || failover(e)) {
        std::lock_guard lock(mu_);
        current_ = (current_ + 1) % endpoints_.size();
        token_.clear();
      }
      return e;
    }
    ++tried;
    std::lock_guard lock(mu_);
    current_ = (current_ + 1) % endpoints_.size();
    token_.clear();  // tokens are per member (simple tokens are not replicated)
  }
  return *last;
}

Result<LeaseGrant> EtcdClient::grant(std::chrono::seconds ttl) {
  constexpr std::string_view kPath = "/v3/lease/grant";
  auto j = parsed(call(kPath, json{{"TTL", str_i64(ttl.count())}}.dump()), kPath);
  if (!j.ok()) return j.error();
  if (auto e = j->value("error", std::string()); !e.empty())
    return etcd_error(kPath, "Etcd.LeaseGrant", ErrorClass::kTransient, e);
  auto id = i64(*j, "ID");
  auto granted = i64(*j, "TTL");
  if (!id || !granted || *id == 0 || *granted <= 0) return malformed(kPath, "no lease ID or TTL");
  return LeaseGrant{*id, std::chrono::seconds(*granted)};
}

Result<std::chrono::seconds> EtcdClient::keepalive(std::int64_t lease) {
  constexpr std::string_view kPath = "/v3/lease/keepalive";
  auto body = call(kPath, json{{"ID", str_i64(lease)}}.dump());
  if (!body.ok()) return body.error();
  // One message of the stream: {"result": {...}}. Only the first line is ours.
  std::string first = body->substr(0, body->find('\n'));
  auto j = parse(kPath, first);
  if (!j.ok()) return j.error();
  auto it = j->find("result");
  if (it == j->end() || !it->is_object()) return malformed(kPath, "no result");
  auto ttl = i64(*it, "TTL");
  if (!ttl) return malformed(kPath, "TTL is not an integer");
  return std::chrono::seconds(std::max<std::int64_t>(0, *ttl));
}

Result<void> EtcdClient::revoke(std::int64_t lease) {
  constexpr std::string_view kPath = "/v3/lease/revoke";
  auto body = call(kPath, json{{"ID", str_i64(lease)}}.dump());
  if (!body.ok()) {
    if (body.error().code == "Etcd.NotFound") return {};  // gone already: what we wanted
    return body.error();
  }
  return {};
}

Result<RangeResult> EtcdClient::range(const std::string& begin, const std::string& end) {
  constexpr std::string_view kPath = "/v3/kv/range";
  json req = {{"key", base64_encode(begin)}};
  if (!end.empty()) req["range_end"] = base64_encode(end);
  auto j = parsed(call(kPath, req.dump()), kPath);
  if (!j.ok()) return j.error();
  RangeResult out;
  auto rev = header_revision(*j, kPath);
  if (!rev.ok()) return rev.error();
  out.revision = *rev;
  for (const auto& item : j->value("kvs", json::array())) {
    auto kv = parse_kv(item);
    if (!kv) return malformed(kPath, "a key-value is malformed");
    out.kvs.push_back(std::move(*kv));
  }
  if (j->value("more", false)) return malformed(kPath, "the range was cut short (more: true)");
  return out;
}

Result<CreateResult> EtcdClient::create_if_absent(const std::string& key, const std::string& value,
                                                  std::int64_t lease) {
  constexpr std::string_view kPath = "/v3/kv/txn";
  const std::string k = base64_encode(key);
  json put = {{"key", k}, {"value", base64_encode(value)}};
  if (lease != 0) put["lease"] = str_i64(lease);
  const json req = {
      {"compare",
       json::array(
           {{{"key", k}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}}})},
      {"success", json::array({{{"request_put", put}}})},
      {"failure", json::array({{{"request_range", {{"key", k}}}}})}};
  auto j = parsed(call(kPath, req.dump()), kPath);
  if (!j.ok()) return j.error();
  CreateResult out;
  out.created = j->value("succeeded", false);
  auto rev = header_revision(*j, kPath);
  if (!rev.ok()) return rev.error();
  if (out.created) {
    out.revision =
        *rev;  // the put is the transaction's only write: it created the key at this revision
    return out;
  }
  for (const auto& r : j->value("responses", json::array())) {
    const json range = r.value("response_range", json::object());
    for (const auto& item : range.value("kvs", json::array())) {
      auto kv = parse_kv(item);
      if (!kv) return malformed(kPath, "a key-value is malformed");
      out.existing = std::move(*kv);
    }
  }
  // The compare failed, so the key existed; it may have been deleted before the range ran only if
  // the range were a separate request, which it is not (one transaction, one revision).
  if (!out.existing) return malformed(kPath, "the compare failed but the key is absent");
  return out;
}

Result<bool> EtcdClient::delete_if_created_at(const std::string& key,
                                              std::int64_t create_revision) {
  constexpr std::string_view kPath = "/v3/kv/txn";
  const std::string k = base64_encode(key);
  const json req = {{"compare", json::array({{{"key", k},
                                              {"target", "CREATE"},
                                              {"result", "EQUAL"},
                                              {"create_revision", str_i64(create_revision)}}})},
                    {"success", json::array({{{"request_delete_range", {{"key", k}}}}})}};
  auto j = parsed(call(kPath, req.dump()), kPath);
  if (!j.ok()) return j.error();
  return j->value("succeeded", false);
}

Result<std::int64_t> EtcdClient::put(const std::string& key, const std::string& value,
                                     std::int64_t lease) {
  constexpr std::string_view kPath = "/v3/kv/put";
  json req = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) req["lease"] = str_i64(lease);
  auto j = parsed(call(kPath, req.dump()), kPath);
  if (!j.ok()) return j.error();
  return header_revision(*j, kPath);
}

Result<std::int64_t> EtcdClient::delete_range(const std::string& begin, const std::string& end) {
  constexpr std::string_view kPath = "/v3/kv/deleterange";
  json req = {{"key", base64_encode(begin)}};
  if (!end.empty()) req["range_end"] = base64_encode(end);
  auto j = parsed(call(kPath, req.dump()), kPath);
  if (!j.ok()) return j.error();
  auto deleted = i64(*j, "deleted");
  if (!deleted) return malformed(kPath, "deleted is not an integer");
  return *deleted;
}

}  // namespace sharekeeper::coordination
