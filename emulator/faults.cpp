#include "emulator/faults.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace sharekeeper::emulator {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("fault rule: " + what);
}

std::string string_field(const json& rule, const char* name) {
  const auto& value = rule.at(name);
  if (!value.is_string()) bad(std::string(name) + " must be a string");
  return value.get<std::string>();
}

std::uint64_t count_field(const json& rule, const char* name) {
  const auto& value = rule.at(name);
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() == 0) {
    bad(std::string(name) + " must be a positive integer");
  }
  return value.get<std::uint64_t>();
}

// The bound of --latency-ms (10 minutes): a rule of 31 years parked its connection for good, and a
// value past INT64_MAX read as a negative duration.
constexpr std::uint64_t kMaxMillis = 600'000;

std::chrono::milliseconds millis_field(const json& rule, const char* name) {
  const auto& value = rule.at(name);
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() > kMaxMillis) {
    bad(std::string(name) + " must be an integer from 0 to " + std::to_string(kMaxMillis) +
        " (10 minutes, like --latency-ms)");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(value.get<std::uint64_t>()));
}

bool bool_field(const json& rule, const char* name) {
  const auto& value = rule.at(name);
  if (!value.is_boolean()) bad(std::string(name) + " must be true or false");
  return value.get<bool>();
}

// The status the real gateway pairs with a code (docs/alibaba-api.md §2), when the rule gives none.
int default_status(std::string_view code) {
  if (code.find("Throttling") != std::string_view::npos) {
    return code == "Throttling.Resource" ? 429 : 400;
  }
  if (code == "ServiceUnavailable") return 503;
  if (code == "InternalError" || code == "UnknownError") return 500;
  if (code.rfind("EntityNotExist", 0) == 0 || code.rfind("InvalidAccessKeyId.NotFound", 0) == 0) {
    return 404;
  }
  if (code.rfind("EntityAlreadyExists", 0) == 0 || code.rfind("LimitExceeded", 0) == 0 ||
      code.rfind("DeleteConflict", 0) == 0) {
    return 409;
  }
  if (code == "Forbidden.RAM" || code == "NoPermission" || code == "AssumeRoleError") return 403;
  return 400;
}

std::string default_code(int status) {
  switch (status) {
    case 503:
      return "ServiceUnavailable";
    case 429:
      return "Throttling.Resource";
    case 400:
      return "Throttling.User";
    default:
      return "InternalError";
  }
}

}  // namespace

FaultInjector::FaultInjector(std::uint64_t seed) : random_(seed) {}

FaultRule FaultInjector::parse_rule(const json& rule) {
  if (!rule.is_object()) bad("must be a JSON object");
  static const std::set<std::string> kKnown = {
      "action", "product", "account",   "probability", "nth",  "times",       "code",
      "status", "message", "latencyMs", "afterCommit", "drop", "retryAfterMs"};
  for (const auto& [name, value] : rule.items()) {
    if (kKnown.count(name) == 0) bad("unknown field \"" + name + "\"");
  }
  FaultRule out;
  if (rule.contains("action")) out.action = string_field(rule, "action");
  if (out.action.empty()) bad("action must not be empty (use \"*\" for every action)");
  if (rule.contains("product")) out.product = string_field(rule, "product");
  if (rule.contains("account")) out.account = string_field(rule, "account");
  if (rule.contains("probability")) {
    const auto& p = rule.at("probability");
    if (!p.is_number() || p.get<double>() < 0.0 || p.get<double>() > 1.0) {
      bad("probability must be a number in [0, 1]");
    }
    out.probability = p.get<double>();
  }
  if (rule.contains("nth")) out.nth = count_field(rule, "nth");
  if (out.probability && out.nth) bad("give probability or nth, not both");
  if (rule.contains("times")) out.times = count_field(rule, "times");
  if (rule.contains("code")) out.code = string_field(rule, "code");
  if (rule.contains("message")) out.message = string_field(rule, "message");
  if (rule.contains("status")) {
    const auto& s = rule.at("status");
    if (!s.is_number_integer() || s.get<int>() < 400 || s.get<int>() > 599) {
      bad("status must be an HTTP error status (400-599)");
    }
    out.status = s.get<int>();
  }
  if (rule.contains("latencyMs")) out.latency = millis_field(rule, "latencyMs");
  if (rule.contains("afterCommit")) out.after_commit = bool_field(rule, "afterCommit");
  if (rule.contains("drop")) out.drop = bool_field(rule, "drop");
  if (rule.contains("retryAfterMs")) out.retry_after = millis_field(rule, "retryAfterMs");
  if (out.code.empty() && out.status != 0) out.code = default_code(out.status);
  if (!out.code.empty() && out.status == 0) out.status = default_status(out.code);
  if (out.code.empty() && !out.drop && out.latency.count() == 0) {
    bad("needs code/status, drop or latencyMs: it would do nothing");
  }
  if (out.drop && !out.code.empty()) bad("drop closes the connection: give code or drop, not both");
  if (out.retry_after && out.code.empty()) bad("retryAfterMs needs code/status");
  if (out.message.empty() && !out.code.empty()) {
    out.message = "The request failed (fault injected by the emulator).";
  }
  return out;
}

