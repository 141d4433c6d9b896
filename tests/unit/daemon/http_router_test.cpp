#include "daemon/http_router.hpp"

#include <gtest/gtest.h>

namespace sharekeeper::daemon {
namespace {

const std::string kToken = "0123456789abcdef0123456789abcdef-token";

struct Fixture {
  std::vector<std::optional<std::string>> triggered;
  HttpRouter router{AdminHandlers{
                        [] { return std::string("metrics-body\n"); },
                        [] {
                          return std::pair<bool, std::string>{true, ""};
                        },
                        [] {
                          return std::pair<bool, std::string>{false, "account prod not observed"};
                        },
                        [] { return std::string(R"({"grants":[]})"); },
                        [] { return std::string(R"({"accounts":{}})"); },
                        [this](const std::optional<std::string>& a) {
                          if (a && *a != "prod") return false;
                          triggered.push_back(a);
                          return true;
                        },
                        [this](const std::string& revision) -> std::pair<int, std::string> {
                          if (revision != "r2") return {409, "the held config is revision r2"};
                          confirmed.push_back(revision);
                          return {200, revision};
                        },
                    },
                    AdminToken(kToken)};
  std::vector<std::string> confirmed;
};

HttpRequestView req(std::string method, std::string target, std::string auth = "") {
  HttpRequestView v;
  v.method = std::move(method);
  v.target = std::move(target);
  v.authorization = std::move(auth);
  return v;
}

TEST(HttpRouter, ReadEndpoints) {
  Fixture f;
  auto m = f.router.handle(req("GET", "/metrics"));
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "metrics-body\n");
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(f.router.handle(req("GET", "/healthz")).status, 200);
  auto r = f.router.handle(req("GET", "/readyz"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "account prod not observed\n");
  EXPECT_EQ(f.router.handle(req("GET", "/status")).content_type, "application/json");
  EXPECT_EQ(f.router.handle(req("GET", "/plan")).status, 200);
}

TEST(HttpRouter, ExactPathsOnly) {
  Fixture f;
  for (const char* t :
       {"/metrics/", "/Metrics", "/metricsx", "//metrics", "/status/../metrics", "/"})
    EXPECT_EQ(f.router.handle(req("GET", t)).status, 404) << t;
  EXPECT_EQ(f.router.handle(req("GET", "/metrics?x=1")).status, 200);
}

TEST(HttpRouter, RefusesNonOriginFormTargets) {
  Fixture f;
  for (const char* t : {"http://evil/metrics", "*", "127.0.0.1:9464", ""}) {
    auto r = f.router.handle(req("GET", t));
    EXPECT_EQ(r.status, 400) << t;
    EXPECT_TRUE(r.close);
  }
}

TEST(HttpRouter, ReadEndpointsAreGetOnly) {
  Fixture f;
  for (const char* m : {"POST", "PUT", "DELETE", "TRACE", "CONNECT"}) {
    auto r = f.router.handle(req(m, "/metrics"));
    EXPECT_EQ(r.status, 405) << m;
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].second, "GET");
  }
}

TEST(HttpRouter, ReconcileIsPostOnly) {
  Fixture f;
  auto r = f.router.handle(req("GET", "/reconcile", "Bearer " + kToken));
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(f.triggered.empty());
}

TEST(HttpRouter, ReconcileNeedsTheBearerToken) {
  Fixture f;
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile")).status, 401);
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile", "Bearer wrong")).status, 401);
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile", "Bearer " + kToken + "x")).status, 401);
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile", "Basic " + kToken)).status, 401);
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile", kToken)).status, 401);
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile?token=" + kToken)).status,
            401);  // query tokens ignored
  EXPECT_TRUE(f.triggered.empty());
  auto ok = f.router.handle(req("POST", "/reconcile", "Bearer " + kToken));
  EXPECT_EQ(ok.status, 202);
  ASSERT_EQ(f.triggered.size(), 1u);
  EXPECT_FALSE(f.triggered[0].has_value());
}

