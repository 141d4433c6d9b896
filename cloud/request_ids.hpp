#pragma once
// The Alibaba RequestIds of the calls a thread makes, for audit records.
//
// CloudApi methods are blocking (ADR 0001), so the calls a thread makes while a collector lives are
// exactly the calls of the code inside the collector's scope. An implementation reports each
// successful call with note_call(); fakes may too. Nested collectors all see the call.
//
// Thread-safety: a collector belongs to the thread that made it; it must be destroyed on that
// thread (a plain scope; never held across a co_await or handed to another thread).
#include <string>
#include <string_view>
#include <vector>

namespace sharekeeper::cloud {

struct CallRecord {
  std::string action;      // e.g. "CreatePolicyVersion"
  std::string request_id;  // as the service returned it ("" when the answer carried none)
  bool read_only = false;  // a Get/List/Describe call
};

class CallCollector {
 public:
  CallCollector();
  ~CallCollector();
  CallCollector(const CallCollector&) = delete;
  CallCollector& operator=(const CallCollector&) = delete;

  const std::vector<CallRecord>& calls() const { return calls_; }

 private:
  friend void note_call(std::string_view action, std::string_view request_id, bool read_only);
  std::vector<CallRecord> calls_;
};

// Records a successful call in every collector alive on this thread; a no-op without one.
void note_call(std::string_view action, std::string_view request_id, bool read_only);

// Whether a collector is alive on this thread (so a caller can skip finding the id).
bool collecting();

}  // namespace sharekeeper::cloud
