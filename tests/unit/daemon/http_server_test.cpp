// The Beast listener over loopback (port 0): routing end to end, limits, deadlines, the connection
// cap and framing errors (RELIABILITY.md §5 F1-F5).
#include "daemon/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

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

TEST(HttpServer, SlowClientIsCutAtTheReadDeadline) {
  HttpServerOptions o;
  o.read_timeout = 300ms;
  Server s(o);
  Client c(s.port);
  c.send("GET /metr");  // never finishes the request line
  const auto t0 = std::chrono::steady_clock::now();
  const std::string r = c.read_all(10s);  // returns when the server closes
  EXPECT_EQ(r, "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(HttpServer, ConnectionCapKeepsServingExistingClients) {
  HttpServerOptions o;
  o.max_connections = 3;
  Server s(o);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<Client>(s.port));
    ASSERT_TRUE(idle.back()->connected());
  }
  // Wait until the server has accepted all three (poll the counter, no fixed sleep).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (s.server->open_connections() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  ASSERT_EQ(s.server->open_connections(), 3);
  Client extra(s.port);
  extra.send(get("/metrics"));
  EXPECT_EQ(extra.read_all(5s), "");  // refused: closed without an answer
  idle[0]->send(get("/metrics"));
  EXPECT_EQ(status_of(idle[0]->read_response()), 200);
}

TEST(HttpServer, BadListenAddressIsOneClearError) {
  HttpServerOptions o;
  o.listen = "nonsense";
  HttpServer s(o, std::make_shared<HttpRouter>(AdminHandlers{}, std::nullopt));
  EXPECT_THROW(s.start(), std::runtime_error);
}

}  // namespace
}  // namespace sharekeeper::daemon
