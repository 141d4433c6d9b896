// The emulator over real loopback sockets (port 0, HTTP and HTTPS): signed requests from a tiny
// signer written here (not cloud/'s), the admin API, faults, the journal, the emulated clock, and
// the binary's start/stop contract.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "emulator/emulator.hpp"
#include "emulator/tls.hpp"
#include "emulator/verifier.hpp"

extern char** environ;

namespace sharekeeper::emulator {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using nlohmann::json;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

constexpr const char* kUid = "1234567890123456";
constexpr const char* kKeyId = "LTAI5tTestAccessKeyId01";
constexpr const char* kSecret = "TestAccessKeySecret0123456789ab";
constexpr const char* kStsKeyId = "STS.NTestTemporaryKeyId0001";
constexpr const char* kStsSecret = "TestTemporarySecretXyz987654321";
constexpr const char* kStsToken = "CAIS+gF1q6Ft5B2yfSjIr5fSLo3+/rlt0/aaa==";

// --- A test-side signer, deliberately independent of emulator/verifier.cpp and cloud/.
// -------------

std::string enc(std::string_view raw) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string to_hex(const unsigned char* p, unsigned n) {
  std::string out;
  char b[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, "%02x", p[i]);
    out += b;
  }
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return to_hex(md, n);
}

std::string hmac256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &n);
  return to_hex(md, n);
}

std::string utc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

std::string fresh_nonce() {
  static std::mt19937_64 random{std::random_device{}()};
  return std::to_string(random()) + std::to_string(random());
}

struct Credentials {
  std::string id = kKeyId;
  std::string secret = kSecret;
  std::string token;
};

// V3 (ACS3-HMAC-SHA256) with every parameter in the query, as the current SDKs send it.
HttpRequest sign_v3(const std::string& action, const std::string& version,
                    const std::map<std::string, std::string>& params, const std::string& host,
                    const Credentials& creds = {},
                    std::chrono::system_clock::time_point when = std::chrono::system_clock::now()) {
  std::string query;
  for (const auto& [k, v] : params) query += (query.empty() ? "" : "&") + enc(k) + "=" + enc(v);
  std::map<std::string, std::string> headers = {{"host", host},
                                                {"x-acs-action", action},
                                                {"x-acs-version", version},
                                                {"x-acs-date", utc(when)},
                                                {"x-acs-signature-nonce", fresh_nonce()},
                                                {"x-acs-content-sha256", sha256("")}};
  if (!creds.token.empty()) {
    headers["x-acs-security-token"] = creds.token;
    headers["x-acs-accesskey-id"] = creds.id;
  }
  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + k;
  }
  const std::string canonical =
      "POST\n/\n" + query + "\n" + canonical_headers + "\n" + signed_headers + "\n" + sha256("");
  const std::string signature = hmac256(creds.secret, "ACS3-HMAC-SHA256\n" + sha256(canonical));
  HttpRequest req{http::verb::post, query.empty() ? "/" : "/?" + query, 11};
  for (const auto& [k, v] : headers) req.set(k, v);
  req.set(http::field::authorization, "ACS3-HMAC-SHA256 Credential=" + creds.id +
                                          ",SignedHeaders=" + signed_headers +
                                          ",Signature=" + signature);
  req.prepare_payload();
  return req;
}

// --- A blocking HTTP(S) client over one keep-alive connection.
// --------------------------------------

class Client {
 public:
  Client(std::uint16_t port, const std::string& ca_pem = {}) : port_(port) {
    if (!ca_pem.empty()) {
      tls_.emplace(ssl::context::tls_client);
      tls_->add_certificate_authority(net::buffer(ca_pem));
      tls_->set_verify_mode(ssl::verify_peer);
    }
    connect();
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  // A client deadline for each later send(): an expired one throws like a real client's timeout.
  void set_deadline(std::chrono::milliseconds deadline) { deadline_ = deadline; }

  HttpResponse send(HttpRequest req) {
    req.set(http::field::host, host());
    req.keep_alive(true);
    req.prepare_payload();
    return tls_ ? exchange(*tls_stream_, req) : exchange(*plain_, req);
  }

  HttpResponse admin(http::verb verb, const std::string& target, const std::string& body = {}) {
    HttpRequest req{verb, target, 11};
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    return send(std::move(req));
  }

  // Raw bytes, for requests a well-behaved client cannot build.
  void write_raw(const std::string& bytes) { net::write(plain_->socket(), net::buffer(bytes)); }
  HttpResponse read() {
    beast::flat_buffer buffer;
    HttpResponse res;
    http::read(*plain_, buffer, res);
    return res;
  }

 private:
  void connect() {
    const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port_);
    if (tls_) {
      tls_stream_.emplace(io_, *tls_);
      // Verify the certificate's SAN against the IP we dialled, as a real client would.
      tls_stream_->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
      beast::get_lowest_layer(*tls_stream_).connect(endpoint);
      tls_stream_->handshake(ssl::stream_base::client);
    } else {
      plain_.emplace(io_);
      plain_->connect(endpoint);
    }
  }

