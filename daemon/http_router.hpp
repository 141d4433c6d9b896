#pragma once
// Routes the daemon's HTTP requests (docs/contract.md §3.3) with plain types, so every rule (exact
// paths, methods, admin auth, Transfer-Encoding refusal) is unit-tested without a socket.
// http_server.cpp is the only file that knows Beast. Thread-safe if the handlers are.
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sharekeeper::daemon {

struct HttpRequestView {
  std::string method;  // "GET", "POST", ...
  std::string target;  // origin-form: "/path?query"
  std::string authorization;
  unsigned version = 11;  // 10 = HTTP/1.0, 11 = HTTP/1.1
  int host_headers = 1;   // how many Host fields the request carried
  bool has_transfer_encoding = false;
  bool has_body = false;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this reply
};

struct AdminHandlers {
  std::function<std::string()> metrics;
  std::function<std::pair<bool, std::string>()> healthy;  // the scheduler loop is alive
  std::function<std::pair<bool, std::string>()> ready;
  std::function<std::string()> status;
  std::function<std::string()> plan;
  // nullopt account: every account. False: unknown account.
  std::function<bool(const std::optional<std::string>& account)> reconcile;
  // POST /config/confirm-shrink?revision=R: {HTTP status, revision installed or why not}.
  std::function<std::pair<int, std::string>(const std::string& revision)> confirm_shrink;
};

// A bearer token compared in constant time: both sides are hashed with SHA-256 first, so neither
// the contents nor the length of the expected token leak through timing, then CRYPTO_memcmp.
class AdminToken {
 public:
  explicit AdminToken(std::string_view token);
  bool matches(std::string_view presented) const;
  // Reads a token file (trailing whitespace trimmed). Throws std::runtime_error with one clear line
  // when the file is unreadable or the token is shorter than kMinLength.
  static AdminToken from_file(const std::string& path);
  static constexpr std::size_t kMinLength = 32;

 private:
  unsigned char digest_[32];
};

// Rate limits of POST /reconcile, two token buckets. Authorized requests: triggers coalesce in the
// scheduler anyway, this bounds what a looping script costs. Failed authentications: bounds
// guessing and log noise; it never locks out the right token (a valid token is not charged to it).
struct AdminLimits {
  double authorized_per_second = 2;
  double authorized_burst = 10;
  double failures_per_second = 1.0 / 6;  // 10 a minute
  double failure_burst = 10;
  std::function<std::chrono::steady_clock::time_point()> now;  // default: steady_clock::now
};

class HttpRouter {
 public:
  HttpRouter(AdminHandlers handlers, std::optional<AdminToken> token, AdminLimits limits = {});
  HttpReply handle(const HttpRequestView& req) const;
  // The checks that need only the request head, answered before any body byte is read (the
  // server calls this first): 400 + close for a missing or repeated Host on HTTP/1.1 (RFC 9112
  // §3.2) and for any Transfer-Encoding, since no route takes a body and TE with or without
  // Content-Length is how requests get smuggled. handle() applies them too.
  static std::optional<HttpReply> check_head(const HttpRequestView& req);

 private:
  struct Bucket {
    double tokens = -1;  // < 0: full (not used yet)
    std::chrono::steady_clock::time_point at;
    // Takes one token; else the seconds until one is there.
    std::optional<double> take(double rate, double burst,
                               std::chrono::steady_clock::time_point now);
  };
  // POST, the token and the rate limits: the gate of every mutating route.
  std::optional<HttpReply> admin_gate(const HttpRequestView& req) const;
  HttpReply reconcile(const HttpRequestView& req, std::string_view query) const;
  HttpReply confirm_shrink(const HttpRequestView& req, std::string_view query) const;
  HttpReply too_many(double retry_after_seconds) const;
  AdminHandlers h_;
  std::optional<AdminToken> token_;
  AdminLimits limits_;
  mutable std::mutex mu_;  // guards the buckets
  mutable Bucket authorized_, failures_;
};

// "%41b" -> "Ab"; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace sharekeeper::daemon
