// The request path every typed call goes through: resolve, pace, sign, send, classify, retry.
#include "cloud/alibaba_client.hpp"

#include <openssl/rand.h>

#include <array>
#include <cassert>
#include <cctype>
#include <charconv>
#include <ctime>
#include <optional>

#include "cloud/client_internal.hpp"
#include "cloud/errors.hpp"
#include "cloud/redact.hpp"
#include "cloud/request_ids.hpp"
#include "support/wire.hpp"

namespace sharekeeper::cloud {
namespace {

std::string random_nonce() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // RAND_bytes fails only without entropy; a repeated nonce would be rejected
    // (SignatureNonceUsed), never accepted, so fall back to the jitter RNG rather than fail the
    // call.
    const Random r = default_random();
    for (auto& b : bytes) b = static_cast<unsigned char>(r() * 256.0);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0x0f];
  }
  return out;
}

}  // namespace

namespace detail {

// The first "RequestId" string member of a JSON body ("" when absent or not a plain id of at most
// 128 characters). Alibaba puts it at the top level of every answer (docs/alibaba-api.md §2; the
// x-acs-request-id header is not documented, so the body is the source). A scan, not a parse: the
// caller parses the body once, later. Inside an embedded document the key is escaped
// (\"RequestId\") and cannot match.
std::string request_id_of(std::string_view body) {
  constexpr std::string_view kKey = "\"RequestId\"";
  constexpr std::size_t kMaxLength = 128;
  for (std::size_t at = body.find(kKey); at != std::string_view::npos;
       at = body.find(kKey, at + 1)) {
    std::size_t i = at + kKey.size();
    auto skip_space = [&] {
      while (i < body.size() &&
             (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        ++i;
    };
    skip_space();
    if (i >= body.size() || body[i] != ':') continue;
    ++i;
    skip_space();
    if (i >= body.size() || body[i] != '"') continue;
    const std::size_t start = ++i;
    while (i < body.size() && i - start < kMaxLength &&
           (std::isalnum(static_cast<unsigned char>(body[i])) != 0 || body[i] == '-' ||
            body[i] == '_'))
      ++i;
    if (i < body.size() && body[i] == '"' && i > start)
      return std::string(body.substr(start, i - start));
  }
  return "";
}

}  // namespace detail

namespace {

// UTC "yyyy-MM-ddTHH:mm:ssZ", no fractional seconds (x-acs-date and V1 Timestamp).
std::string iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 32> buf{};
  const std::size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return {buf.data(), n};
}

std::string find_header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) == name[i];
    }
    if (same) return v;
  }
  return {};
}

std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& r) {
  const std::string v = find_header(r, wire::kHeaderRetryAfter);
  if (v.empty()) return std::nullopt;
  std::int64_t ms = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), ms);
  if (ec != std::errc{} || ptr != v.data() + v.size() || ms < 0) return std::nullopt;
  return std::chrono::milliseconds{ms};
}

// Errors from outside this file (transport, credentials) are re-redacted and re-attributed here: a
// transport that quoted a URL must not leak its query, whatever it promised.
Error sanitize(Error e, const AlibabaClient::Call& call, bool reclassify) {
  if (e.product.empty() || e.product == "transport") e.product = std::string(call.product);
  if (e.action.empty()) e.action = std::string(call.action);
  e.code = redact::scrub(e.code);
  if (e.code.size() > 128) e.code.resize(128);
  e.message = redact::scrub(e.message);
  e.request_id = redact::scrub(e.request_id);
  e.recommend = redact::scrub_keep_urls(e.recommend);
  if (reclassify) e.cls = classify(e.code, e.http_status);
  return e;
}

}  // namespace

AlibabaClient::AlibabaClient(AlibabaClientOptions options) : options_(std::move(options)) {
  assert(options_.transport && options_.credentials);
  if (!options_.endpoints) options_.endpoints = std::make_shared<const EndpointResolver>();
  if (!options_.retry_quota) options_.retry_quota = std::make_shared<RetryQuota>();
  if (!options_.rate_limiters) options_.rate_limiters = std::make_shared<RateLimiterSet>();
  if (!options_.clock) options_.clock = support::SystemClock::shared();
  if (!options_.nonce) options_.nonce = random_nonce;
  if (!options_.random) options_.random = default_random();
  if (options_.page_size < 1) options_.page_size = 1;
#ifdef SHAREKEEPER_VERSION
  if (options_.user_agent.empty()) options_.user_agent = "sharekeeper/" SHAREKEEPER_VERSION;
#endif
  if (options_.user_agent.empty()) options_.user_agent = "sharekeeper";
}

AlibabaClient::~AlibabaClient() = default;

