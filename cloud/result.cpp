#include "cloud/result.hpp"

namespace sharekeeper::cloud {

const char* to_string(ErrorClass c) {
  switch (c) {
    case ErrorClass::kTransient:
      return "transient";
    case ErrorClass::kThrottled:
      return "throttled";
    case ErrorClass::kTerminal:
      return "terminal";
    case ErrorClass::kConflict:
      return "conflict";
    case ErrorClass::kNotFound:
      return "not_found";
    case ErrorClass::kOutcomeUnknown:
      return "outcome_unknown";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string s = product + " " + action + ": " + code;
  if (http_status != 0) s += " (HTTP " + std::to_string(http_status) + ")";
  if (!message.empty()) s += ": " + message;
  if (!request_id.empty()) s += " [RequestId " + request_id + "]";
  return s;
}

}  // namespace sharekeeper::cloud
