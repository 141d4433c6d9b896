#include "daemon/http_router.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace sharekeeper::daemon {

namespace {

HttpReply text(int status, std::string body) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  if (r.body.empty() || r.body.back() != '\n') r.body += '\n';
  return r;
}

HttpReply json_reply(int status, std::string body) {
  HttpReply r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.body += '\n';
  return r;
}

HttpReply method_not_allowed(const char* allow) {
  HttpReply r = text(405, "method not allowed");
  r.headers.emplace_back("Allow", allow);
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The credentials of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235
// §2.1) and followed by one or more spaces. nullopt for any other scheme or an empty token.
std::optional<std::string_view> bearer_token(std::string_view auth) {
  const auto space = auth.find(' ');
  if (space == std::string_view::npos || !iequals(auth.substr(0, space), "Bearer"))
    return std::nullopt;
  std::string_view token = auth.substr(space);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

// The value of query parameter `name` (last one wins); nullopt when absent, "" when malformed or
// empty (the caller answers 400).
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  std::optional<std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = kv.find('=');
    if (kv.substr(0, eq) != name) continue;  // a token in the query string is ignored, never used
    auto v = percent_decode(eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1));
    out = v.value_or("");
  }
  return out;
}

HttpReply bad_request_close(std::string body) {
  HttpReply r = text(400, std::move(body));
  r.close = true;
  return r;
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

AdminToken::AdminToken(std::string_view token) {
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest_);
}

bool AdminToken::matches(std::string_view presented) const {
  unsigned char d[32];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), d);
  const bool eq = CRYPTO_memcmp(d, digest_, sizeof d) == 0;
  OPENSSL_cleanse(d, sizeof d);
  return eq;
}

AdminToken AdminToken::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read admin token file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() &&
         (t.back() == '\n' || t.back() == '\r' || t.back() == ' ' || t.back() == '\t'))
    t.pop_back();
  if (t.size() < kMinLength) {
    OPENSSL_cleanse(t.data(), t.size());
    throw std::runtime_error("admin token in " + path + " is shorter than " +
                             std::to_string(kMinLength) +
                             " characters (use e.g. `openssl rand -hex 32`)");
  }
  AdminToken token(t);
  OPENSSL_cleanse(t.data(), t.size());
  return token;
}

HttpRouter::HttpRouter(AdminHandlers handlers, std::optional<AdminToken> token, AdminLimits limits)
    : h_(std::move(handlers)), token_(token), limits_(std::move(limits)) {
  if (!limits_.clock) limits_.clock = support::SystemClock::shared();
}

std::optional<double> HttpRouter::Bucket::take(double rate, double burst,
                                               std::chrono::steady_clock::time_point now) {
  if (tokens < 0) {
    tokens = burst;
    at = now;
  } else if (now > at) {
    // A clock that stepped back credits nothing and keeps the mark, so no interval counts twice.
    tokens = std::min(burst, tokens + std::chrono::duration<double>(now - at).count() * rate);
    at = now;
  }
  if (tokens >= 1) {
    tokens -= 1;
    return std::nullopt;
  }
  return rate > 0 ? (1 - tokens) / rate : 3600.0;
}

HttpReply HttpRouter::too_many(double retry_after_seconds) const {
  HttpReply r = text(429, "too many requests");
  r.headers.emplace_back("Retry-After",
                         std::to_string(static_cast<long>(std::ceil(retry_after_seconds))));
  return r;
}

std::optional<HttpReply> HttpRouter::check_head(const HttpRequestView& req) {
  if (req.host_headers > 1) return bad_request_close("more than one Host header");
  if (req.host_headers == 0 && req.version >= 11)
    return bad_request_close("HTTP/1.1 needs a Host header");
  // Refused outright, before the body: no route takes one, and Beast frames TE with
  // Content-Length, or a coding other than chunked, differently from other servers
  // (docs/failure-matrix.md §4.9).
  if (req.has_transfer_encoding) return bad_request_close("Transfer-Encoding is not accepted here");
  return std::nullopt;
}

HttpReply HttpRouter::handle(const HttpRequestView& req) const {
  if (auto bad = check_head(req)) return std::move(*bad);
  // Origin-form only: absolute-form ("http://host/x"), authority-form (CONNECT) and "*" are
  // refused.
  if (req.target.empty() || req.target.front() != '/') {
    HttpReply r = text(400, "bad request target");
    r.close = true;
    return r;
  }
  const auto q = req.target.find('?');
  const std::string_view path = std::string_view(req.target).substr(0, q);
  const std::string_view query =
      q == std::string::npos ? std::string_view() : std::string_view(req.target).substr(q + 1);

  if (path == "/reconcile") return reconcile(req, query);
  if (path == "/config/confirm-shrink") return confirm_shrink(req, query);

  const bool known = path == "/metrics" || path == "/healthz" || path == "/readyz" ||
                     path == "/status" || path == "/plan";
  if (!known) return text(404, "not found");
  if (req.method != "GET") return method_not_allowed("GET");
  if (path == "/metrics") {
    HttpReply r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = h_.metrics();
    return r;
  }
  if (path == "/healthz") {
    auto [ok, why] = h_.healthy();
    return text(ok ? 200 : 503, ok ? "ok" : why);
  }
  if (path == "/readyz") {
    auto [ok, why] = h_.ready();
    return text(ok ? 200 : 503, ok ? "ok" : why);
  }
  if (path == "/status") return json_reply(200, h_.status());
  return json_reply(200, h_.plan());
}

std::optional<HttpReply> HttpRouter::admin_gate(const HttpRequestView& req) const {
  // Mutations never over GET (a link or a prefetch must not trigger work).
  if (req.method != "POST") return method_not_allowed("POST");
  if (!token_) return text(403, "admin API disabled: start with --admin-token-file");
  const auto presented = bearer_token(req.authorization);
  const bool authorized = presented && token_->matches(*presented);
  {
    std::lock_guard lock(mu_);
    const auto now = limits_.clock->now();
    const auto wait =
        authorized ? authorized_.take(limits_.authorized_per_second, limits_.authorized_burst, now)
                   : failures_.take(limits_.failures_per_second, limits_.failure_burst, now);
    if (wait) return too_many(*wait);
  }
  if (!authorized) {
    HttpReply r = text(401, "unauthorized");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  return std::nullopt;
}

HttpReply HttpRouter::reconcile(const HttpRequestView& req, std::string_view query) const {
  if (auto refused = admin_gate(req)) return std::move(*refused);
  const std::optional<std::string> account = query_param(query, "account");
  if (account && account->empty()) return text(400, "bad account parameter");
  if (!h_.reconcile(account)) return text(404, "unknown account");
  nlohmann::json body = {
      {"triggered", account ? nlohmann::json::array({*account}) : nlohmann::json("all")}};
  return json_reply(202, body.dump());
}

HttpReply HttpRouter::confirm_shrink(const HttpRequestView& req, std::string_view query) const {
  if (auto refused = admin_gate(req)) return std::move(*refused);
  // The revision is required: a confirmation applies to the config the operator looked at, not
  // to whatever the files say by the time it arrives.
  const std::optional<std::string> revision = query_param(query, "revision");
  if (!revision || revision->empty())
    return text(400, "give ?revision=R (the held config's revision, in /status)");
  if (!h_.confirm_shrink) return text(404, "no shrinking reload is waiting for confirmation");
  auto [status, detail] = h_.confirm_shrink(*revision);
  if (status != 200) return text(status, detail);
  return json_reply(200, nlohmann::json{{"installed", detail}}.dump());
}

}  // namespace sharekeeper::daemon
