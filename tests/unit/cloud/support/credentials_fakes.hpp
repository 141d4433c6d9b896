#pragma once
// Fakes for the credentials tests: environment, wall clock, and loopback STS / metadata service /
// credentials URI servers. Header-only so only the tests that include it pay for it.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "cloud/credential_providers.hpp"
#include "cloud/transport.hpp"
#include "loopback.hpp"
#include "support/clock.hpp"

namespace sharekeeper::testing {

using std::chrono::system_clock;

// 2026-11-28T22:15:12Z, the time of the SDK captures.
inline const system_clock::time_point kT0 = system_clock::from_time_t(1795904112);

class FakeEnv {
 public:
  void set(const std::string& k, const std::string& v) {
    std::lock_guard lock(mu_);
    vars_[k] = v;
  }
  void unset(const std::string& k) {
    std::lock_guard lock(mu_);
    vars_.erase(k);
  }
  cloud::EnvLookup lookup() {
    return [this](std::string_view name) -> std::optional<std::string> {
      std::lock_guard lock(mu_);
      auto it = vars_.find(std::string(name));
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> vars_;
};

// A support::ManualClock starting at kT0, with absolute wall-time setting for expiry tests.
class FakeClock {
 public:
  system_clock::time_point now() const { return clock_->wall_now(); }
  void set(system_clock::time_point t) { clock_->advance(t - clock_->wall_now()); }
  void advance(system_clock::duration d) { clock_->advance(d); }
  std::shared_ptr<support::Clock> clock() const { return clock_; }

 private:
  std::shared_ptr<support::ManualClock> clock_ = std::make_shared<support::ManualClock>(kT0);
};

inline std::string credentials_json(const std::string& id, const std::string& secret,
                                    const std::string& token, system_clock::time_point expiration,
                                    const std::string& extra = "") {
  return R"("AccessKeyId":")" + id + R"(","AccessKeySecret":")" + secret +
         R"(","SecurityToken":")" + token + R"(","Expiration":")" +
         cloud::format_utc_timestamp(expiration) + "\"" + extra;
}

// STS answering AssumeRole and AssumeRoleWithOIDC with credentials that expire `lifetime` after
// the fake clock's now; `fail_status` != 0 makes it answer that HTTP status with an error body.
class FakeSts {
 public:
  explicit FakeSts(FakeClock& clock, std::optional<TestCert> cert = std::nullopt)
      : clock_(clock),
        server_([this](const TestRequest& r) { return handle(r); }, std::move(cert)) {}

  std::string url() const { return server_.url(); }
  int calls() const { return server_.requests(); }
  std::vector<TestRequest> received() const { return server_.received(); }
  std::atomic<int> fail_status{0};
  std::string error_message = "STS Server Internal Error happened";
  std::chrono::seconds lifetime{3600};
  std::string secret = "TestTemporarySecretXyz987654321";
  std::string token = "CAIS+gF1q6Ft5B2yfSjIr5fSLo3+/rlt0/aaa==";

 private:
  TestResponse handle(const TestRequest& r) {
    if (const int s = fail_status.load(); s != 0) {
      return {s,
              {},
              R"({"RequestId":"req-err","Code":")" +
                  std::string(s >= 500 ? "InternalError" : "NoPermission") + R"(","Message":")" +
                  error_message + "\"}"};
    }
    const std::string action =
        r.query_param("Action").empty() ? r.form_param("Action") : r.query_param("Action");
    const int n = server_.requests();
    return {
        200,
        {},
        R"({"RequestId":"req-)" + std::to_string(n) +
            R"(","AssumedRoleUser":{"Arn":"acs:ram::1234567890123456:role/daemon/session"},"Credentials":{)" +
            credentials_json("STS.Key" + action + std::to_string(n), secret, token,
                             clock_.now() + lifetime) +
            "}}"};
  }

  FakeClock& clock_;
  LoopbackServer server_;
};

// The ECS metadata service: IMDSv2 token, role discovery, role credentials.
class FakeImds {
 public:
  explicit FakeImds(FakeClock& clock)
      : clock_(clock), server_([this](const TestRequest& r) { return handle(r); }) {}

  std::string url() const { return server_.url(); }
  std::vector<TestRequest> received() const { return server_.received(); }
  int credential_calls() const { return credential_calls_.load(); }
  std::atomic<bool> v2_supported{true};
  std::string role = "EcsShareRole";
  std::string code = "Success";
  std::chrono::seconds lifetime{6 * 3600};
  std::string secret = "ImdsTemporarySecret0123456789";
  static constexpr const char* kToken = "imds-v2-session-token-abc";

 private:
  TestResponse handle(const TestRequest& r) {
    if (r.method == "PUT" && r.path == "/latest/api/token") {
      if (!v2_supported || r.header("x-aliyun-ecs-metadata-token-ttl-seconds") != "21600") {
        return {403, {}, "forbidden"};
      }
      return {200, {{"Content-Type", "text/plain"}}, kToken};
    }
    // With v2 on, every GET must carry the token; with v2 off, none may.
    const bool token_ok = v2_supported ? r.header("x-aliyun-ecs-metadata-token") == kToken
                                       : r.header("x-aliyun-ecs-metadata-token").empty();
    if (r.method != "GET" || !token_ok) return {401, {}, "unauthorized"};
    const std::string base = "/latest/meta-data/ram/security-credentials/";
    if (r.path == base) return {200, {{"Content-Type", "text/plain"}}, role};
    if (r.path == base + role) {
      ++credential_calls_;
      return {
          200,
          {},
          "{" +
              credentials_json("STS.Imds" + std::to_string(credential_calls_.load()), secret,
                               "ImdsToken/+=", clock_.now() + lifetime,
                               R"(,"LastUpdated":"2026-11-28T22:00:00Z","Code":")" + code + "\"") +
              "}"};
    }
    return {404, {}, "not found"};
  }

  FakeClock& clock_;
  std::atomic<int> credential_calls_{0};
  LoopbackServer server_;
};

// A plain-http transport that never uses a proxy: every fake above speaks plain http on loopback.
inline std::shared_ptr<cloud::Transport> loopback_transport() {
  cloud::TransportOptions o;
  o.allow_http = true;
  o.use_system_ca = false;
  o.proxy = cloud::ProxySettings{};
  return std::shared_ptr<cloud::Transport>(cloud::HttpsTransport::create(o).value().release());
}

}  // namespace sharekeeper::testing
