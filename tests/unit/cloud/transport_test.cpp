#include "cloud/transport.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "support/loopback.hpp"

namespace sharekeeper::cloud {
namespace {

using std::chrono::milliseconds;
using testing::ConnectProxy;
using testing::LoopbackServer;
using testing::TempFile;
using testing::TestCert;
using testing::TestRequest;
using testing::TestResponse;

constexpr milliseconds kTimeout{5000};

// Waits for an event on another thread (not for a fixed time); false after 10 s.
template <class Pred>
bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

TestResponse ok_json(const TestRequest&) { return {200, {}, R"({"RequestId":"r-1"})"}; }

struct Tls {
  TestCert cert = testing::make_self_signed_cert({"localhost"}, {"127.0.0.1"});
  TempFile ca{cert.cert_pem};
};

TransportOptions trusting(const std::string& ca_file) {
  TransportOptions o;
  o.ca_file = ca_file;
  o.use_system_ca = false;  // only the test CA: nothing on the machine can make a test pass
  o.proxy = ProxySettings{};
  return o;
}

std::unique_ptr<HttpsTransport> make(TransportOptions o) {
  auto t = HttpsTransport::create(std::move(o));
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().to_string());
  return std::move(t).value();
}

HttpRequest get(std::string host, std::uint16_t port, std::string target = "/",
                std::string scheme = "https") {
  HttpRequest r;
  r.method = "POST";
  r.scheme = std::move(scheme);
  r.host = std::move(host);
  r.port = port;
  r.target = std::move(target);
  return r;
}

TEST(ParseUrl, SplitsSchemeHostPortAndTarget) {
  auto u = parse_url("https://sts.aliyuncs.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "sts.aliyuncs.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");

  u = parse_url("HTTP://User:p%40ss@127.0.0.1:8080/latest/meta-data?x=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->userinfo, "User:p%40ss");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/latest/meta-data?x=1");

  u = parse_url("http://[::1]:9/?a");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9);
  EXPECT_EQ(u->target, "/?a");
}

TEST(ParseUrl, RejectsMalformed) {
  for (const char* bad : {"", "sts.aliyuncs.com", "ftp://x", "https://", "https://h:0",
                          "https://h:70000", "https://h:", "https://h:x1", "https://[::1"}) {
    EXPECT_FALSE(parse_url(bad)) << bad;
  }
}

TEST(UrlForLog, NeverIncludesTheQuery) {
  auto r = get("ram.aliyuncs.com", 443, "/?Signature=abc&SecurityToken=tok");
  EXPECT_EQ(url_for_log(r), "https://ram.aliyuncs.com/");
  r = get("127.0.0.1", 8443, "/creds?token=t");
  EXPECT_EQ(url_for_log(r), "https://127.0.0.1:8443/creds");
}

TEST(NoProxy, MatchesHostsSuffixesPortsAndWildcard) {
  EXPECT_TRUE(proxy_bypassed("*", "anything", 443));
  EXPECT_TRUE(proxy_bypassed("localhost, 127.0.0.1", "127.0.0.1", 443));
  EXPECT_TRUE(proxy_bypassed("aliyuncs.com", "ram.aliyuncs.com", 443));
  EXPECT_TRUE(proxy_bypassed(".aliyuncs.com", "ram.aliyuncs.com", 443));
  EXPECT_TRUE(proxy_bypassed("*.aliyuncs.com", "RAM.aliyuncs.com", 443));
  EXPECT_TRUE(proxy_bypassed("aliyuncs.com", "aliyuncs.com", 443));
  EXPECT_FALSE(proxy_bypassed("aliyuncs.com", "evilaliyuncs.com", 443));
  EXPECT_TRUE(proxy_bypassed("example.com:8443", "example.com", 8443));
  EXPECT_FALSE(proxy_bypassed("example.com:8443", "example.com", 443));
  EXPECT_FALSE(proxy_bypassed("", "example.com", 443));
  EXPECT_FALSE(proxy_bypassed(" , ", "example.com", 443));
}

TEST(ProxySettings, ReadsUpperThenLowerCaseVariables) {
  std::map<std::string, std::string> env{
      {"https_proxy", "http://p:1"}, {"NO_PROXY", "a"}, {"no_proxy", "b"}};
  auto s = ProxySettings::from_environment([&](std::string_view n) -> std::optional<std::string> {
    auto it = env.find(std::string(n));
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  EXPECT_EQ(s.https_proxy, "http://p:1");
  EXPECT_EQ(s.no_proxy, "a");
}

TEST(HttpsTransport, TrustedViaCaFile) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  auto t = make(trusting(tls.ca.path()));
  auto req = get("127.0.0.1", server.port(), "/?Action=GetRole");
  req.headers = {{"x-acs-action", "GetRole"}, {"content-type", "application/json"}};
  req.body = "{\"a\":1}";
  auto res = t->send(req, kTimeout);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"RequestId":"r-1"})");
  EXPECT_EQ(res->header("Content-Type"), "application/json;charset=utf-8");
  auto seen = server.received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/?Action=GetRole");
  EXPECT_EQ(seen[0].header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen[0].header("x-acs-action"), "GetRole");
  EXPECT_EQ(seen[0].header("content-length"), "7");
  EXPECT_EQ(seen[0].body, "{\"a\":1}");
}

