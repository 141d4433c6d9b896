// The Beast listener over loopback (port 0): routing end to end, limits, deadlines, the connection
// cap and framing errors (docs/failure-matrix.md §5 F1-F5).
#include "daemon/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "support/http_client.hpp"

namespace sharekeeper::daemon {
namespace {

using namespace std::chrono_literals;
const std::string kToken = "0123456789abcdef0123456789abcdef-token";

class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Reads until the peer closes or `timeout` passes.
  std::string read_all(std::chrono::milliseconds timeout = 10s) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // Reads one response whose body is delimited by Content-Length.
  std::string read_response(std::chrono::milliseconds timeout = 10s) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      const auto he = out.find("\r\n\r\n");
      if (he != std::string::npos) {
        const auto cl = out.find("Content-Length: ");
        if (cl != std::string::npos && cl < he) {
          const std::size_t len = std::stoul(out.substr(cl + 16));
          if (out.size() >= he + 4 + len) return out;
        }
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int status_of(const std::string& response) {
  if (response.size() < 12 || response.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::stoi(response.substr(9, 3));
}

struct Server {
  explicit Server(HttpServerOptions o = {}) {
    o.listen = "127.0.0.1:0";
    AdminHandlers h{[] { return std::string("sharekeeper_build_info 1\n"); },
                    [] {
                      return std::pair<bool, std::string>{true, ""};
                    },
                    [] {
                      return std::pair<bool, std::string>{true, ""};
                    },
                    [] { return std::string("{}"); },
                    [] { return std::string("{}"); },
                    [this](const std::optional<std::string>&) {
                      ++triggers;
                      return true;
                    },
                    [](const std::string&) -> std::pair<int, std::string> {
                      return {404, "nothing held"};
                    }};
    server = std::make_unique<HttpServer>(o, std::make_shared<HttpRouter>(h, AdminToken(kToken)));
    port = server->start();
  }
  std::atomic<int> triggers{0};
  std::unique_ptr<HttpServer> server;
  std::uint16_t port = 0;
};

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"; }

TEST(HttpServer, ServesMetricsWithKeepAlive) {
  Server s;
  Client c(s.port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/metrics")));
  auto r1 = c.read_response();
  EXPECT_EQ(status_of(r1), 200) << r1;
  EXPECT_NE(r1.find("sharekeeper_build_info 1"), std::string::npos);
  ASSERT_TRUE(c.send(get("/healthz")));
  EXPECT_EQ(status_of(c.read_response()), 200);
}

TEST(HttpServer, ReconcileWithTokenOverTheWire) {
  Server s;
  {
    Client c(s.port);
    c.send("POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(status_of(c.read_response()), 401);
  }
  {
    Client c(s.port);
    c.send("POST /reconcile HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
           "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(status_of(c.read_response()), 202);
  }
  {
    Client c(s.port);
    c.send("GET /reconcile HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken + "\r\n\r\n");
    EXPECT_EQ(status_of(c.read_response()), 405);
  }
  EXPECT_EQ(s.triggers.load(), 1);
}

TEST(HttpServer, ChunkedReconcileIsRefusedAndClosed) {
  Server s;
  Client c(s.port);
  c.send("POST /reconcile HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
         "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  const std::string r = c.read_all();
  EXPECT_EQ(status_of(r), 400) << r;
  EXPECT_EQ(s.triggers.load(), 0);
}

TEST(HttpServer, SmugglingAttemptGets400AndNoSecondRequest) {
  Server s;
  Client c(s.port);
  // Content-Length and Transfer-Encoding together: a parse error; the bytes after it must never be
  // read as a second request.
  c.send(
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: "
      "chunked\r\n\r\n0\r\n\r\n" +
      get("/healthz"));
  const std::string r = c.read_all();
  EXPECT_EQ(status_of(r), 400) << r;
  EXPECT_EQ(r.find("HTTP/1.1", 5), std::string::npos) << "a second response was sent: " << r;
}

TEST(HttpServer, GarbageGets400AndClose) {
  Server s;
  Client c(s.port);
  c.send("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(status_of(c.read_all()), 400);
}

TEST(HttpServer, OversizedBodyIsRefused) {
  Server s;
  Client c(s.port);
  const std::string body(20 * 1024, 'x');
  c.send("POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body);
  EXPECT_EQ(status_of(c.read_all()), 413);
}

TEST(HttpServer, OversizedHeaderIsRefused) {
  Server s;
  Client c(s.port);
  c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(status_of(c.read_all()), 431);
}

TEST(HttpServer, SlowClientIsCutAtTheHeaderDeadline) {
  HttpServerOptions o;
  o.header_timeout = 300ms;
  Server s(o);
  Client c(s.port);
  c.send("GET /metr");  // never finishes the request line
  const auto t0 = std::chrono::steady_clock::now();
  const std::string r = c.read_all(10s);  // returns when the server closes
  EXPECT_EQ(r, "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(HttpServer, SlowBodyIsCutAtTheWholeRequestDeadline) {
  HttpServerOptions o;
  o.read_timeout = 300ms;
  Server s(o);
  Client c(s.port);
  c.send("POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c.read_all(10s), "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(s.triggers.load(), 0);
}

// Issue 11: at the cap, the connection that has waited longest for its request makes room for the
// newcomer (it used to be the newcomer that was closed, so idle sockets locked every probe out).
TEST(HttpServer, AtTheCapTheLongestWaitingConnectionMakesRoom) {
  HttpServerOptions o;
  o.max_connections = 3;
  Server s(o);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<Client>(s.port));
    ASSERT_TRUE(idle.back()->connected());
    // One at a time, so their waiting order is their creation order.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (s.server->open_connections() < i + 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  }
  ASSERT_EQ(s.server->open_connections(), 3);
  Client extra(s.port);
  extra.send(get("/metrics"));
  EXPECT_EQ(status_of(extra.read_response()), 200);
  EXPECT_EQ(idle[0]->read_all(5s), "") << "the oldest idle connection was closed";
  EXPECT_EQ(s.server->evicted_connections(), 1u);
  idle[1]->send(get("/metrics"));
  EXPECT_EQ(status_of(idle[1]->read_response()), 200);
}

// Issue 11: 200 connections trickling header bytes (and reconnecting when cut) never keep
// /healthz, /readyz and /metrics from answering, each within a second. Bounded: 40 rounds.
TEST(HttpServer, SlowlorisCannotLockOutProbes) {
  Server s;  // the defaults: 64 connections, 16 per peer (every client here is 127.0.0.1)
  std::vector<std::unique_ptr<Client>> slow;
  auto open_slow = [&] {
    auto c = std::make_unique<Client>(s.port);
    c->send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    return c;
  };
  for (int i = 0; i < 200; ++i) slow.push_back(open_slow());
  int reconnects = 0;
  for (int round = 0; round < 40; ++round) {
    for (auto& c : slow)
      if (!c->send("a")) {
        c = open_slow();
        ++reconnects;
      }
    for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = testing::http_request(s.port, "GET", path, "", 2s);
      ASSERT_EQ(r.status, 200) << path << " in round " << round;
      EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << path << " in round " << round;
    }
  }
  EXPECT_GT(s.server->evicted_connections(), 0u);
  EXPECT_GT(reconnects, 0);
  EXPECT_LE(s.server->open_connections(), 64 + 1);
}

// Issue 11: any Transfer-Encoding is 400 and close, before a body byte is read, on every route:
// `gzip` + Content-Length ate the next request, `gzip` alone served the body as a second request.
TEST(HttpServer, TransferEncodingOnAnyRouteIs400AndClose) {
  Server s;
  for (const std::string& head : std::vector<std::string>{
           "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: "
           "4\r\n\r\n",
           "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
           "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           "POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: "
           "identity\r\n\r\n"}) {
    Client c(s.port);
    c.send(head + get("/healthz"));
    const std::string r = c.read_all(5s);
    EXPECT_EQ(status_of(r), 400) << head << r;
    EXPECT_EQ(r.find("HTTP/1.1", 5), std::string::npos) << "a second response was sent: " << r;
  }
  EXPECT_EQ(s.triggers.load(), 0);
}

// Issue 11 / RFC 9112 §3.2: HTTP/1.1 without Host, or with two, is 400 and close.
TEST(HttpServer, MissingOrRepeatedHostIs400) {
  Server s;
  for (const std::string& req :
       {std::string("GET /healthz HTTP/1.1\r\n\r\n"),
        std::string("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")}) {
    Client c(s.port);
    c.send(req);
    EXPECT_EQ(status_of(c.read_all(5s)), 400) << req;
  }
  Client old(s.port);
  old.send("GET /healthz HTTP/1.0\r\n\r\n");
  const std::string r = old.read_all(5s);
  EXPECT_EQ(r.rfind("HTTP/1.0 200", 0), 0u) << r;
}

// Stop closes connections that are still open (idle or trickling) and returns promptly.
TEST(HttpServer, StopClosesOpenConnectionsAndReturns) {
  auto s = std::make_unique<Server>();
  std::vector<std::unique_ptr<Client>> open;
  for (int i = 0; i < 10; ++i) {
    open.push_back(std::make_unique<Client>(s->port));
    open.back()->send("GET /metr");
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (s->server->open_connections() < 10 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  const auto t0 = std::chrono::steady_clock::now();
  s->server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(s->server->open_connections(), 0);
  for (auto& c : open) EXPECT_EQ(c->read_all(2s), "");
}

TEST(HttpServer, BadListenAddressIsOneClearError) {
  HttpServerOptions o;
  o.listen = "nonsense";
  HttpServer s(o, std::make_shared<HttpRouter>(AdminHandlers{}, std::nullopt));
  EXPECT_THROW(s.start(), std::runtime_error);
}

}  // namespace
}  // namespace sharekeeper::daemon