TEST(HttpRouter, ReconcileOneAccount) {
  Fixture f;
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile?account=prod", "Bearer " + kToken)).status,
            202);
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile?account=%70rod", "Bearer " + kToken)).status,
            202);
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile?account=dev", "Bearer " + kToken)).status, 404);
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile?account=%zz", "Bearer " + kToken)).status, 400);
  EXPECT_EQ(f.router.handle(req("POST", "/reconcile?account=", "Bearer " + kToken)).status, 400);
  ASSERT_EQ(f.triggered.size(), 2u);
  EXPECT_EQ(f.triggered[1], std::optional<std::string>("prod"));
}

TEST(HttpRouter, ReconcileIsRateLimitedWithoutLockingOutTheToken) {
  std::vector<std::optional<std::string>> triggered;
  auto clock = std::make_shared<support::ManualClock>();
  AdminLimits limits;
  limits.clock = clock;
  AdminHandlers h;
  h.reconcile = [&](const std::optional<std::string>& a) {
    triggered.push_back(a);
    return true;
  };
  const HttpRouter router(h, AdminToken(kToken), limits);
  auto post = [&](const std::string& auth) {
    return router.handle(req("POST", "/reconcile", auth));
  };

  // Guessing: 10 failures, then 429 (with Retry-After) for the next wrong token...
  for (int i = 0; i < 10; ++i) EXPECT_EQ(post("Bearer guess").status, 401) << i;
  const HttpReply limited = post("Bearer guess");
  EXPECT_EQ(limited.status, 429);
  ASSERT_EQ(limited.headers.size(), 1U);
  EXPECT_EQ(limited.headers[0], (std::pair<std::string, std::string>{"Retry-After", "6"}));
  // ...while the right token still works.
  EXPECT_EQ(post("Bearer " + kToken).status, 202);
  clock->advance(std::chrono::seconds(6));  // one failure's worth refilled
  EXPECT_EQ(post("Bearer guess").status, 401);
  EXPECT_EQ(post("Bearer guess").status, 429);

  // A script looping with the right token: a burst of 10 (refilled by now), then 2 a second.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(post("Bearer " + kToken).status, 202) << i;
  EXPECT_EQ(post("Bearer " + kToken).status, 429);
  clock->advance(std::chrono::milliseconds(500));
  EXPECT_EQ(post("Bearer " + kToken).status, 202);
  EXPECT_EQ(post("Bearer " + kToken).status, 429);
  EXPECT_EQ(triggered.size(), 12U);  // a limited request triggers nothing
  // Reads are never limited.
  EXPECT_EQ(router.handle(req("GET", "/reconcile")).status, 405);

  // A long idle refills to the burst, no more; a clock stepping back credits nothing twice.
  clock->advance(std::chrono::hours(1));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(post("Bearer " + kToken).status, 202) << i;
  EXPECT_EQ(post("Bearer " + kToken).status, 429);
  clock->advance(-std::chrono::seconds(5));
  EXPECT_EQ(post("Bearer " + kToken).status, 429);
  clock->advance(std::chrono::seconds(5));
  EXPECT_EQ(post("Bearer " + kToken).status, 429) << "back where it was: still empty";
  clock->advance(std::chrono::milliseconds(500));
  EXPECT_EQ(post("Bearer " + kToken).status, 202);
}

TEST(HttpRouter, ReconcileRefusesTransferEncoding) {
  Fixture f;
  auto v = req("POST", "/reconcile", "Bearer " + kToken);
  v.has_transfer_encoding = true;
  auto r = f.router.handle(v);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.close);
  EXPECT_TRUE(f.triggered.empty());
}

TEST(HttpRouter, AdminDisabledWithoutATokenFile) {
  HttpRouter router(AdminHandlers{nullptr, nullptr, nullptr, nullptr, nullptr,
                                  [](const std::optional<std::string>&) { return true; },
                                  [](const std::string&) -> std::pair<int, std::string> {
                                    return {200, "r"};
                                  }},
                    std::nullopt);
  EXPECT_EQ(router.handle(req("POST", "/reconcile", "Bearer anything")).status, 403);
  EXPECT_EQ(router.handle(req("POST", "/config/confirm-shrink?revision=r", "Bearer x")).status,
            403);
}