TEST(HttpsTransport, VerifiesHostNamesWithSni) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  auto t = make(trusting(tls.ca.path()));
  auto res = t->send(get("localhost", server.port()), kTimeout);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 200);
}

TEST(HttpsTransport, KeepsTheCallersHostHeader) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  auto t = make(trusting(tls.ca.path()));
  auto req = get("127.0.0.1", server.port());
  req.headers = {{"host", "ram.aliyuncs.com"}};
  ASSERT_TRUE(t->send(req, kTimeout).ok());
  EXPECT_EQ(server.received().at(0).header("host"), "ram.aliyuncs.com");
}

TEST(HttpsTransport, UntrustedCertificateIsTerminalTlsError) {
  Tls tls;
  Tls other;
  LoopbackServer server(ok_json, tls.cert);
  auto t = make(trusting(other.ca.path()));
  auto res = t->send(get("127.0.0.1", server.port()), kTimeout);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, "Transport.Tls");
  EXPECT_EQ(res.error().cls, ErrorClass::kTerminal);
  EXPECT_EQ(server.requests(), 0);
}

TEST(HttpsTransport, SelfSignedCertificateNotInSystemStoreIsRefused) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  TransportOptions o;
  o.proxy = ProxySettings{};
  auto t = make(o);
  auto res = t->send(get("localhost", server.port()), kTimeout);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, "Transport.Tls");
  EXPECT_EQ(server.requests(), 0);
}

TEST(HttpsTransport, WrongHostNameIsRefused) {
  // Trusted certificate, but for "localhost" only: connecting by IP must fail the name check.
  const TestCert cert = testing::make_self_signed_cert({"localhost"}, {});
  TempFile ca(cert.cert_pem);
  LoopbackServer server(ok_json, cert);
  auto t = make(trusting(ca.path()));
  auto res = t->send(get("127.0.0.1", server.port()), kTimeout);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, "Transport.Tls");
  EXPECT_EQ(res.error().cls, ErrorClass::kTerminal);
  EXPECT_NE(res.error().message.find("mismatch"), std::string::npos) << res.error().message;
  EXPECT_EQ(server.requests(), 0);
  // The same certificate is fine under its own name.
  auto ok = t->send(get("localhost", server.port()), kTimeout);
  EXPECT_TRUE(ok.ok()) << ok.error().to_string();
}

TEST(HttpsTransport, RefusesServersBelowTls12) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert, TLS1_1_VERSION);
  auto t = make(trusting(tls.ca.path()));
  auto res = t->send(get("localhost", server.port()), kTimeout);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, "Transport.Tls");
  EXPECT_EQ(res.error().cls, ErrorClass::kTerminal);
  EXPECT_EQ(server.requests(), 0);
}

TEST(HttpsTransport, MissingCaFileFailsCreate) {
  auto t = HttpsTransport::create(trusting("/nonexistent/ca.pem"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "Transport.Tls");
}

TEST(HttpsTransport, ReusesKeepAliveConnections) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  auto t = make(trusting(tls.ca.path()));
  for (int i = 0; i < 5; ++i) {
    auto res = t->send(get("127.0.0.1", server.port()), kTimeout);
    ASSERT_TRUE(res.ok()) << res.error().to_string();
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(t->stats().connections_opened, 1u);
  EXPECT_EQ(t->stats().connections_reused, 4u);
}

TEST(HttpsTransport, PoolsPerHost) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  auto t = make(trusting(tls.ca.path()));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(t->send(get("127.0.0.1", server.port()), kTimeout).ok());
    ASSERT_TRUE(t->send(get("localhost", server.port()), kTimeout).ok());
  }
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpsTransport, ConnectionCloseIsNotPooled) {
  Tls tls;
  LoopbackServer server(
      [](const TestRequest&) {
        TestResponse r{200, {}, "{}"};
        r.close_after = true;
        return r;
      },
      tls.cert);
  auto t = make(trusting(tls.ca.path()));
  ASSERT_TRUE(t->send(get("127.0.0.1", server.port()), kTimeout).ok());
  ASSERT_TRUE(t->send(get("127.0.0.1", server.port()), kTimeout).ok());
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(t->stats().stale_retries, 0u);
}