Result<HttpRequest> AlibabaClient::build_request(const Call& call, const Credentials& credentials) {
  auto endpoint = options_.endpoints->resolve(call.product, call.region);
  if (!endpoint) {
    Error e = endpoint.error();
    e.product = std::string(call.product);  // "ecs DescribeSnapshots: Client.InvalidEndpoint ..."
    e.action = std::string(call.action);
    return sanitize(std::move(e), call, false);
  }

  HttpRequest req;
  req.method = "POST";
  req.scheme = endpoint->scheme;
  req.host = endpoint->host;
  req.port = endpoint->port;
  const std::string date = iso8601(options_.clock->wall_now());
  const std::string nonce = options_.nonce();
  const bool sts = !credentials.security_token.empty();

  if (options_.signature == SignatureAlgorithm::kV3) {
    V3Input in;
    in.method = req.method;
    in.path = "/";
    in.query = call.params;
    in.headers.reserve(9);
    in.headers.emplace_back("host", endpoint->host_header());
    in.headers.emplace_back(wire::kHeaderAction, call.action);
    in.headers.emplace_back(wire::kHeaderVersion, call.version);
    in.headers.emplace_back(wire::kHeaderDate, date);
    in.headers.emplace_back(wire::kHeaderNonce, nonce);
    in.headers.emplace_back(wire::kHeaderContentSha256, wire::kEmptySha256);
    if (sts) {
      // V3 carries the STS token in headers, both signed (docs/alibaba-api.md §1.4).
      in.headers.emplace_back(wire::kHeaderAccessKeyId, credentials.access_key_id);
      in.headers.emplace_back(wire::kHeaderSecurityToken, credentials.security_token);
    }
    if (!credentials.provider.empty())
      in.headers.emplace_back("x-acs-credentials-provider", credentials.provider);
    const V3Signature sig = sign_v3(in, credentials.access_key_id, credentials.access_key_secret);
    req.target = "/";
    if (!call.params.empty()) req.target += "?" + canonicalized_query(call.params);
    req.headers = std::move(in.headers);
    req.headers.emplace_back("authorization", sig.authorization);
  } else {
    Params params = call.params;
    params["Action"] = std::string(call.action);
    params["Version"] = std::string(call.version);
    // Always JSON: very old docs say the V1 default is XML (docs/alibaba-api.md §1.1).
    params["Format"] = "JSON";
    params["AccessKeyId"] = credentials.access_key_id;
    params["SignatureMethod"] = std::string(wire::kV1SignatureMethod);
    params["SignatureVersion"] = std::string(wire::kV1SignatureVersion);
    params["SignatureNonce"] = nonce;
    params["Timestamp"] = date;
    if (sts) params["SecurityToken"] = credentials.security_token;
    const V1Signature sig = sign_v1(req.method, params, credentials.access_key_secret);
    req.target = "/?" + canonicalized_query(params) + "&Signature=" + percent_encode(sig.signature);
    req.headers.emplace_back("host", endpoint->host_header());
    // Unsigned in V1; the SDK sends them too and they let a gateway route without parsing the
    // query.
    req.headers.emplace_back(wire::kHeaderAction, call.action);
    req.headers.emplace_back(wire::kHeaderVersion, call.version);
    if (!credentials.provider.empty())
      req.headers.emplace_back("x-acs-credentials-provider", credentials.provider);
  }
  req.headers.emplace_back("accept", "application/json");
  req.headers.emplace_back("user-agent", options_.user_agent);
  return req;
}

Result<std::string> AlibabaClient::invoke(const Call& call) {
  RetryState retry(options_.retry, options_.retry_quota.get(), options_.random);
  support::Clock& clock = *options_.clock;
  RateLimiter& limiter = options_.rate_limiters->for_product(call.product, clock.now());
  bool refreshed_credentials = false;

  for (int attempt = 1;; ++attempt) {
    clock.sleep_for(limiter.reserve(clock.now()));

    auto credentials = options_.credentials->get();
    if (!credentials) {
      Error e = credentials.error();
      if (e.product.empty()) e.product = "credentials";
      return sanitize(std::move(e), call, false);
    }
    redact::register_secret(credentials->access_key_secret);
    redact::register_secret(credentials->security_token);

    auto request = build_request(call, *credentials);
    if (!request) return request.error();

    const auto started = clock.now();
    auto sent = options_.transport->send(*request, options_.timeout);
    const auto duration = clock.now() - started;

    Error error;
    std::optional<std::chrono::milliseconds> wait_hint;
    if (!sent) {
      error = sanitize(sent.error(), call, /*reclassify=*/true);
    } else if (sent->status >= 200 && sent->status < 300) {
      retry.on_success();
      limiter.on_success(clock.now());
      if (options_.on_call) options_.on_call(call.product, call.action, "OK", duration, attempt);
      if (collecting()) note_call(call.action, detail::request_id_of(sent->body), call.read_only);
      return std::move(sent->body);
    } else {
      // A write's 5xx is an unknown outcome, not a retry (classify(), ADR 0003).
      error = error_from_response(call.product, call.action, *sent,
                                  call.read_only ? CallKind::kRead : CallKind::kWrite);
      wait_hint = retry_after(*sent);
    }
    if (options_.on_call)
      options_.on_call(call.product, call.action, error.code, duration, attempt);
    if (error.cls == ErrorClass::kThrottled) limiter.on_throttled(clock.now());

    // The server says the STS token expired while our cache still trusted it (clock skew, early
    // revocation): fetch credentials once more and retry at once, outside the backoff budget.
    if (refresh_credentials_and_retry(error.code) && !refreshed_credentials) {
      refreshed_credentials = true;
      options_.credentials->invalidate();
      continue;
    }
    const RetryDecision decision = retry.on_failure(error.cls, call.read_only, wait_hint);
    if (!decision.retry) return error;
    clock.sleep_for(decision.delay);
  }
}