std::vector<std::uint64_t> FaultInjector::add(const json& rules) {
  const json* list = &rules;
  if (rules.is_object() && rules.contains("rules")) list = &rules.at("rules");
  std::vector<FaultRule> parsed;
  if (list->is_array()) {
    for (const auto& rule : *list) parsed.push_back(parse_rule(rule));
  } else {
    parsed.push_back(parse_rule(*list));
  }
  std::vector<std::uint64_t> ids;
  ids.reserve(parsed.size());
  for (auto& rule : parsed) ids.push_back(add(std::move(rule)));
  return ids;
}

std::uint64_t FaultInjector::add(FaultRule rule) {
  std::lock_guard lock(mutex_);
  rule.id = next_id_++;
  rule.matched = 0;
  rule.fired = 0;
  rules_.push_back(std::move(rule));
  return rules_.back().id;
}

void FaultInjector::clear() {
  std::lock_guard lock(mutex_);
  rules_.clear();
}

void FaultInjector::reseed(std::uint64_t seed) {
  std::lock_guard lock(mutex_);
  random_.seed(seed);
}

FaultDecision FaultInjector::decide(std::string_view product, std::string_view action,
                                    std::string_view account) {
  std::lock_guard lock(mutex_);
  FaultDecision decision;
  for (auto& rule : rules_) {
    if (rule.action != "*" && rule.action != action) continue;
    if (!rule.product.empty() && rule.product != product) continue;
    if (!rule.account.empty() && rule.account != account) continue;
    ++rule.matched;
    if (rule.times && rule.fired >= *rule.times) continue;
    bool fires = true;
    if (rule.nth) {
      fires = rule.matched == *rule.nth;
    } else if (rule.probability) {
      fires = std::uniform_real_distribution<double>(0.0, 1.0)(random_) < *rule.probability;
    }
    if (!fires) continue;
    ++rule.fired;
    (rule.after_commit ? decision.latency_after : decision.latency) += rule.latency;
    if (!rule.code.empty() || rule.drop) {
      decision.fail = !rule.code.empty();
      decision.drop = rule.drop;
      decision.after_commit = rule.after_commit;
      decision.status = rule.status;
      decision.code = rule.code;
      decision.message = rule.message;
      decision.retry_after = rule.retry_after;
      decision.rule_id = rule.id;
      break;
    }
  }
  return decision;
}

json FaultInjector::to_json() const {
  std::lock_guard lock(mutex_);
  json rules = json::array();
  for (const auto& rule : rules_) {
    json r = {{"id", rule.id},
              {"action", rule.action},
              {"matched", rule.matched},
              {"fired", rule.fired},
              {"latencyMs", rule.latency.count()},
              {"afterCommit", rule.after_commit},
              {"drop", rule.drop}};
    if (!rule.product.empty()) r["product"] = rule.product;
    if (!rule.account.empty()) r["account"] = rule.account;
    if (rule.probability) r["probability"] = *rule.probability;
    if (rule.nth) r["nth"] = *rule.nth;
    if (rule.times) r["times"] = *rule.times;
    if (rule.retry_after) r["retryAfterMs"] = rule.retry_after->count();
    if (!rule.code.empty()) {
      r["code"] = rule.code;
      r["status"] = rule.status;
      r["message"] = rule.message;
    }
    rules.push_back(std::move(r));
  }
  return json{{"rules", std::move(rules)}};
}

}  // namespace sharekeeper::emulator
