// GetRole loop against sharekeeper-emulator (a separate process, plain HTTP on loopback):
// requests/s and CPU-seconds per request of the AlibabaClient (this process) and of the official
// Node SDK
// (@alicloud/ram20150501, tests/compat/node_modules) in the same run, V3 and V1: sequential (one
// call in flight, where the emulator's own time per request bounds both clients) and with 16 calls
// in flight (16 threads on one client here, 16 async loops on one client in Node), where the
// emulator is no longer the bound and the comparison measures the clients.
//
//   bench_getrole [--seconds 5] [--emulator PATH] [--node-modules DIR] [--in-flight 16]
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cloud/alibaba_client.hpp"
#include "cloud/credential_providers.hpp"
#include "cloud/transport.hpp"

namespace {

using nlohmann::json;
using namespace sharekeeper;

constexpr const char* kAk = "LTAI5tBenchKey00000001";
constexpr const char* kSk = "BenchSecret0123456789abcdefghij";
constexpr const char* kRole = "AliyunECSShareEncryptImageDefaultRole";

struct Figures {
  long requests = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  double rps() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
  double cpu_us_per_request() const {
    return requests > 0 ? cpu_seconds * 1e6 / static_cast<double>(requests) : 0;
  }
};

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::shared_ptr<cloud::StaticCredentialsProvider> static_key() {
  cloud::Credentials c;
  c.access_key_id = kAk;
  c.access_key_secret = kSk;
  c.provider = "static_ak";
  return std::make_shared<cloud::StaticCredentialsProvider>(std::move(c));
}

std::unique_ptr<cloud::AlibabaClient> make_client(const std::string& url,
                                                  cloud::SignatureAlgorithm alg,
                                                  std::shared_ptr<cloud::Transport> transport) {
  cloud::EndpointOptions eo;
  eo.override_all = url;
  cloud::AlibabaClientOptions o;
  o.transport = std::move(transport);
  o.credentials = static_key();
  o.endpoints =
      std::make_shared<const cloud::EndpointResolver>(*cloud::EndpointResolver::create(eo));
  o.signature = alg;
  // The client-side limiter would pace this loop at 20/s: the benchmark measures the client itself.
  cloud::RateLimiterOptions fast;
  fast.initial_rate = fast.max_rate = fast.burst = 1e9;
  o.rate_limiters = std::make_shared<cloud::RateLimiterSet>(fast);
  return std::make_unique<cloud::AlibabaClient>(std::move(o));
}

Figures cpp_loop(cloud::AlibabaClient& client, double seconds, int in_flight) {
  for (int i = 0; i < 50; ++i) (void)client.get_role(kRole);  // warm-up: connection, allocator
  Figures f;
  std::atomic<long> requests{0};
  const double cpu0 = process_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::duration<double>(seconds);
  auto loop = [&] {
    while (std::chrono::steady_clock::now() < end) {
      auto r = client.get_role(kRole);
      if (!r.ok() || !r->has_value()) {
        std::fprintf(stderr, "GetRole failed: %s\n",
                     r.ok() ? "absent" : r.error().to_string().c_str());
        std::exit(1);
      }
      ++requests;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < in_flight; ++i) threads.emplace_back(loop);
  loop();
  for (auto& t : threads) t.join();
  f.requests = requests.load();
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  f.cpu_seconds = process_cpu_seconds() - cpu0;
  return f;
}

std::optional<Figures> node_loop(const std::string& node_modules, const std::string& host_port,
                                 const char* mode, double seconds, int in_flight) {
  const std::string script = std::string(SHAREKEEPER_SOURCE_DIR) + "/bench/signing/getrole_loop.js";
  std::ostringstream cmd;
  cmd << "SK_NODE_MODULES='" << node_modules << "' SK_AK=" << kAk << " SK_SK=" << kSk
      << " SK_ENDPOINT=" << host_port << " SK_ROLE=" << kRole << " SK_MODE=" << mode
      << " SK_SECONDS=" << seconds << " SK_IN_FLIGHT=" << in_flight << " node '" << script << "'";
  FILE* p = popen(cmd.str().c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  std::array<char, 512> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) out += buf.data();
  if (pclose(p) != 0) return std::nullopt;
  const json j = json::parse(out, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  Figures f;
  f.requests = j.value("requests", 0L);
  f.seconds = j.value("seconds", 0.0);
  f.cpu_seconds = j.value("cpu_seconds", 0.0);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  int wide = 16;
  std::string emulator_bin = SHAREKEEPER_EMULATOR_BIN;
  std::string node_modules = std::string(SHAREKEEPER_SOURCE_DIR) + "/tests/compat/node_modules";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (a == "--emulator")
      emulator_bin = argv[i + 1];
    else if (a == "--node-modules")
      node_modules = argv[i + 1];
    else if (a == "--in-flight")
      wide = std::max(2, std::atoi(argv[i + 1]));
  }

  char dir_template[] = "/tmp/bench_getrole_XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const std::string seed_file = dir + "/seed.json";
  const std::string port_file = dir + "/port";
  std::ofstream(seed_file)
      << json{{"accounts",
               json::array({{{"uid", "1234567890123456"},
                             {"name", "bench"},
                             {"accessKeys", json::array({{{"id", kAk}, {"secret", kSk}}})}}})}}
             .dump();

  const pid_t emu = fork();
  if (emu == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    execl(emulator_bin.c_str(), emulator_bin.c_str(), "--listen", "127.0.0.1:0", "--seed",
          seed_file.c_str(), "--port-file", port_file.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  std::string port;
  for (int i = 0; i < 200 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(port_file);
    std::getline(in, port);
  }
  if (port.empty()) {
    std::fprintf(stderr, "emulator did not start (%s)\n", emulator_bin.c_str());
    kill(emu, SIGKILL);
    return 1;
  }
  const std::string host_port = "127.0.0.1:" + port;

  cloud::TransportOptions to;
  to.allow_http = true;
  to.proxy = cloud::ProxySettings{};
  auto transport = cloud::HttpsTransport::create(to);
  if (!transport) {
    std::fprintf(stderr, "%s\n", transport.error().to_string().c_str());
    return 1;
  }
  std::shared_ptr<cloud::Transport> shared_transport(std::move(*transport));
  auto setup = make_client("http://" + host_port, cloud::SignatureAlgorithm::kV3, shared_transport);
  const std::string trust =
      R"({"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["1111222233334444@ecs.aliyuncs.com"]}}],"Version":"1"})";
  if (auto r = setup->create_role(kRole, trust, "bench", {}); !r.ok()) {
    std::fprintf(stderr, "CreateRole failed: %s\n", r.error().to_string().c_str());
    kill(emu, SIGTERM);
    return 1;
  }

  std::printf(
      "GetRole loop against sharekeeper-emulator (separate process, http://%s), %.0f s each\n",
      host_port.c_str(), seconds);
  int rc = 0;
  for (const int in_flight : {1, wide}) {
    std::printf("%s\n%-34s %10s %12s %14s\n",
                in_flight == 1 ? "sequential (1 in flight)"
                               : (std::to_string(in_flight) + " in flight").c_str(),
                "client", "requests", "requests/s", "CPU us/request");
    for (const char* mode : {"V3", "V1"}) {
      const auto alg = std::strcmp(mode, "V3") == 0 ? cloud::SignatureAlgorithm::kV3
                                                    : cloud::SignatureAlgorithm::kV1;
      auto client = make_client("http://" + host_port, alg, shared_transport);
      const Figures ours = cpp_loop(*client, seconds, in_flight);
      std::printf("%-34s %10ld %12.0f %14.1f\n",
                  (std::string("sharekeeper AlibabaClient ") + mode).c_str(), ours.requests,
                  ours.rps(), ours.cpu_us_per_request());
      const auto sdk = node_loop(node_modules, host_port, mode, seconds, in_flight);
      if (!sdk) {
        std::printf("%-34s %10s\n", (std::string("Node SDK ram20150501 ") + mode).c_str(),
                    "unavailable");
        rc = 1;
        continue;
      }
      std::printf("%-34s %10ld %12.0f %14.1f\n",
                  (std::string("Node SDK ram20150501 ") + mode).c_str(), sdk->requests, sdk->rps(),
                  sdk->cpu_us_per_request());
      std::printf("%-34s %23.2fx %13.2fx\n", "  ours vs SDK (throughput, CPU)",
                  ours.rps() / sdk->rps(), ours.cpu_us_per_request() / sdk->cpu_us_per_request());
    }
  }

  kill(emu, SIGTERM);
  waitpid(emu, nullptr, 0);
  std::remove(seed_file.c_str());
  std::remove(port_file.c_str());
  rmdir(dir.c_str());
  return rc;
}