// ---- detail helpers shared by the client_*.cpp files

namespace detail {

Error malformed(const AlibabaClient::Call& call, std::string_view what) {
  Error e;
  e.product = std::string(call.product);
  e.action = std::string(call.action);
  e.http_status = 200;
  e.code = std::string(kCodeMalformedResponse);
  e.message = redact::scrub(what);
  e.cls = classify(e.code, e.http_status);
  return e;
}

Result<void> token_pages(AlibabaClient& client,
                         const std::function<AlibabaClient::Call(const std::string&)>& make_call,
                         const PageHandler& on_page) {
  std::string next_token;
  for (int page = 0;; ++page) {
    const AlibabaClient::Call call = make_call(next_token);
    if (page >= kMaxPages) return malformed(call, "too many pages");
    SK_TRY(j, call_json(client, call));
    SK_TRY_VOID(on_page(j, call));
    std::string token = str(j, "NextToken");
    if (token.empty()) return {};
    if (token == next_token) return malformed(call, "NextToken did not advance");
    next_token = std::move(token);
  }
}

Result<void> numbered_pages(AlibabaClient& client,
                            const std::function<AlibabaClient::Call(int page)>& make_call,
                            const PageHandler& on_page, const MorePages& more) {
  std::int64_t seen = 0;
  for (int page = 1;; ++page) {
    const AlibabaClient::Call call = make_call(page);
    if (page > kMaxPages) return malformed(call, "too many pages");
    SK_TRY(j, call_json(client, call));
    SK_TRY(n, on_page(j, call));
    seen += static_cast<std::int64_t>(n);
    const std::int64_t total = integer(j, "TotalCount", 0);
    if (n == 0 || seen >= total || (more && !more(seen, total))) return {};
  }
}

Result<json> call_json(AlibabaClient& client, const AlibabaClient::Call& call) {
  return client.invoke(call).and_then(
      [&](const std::string& body) { return parse_body(body, call); });
}

Result<json> parse_body(const std::string& body, const AlibabaClient::Call& call) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return malformed(call, "response is not a JSON object");
  return j;
}

std::string str(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned()) return std::to_string(it->get<std::uint64_t>());
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  return {};
}

bool boolean(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    return s == "true" || s == "True" || s == "TRUE";
  }
  return false;
}

std::int64_t integer(const json& obj, std::string_view key, std::int64_t fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc{} && ptr == s.data() + s.size()) return v;
  }
  return fallback;
}

std::string document(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (it->is_object()) return it->dump();  // a server that did not nest: already decoded
  if (!it->is_string()) return {};
  std::string text = it->get<std::string>();
  // Decode once more; a document that was itself JSON-encoded twice is unwrapped one more level.
  for (int depth = 0; depth < 2; ++depth) {
    const json inner = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!inner.is_string()) break;
    text = inner.get<std::string>();
  }
  return text;
}

const json* items(const json& obj, std::string_view plural, std::string_view singular) {
  auto it = obj.find(plural);
  if (it == obj.end() || it->is_null()) return &empty_array();
  if (it->is_array()) return &*it;
  if (it->is_object()) {
    auto inner = it->find(singular);
    if (inner == it->end() || inner->is_null()) return &empty_array();
    if (inner->is_array()) return &*inner;
  }
  return nullptr;
}

std::vector<Tag> tags(const json& obj) {
  std::vector<Tag> out;
  const json* list = items(obj, "Tags", "Tag");
  if (list == nullptr) return out;
  for (const auto& t : *list) {
    if (!t.is_object()) continue;
    Tag tag;
    tag.key = t.contains("TagKey") ? str(t, "TagKey") : str(t, "Key");
    tag.value = t.contains("TagValue") ? str(t, "TagValue") : str(t, "Value");
    out.push_back(std::move(tag));
  }
  return out;
}

std::string json_tags(const std::vector<Tag>& tags) {
  json a = json::array();
  for (const auto& t : tags) a.push_back(json{{"Key", t.key}, {"Value", t.value}});
  return a.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string json_strings(const std::vector<std::string>& values) {
  json a = json::array();
  for (const auto& v : values) a.push_back(v);
  return a.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace detail
}  // namespace sharekeeper::cloud