TEST(HttpsTransport, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  auto options = trusting(tls.ca.path());
  options.idle_timeout = milliseconds(20);
  auto t = make(options);
  ASSERT_TRUE(t->send(get("127.0.0.1", server.port()), kTimeout).ok());
  // The sweep closes it without any further request; the server sees the close.
  ASSERT_TRUE(eventually([&] { return server.closed() == 1; }));
  ASSERT_TRUE(t->send(get("127.0.0.1", server.port()), kTimeout).ok());
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(t->stats().connections_reused, 0u);
}

TEST(HttpsTransport, IdleConnectionClosedByServerIsReplacedBeforeSending) {
  Tls tls;
  LoopbackServer server(
      [](const TestRequest&) {
        TestResponse r{200, {}, "{}"};
        r.close_silently_after = true;  // keep-alive answer, then the server closes anyway
        return r;
      },
      tls.cert);
  auto t = make(trusting(tls.ca.path()));
  ASSERT_TRUE(t->send(get("127.0.0.1", server.port()), kTimeout).ok());
  // Once the server has closed, its FIN (loopback: delivered within close()) marks the pooled
  // connection dead.
  ASSERT_TRUE(eventually([&] { return server.closed() == 1; }));
  auto res = t->send(get("127.0.0.1", server.port()), kTimeout);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(server.requests(), 2);  // the dead connection never carried the request
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(t->stats().connections_reused, 0u);
}

TEST(HttpsTransport, StaleConnectionFailingBeforeAnyResponseByteIsRetriedOnce) {
  Tls tls;
  std::atomic<int> n{0};
  LoopbackServer server(
      [&](const TestRequest&) {
        TestResponse r{200, {}, "{}"};
        r.close_without_answer = ++n == 2;  // the second request dies on the pooled connection
        return r;
      },
      tls.cert);
  auto t = make(trusting(tls.ca.path()));
  ASSERT_TRUE(t->send(get("127.0.0.1", server.port()), kTimeout).ok());
  auto res = t->send(get("127.0.0.1", server.port()), kTimeout);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(t->stats().stale_retries, 1u);
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpsTransport, FreshConnectionClosedWithoutAnswerIsOutcomeUnknown) {
  Tls tls;
  LoopbackServer server(
      [](const TestRequest&) {
        TestResponse r;
        r.close_without_answer = true;
        return r;
      },
      tls.cert);
  auto t = make(trusting(tls.ca.path()));
  auto res = t->send(get("127.0.0.1", server.port()), kTimeout);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, "Transport.Reset");
  EXPECT_EQ(res.error().cls, ErrorClass::kOutcomeUnknown);
  EXPECT_EQ(server.requests(), 1);  // never re-sent: a fresh connection is no keep-alive race
}

TEST(HttpsTransport, DeadlineAgainstServerThatNeverAnswers) {
  Tls tls;
  LoopbackServer server(
      [](const TestRequest&) {
        TestResponse r;
        r.hang = true;
        return r;
      },
      tls.cert);
  auto t = make(trusting(tls.ca.path()));
  auto req = get("127.0.0.1", server.port(), "/?Signature=CANARYSIG&SecurityToken=CANARYTOK");
  auto res = t->send(req, milliseconds(300));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, "Transport.Timeout");
  EXPECT_EQ(res.error().cls, ErrorClass::kOutcomeUnknown);
  EXPECT_EQ(res.error().to_string().find("CANARY"), std::string::npos) << res.error().to_string();
}

TEST(HttpsTransport, ConnectRefusedIsTransient) {
  std::uint16_t port = 0;
  {
    LoopbackServer gone(ok_json);
    port = gone.port();
  }
  Tls tls;
  auto t = make(trusting(tls.ca.path()));
  auto res = t->send(get("127.0.0.1", port, "/?Signature=CANARYSIG"), kTimeout);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, "Transport.Connect");
  EXPECT_EQ(res.error().cls, ErrorClass::kTransient);
  EXPECT_EQ(res.error().to_string().find("CANARY"), std::string::npos);
}

