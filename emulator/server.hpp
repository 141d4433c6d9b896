#pragma once
// The emulator's HTTP(S) front: one Beast listener on its own io_context and thread, serving the
// RPC API of every product on "/" (verified by Verifier, answered by Model, with faults, latency
// and rate limits applied) and the unsigned admin API under /_emulator/. Beast stays inside
// server.cpp.
//
// Thread-safe: start()/stop() from one owner thread; the accessors are safe from any thread.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "emulator/faults.hpp"
#include "emulator/journal.hpp"
#include "emulator/model.hpp"
#include "emulator/rate_limits.hpp"

namespace sharekeeper::emulator {

// The emulated wall clock: real time plus an offset that POST /_emulator/clock moves, so recorded
// SDK captures (fixed timestamps) can be replayed and STS expiry reached without waiting.
class EmulatedClock {
 public:
  Clock::time_point now() const { return Clock::now() + offset(); }
  std::chrono::milliseconds offset() const { return std::chrono::milliseconds(offset_ms_.load()); }
  void set_offset(std::chrono::milliseconds offset) { offset_ms_.store(offset.count()); }
  void set_now(Clock::time_point now) {
    set_offset(std::chrono::duration_cast<std::chrono::milliseconds>(now - Clock::now()));
  }
  void reset() { offset_ms_.store(0); }

 private:
  std::atomic<std::int64_t> offset_ms_{0};
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the kernel picks; port() tells which
  bool tls = false;
  std::string certificate_pem;  // with tls
  std::string private_key_pem;  // with tls
  // Policy documents travel in the URL (docs/alibaba-api.md §1.1): a 6 KiB document percent-encodes
  // to ~18 KiB.
  std::size_t header_limit = std::size_t{64} * 1024;
  std::size_t body_limit = std::size_t{1024} * 1024;
  std::size_t admin_body_limit =
      std::size_t{64} * 1024 * 1024;  // POST /_emulator/seed of a large world
  std::chrono::seconds idle_timeout{60};
  // A TLS client sends its ClientHello at once; a socket that sends nothing is cut after this.
  std::chrono::milliseconds handshake_timeout{5000};
  // At the cap, the connection that has waited longest without a request in progress (in its
  // handshake, or idle between requests) is closed to make room for the new one; only when every
  // connection is busy is the new one refused. 300 idle sockets once locked every client out.
  std::size_t max_connections = 256;
  LatencyConfig latency;        // added to every API call: a distant region (rate_limits.hpp)
  RateLimitConfig rate_limits;  // per account and product, then Throttling.User (rate_limits.hpp)
  std::uint64_t fault_seed = 1;
  std::size_t journal_capacity = 10'000;
};

// One API call the model ran (committed), as the commit observer sees it.
struct CommitEvent {
  std::string product;
  std::string action;
  std::string account;  // caller's UID
  int status = 0;       // the model's answer (an afterCommit fault may replace it on the wire)
  std::uint64_t fault_rule =
      0;  // the fault rule that will fail, drop or delay the answer, 0 if none
};
// Runs on the server's thread right after Model::call, before any after-commit latency and before
// the answer is written: an invariant check after every write, or a crash-point test that kills
// the client process right after its k-th committed write (the answer is then never received). It
// may read the model (Model::state, Model::access) but must not call the server.
using CommitObserver = std::function<void(const CommitEvent&)>;

class Server {
 public:
  Server(Model& model, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on a new thread. Throws std::runtime_error when the address cannot be
  // bound.
  void start();
  // Stops accepting, closes every connection and joins the thread. Idempotent.
  void stop();

  std::uint16_t port() const;
  bool tls() const;

  FaultInjector& faults();
  RateLimits& rate_limits();
  Latency& latency();
  Journal& journal();
  EmulatedClock& clock();
  // Replaces the commit observer (an empty function removes it). Thread-safe.
  void set_commit_observer(CommitObserver observer);
  // Forgets every nonce seen (also done by POST /_emulator/reset).
  void clear_nonces();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sharekeeper::emulator