  // Asynchronous write + read driven to completion here: Beast's deadlines (expires_after) only
  // apply to asynchronous operations.
  template <class Stream>
  HttpResponse exchange(Stream& stream, HttpRequest& req) {
    if (deadline_) beast::get_lowest_layer(stream).expires_after(*deadline_);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::error_code result;
    http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
      if (ec) {
        result = ec;
        return;
      }
      http::async_read(stream, buffer, parser,
                       [&](beast::error_code read_ec, std::size_t) { result = read_ec; });
    });
    io_.restart();
    io_.run();
    if (deadline_) beast::get_lowest_layer(stream).expires_never();
    if (result) throw boost::system::system_error(result);
    return parser.release();
  }

  net::io_context io_;
  std::uint16_t port_;
  std::optional<std::chrono::milliseconds> deadline_;
  std::optional<ssl::context> tls_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
};

json seed() {
  return json::parse(R"({
    "accounts": [{
      "uid": "1234567890123456",
      "name": "sharer",
      "accessKeys": [
        {"id": "LTAI5tTestAccessKeyId01", "secret": "TestAccessKeySecret0123456789ab"},
        {"id": "STS.NTestTemporaryKeyId0001", "secret": "TestTemporarySecretXyz987654321",
         "securityToken": "CAIS+gF1q6Ft5B2yfSjIr5fSLo3+/rlt0/aaa==",
         "expiration": "2099-01-01T00:00:00Z", "role": "daemon", "sessionName": "session"}
      ],
      "roles": [{"name": "daemon", "trustPolicy": {"Version": "1", "Statement": [{"Effect": "Allow",
        "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::1234567890123456:root"]}}]}}]
    }]
  })");
}

EmulatorOptions options(TlsMode tls = TlsMode::kNone) {
  EmulatorOptions o;
  o.seed = seed();
  o.tls = tls;
  return o;
}

json body_of(const HttpResponse& res) { return json::parse(res.body()); }

const char* kTrust =
    R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["1234567890123456@ecs.aliyuncs.com"]}}]})";

TEST(ServerTest, SignedV3CallOverHttp) {
  Emulator emulator(options());
  emulator.start();
  EXPECT_NE(emulator.port(), 0);
  EXPECT_EQ(emulator.url(), "http://127.0.0.1:" + std::to_string(emulator.port()));
  Client client(emulator.port());
  const auto res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host()));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const json body = body_of(res);
  EXPECT_EQ(body.at("AccountId"), kUid);
  EXPECT_EQ(body.at("RequestId"), std::string(res["x-acs-request-id"]));
  EXPECT_EQ(std::string(res[http::field::content_type]), "application/json;charset=utf-8");
  // Keep-alive: the same connection serves the next call.
  const auto again = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host()));
  EXPECT_EQ(again.result_int(), 200);
  EXPECT_NE(body_of(again).at("RequestId"), body.at("RequestId"));
}

TEST(ServerTest, SignedV3CallOverHttpsWithSelfSignedCertificate) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("emulator-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EmulatorOptions o = options(TlsMode::kSelfSigned);
  o.cert_out = (dir / "cert.pem").string();
  Emulator emulator(o);
  emulator.start();
  EXPECT_EQ(emulator.url().rfind("https://127.0.0.1:", 0), 0u);
  std::ifstream in(o.cert_out);
  std::stringstream written;
  written << in.rdbuf();
  EXPECT_EQ(written.str(), emulator.certificate_pem());
  Client client(emulator.port(), written.str());
  const auto res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host()));
  EXPECT_EQ(res.result_int(), 200) << res.body();
  std::filesystem::remove_all(dir);
}

TEST(ServerTest, HttpsWithCertificateFiles) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("emulator-files-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const PemPair pair = make_self_signed_certificate();
  EmulatorOptions o = options(TlsMode::kFiles);
  o.tls_cert_file = (dir / "cert.pem").string();
  o.tls_key_file = (dir / "key.pem").string();
  write_file(o.tls_cert_file, pair.certificate);
  write_file(o.tls_key_file, pair.private_key);
  Emulator emulator(o);
  emulator.start();
  EXPECT_EQ(emulator.certificate_pem(), pair.certificate);
  Client client(emulator.port(), pair.certificate);
  EXPECT_EQ(client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host())).result_int(),
            200);
  o.tls_key_file = (dir / "missing.pem").string();
  Emulator broken(o);
  EXPECT_THROW(broken.start(), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST(ServerTest, ListenAddresses) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:0"),
            std::make_pair(std::string("127.0.0.1"), std::uint16_t{0}));
  EXPECT_EQ(parse_listen_address("[::1]:8443"),
            std::make_pair(std::string("::1"), std::uint16_t{8443}));
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:65536", "[::1]80", "h:x"}) {
    EXPECT_THROW(parse_listen_address(bad), std::invalid_argument) << bad;
  }
}

