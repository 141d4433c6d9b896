#pragma once
// HttpsTransport: the one Transport that crosses the network (Beast + OpenSSL on one internal
// io_context thread, blocking send() facade; docs/adr/0001). Plus the small pure helpers it is
// built from (URL parsing, NO_PROXY matching), which carry no Beast and are unit-tested on their
// own.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cloud/http.hpp"
#include "cloud/result.hpp"

namespace sharekeeper::cloud {

// Environment lookup, injectable so tests never touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
// Reads the real process environment (unset -> nullopt).
EnvLookup process_env();

struct Url {
  std::string scheme;    // lower-case: "https", "http"
  std::string userinfo;  // "user:pass" (proxy URLs only); never logged
  std::string host;      // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string target = "/";  // path + optional "?query"
};
// "scheme://[userinfo@]host[:port][/path][?query]"; the port defaults to 443/80. nullopt if
// malformed.
std::optional<Url> parse_url(std::string_view url);

// "https://host:port/path" for error messages: never the query string, which carries V1 signatures
// and security tokens.
std::string url_for_log(const HttpRequest& request);

struct ProxySettings {
  std::string https_proxy;  // "http://[user:pass@]host:port"; empty: connect directly
  std::string no_proxy;     // comma separated: "*", "host", ".suffix" / "suffix", "host:port", IP
  // HTTPS_PROXY, else https_proxy; NO_PROXY, else no_proxy.
  static ProxySettings from_environment(const EnvLookup& env);
};
// True when NO_PROXY says `host`:`port` is reached directly. A bare entry matches the host and its
// subdomains ("example.com" and ".example.com" both match "a.example.com"); CIDR ranges are not
// supported.
bool proxy_bypassed(std::string_view no_proxy, std::string_view host, std::uint16_t port);

struct TransportOptions {
  std::string ca_file;        // PEM bundle trusted in addition to the system store (--ca-file)
  bool use_system_ca = true;  // set_default_verify_paths(); tests turn it off to trust only ca_file
  // Client certificate chain and its private key (PEM) for mutual TLS (etcd); both or neither.
  std::string client_cert_file;
  std::string client_key_file;
  bool allow_http = false;  // plain http:// only for endpoint overrides and the metadata service
  std::optional<ProxySettings> proxy;  // nullopt: from the process environment at create()
  // Kept-alive connections. One transport serves every account of a pass, and the accounts of a
  // region share its endpoints (ecs.<region>, kms.<region>, ...; with --endpoint-override, one
  // address), so up to reconcilers::kMaxAccountWorkers (64) accounts x the observer's fan-out
  // (reconcilers::kAccountFanOut, 4) calls are in flight to one host; the daemon sets these from
  // them (daemon/cloud_factory.cpp), the defaults are the same figures. A pool smaller than that
  // closes the surplus after each call and the next call pays a new connection (and, over HTTPS, a
  // TLS handshake: 1-2 round trips and the key exchange's CPU): at 4 a host, most calls of a
  // 50-account pass did.
  std::size_t max_idle_per_host = 256;
  std::size_t max_idle_total = 512;
  // Below the common 60 s server keep-alive so we rarely race a server closing an idle connection.
  // An idle connection is closed after this long (checked on use and by a sweep timer).
  std::chrono::milliseconds idle_timeout{45'000};
  std::size_t body_limit = std::size_t{16} * 1024 * 1024;  // largest response body accepted
  std::string user_agent = "sharekeeper";  // set when the request carries no user-agent
};

// Counters for tests and metrics.
struct TransportStats {
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_reused = 0;
  std::uint64_t stale_retries = 0;  // requests re-sent once on a fresh connection
};

// Thread-safe: any number of threads may call send() at once; all I/O runs on one internal thread.
// Never call send() from inside another send() (there is no such callback, so this cannot happen).
// Destroy only after every send() has returned.
class HttpsTransport final : public Transport {
 public:
  // Fails with "Transport.Tls" (kTerminal) when the CA file or the client certificate cannot be
  // loaded, or "Transport.Proxy"
  // when the proxy URL is malformed.
  static Result<std::unique_ptr<HttpsTransport>> create(TransportOptions options);
  ~HttpsTransport() override;
  HttpsTransport(const HttpsTransport&) = delete;
  HttpsTransport& operator=(const HttpsTransport&) = delete;

  Result<HttpResponse> send(const HttpRequest& request, std::chrono::milliseconds timeout) override;
  TransportStats stats() const;

  struct Impl;

 private:
  explicit HttpsTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sharekeeper::cloud
