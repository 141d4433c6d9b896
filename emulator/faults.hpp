#pragma once
// Fault injection for the emulator (POST /_emulator/faults): rules that answer an error, add
// latency or drop the connection for matching calls, before the model sees the call or after it
// applied it (`afterCommit`: the "did it happen?" case). Flow control (Throttling.User) and the
// emulated distance are not faults: they live in rate_limits.hpp.
//
// Deterministic: probabilities draw from one seeded generator (--fault-seed), so a failing run
// replays. Thread-safe: every public method takes the object's mutex.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sharekeeper::emulator {

// One rule, as POSTed: {action, product?, account?, probability | nth, times?, code?, status?,
// message?, latencyMs?, afterCommit?, drop?, retryAfterMs?}.
struct FaultRule {
  std::string action = "*";            // action name, or "*" for every action
  std::string product;                 // ram | sts | ecs | kms | resourcesharing; empty = any
  std::string account;                 // caller's account UID; empty = any
  std::optional<double> probability;   // fires on each matching call with this probability
  std::optional<std::uint64_t> nth;    // fires on the nth matching call only (1-based)
  std::optional<std::uint64_t> times;  // stops firing after this many
  std::string code;                    // error code; empty: a latency-only (or drop-only) rule
  int status = 0;                      // HTTP status of the error
  std::string message;
  std::chrono::milliseconds latency{0};  // added before answering (slept asynchronously)
  // Let the model apply the call first, then wait `latency` and fail, drop or (latency only) answer
  // late: the "did it happen?" case.
  bool after_commit = false;
  std::optional<std::chrono::milliseconds> retry_after;  // sent as x-acs-retry-after with the error
  bool drop = false;  // close the connection instead of answering

  // Bookkeeping, shown by GET /_emulator/faults.
  std::uint64_t id = 0;
  std::uint64_t matched = 0;
  std::uint64_t fired = 0;
};

// What the server must do with one call.
struct FaultDecision {
  std::chrono::milliseconds latency{0};        // before the model sees the call
  std::chrono::milliseconds latency_after{0};  // after the model applied it (afterCommit rules)
  bool fail = false;          // answer code/status/message instead of the model's answer
  bool drop = false;          // close the connection without answering
  bool after_commit = false;  // the fail/drop comes after the model applied the call
  int status = 0;
  std::string code;
  std::string message;
  std::optional<std::chrono::milliseconds> retry_after;
  std::uint64_t rule_id = 0;  // the rule that failed/dropped the call, 0 if none
};

class FaultInjector {
 public:
  explicit FaultInjector(std::uint64_t seed = 1);

  // Parses one rule; throws std::invalid_argument naming the bad field.
  static FaultRule parse_rule(const nlohmann::json& rule);
  // Accepts a rule, an array of rules, or {"rules": [...]}; all or nothing. Returns the new ids.
  std::vector<std::uint64_t> add(const nlohmann::json& rules);
  std::uint64_t add(FaultRule rule);
  void clear();
  void reseed(std::uint64_t seed);

  // Rules are evaluated in order: every firing rule adds its latency; the first firing rule with a
  // code (or drop) decides the error, and the rules after it are not evaluated (counters
  // unchanged).
  FaultDecision decide(std::string_view product, std::string_view action, std::string_view account);

  nlohmann::json to_json() const;

 private:
  mutable std::mutex mutex_;
  std::vector<FaultRule> rules_;
  std::uint64_t next_id_ = 1;
  std::mt19937_64 random_;
};

}  // namespace sharekeeper::emulator