TEST(ServerTest, HttpsRefusesClientsThatDoNotTrustTheCertificate) {
  Emulator emulator(options(TlsMode::kSelfSigned));
  emulator.start();
  // A client trusting a different self-signed certificate fails the handshake.
  Emulator stranger(options(TlsMode::kSelfSigned));
  stranger.start();
  EXPECT_THROW(Client(emulator.port(), stranger.certificate_pem()), boost::system::system_error);
}

TEST(ServerTest, GatewayErrorsHaveTheAlibabaShape) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  Credentials wrong;
  wrong.secret = "not-the-secret";
  auto res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host(), wrong));
  EXPECT_EQ(res.result_int(), 400);
  json body = body_of(res);
  EXPECT_EQ(body.at("Code"), "SignatureDoesNotMatch");
  for (const char* field : {"RequestId", "HostId", "Code", "Message", "Recommend"}) {
    EXPECT_TRUE(body.contains(field)) << field;
  }
  Credentials unknown;
  unknown.id = "LTAI5tNoSuchKey";
  res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host(), unknown));
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_EQ(body_of(res).at("Code"), "InvalidAccessKeyId.NotFound");
  res = client.send(sign_v3("NoSuchAction", "2015-04-01", {}, client.host()));
  EXPECT_EQ(body_of(res).at("Code"), "InvalidAction.NotFound");
  res = client.send(sign_v3("GetCallerIdentity", "1999-01-01", {}, client.host()));
  EXPECT_EQ(body_of(res).at("Code"), "InvalidVersion");
  // A replayed request (same nonce) is refused.
  const HttpRequest once = sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host());
  EXPECT_EQ(client.send(once).result_int(), 200);
  res = client.send(once);
  EXPECT_EQ(body_of(res).at("Code"), "SignatureNonceUsed");
}

TEST(ServerTest, EverySignedCaptureIsAcceptedAfterSettingTheClock) {
  std::ifstream in(std::string(SHAREKEEPER_REFERENCE_DIR) + "/sdk-wire-captures.json");
  const json captures = json::parse(in).at("captures");
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  auto res =
      client.admin(http::verb::post, "/_emulator/clock", R"({"now":"2026-11-28T22:15:12Z"})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  int replayed = 0;
  for (const auto& capture : captures) {
    if (capture.at("path") != "/") continue;
    SCOPED_TRACE(capture.at("label").get<std::string>());
    HttpRequest req{capture.at("method") == "GET" ? http::verb::get : http::verb::post,
                    capture.at("url").get<std::string>(), 11};
    for (const auto& [name, value] : capture.at("headers").items()) {
      if (name != "connection" && name != "content-length") req.set(name, value.get<std::string>());
    }
    req.body() = capture.at("body").get<std::string>();
    // Sent verbatim, Host included: the signature covers the captured host:port.
    req.prepare_payload();
    beast::flat_buffer buffer;
    net::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), emulator.port()));
    http::write(stream, req);
    HttpResponse out;
    http::read(stream, buffer, out);
    const json body = body_of(out);
    const std::string code = body.value("Code", "");
    for (const char* gateway :
         {"SignatureDoesNotMatch", "IncompleteSignature", "InvalidAccessKeyId.NotFound",
          "SignatureNonceUsed", "InvalidTimeStamp.Expired", "InvalidSecurityToken.Expired",
          "InvalidSecurityToken.MismatchWithAccessKey", "MissingParameter", "InvalidVersion"}) {
      EXPECT_NE(code, gateway) << out.body();
    }
    ++replayed;
  }
  EXPECT_EQ(replayed, 15);
  const json journal = body_of(client.admin(http::verb::get, "/_emulator/requests"));
  EXPECT_EQ(journal.at("requests").size(), 15u);
}

TEST(ServerTest, ClockMovesTheTimestampWindowAndExpiresStsTokens) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  ASSERT_EQ(
      client.admin(http::verb::post, "/_emulator/clock", R"({"offsetSeconds":3600})").result_int(),
      200);
  auto res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host()));
  EXPECT_EQ(body_of(res).at("Code"), "InvalidTimeStamp.Expired");
  const json clock = body_of(client.admin(http::verb::get, "/_emulator/clock"));
  EXPECT_EQ(clock.at("offsetSeconds"), 3600);
  ASSERT_EQ(client.admin(http::verb::delete_, "/_emulator/clock").result_int(), 200);
  EXPECT_EQ(client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host())).result_int(),
            200);

  // The STS key expires in 2099: move the clock past it and sign with the emulated time.
  Credentials sts{kStsKeyId, kStsSecret, kStsToken};
  res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host(), sts));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(body_of(res).at("IdentityType"), "AssumedRoleUser");
  ASSERT_EQ(client.admin(http::verb::post, "/_emulator/clock", R"({"now":"2099-01-01T00:00:01Z"})")
                .result_int(),
            200);
  res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host(), sts,
                            *parse_timestamp("2099-01-01T00:00:01Z")));
  EXPECT_EQ(body_of(res).at("Code"), "InvalidSecurityToken.Expired") << res.body();
  EXPECT_EQ(
      client.admin(http::verb::post, "/_emulator/clock", R"({"now":"yesterday"})").result_int(),
      400);
}

