// Prints signatures/s for V1 and V3 (median of several timed runs) for a GetRole-sized request and
// for a CreatePolicyVersion carrying a 6 KB policy document, plus full AlibabaClient request
// builds/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cloud/alibaba_client.hpp"
#include "cloud/signer.hpp"

namespace {

using sharekeeper::cloud::Params;
using Clock = std::chrono::steady_clock;

volatile std::size_t g_sink = 0;

template <class F>
double median_rate(F&& work, int runs, int iterations) {
  std::vector<double> rates;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < iterations; ++i) g_sink = g_sink + work(i);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    rates.push_back(iterations / secs);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

class NullTransport final : public sharekeeper::cloud::Transport {
 public:
  sharekeeper::cloud::Result<sharekeeper::cloud::HttpResponse> send(
      const sharekeeper::cloud::HttpRequest&, std::chrono::milliseconds) override {
    sharekeeper::cloud::HttpResponse r;
    r.status = 200;
    r.body = "{}";
    return r;
  }
};

class StaticCredentials final : public sharekeeper::cloud::CredentialsProvider {
 public:
  sharekeeper::cloud::Result<sharekeeper::cloud::Credentials> get() override {
    sharekeeper::cloud::Credentials c;
    c.access_key_id = "LTAI5tTestAccessKeyId01";
    c.access_key_secret = "TestAccessKeySecret0123456789ab";
    return c;
  }
  std::string name() const override { return "static"; }
};

}  // namespace

int main() {
  constexpr int kRuns = 7;
  constexpr int kIterations = 20000;
  const std::string secret = "TestAccessKeySecret0123456789ab";

  Params small{{"RoleName", "AliyunECSShareEncryptSnapshotDefaultRole"}};
  std::string doc = R"({"Version":"1","Statement":[)";
  while (doc.size() < 6000) {
    doc +=
        R"({"Effect":"Allow","Action":["kms:DescribeKey","kms:Decrypt"],"Resource":["acs:kms:cn-hangzhou:1234567890123456:key/key-hzz63a1b2c3d4e5f6"]},)";
  }
  doc.back() = ']';
  doc += "}";
  Params large{
      {"PolicyName", "sharekeeper-kms"}, {"PolicyDocument", doc}, {"SetAsDefault", "true"}};

  auto v1_params = [](Params p, const char* action) {
    p["Action"] = action;
    p["Version"] = "2015-05-01";
    p["Format"] = "JSON";
    p["AccessKeyId"] = "LTAI5tTestAccessKeyId01";
    p["SignatureMethod"] = "HMAC-SHA1";
    p["SignatureVersion"] = "1.0";
    p["SignatureNonce"] = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    p["Timestamp"] = "2024-01-02T03:04:05Z";
    return p;
  };
  auto v3_input = [](Params p, const char* action) {
    sharekeeper::cloud::V3Input in;
    in.query = std::move(p);
    in.headers = {{"host", "ram.aliyuncs.com"},
                  {"x-acs-action", action},
                  {"x-acs-version", "2015-05-01"},
                  {"x-acs-date", "2024-01-02T03:04:05Z"},
                  {"x-acs-signature-nonce", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
                  {"x-acs-content-sha256",
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}};
    return in;
  };

  const Params v1_small = v1_params(small, "GetRole");
  const Params v1_large = v1_params(large, "CreatePolicyVersion");
  const auto v3_small = v3_input(small, "GetRole");
  const auto v3_large = v3_input(large, "CreatePolicyVersion");

  std::printf("signing throughput, median of %d runs x %d signatures (one thread)\n", kRuns,
              kIterations);
  std::printf("%-44s %14s\n", "case", "signatures/s");
  std::printf("%-44s %14.0f\n", "V1 HMAC-SHA1, GetRole",
              median_rate(
                  [&](int) {
                    return sharekeeper::cloud::sign_v1("POST", v1_small, secret).signature.size();
                  },
                  kRuns, kIterations));
  std::printf("%-44s %14.0f\n", "V3 ACS3-HMAC-SHA256, GetRole",
              median_rate(
                  [&](int) {
                    return sharekeeper::cloud::sign_v3(v3_small, "LTAI5tTestAccessKeyId01", secret)
                        .signature.size();
                  },
                  kRuns, kIterations));
  std::printf("%-44s %14.0f\n", "V1 HMAC-SHA1, CreatePolicyVersion 6 KB doc",
              median_rate(
                  [&](int) {
                    return sharekeeper::cloud::sign_v1("POST", v1_large, secret).signature.size();
                  },
                  kRuns, kIterations / 10));
  std::printf("%-44s %14.0f\n", "V3 ACS3-HMAC-SHA256, CreatePolicyVersion 6 KB",
              median_rate(
                  [&](int) {
                    return sharekeeper::cloud::sign_v3(v3_large, "LTAI5tTestAccessKeyId01", secret)
                        .signature.size();
                  },
                  kRuns, kIterations / 10));

  // Whole request builds: endpoint, date, nonce (RAND_bytes), headers, signature, target.
  for (auto alg :
       {sharekeeper::cloud::SignatureAlgorithm::kV1, sharekeeper::cloud::SignatureAlgorithm::kV3}) {
    sharekeeper::cloud::AlibabaClientOptions o;
    o.transport = std::make_shared<NullTransport>();
    o.credentials = std::make_shared<StaticCredentials>();
    o.signature = alg;
    sharekeeper::cloud::AlibabaClient client(std::move(o));
    const auto creds = *StaticCredentials().get();
    const sharekeeper::cloud::AlibabaClient::Call call{"ram", "2015-05-01", "GetRole",
                                                       "",    small,        true};
    std::printf("%-44s %14.0f\n",
                alg == sharekeeper::cloud::SignatureAlgorithm::kV1
                    ? "client request build V1, GetRole"
                    : "client request build V3, GetRole",
                median_rate([&](int) { return client.build_request(call, creds)->target.size(); },
                            kRuns, kIterations));
  }
  return static_cast<int>(g_sink == 42);
}
