#include "cloud/request_ids.hpp"

#include <algorithm>
#include <cassert>

namespace sharekeeper::cloud {
namespace {

thread_local std::vector<CallCollector*> t_collectors;

}  // namespace

CallCollector::CallCollector() { t_collectors.push_back(this); }

CallCollector::~CallCollector() {
  // Collectors are scoped, so this one is normally the innermost; it must be on this thread's list.
  auto it = std::find(t_collectors.rbegin(), t_collectors.rend(), this);
  assert(it != t_collectors.rend() && "CallCollector destroyed on another thread");
  if (it != t_collectors.rend()) t_collectors.erase(std::next(it).base());
}

void note_call(std::string_view action, std::string_view request_id, bool read_only) {
  for (CallCollector* c : t_collectors)
    c->calls_.push_back({std::string(action), std::string(request_id), read_only});
}

bool collecting() { return !t_collectors.empty(); }

}  // namespace sharekeeper::cloud