TEST(HttpsTransport, UnresolvableHostIsTransient) {
  Tls tls;
  auto t = make(trusting(tls.ca.path()));
  auto res = t->send(get("no-such-host.invalid", 443), kTimeout);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, "Transport.Resolve");
  EXPECT_EQ(res.error().cls, ErrorClass::kTransient);
}

TEST(HttpsTransport, PlainHttpOnlyWhenAllowed) {
  LoopbackServer server(ok_json);
  Tls tls;
  auto strict = make(trusting(tls.ca.path()));
  auto refused = strict->send(get("127.0.0.1", server.port(), "/", "http"), kTimeout);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "Transport.Scheme");
  EXPECT_EQ(refused.error().cls, ErrorClass::kTerminal);
  EXPECT_EQ(server.connections(), 0);

  auto options = trusting(tls.ca.path());
  options.allow_http = true;
  auto relaxed = make(options);
  auto res = relaxed->send(get("127.0.0.1", server.port(), "/", "http"), kTimeout);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 200);
}

TEST(HttpsTransport, ResponseBodyLimit) {
  LoopbackServer server([](const TestRequest&) {
    return TestResponse{200, {}, std::string(4096, 'x')};
  });
  auto options = trusting("");
  options.allow_http = true;
  options.body_limit = 1024;
  auto t = make(options);
  auto res = t->send(get("127.0.0.1", server.port(), "/", "http"), kTimeout);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, "Transport.Protocol");
}

TEST(HttpsTransport, TunnelsThroughConnectProxy) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  ConnectProxy proxy;
  auto options = trusting(tls.ca.path());
  options.proxy = ProxySettings{"http://user:p%40ss@127.0.0.1:" + std::to_string(proxy.port()), ""};
  auto t = make(options);
  for (int i = 0; i < 3; ++i) {
    auto res = t->send(get("localhost", server.port()), kTimeout);
    ASSERT_TRUE(res.ok()) << res.error().to_string();
  }
  EXPECT_EQ(proxy.tunnels(), 1);  // the tunnel is pooled like any connection
  ASSERT_EQ(proxy.targets().size(), 1u);
  EXPECT_EQ(proxy.targets()[0], "localhost:" + std::to_string(server.port()));
  EXPECT_EQ(proxy.proxy_authorizations()[0], "Basic dXNlcjpwQHNz");  // user:p@ss
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpsTransport, NoProxyGoesDirect) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  ConnectProxy proxy;
  auto options = trusting(tls.ca.path());
  options.proxy = ProxySettings{"127.0.0.1:" + std::to_string(proxy.port()), "localhost"};
  auto t = make(options);
  ASSERT_TRUE(t->send(get("localhost", server.port()), kTimeout).ok());
  EXPECT_EQ(proxy.tunnels(), 0);
  EXPECT_EQ(server.requests(), 1);
}

TEST(HttpsTransport, MalformedProxyUrlFailsCreateWithoutEchoingIt) {
  auto options = trusting("");
  options.proxy = ProxySettings{"socks5://user:CANARYPW@proxy:1080", ""};
  auto t = HttpsTransport::create(options);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "Transport.Proxy");
  EXPECT_EQ(t.error().to_string().find("CANARY"), std::string::npos);
}

TEST(HttpsTransport, ConcurrentSendsFromManyThreads) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  auto options = trusting(tls.ca.path());
  options.max_idle_per_host = 2;
  auto t = make(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 10; ++j) {
        if (t->send(get("127.0.0.1", server.port()), kTimeout).ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 60);
  EXPECT_EQ(server.requests(), 60);
  EXPECT_LE(server.connections(), 60);
}

// The default pool keeps every connection a burst of concurrent calls to one host opened: a call
// opens a connection only when every pooled one is busy, so 16 threads never need more than 16
// (with a pool of 4 a host, the surplus was closed after each call and reopened by the next one).
TEST(HttpsTransport, DefaultPoolKeepsAsManyConnectionsAsCallsInFlight) {
  Tls tls;
  LoopbackServer server(ok_json, tls.cert);
  auto t = make(trusting(tls.ca.path()));
  constexpr int kThreads = 16, kCalls = 10;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kCalls; ++j) {
        if (t->send(get("127.0.0.1", server.port()), kTimeout).ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kCalls);
  EXPECT_LE(server.connections(), kThreads);
  EXPECT_GE(t->stats().connections_reused,
            static_cast<std::uint64_t>(kThreads * kCalls - kThreads));
}

}  // namespace
}  // namespace sharekeeper::cloud
