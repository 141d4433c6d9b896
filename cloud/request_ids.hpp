#pragma once
// The Alibaba RequestIds of the calls a thread makes, for audit records.
//
// CloudApi methods are blocking (ADR 0001), so the calls a thread makes while a collector lives are
// exactly the calls of the code inside the collector's scope. An implementation reports each
// successful call with note_call(); fakes may too. Nested collectors all see the call.
#include <string>
#include <string_view>
#include <vector>

namespace sharekeeper::cloud {

struct CallRecord {
  std::string action;      // e.g. "CreatePolicyVersion"
  std::string request_id;  // as the service returned it
};

class CallCollector {
 public:
  CallCollector();
  ~CallCollector();
  CallCollector(const CallCollector&) = delete;
  CallCollector& operator=(const CallCollector&) = delete;

  const std::vector<CallRecord>& calls() const { return calls_; }

 private:
  friend void note_call(std::string_view action, std::string_view request_id);
  std::vector<CallRecord> calls_;
};

// Records a successful call in every collector alive on this thread; a no-op without one.
void note_call(std::string_view action, std::string_view request_id);

// True for the actions that only read (Get*, List*, Describe*).
bool is_read_action(std::string_view action);

}  // namespace sharekeeper::cloud
