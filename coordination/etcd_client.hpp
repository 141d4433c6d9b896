#pragma once
// EtcdClient: the calls sharekeeper needs from etcd v3, over its JSON gateway (grpc-gateway:
// POST /v3/<service>/<method>, keys and values base64, int64 as decimal strings, fields at their
// zero value left out), sent through a cloud::Transport (HttpsTransport in production: TLS, mTLS,
// keep-alive; no second HTTP stack). Every call has a deadline; failures are values.
//
// Error codes (cloud::Error, product "etcd"): the transport's own ("Transport.Connect", ...), or
// "Etcd.<gRPC status>" from the gateway's error body ({"error","message","code"}), e.g.
// Etcd.Unavailable (no leader), Etcd.NotFound, Etcd.Unauthenticated, Etcd.InvalidArgument; and
// "Etcd.MalformedResponse". Connect failures and Etcd.Unavailable move on to the next endpoint
// within the same deadline.
//
// Thread-safe.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/http.hpp"
#include "cloud/result.hpp"
#include "coordination/ownership.hpp"

namespace sharekeeper::coordination {

struct EtcdClientOptions {
  std::vector<std::string> endpoints;  // "https://host:port" / "http://127.0.0.1:port"
  std::chrono::milliseconds timeout{2000};
  std::string username;  // etcd auth (optional)
  std::string password;  // the secret itself, read from passwordFile by the caller; never logged
};

// TLS for the transport make_etcd_transport() builds.
struct EtcdTlsOptions {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool allow_http = false;  // some endpoint is http:// (loopback only, checked by the config)
};

// The HttpsTransport for etcd: the system store plus ca_file, the client certificate, plain http
// only when allowed.
cloud::Result<std::shared_ptr<cloud::Transport>> make_etcd_transport(const EtcdTlsOptions& tls);

struct LeaseGrant {
  std::int64_t id = 0;
  std::chrono::seconds ttl{0};
};

struct RangeResult {
  std::int64_t revision = 0;
  std::vector<KeyValue> kvs;
};

class EtcdClient {
 public:
  // Fails ("Etcd.BadEndpoint") when an endpoint is not scheme://host:port.
  static cloud::Result<std::unique_ptr<EtcdClient>> create(
      EtcdClientOptions options, std::shared_ptr<cloud::Transport> transport);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // POST /v3/lease/grant. etcd may raise a short TTL (its minimum is about 2 s).
  cloud::Result<LeaseGrant> grant(std::chrono::seconds ttl);
  // POST /v3/lease/keepalive (one message of the stream): the TTL granted again, 0 s when etcd no
  // longer knows the lease (the gateway then leaves TTL out).
  cloud::Result<std::chrono::seconds> keepalive(std::int64_t lease);
  // POST /v3/lease/revoke; a lease already gone is success.
  cloud::Result<void> revoke(std::int64_t lease);
  // POST /v3/kv/range over [begin, end) ("" end: the key alone).
  cloud::Result<RangeResult> range(const std::string& begin, const std::string& end = {});
  // POST /v3/kv/txn: compare create_revision(key) == 0, then put(key, value, lease); else range
  // the key (what is there instead).
  cloud::Result<CreateResult> create_if_absent(const std::string& key, const std::string& value,
                                               std::int64_t lease);
  // POST /v3/kv/txn: compare create_revision(key) == create_revision, then delete it. True when
  // deleted; false when the key is gone or is another incarnation.
  cloud::Result<bool> delete_if_created_at(const std::string& key, std::int64_t create_revision);
  // POST /v3/kv/put and /v3/kv/deleterange (tests and tools). Return the header revision.
  cloud::Result<std::int64_t> put(const std::string& key, const std::string& value,
                                  std::int64_t lease = 0);
  cloud::Result<std::int64_t> delete_range(const std::string& begin, const std::string& end = {});

  // The endpoint the next call goes to first.
  std::string current_endpoint() const;

  struct Endpoint {
    std::string scheme;
    std::string host;
    std::uint16_t port = 0;
    std::string url;
  };

 private:
  EtcdClient(EtcdClientOptions options, std::vector<Endpoint> endpoints,
             std::shared_ptr<cloud::Transport> transport);
  // One gateway call with failover; the body of a 200 answer.
  cloud::Result<std::string> call(std::string_view path, const std::string& body);
  cloud::Result<std::string> call_once(std::string_view path, const std::string& body,
                                       std::chrono::steady_clock::time_point deadline);
  cloud::Result<std::string> authenticate(std::chrono::steady_clock::time_point deadline);

  EtcdClientOptions options_;
  std::vector<Endpoint> endpoints_;
  std::shared_ptr<cloud::Transport> transport_;
  mutable std::mutex mu_;
  std::size_t current_ = 0;
  std::string token_;
};

// base64 (RFC 4648, padded) as the gateway wants bytes; exposed for tests.
std::string base64_encode(std::string_view in);
// nullopt when `in` is not valid padded base64.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace sharekeeper::coordination
