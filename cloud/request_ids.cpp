#include "cloud/request_ids.hpp"

#include <algorithm>

namespace sharekeeper::cloud {
namespace {

thread_local std::vector<CallCollector*> t_collectors;

}  // namespace

CallCollector::CallCollector() { t_collectors.push_back(this); }

CallCollector::~CallCollector() {
  // Collectors are scoped, so this one is normally the innermost.
  auto it = std::find(t_collectors.rbegin(), t_collectors.rend(), this);
  if (it != t_collectors.rend()) t_collectors.erase(std::next(it).base());
}

void note_call(std::string_view action, std::string_view request_id) {
  for (CallCollector* c : t_collectors)
    c->calls_.push_back({std::string(action), std::string(request_id)});
}

bool is_read_action(std::string_view action) {
  for (std::string_view prefix : {"Get", "List", "Describe"})
    if (action.substr(0, prefix.size()) == prefix) return true;
  return false;
}

}  // namespace sharekeeper::cloud
