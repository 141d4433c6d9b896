#pragma once
// The daemon's HTTP listener: Beast, C++20 coroutines, its own io_context on its own thread, so
// neither a scrape flood nor a stuck cloud call (which runs on the scheduler's workers) can starve
// the other. Hardening per RELIABILITY.md §4.9: request_parser with header and body limits, one
// deadline for the whole request read, an idle keep-alive deadline, a connection cap, 400 + close
// on any parse error, one request at a time per connection (no pipelining queue).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "daemon/http_router.hpp"

namespace sharekeeper::daemon {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:9464";  // host:port, [v6]:port; port 0 picks a free one
  int max_connections = 64;
  std::chrono::milliseconds read_timeout{
      10000};  // whole request (headers + body): bounds slowloris
  std::chrono::milliseconds idle_timeout{30000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{10000};
  std::uint32_t header_limit = 8 * 1024;
  std::uint64_t body_limit = 16 * 1024;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, std::shared_ptr<const HttpRouter> router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on the server's own thread. Throws std::runtime_error (one line) when
  // the address is bad or taken. Returns the bound port.
  std::uint16_t start();
  void stop();
  std::uint16_t port() const;
  int open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sharekeeper::daemon