TEST(ServerTest, NthFaultFailsExactlyThatCall) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  auto res = client.admin(http::verb::post, "/_emulator/faults",
                          R"({"action":"GetCallerIdentity","nth":2,"code":"ServiceUnavailable"})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  std::vector<unsigned> statuses;
  for (int i = 0; i < 3; ++i) {
    statuses.push_back(
        client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host())).result_int());
  }
  EXPECT_EQ(statuses, (std::vector<unsigned>{200, 503, 200}));
  const json rules = body_of(client.admin(http::verb::get, "/_emulator/faults")).at("rules");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].at("matched"), 3);
  EXPECT_EQ(rules[0].at("fired"), 1);
  const json journal = body_of(client.admin(http::verb::get, "/_emulator/requests"));
  EXPECT_EQ(journal.at("requests")[1].at("code"), "ServiceUnavailable");
  EXPECT_EQ(journal.at("requests")[1].at("committed"), false);
  EXPECT_EQ(journal.at("requests")[1].at("faultRule"), 1);
  ASSERT_EQ(client.admin(http::verb::delete_, "/_emulator/faults").result_int(), 200);
  EXPECT_TRUE(body_of(client.admin(http::verb::get, "/_emulator/faults")).at("rules").empty());
  EXPECT_EQ(
      client.admin(http::verb::post, "/_emulator/faults", R"({"action":"X","nht":1})").result_int(),
      400);
}

TEST(ServerTest, AfterCommitFaultAppliesTheChangeThenFails) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  ASSERT_EQ(client
                .admin(http::verb::post, "/_emulator/faults",
                       R"({"action":"CreateRole","code":"InternalError","afterCommit":true})")
                .result_int(),
            200);
  const std::map<std::string, std::string> create = {
      {"RoleName", "AliyunECSShareEncryptImageDefaultRole"}, {"AssumeRolePolicyDocument", kTrust}};
  auto res = client.send(sign_v3("CreateRole", "2015-05-01", create, client.host()));
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(body_of(res).at("Code"), "InternalError");
  // It did happen.
  res =
      client.send(sign_v3("GetRole", "2015-05-01",
                          {{"RoleName", "AliyunECSShareEncryptImageDefaultRole"}}, client.host()));
  EXPECT_EQ(res.result_int(), 200) << res.body();
  const json journal = body_of(client.admin(http::verb::get, "/_emulator/requests"));
  EXPECT_EQ(journal.at("requests")[0].at("committed"), true);
  EXPECT_EQ(journal.at("requests")[0].at("status"), 500);
}

TEST(ServerTest, DropFaultClosesTheConnectionAfterCommitting) {
  Emulator emulator(options());
  emulator.start();
  Client admin(emulator.port());
  ASSERT_EQ(admin
                .admin(http::verb::post, "/_emulator/faults",
                       R"({"action":"CreateRole","drop":true,"afterCommit":true})")
                .result_int(),
            200);
  Client client(emulator.port());
  const std::map<std::string, std::string> create = {{"RoleName", "dropped-role"},
                                                     {"AssumeRolePolicyDocument", kTrust}};
  EXPECT_THROW(client.send(sign_v3("CreateRole", "2015-05-01", create, client.host())),
               boost::system::system_error);
  const auto res =
      admin.send(sign_v3("GetRole", "2015-05-01", {{"RoleName", "dropped-role"}}, admin.host()));
  EXPECT_EQ(res.result_int(), 200) << res.body();
  const json journal = body_of(admin.admin(http::verb::get, "/_emulator/requests"));
  EXPECT_EQ(journal.at("requests")[0].at("dropped"), true);
  EXPECT_EQ(journal.at("requests")[0].at("committed"), true);
}

TEST(ServerTest, LateAnswerAfterCommitTimesTheClientOut) {
  Emulator emulator(options());
  emulator.start();
  Client admin(emulator.port());
  ASSERT_EQ(admin
                .admin(http::verb::post, "/_emulator/faults",
                       R"({"action":"CreateRole","latencyMs":3000,"afterCommit":true})")
                .result_int(),
            200);
  Client client(emulator.port());
  client.set_deadline(std::chrono::milliseconds(300));
  const std::map<std::string, std::string> create = {{"RoleName", "late-role"},
                                                     {"AssumeRolePolicyDocument", kTrust}};
  EXPECT_THROW(client.send(sign_v3("CreateRole", "2015-05-01", create, client.host())),
               boost::system::system_error);
  // The client gave up, but the role exists: it must re-read before retrying.
  const auto res =
      admin.send(sign_v3("GetRole", "2015-05-01", {{"RoleName", "late-role"}}, admin.host()));
  EXPECT_EQ(res.result_int(), 200) << res.body();
}

