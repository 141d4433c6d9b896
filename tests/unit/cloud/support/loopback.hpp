#pragma once
// Loopback test servers for the cloud tests: an HTTP/1.1 server (plain or TLS with a certificate
// made in memory at test time) and an HTTP CONNECT proxy. Plain POSIX sockets + OpenSSL and one
// thread per connection: no Asio here, so this folder stays cheap to compile into every cloud test
// binary. Both bind 127.0.0.1 port 0.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace sharekeeper::testing {

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};
// A self-signed certificate (its own CA) with these subjectAltNames, valid from an hour ago for a
// day.
TestCert make_self_signed_cert(const std::vector<std::string>& dns_names,
                               const std::vector<std::string>& ip_addresses);

// A file in the temp directory, removed on destruction.
class TempFile {
 public:
  explicit TempFile(std::string_view content);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  void write(std::string_view content) const;

 private:
  std::string path_;
};

// A directory in the temp directory, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to path()/relative, creating parent directories.
  std::string write(const std::string& relative, std::string_view content) const;

 private:
  std::string path_;
};

struct TestRequest {
  std::string method;
  std::string target;                                        // as received: path + "?" + query
  std::string path;                                          // target without the query
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  int connection = 0;  // 1-based index of the connection it came on
  std::string header(std::string_view name) const;
  // Decoded query / form parameter ("+" is a space), or "".
  std::string query_param(std::string_view name) const;
  std::string form_param(std::string_view name) const;
};

struct TestResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool hang = false;                  // never answer (read until the client goes away)
  bool close_without_answer = false;  // close the connection instead of answering
  bool close_after = false;           // answer with "Connection: close" and close
  bool close_silently_after = false;  // answer as if keep-alive, then close (an idle-timeout race)
};

using TestHandler = std::function<TestResponse(const TestRequest&)>;

class LoopbackServer {
 public:
  // TLS when `cert` is given; `max_tls_version` (e.g. TLS1_1_VERSION) caps the protocol to play an
  // outdated server. The handler may be called from several threads, one at a time.
  explicit LoopbackServer(TestHandler handler, std::optional<TestCert> cert = std::nullopt,
                          int max_tls_version = 0);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const;  // "http(s)://127.0.0.1:<port>"
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  int closed() const { return closed_.load(); }  // connections this server has closed
  std::vector<TestRequest> received() const;

 private:
  struct State;
  void serve(int fd, int index);
  TestHandler handler_;
  std::shared_ptr<State> state_;
  std::uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> closed_{0};
  mutable std::mutex mu_;
  std::vector<TestRequest> received_;
};

// Answers "CONNECT host:port" with 200 and relays bytes both ways.
class ConnectProxy {
 public:
  ConnectProxy();
  ~ConnectProxy();
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;
  std::uint16_t port() const { return port_; }
  int tunnels() const { return tunnels_.load(); }
  std::vector<std::string> targets() const;               // "host:port" per CONNECT
  std::vector<std::string> proxy_authorizations() const;  // Proxy-Authorization per CONNECT

 private:
  struct State;
  void serve(int fd);
  std::shared_ptr<State> state_;
  std::uint16_t port_ = 0;
  std::atomic<int> tunnels_{0};
  mutable std::mutex mu_;
  std::vector<std::string> targets_;
  std::vector<std::string> authorizations_;
};

}  // namespace sharekeeper::testing