// Issue 11: the scheme is case-insensitive (RFC 7235 §2.1) and may be followed by several spaces;
// the token itself is compared exactly.
TEST(HttpRouter, BearerSchemeIsCaseInsensitive) {
  Fixture f;
  for (const std::string& scheme :
       std::vector<std::string>{"Bearer ", "bearer ", "BEARER ", "bEaReR ", "Bearer   "})
    EXPECT_EQ(f.router.handle(req("POST", "/reconcile", scheme + kToken)).status, 202) << scheme;
  for (const std::string& bad :
       std::vector<std::string>{"Bearer" + kToken, "Bearer\t" + kToken, "Bearers " + kToken,
                                "Bearer " + kToken + " ", "Bearer ", "Bearer", " Bearer " + kToken})
    EXPECT_EQ(f.router.handle(req("POST", "/reconcile", bad)).status, 401) << bad;
  EXPECT_EQ(f.triggered.size(), 5u);
}

// Issue 11 / RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host; HTTP/1.0 may omit it.
TEST(HttpRouter, HostMustBeThereOnceOnHttp11) {
  Fixture f;
  auto v = req("GET", "/healthz");
  v.host_headers = 0;
  auto r = f.router.handle(v);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.close);
  v.host_headers = 2;
  EXPECT_EQ(f.router.handle(v).status, 400);
  v.version = 10;
  EXPECT_EQ(f.router.handle(v).status, 400) << "two Host headers are bad in any version";
  v.host_headers = 0;
  EXPECT_EQ(f.router.handle(v).status, 200);
  auto post = req("POST", "/reconcile", "Bearer " + kToken);
  post.host_headers = 2;
  EXPECT_EQ(f.router.handle(post).status, 400);
  EXPECT_TRUE(f.triggered.empty());
}

// Issue 11: no route takes a body, so any Transfer-Encoding, on any route, is 400 and close.
TEST(HttpRouter, TransferEncodingIsRefusedOnEveryRoute) {
  Fixture f;
  for (const char* t : {"/metrics", "/healthz", "/readyz", "/status", "/plan", "/nowhere"}) {
    auto v = req("GET", t);
    v.has_transfer_encoding = true;
    auto r = f.router.handle(v);
    EXPECT_EQ(r.status, 400) << t;
    EXPECT_TRUE(r.close) << t;
  }
  auto c = req("POST", "/config/confirm-shrink?revision=r2", "Bearer " + kToken);
  c.has_transfer_encoding = true;
  EXPECT_EQ(f.router.handle(c).status, 400);
  EXPECT_TRUE(f.confirmed.empty());
}

// Issue 11: a held shrinking reload is installed only by POST with the token and the revision.
TEST(HttpRouter, ConfirmShrinkNeedsPostTheTokenAndTheRevision) {
  Fixture f;
  const std::string path = "/config/confirm-shrink";
  EXPECT_EQ(f.router.handle(req("GET", path + "?revision=r2", "Bearer " + kToken)).status, 405);
  EXPECT_EQ(f.router.handle(req("POST", path + "?revision=r2")).status, 401);
  EXPECT_EQ(f.router.handle(req("POST", path, "Bearer " + kToken)).status, 400);
  EXPECT_EQ(f.router.handle(req("POST", path + "?revision=", "Bearer " + kToken)).status, 400);
  EXPECT_EQ(f.router.handle(req("POST", path + "?revision=r1", "Bearer " + kToken)).status, 409);
  EXPECT_TRUE(f.confirmed.empty());
  auto ok = f.router.handle(req("POST", path + "?revision=r2", "Bearer " + kToken));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "{\"installed\":\"r2\"}\n");
  EXPECT_EQ(f.confirmed, std::vector<std::string>{"r2"});
}

TEST(AdminToken, ComparesWholeTokens) {
  AdminToken t("secret-token");
  EXPECT_TRUE(t.matches("secret-token"));
  EXPECT_FALSE(t.matches("secret-toke"));
  EXPECT_FALSE(t.matches("secret-token "));
  EXPECT_FALSE(t.matches(""));
}

TEST(PercentDecode, Cases) {
  EXPECT_EQ(percent_decode("a%41b"), std::optional<std::string>("aAb"));
  EXPECT_EQ(percent_decode("a+b"), std::optional<std::string>("a b"));
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("%"), std::nullopt);
  EXPECT_EQ(percent_decode("%G1"), std::nullopt);
}

}  // namespace
}  // namespace sharekeeper::daemon