TEST(ServerTest, ThrottlingFaultCarriesRetryAfter) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  ASSERT_EQ(
      client
          .admin(http::verb::post, "/_emulator/faults",
                 R"({"action":"GetCallerIdentity","code":"Throttling.User","retryAfterMs":750})")
          .result_int(),
      200);
  const auto res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host()));
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(body_of(res).at("Code"), "Throttling.User");
  EXPECT_EQ(std::string(res["x-acs-retry-after"]), "750");
}

TEST(ServerTest, LatencyIsSleptWithoutBlockingOtherConnections) {
  Emulator emulator(options());
  emulator.start();
  Client admin(emulator.port());
  ASSERT_EQ(admin
                .admin(http::verb::post, "/_emulator/faults",
                       R"({"action":"GetCallerIdentity","latencyMs":1500})")
                .result_int(),
            200);
  std::atomic<bool> slow_done{false};
  auto slow = std::async(std::launch::async, [&] {
    Client client(emulator.port());
    const auto res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host()));
    slow_done = true;
    return res.result_int();
  });
  // Wait until the slow call is in the journal's future: poll the admin API, which must keep
  // answering.
  bool answered_while_slow = false;
  for (int i = 0; i < 50 && !slow_done; ++i) {
    if (admin.admin(http::verb::get, "/_emulator/health").result_int() == 200 && !slow_done) {
      answered_while_slow = true;
    }
  }
  EXPECT_TRUE(answered_while_slow);
  EXPECT_EQ(slow.get(), 200);
}

TEST(ServerTest, JournalNeverHoldsSecrets) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  Credentials sts{kStsKeyId, kStsSecret, kStsToken};
  const auto req = sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host(), sts);
  const std::string signature(req[http::field::authorization]);
  EXPECT_EQ(client.send(req).result_int(), 200);
  client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host()));
  const auto res = client.admin(http::verb::get, "/_emulator/requests?action=GetCallerIdentity");
  const json journal = body_of(res);
  ASSERT_EQ(journal.at("requests").size(), 2u);
  const json& first = journal.at("requests")[0];
  EXPECT_EQ(first.at("account"), kUid);
  EXPECT_EQ(first.at("product"), "sts");
  EXPECT_EQ(first.at("version"), "2015-04-01");
  EXPECT_EQ(first.at("signatureVersion"), "V3");
  EXPECT_EQ(first.at("status"), 200);
  for (const std::string& secret :
       {std::string(kSecret), std::string(kStsSecret), std::string(kStsToken),
        signature.substr(signature.size() - 64)}) {
    EXPECT_EQ(res.body().find(secret), std::string::npos);
  }
  EXPECT_EQ(
      body_of(client.admin(http::verb::get, "/_emulator/requests?since=1")).at("requests").size(),
      1u);
}

TEST(ServerTest, AdminRoutes) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  json state = body_of(client.admin(http::verb::get, "/_emulator/state"));
  ASSERT_TRUE(state.contains("accounts"));
  EXPECT_EQ(client.admin(http::verb::get, "/_emulator/nope").result_int(), 404);
  EXPECT_EQ(client.admin(http::verb::get, "/_emulator/reset").result_int(), 405);
  EXPECT_EQ(client.admin(http::verb::get, "/_emulator/access?account=1").result_int(), 400);
  const auto access =
      client.admin(http::verb::get, "/_emulator/access?account=2234567890123456&resource=s-none");
  EXPECT_EQ(access.result_int(), 200) << access.body();
  EXPECT_TRUE(body_of(access).contains("usable"));
  const auto accepted = client.admin(http::verb::post, "/_emulator/accept-invitations");
  EXPECT_EQ(accepted.result_int(), 200);
  EXPECT_EQ(body_of(accepted).at("accepted"), 0);
  // Reset goes back to the seed: a role created since is gone.
  const std::map<std::string, std::string> create = {{"RoleName", "temporary"},
                                                     {"AssumeRolePolicyDocument", kTrust}};
  ASSERT_EQ(client.send(sign_v3("CreateRole", "2015-05-01", create, client.host())).result_int(),
            200);
  ASSERT_EQ(client.admin(http::verb::post, "/_emulator/reset").result_int(), 200);
  const auto gone =
      client.send(sign_v3("GetRole", "2015-05-01", {{"RoleName", "temporary"}}, client.host()));
  EXPECT_EQ(body_of(gone).at("Code"), "EntityNotExist.Role");
  EXPECT_EQ(client.admin(http::verb::post, "/_emulator/seed", R"({"accounts":"no"})").result_int(),
            400);
}

