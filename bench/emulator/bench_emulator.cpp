// How many signed requests per second the emulator answers on loopback, so it is never the
// bottleneck of sharekeeper's scale tests (aim: >= 3,000/s on a 2-core machine). Two client
// threads, each with one keep-alive connection, sign V3 requests (their own small signer: the
// client's cost is on this machine too) and wait for each answer. Prints every round and the
// median.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "emulator/emulator.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr const char* kKeyId = "LTAI5tBenchKey0000001";
constexpr const char* kSecret = "BenchSecret0123456789abcdefghij";

std::string hex(const unsigned char* p, unsigned n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return hex(md, n);
}

std::string hmac256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &n);
  return hex(md, n);
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

http::request<http::string_body> sign(const std::string& action, const std::string& version,
                                      const std::string& query, const std::string& host,
                                      const std::string& nonce) {
  const std::map<std::string, std::string> headers = {{"host", host},
                                                      {"x-acs-action", action},
                                                      {"x-acs-content-sha256", sha256("")},
                                                      {"x-acs-date", now_utc()},
                                                      {"x-acs-signature-nonce", nonce},
                                                      {"x-acs-version", version}};
  std::string canonical_headers, names;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    names += (names.empty() ? "" : ";") + k;
  }
  const std::string canonical =
      "POST\n/\n" + query + "\n" + canonical_headers + "\n" + names + "\n" + sha256("");
  http::request<http::string_body> req{http::verb::post, query.empty() ? "/" : "/?" + query, 11};
  for (const auto& [k, v] : headers) req.set(k, v);
  req.set(http::field::authorization,
          "ACS3-HMAC-SHA256 Credential=" + std::string(kKeyId) + ",SignedHeaders=" + names +
              ",Signature=" + hmac256(kSecret, "ACS3-HMAC-SHA256\n" + sha256(canonical)));
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

struct Round {
  double per_second = 0;
  std::uint64_t errors = 0;
};

Round run_round(std::uint16_t port, const std::string& action, const std::string& version,
                const std::string& query, std::chrono::duration<double> length, int connections,
                std::atomic<std::uint64_t>& nonce_counter) {
  std::atomic<std::uint64_t> done{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  const std::string host = "127.0.0.1:" + std::to_string(port);
  for (int c = 0; c < connections; ++c) {
    clients.emplace_back([&] {
      net::io_context io;
      beast::tcp_stream stream(io);
      stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
      stream.socket().set_option(tcp::no_delay(true));
      beast::flat_buffer buffer;
      while (!stop.load(std::memory_order_relaxed)) {
        auto req = sign(action, version, query, host, "bench-" + std::to_string(++nonce_counter));
        http::write(stream, req);
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        if (res.result_int() != 200) ++errors;
        ++done;
      }
    });
  }
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(length);
  stop = true;
  for (auto& t : clients) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Round{static_cast<double>(done.load()) / seconds, errors.load()};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sharekeeper::emulator;
  const double seconds = argc > 1 ? std::stod(argv[1]) : 2.0;
  const int rounds = argc > 2 ? std::stoi(argv[2]) : 5;
  EmulatorOptions options;
  options.seed = nlohmann::json::parse(R"({"accounts": [{
      "uid": "1234567890123456", "name": "bench",
      "accessKeys": [{"id": "LTAI5tBenchKey0000001", "secret": "BenchSecret0123456789abcdefghij"}],
      "roles": [{"name": "AliyunECSShareEncryptImageDefaultRole",
                 "trustPolicy": {"Version": "1", "Statement": [{"Effect": "Allow",
                   "Action": "sts:AssumeRole",
                   "Principal": {"Service": ["1234567890123456@ecs.aliyuncs.com"]}}]}}]}]})");
  Emulator emulator(options);
  emulator.start();
  std::atomic<std::uint64_t> nonces{0};
  std::printf("emulator at %s, 2 keep-alive connections, %.1f s per round, %d rounds\n",
              emulator.url().c_str(), seconds, rounds);
  struct Case {
    const char* action;
    const char* version;
    const char* query;
  };
  for (const Case& c :
       {Case{"GetCallerIdentity", "2015-04-01", ""},
        Case{"GetRole", "2015-05-01", "RoleName=AliyunECSShareEncryptImageDefaultRole"}}) {
    std::vector<double> rates;
    std::uint64_t errors = 0;
    for (int r = 0; r < rounds; ++r) {
      const Round round = run_round(emulator.port(), c.action, c.version, c.query,
                                    std::chrono::duration<double>(seconds), 2, nonces);
      rates.push_back(round.per_second);
      errors += round.errors;
      std::printf("  %-18s round %d: %8.0f requests/s\n", c.action, r + 1, round.per_second);
    }
    std::sort(rates.begin(), rates.end());
    std::printf("%-18s median %8.0f signed requests/s (min %.0f, max %.0f, non-200 answers %llu)\n",
                c.action, rates[rates.size() / 2], rates.front(), rates.back(),
                static_cast<unsigned long long>(errors));
  }
  emulator.stop();
  return 0;
}
