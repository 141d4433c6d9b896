#pragma once
// The request journal (GET /_emulator/requests): one entry per API call the emulator answered,
// newest last, bounded. It records who called what and how it ended — never keys, tokens or
// signatures.
//
// Thread-safe.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "emulator/model.hpp"

namespace sharekeeper::emulator {

struct JournalEntry {
  std::uint64_t seq = 0;   // assigned by the journal, from 1
  Clock::time_point time;  // emulated clock
  std::string request_id;
  std::string method;
  std::string product;
  std::string action;
  std::string version;
  std::string account;           // caller's account UID; empty when anonymous or unverified
  std::string signature;         // V1 | V3 | none
  int status = 0;                // 0 when the connection was dropped
  std::string code;              // error code, empty on success
  std::uint64_t fault_rule = 0;  // the fault rule that failed or dropped it
  bool committed = false;        // the model ran the call (true also for faults with afterCommit)
  bool dropped = false;
  double duration_ms = 0;
};

class Journal {
 public:
  explicit Journal(std::size_t capacity = 10'000);

  std::uint64_t record(JournalEntry entry);
  void clear();
  std::vector<JournalEntry> entries() const;
  // {"requests": [...]} with entries whose seq > since, optionally only one action.
  nlohmann::json to_json(std::uint64_t since = 0, const std::string& action = {}) const;

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<JournalEntry> entries_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace sharekeeper::emulator