TEST(ServerTest, RateLimitAnswersThrottlingUser) {
  EmulatorOptions o = options();
  o.server.rate_limits.per_second = 2;
  Emulator emulator(o);
  emulator.start();
  Client client(emulator.port());
  int throttled = 0;
  for (int i = 0; i < 8; ++i) {
    const auto res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host()));
    if (res.result_int() == 400) {
      EXPECT_EQ(body_of(res).at("Code"), "Throttling.User");
      EXPECT_FALSE(res["x-acs-retry-after"].empty());
      ++throttled;
    }
  }
  EXPECT_GE(throttled, 1);
}

// Flow control per account and product, set through the admin API: a near-zero refill makes the
// count exact whatever the machine's speed.
TEST(ServerTest, RateLimitsPerProductThroughTheAdminApi) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  auto res = client.admin(http::verb::post, "/_emulator/rate-limits",
                          R"({"perSecond": 0.001, "products": {"ram": 0}})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  int throttled = 0;
  for (int i = 0; i < 3; ++i) {
    const auto sts = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host()));
    if (sts.result_int() == 400 && body_of(sts).at("Code") == "Throttling.User") ++throttled;
    // RAM is unlimited: its calls never spend the STS bucket's token.
    const auto ram =
        client.send(sign_v3("GetRole", "2015-05-01", {{"RoleName", "nobody"}}, client.host()));
    EXPECT_NE(ram.result_int(), 400) << ram.body();
  }
  EXPECT_EQ(throttled, 2);
  const json state = body_of(client.admin(http::verb::get, "/_emulator/rate-limits"));
  EXPECT_EQ(state.at("calls").at("sts").at("allowed"), 1);
  EXPECT_EQ(state.at("calls").at("sts").at("throttled"), 2);
  EXPECT_EQ(state.at("calls").at("ram").at("throttled"), 0);
  EXPECT_EQ(
      client.admin(http::verb::post, "/_emulator/rate-limits", R"({"perSecond": -1})").result_int(),
      400);
  ASSERT_EQ(client.admin(http::verb::delete_, "/_emulator/rate-limits").result_int(), 200);
  EXPECT_EQ(client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host())).result_int(),
            200);
}

// The emulated distance: every API call waits at least the fixed part (a lower bound, so it cannot
// flake on a slow machine); the admin API reads and changes it.
TEST(ServerTest, LatencyThroughTheAdminApi) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  auto res =
      client.admin(http::verb::post, "/_emulator/latency", R"({"fixedMs": 40, "jitterMs": 5})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(body_of(client.admin(http::verb::get, "/_emulator/latency")),
            (json{{"fixedMs", 40}, {"jitterMs", 5}}));
  EXPECT_EQ(client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host())).result_int(),
            200);
  const json journal = body_of(client.admin(http::verb::get, "/_emulator/requests"));
  ASSERT_FALSE(journal.at("requests").empty());
  EXPECT_GE(journal.at("requests").back().at("durationMs").get<double>(), 40.0);
  EXPECT_EQ(
      client.admin(http::verb::post, "/_emulator/latency", R"({"fixedMs": "far"})").result_int(),
      400);
  ASSERT_EQ(client.admin(http::verb::delete_, "/_emulator/latency").result_int(), 200);
  EXPECT_EQ(body_of(client.admin(http::verb::get, "/_emulator/latency")).at("fixedMs"), 0);
}

