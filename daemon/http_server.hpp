#pragma once
// The daemon's HTTP listener: Beast, C++20 coroutines, its own io_context on its own thread, so
// neither a scrape flood nor a stuck cloud call (which runs on the scheduler's workers) can starve
// the other. Hardening per docs/failure-matrix.md §4.9: request_parser with header and body limits,
// a short deadline for the request head and one for the whole request, an idle keep-alive deadline,
// 400 + close on any parse error and on any Transfer-Encoding or bad Host (before the body is
// read), one request at a time per connection (no pipelining queue).
//
// Slow clients cannot hold the connection cap (issue 11): a connection that has not yet sent a
// whole request is reclaimable. At the global cap, or at a peer's own cap, the new connection
// takes the place of the one that has waited longest for its request (of that peer at the peer
// cap); only when every slot is busy answering is a new connection refused. So /healthz, /readyz
// and /metrics, which send their request at once and are answered in microseconds, keep being
// served however many sockets trickle bytes.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "daemon/http_router.hpp"

namespace sharekeeper::daemon {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:9464";  // host:port, [v6]:port; port 0 picks a free one
  int max_connections = 64;
  // One address (a pod, or every loopback client) never holds more; on loopback every client is
  // the same peer, which is why slow connections are also reclaimable at this cap.
  int max_connections_per_peer = 16;
  // The request line and headers of a new connection: probes and scrapers send them in one
  // packet, so seconds are generous, and a trickling client is cut long before the whole-request
  // deadline.
  std::chrono::milliseconds header_timeout{3000};
  std::chrono::milliseconds read_timeout{10000};  // the whole request (headers + body)
  std::chrono::milliseconds idle_timeout{30000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{10000};
  // stop(): connections are closed, then their sessions get this long to unwind.
  std::chrono::milliseconds shutdown_grace{2000};
  std::uint32_t header_limit = 8 * 1024;
  std::uint64_t body_limit = std::uint64_t{16} * 1024;
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
  // Stops accepting, closes every connection, waits (shutdown_grace) for the sessions and the
  // accept loop to finish, then stops the io_context and joins its thread. Idempotent.
  void stop();
  std::uint16_t port() const;
  int open_connections() const;  // sessions alive (including ones closed and unwinding)
  // Connections reclaimed for newcomers, and connections refused because every slot was busy.
  std::uint64_t evicted_connections() const;
  std::uint64_t refused_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sharekeeper::daemon
