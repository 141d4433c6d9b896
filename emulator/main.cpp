// sharekeeper-emulator: a local Alibaba Cloud (RAM, STS, ECS, KMS, Resource Sharing) speaking the
// real wire protocol. See docs/emulator.md.
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "emulator/emulator.hpp"
#include "emulator/tls.hpp"
#include "support/open_files.hpp"

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "sharekeeper-emulator: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sharekeeper::emulator;
  CLI::App app{"sharekeeper-emulator: a local Alibaba Cloud speaking the real wire protocol"};
  app.set_version_flag("--version", SHAREKEEPER_VERSION);
  EmulatorOptions options;
  std::string seed_file, port_file;
  bool self_signed = false;
  std::int64_t latency_ms = 0, jitter_ms = 0, association_delay_ms = 200, consistency_lag_ms = 0;
  std::vector<std::string> product_rates;
  app.add_option("--listen", options.listen, "host:port to listen on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--seed", seed_file, "seed JSON (accounts, keys, roles, resources)")
      ->check(CLI::ExistingFile);
  auto* self_signed_flag = app.add_flag("--tls-self-signed", self_signed,
                                        "serve HTTPS with a fresh self-signed certificate");
  auto* cert =
      app.add_option("--tls-cert", options.tls_cert_file, "serve HTTPS with this PEM chain")
          ->check(CLI::ExistingFile);
  auto* key = app.add_option("--tls-key", options.tls_key_file, "private key (PEM) for --tls-cert")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  self_signed_flag->excludes(cert);
  app.add_option("--cert-out", options.cert_out, "write the serving certificate (PEM) here");
  app.add_option("--port-file", port_file, "write the bound port here");
  app.add_option("--latency-ms", latency_ms, "added to every API call (a distant region)")
      ->check(CLI::Range(0, 600'000));
  app.add_option("--latency-jitter-ms", jitter_ms,
                 "a uniform 0..N ms added to --latency-ms on each call")
      ->check(CLI::Range(0, 600'000));
  app.add_option("--rate-limit", options.server.rate_limits.per_second,
                 "calls per second per account and product before Throttling.User (0: unlimited)")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--rate-limit-burst", options.server.rate_limits.burst,
                 "token bucket size (0: the rate, at least 1)")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option(
      "--rate-limit-product", product_rates,
      "PRODUCT=N: a product's own rate (ram, sts, ecs, kms, resourcesharing); repeatable");
  app.add_option("--fault-seed", options.server.fault_seed, "seed of the fault rules' generator");
  app.add_option("--association-delay-ms", association_delay_ms,
                 "Resource Sharing Associating -> Associated delay")
      ->capture_default_str()
      ->check(CLI::Range(0, 3'600'000));
  app.add_option("--consistency-lag-ms", consistency_lag_ms,
                 "a created role/policy stays invisible to reads this long")
      ->check(CLI::Range(0, 3'600'000));
  app.add_option("--max-connections", options.server.max_connections,
                 "connections open at once (docs/emulator.md: at the cap, the longest idle one is "
                 "closed; the open-files limit is raised to fit)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--journal-capacity", options.server.journal_capacity,
                 "request journal entries kept")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  options.server.latency = {std::chrono::milliseconds(latency_ms),
                            std::chrono::milliseconds(jitter_ms)};
  for (const auto& spec : product_rates) {
    const auto eq = spec.find('=');
    char* end = nullptr;
    const double rate = eq == std::string::npos ? -1 : std::strtod(spec.c_str() + eq + 1, &end);
    if (eq == 0 || eq == std::string::npos || rate < 0 || end == spec.c_str() + eq + 1 ||
        *end != '\0')
      return fail("--rate-limit-product must be PRODUCT=N with N >= 0: " + spec);
    options.server.rate_limits.products[spec.substr(0, eq)] = rate;
  }
  // Each connection is a descriptor: the cap, not EMFILE, should decide (support/open_files.hpp).
  const std::uint64_t wanted = static_cast<std::uint64_t>(options.server.max_connections) + 64;
  if (const std::uint64_t limit = sharekeeper::support::raise_open_files_limit(wanted);
      limit < wanted)
    std::fprintf(stderr,
                 "sharekeeper-emulator: warning: the open-files limit (%llu) is below "
                 "--max-connections + 64; connections past it are refused\n",
                 static_cast<unsigned long long>(limit));
  options.model.association_delay = std::chrono::milliseconds(association_delay_ms);
  options.model.consistency_lag = std::chrono::milliseconds(consistency_lag_ms);
  if (self_signed) {
    options.tls = TlsMode::kSelfSigned;
  } else if (!options.tls_cert_file.empty()) {
    options.tls = TlsMode::kFiles;
  }
  if (!options.cert_out.empty() && options.tls == TlsMode::kNone) {
    return fail("--cert-out needs --tls-self-signed or --tls-cert/--tls-key");
  }
  if (!seed_file.empty()) {
    try {
      options.seed = nlohmann::json::parse(read_file(seed_file));
    } catch (const std::exception& e) {
      return fail("seed " + seed_file + ": " + e.what());
    }
  }

  // Block the stop signals before any thread starts, so every thread inherits the mask and only the
  // sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<Emulator> emulator;
  try {
    emulator = std::make_unique<Emulator>(options);
    emulator->start();
    if (!port_file.empty()) write_file(port_file, std::to_string(emulator->port()) + "\n");
  } catch (const SeedError& e) {
    return fail("invalid seed " + seed_file + ": " + e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::printf("listening on %s\n", emulator->url().c_str());
  std::fflush(stdout);

  int received = 0;
  sigwait(&stop_signals, &received);
  emulator->stop();
  return 0;
}