TEST(ServerTest, LongTargetsPassAndOversizedBodiesAreRefused) {
  Emulator emulator(options());
  emulator.start();
  {
    // A 6,144-character document percent-encodes to ~18 KiB of URL: well inside the header limit.
    Client client(emulator.port());
    const auto res = client.send(
        sign_v3("GetRole", "2015-05-01", {{"RoleName", std::string(6000, '*')}}, client.host()));
    EXPECT_NE(res.result_int(), 431);
    EXPECT_NE(res.result_int(), 413);
  }
  {
    // Announce a 2 MiB body without sending it: the server must refuse on the header alone.
    // (Sending the body raced the server's close: the client could see EPIPE before reading the
    // 413.)
    Client client(emulator.port());
    client.write_raw(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 2097152\r\n\r\n");
    EXPECT_EQ(client.read().result_int(), 413);
  }
  {
    Client client(emulator.port());
    client.write_raw("GET /" + std::string(70 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(client.read().result_int(), 431);
  }
}

// Raw bytes to the emulator and everything it answers until it closes (or `timeout`).
std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  net::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  net::write(stream.socket(), net::buffer(bytes));
  std::string out;
  char buf[4096];
  beast::error_code ec;
  stream.expires_after(timeout);
  std::function<void()> read_more = [&] {
    stream.async_read_some(net::buffer(buf), [&](beast::error_code e, std::size_t n) {
      out.append(buf, n);
      if (!e) read_more();
      ec = e;
    });
  };
  read_more();
  io.run();
  return out;
}

// Issue 11: 431, 413 and malformed HTTP answer the gateway's error body with a request id, like
// every other error (they answered {"error": ...} without x-acs-request-id).
TEST(ServerTest, TransportErrorsHaveTheAlibabaShape) {
  Emulator emulator(options());
  emulator.start();
  auto check = [](const HttpResponse& res, int status, const std::string& code) {
    EXPECT_EQ(res.result_int(), status);
    const json body = json::parse(res.body());
    EXPECT_EQ(body.at("Code"), code) << res.body();
    for (const char* field : {"RequestId", "HostId", "Code", "Message", "Recommend"})
      EXPECT_TRUE(body.contains(field)) << field << " in " << res.body();
    EXPECT_FALSE(res["x-acs-request-id"].empty());
    EXPECT_EQ(std::string(res["x-acs-request-id"]), body.at("RequestId").get<std::string>());
    EXPECT_EQ(res[http::field::content_type], "application/json;charset=utf-8");
  };
  {
    Client client(emulator.port());
    client.write_raw("GET /" + std::string(70 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    check(client.read(), 431, "RequestHeaderFieldsTooLarge");
  }
  {
    Client client(emulator.port());
    client.write_raw(
        "POST / HTTP/1.1\r\nHost: ecs.example\r\nx-acs-version: 2014-05-26\r\n"
        "Content-Length: 2097152\r\n\r\n");
    const auto res = client.read();
    check(res, 413, "RequestEntityTooLarge");
    EXPECT_EQ(json::parse(res.body()).at("HostId"), "ecs.example");
    EXPECT_NE(json::parse(res.body()).at("Recommend").get<std::string>().find("product=Ecs"),
              std::string::npos);
  }
  {
    Client client(emulator.port());
    client.write_raw("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n");
    check(client.read(), 400, "BadRequest");
  }
}

// Issue 11: Transfer-Encoding together with Content-Length, on a request without a body, or other
// than exactly `chunked` is 400 and close, with no second response; so is HTTP/1.1 without Host
// or with two (RFC 9112). A proper chunked POST still works.
TEST(ServerTest, AmbiguousFramingAndBadHostAre400AndClose) {
  Emulator emulator(options());
  emulator.start();
  const std::string next = "GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const std::string& head : std::vector<std::string>{
           "POST /_emulator/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
           "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           "GET /_emulator/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           "0\r\n\r\n",
           "GET /_emulator/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
           "POST /_emulator/reset HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
           "0\r\n\r\n",
           "GET /_emulator/health HTTP/1.1\r\n\r\n",
           "GET /_emulator/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
    const std::string out = raw_exchange(emulator.port(), head + next);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << head << out;
    EXPECT_NE(out.find("\"Code\":\"BadRequest\""), std::string::npos) << out;
    EXPECT_EQ(out.find("HTTP/1.1 200"), std::string::npos) << "a second response: " << out;
  }
  const std::string chunked =
      raw_exchange(emulator.port(),
                   "POST /_emulator/reset HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.rfind("HTTP/1.1 200", 0), 0u) << chunked;
  const std::string http10 =
      raw_exchange(emulator.port(), "GET /_emulator/health HTTP/1.0\r\n\r\n");
  EXPECT_EQ(http10.rfind("HTTP/1.0 200", 0), 0u) << http10;
}

// Issue 11: a fault rule's latency is bounded like --latency-ms (it accepted 31 years, and a
// value past INT64_MAX became a negative wait).
TEST(ServerTest, FaultLatencyIsBoundedLikeTheFlag) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  for (const char* rule : {R"({"latencyMs": 1000000000000})", R"({"latencyMs": 600001})",
                           R"({"latencyMs": 18446744073709551615})",
                           R"({"code": "X", "retryAfterMs": 999999999999})"}) {
    const auto res = client.admin(http::verb::post, "/_emulator/faults", rule);
    EXPECT_EQ(res.result_int(), 400) << rule;
    EXPECT_NE(res.body().find("from 0 to 600000"), std::string::npos) << res.body();
  }
  EXPECT_EQ(
      client.admin(http::verb::post, "/_emulator/faults", R"({"latencyMs": 600000})").result_int(),
      200);
  EXPECT_EQ(body_of(client.admin(http::verb::get, "/_emulator/faults")).at("rules").size(), 1u);
}

// Issue 11: idle TCP connections that never start TLS cannot lock clients out: a new connection
// at the cap takes the place of the longest-waiting one, and the handshake has a deadline.
TEST(ServerTest, IdleTcpConnectionsDoNotLockOutTlsClients) {
  Emulator emulator(options(TlsMode::kSelfSigned));
  emulator.start();
  net::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> idle;
  for (int i = 0; i < 300; ++i) {  // more than the 256-connection cap
    idle.push_back(std::make_unique<tcp::socket>(io));
    idle.back()->connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), emulator.port()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  Client client(emulator.port(), emulator.certificate_pem());
  client.set_deadline(std::chrono::seconds(5));
  const auto res = client.send(sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host()));
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(ServerTest, TlsHandshakeHasADeadline) {
  EmulatorOptions o = options(TlsMode::kSelfSigned);
  o.server.handshake_timeout = std::chrono::milliseconds(200);
  Emulator emulator(o);
  emulator.start();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(raw_exchange(emulator.port(), "", std::chrono::seconds(10)), "");  // closed, silent
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

// A V3 request without x-acs-signature-nonce or x-acs-content-sha256 is `MissingParameter`
// naming the header (docs/emulator.md, verification step 3).
TEST(ServerTest, MissingSignatureHeaderIsMissingParameter) {
  Emulator emulator(options());
  emulator.start();
  Client client(emulator.port());
  for (const char* header : {"x-acs-signature-nonce", "x-acs-content-sha256"}) {
    HttpRequest req = sign_v3("GetCallerIdentity", "2015-04-01", {}, client.host());
    req.erase(header);
    const auto res = client.send(std::move(req));
    EXPECT_EQ(res.result_int(), 400);
    EXPECT_EQ(body_of(res).at("Code"), "MissingParameter") << header;
    EXPECT_NE(body_of(res).at("Message").get<std::string>().find(header), std::string::npos);
  }
}

TEST(ServerTest, AdminTakesLargeSeedsAndAnswersExpectContinue) {
  Emulator emulator(options());
  emulator.start();
  json big = seed();
  big["description"] = std::string(3 * 1024 * 1024, 'x');  // over the API's 1 MiB body limit
  const std::string body = big.dump();
  Client client(emulator.port());
  client.write_raw(
      "POST /_emulator/seed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Expect: 100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(client.read().result_int(), 100);  // before a byte of the body was sent
  client.write_raw(body);
  const auto res = client.read();
  EXPECT_EQ(res.result_int(), 200) << res.body();
}

TEST(ServerTest, BindFailureIsAnError) {
  Emulator first(options());
  first.start();
  EmulatorOptions o = options();
  o.listen = "127.0.0.1:" + std::to_string(first.port());
  Emulator second(o);
  EXPECT_THROW(second.start(), std::runtime_error);
  EmulatorOptions bad = options();
  bad.listen = "nonsense";
  EXPECT_THROW(Emulator{bad}, std::invalid_argument);
}

// --- The binary.
// ------------------------------------------------------------------------------------

struct Spawned {
  pid_t pid = -1;
  int out = -1;
  int err = -1;
};

Spawned spawn(const std::vector<std::string>& args) {
  int out[2], err[2];
  EXPECT_EQ(pipe(out), 0);
  EXPECT_EQ(pipe(err), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, err[0]);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  Spawned s;
  EXPECT_EQ(posix_spawn(&s.pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  s.out = out[0];
  s.err = err[0];
  return s;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

std::string read_all(int fd) {
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
  return all;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string binary() {
  return std::string(SHAREKEEPER_BINARY_DIR) + "/emulator/sharekeeper-emulator";
}

TEST(ServerTest, BinaryPrintsItsAddressAndStopsOnSigterm) {
  if (!std::filesystem::exists(binary())) GTEST_SKIP() << "build sharekeeper-emulator first";
  const auto dir =
      std::filesystem::temp_directory_path() / ("emulator-bin-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string port_file = (dir / "port").string();
  const std::string cert_file = (dir / "cert.pem").string();
  Spawned s = spawn({binary(), "--listen", "127.0.0.1:0", "--port-file", port_file,
                     "--tls-self-signed", "--cert-out", cert_file});
  const std::string line = read_line(s.out);
  ASSERT_EQ(line.rfind("listening on https://127.0.0.1:", 0), 0u) << line << read_all(s.err);
  const std::string port = line.substr(std::string("listening on https://127.0.0.1:").size());
  std::ifstream pf(port_file);
  std::string written;
  pf >> written;
  EXPECT_EQ(written, port);
  std::ifstream cf(cert_file);
  std::stringstream cert;
  cert << cf.rdbuf();
  {
    Client client(static_cast<std::uint16_t>(std::stoi(port)), cert.str());
    EXPECT_EQ(client.admin(http::verb::get, "/_emulator/health").result_int(), 200);
  }
  kill(s.pid, SIGTERM);
  EXPECT_EQ(wait_exit(s.pid), 0);
  close(s.out);
  close(s.err);
  std::filesystem::remove_all(dir);
}

TEST(ServerTest, BinaryRejectsAMalformedSeedWithOneLine) {
  if (!std::filesystem::exists(binary())) GTEST_SKIP() << "build sharekeeper-emulator first";
  const auto path = std::filesystem::temp_directory_path() /
                    ("emulator-seed-" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << R"({"accounts": [{"uid": 12}]})";
  Spawned s = spawn({binary(), "--listen", "127.0.0.1:0", "--seed", path.string()});
  const std::string err = read_all(s.err);
  EXPECT_EQ(wait_exit(s.pid), 1);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("invalid seed"), std::string::npos) << err;
  EXPECT_TRUE(read_all(s.out).empty());
  close(s.out);
  close(s.err);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace sharekeeper::emulator
