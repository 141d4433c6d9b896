#include "emulator/journal.hpp"

#include "emulator/verifier.hpp"

namespace sharekeeper::emulator {

Journal::Journal(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

std::uint64_t Journal::record(JournalEntry entry) {
  std::lock_guard lock(mutex_);
  entry.seq = next_seq_++;
  entries_.push_back(std::move(entry));
  while (entries_.size() > capacity_) entries_.pop_front();
  return entries_.back().seq;
}

void Journal::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

std::vector<JournalEntry> Journal::entries() const {
  std::lock_guard lock(mutex_);
  return {entries_.begin(), entries_.end()};
}

nlohmann::json Journal::to_json(std::uint64_t since, const std::string& action) const {
  std::lock_guard lock(mutex_);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : entries_) {
    if (e.seq <= since) continue;
    if (!action.empty() && e.action != action) continue;
    nlohmann::json item = {{"seq", e.seq},
                           {"time", format_timestamp(e.time)},
                           {"requestId", e.request_id},
                           {"method", e.method},
                           {"product", e.product},
                           {"action", e.action},
                           {"version", e.version},
                           {"account", e.account},
                           {"signatureVersion", e.signature},
                           {"status", e.status},
                           {"code", e.code},
                           {"committed", e.committed},
                           {"dropped", e.dropped},
                           {"durationMs", e.duration_ms}};
    if (e.fault_rule != 0) item["faultRule"] = e.fault_rule;
    list.push_back(std::move(item));
  }
  return {{"requests", std::move(list)}};
}

}  // namespace sharekeeper::emulator
