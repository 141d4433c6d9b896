// libFuzzer target over the policy-document code (docs/failure-matrix.md H1): trust and KMS
// policies come back from the cloud, where anyone with RAM access can have edited them. Beyond "no
// crash", checks the promises plan() relies on: canonical forms are fixed points, parsed trust and
// KMS content survives a build/parse round trip, and what we would send re-verifies.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "reconcilers/policy_document.hpp"
#include "reconcilers/principal.hpp"

namespace {

using namespace sharekeeper::reconcilers;

void check(bool ok) {
  if (!ok) std::abort();
}

// "KEY:value" for every principal of every Allow statement, from the canonical form: a rewrite of a
// trust policy may regroup statements but must neither drop nor invent a principal.
std::set<std::string> allowed_principals(std::string_view document) {
  std::set<std::string> out;
  auto canonical = canonicalize_policy(document);
  check(canonical.has_value());
  const auto doc = nlohmann::json::parse(*canonical);
  for (const auto& st : doc["Statement"]) {
    if (st.value("Effect", "") != "Allow" || !st.contains("Principal")) continue;
    const auto& p = st["Principal"];
    if (!p.is_object()) {
      out.insert(p.dump());
      continue;
    }
    for (const auto& [k, values] : p.items())
      for (const auto& v : values)
        out.insert(k + ":" + (v.is_string() ? v.get<std::string>() : v.dump()));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view doc(reinterpret_cast<const char*>(data), size);

  if (auto canonical = canonicalize_policy(doc)) {
    auto again = canonicalize_policy(*canonical);
    check(again.has_value() && *again == *canonical);
    check(policies_equivalent(doc, *canonical));
  }

  if (auto trust = parse_trust_policy(doc)) {
    const std::string built = build_trust_policy(*trust);
    auto reparsed = parse_trust_policy(built);
    check(reparsed.has_value() && *reparsed == *trust);
    check(verify_written_form(built, built).ok());
    if (canonicalize_policy(doc)) check(allowed_principals(built) == allowed_principals(doc));
    // The planner's typed principals round-trip to the same decomposition.
    check(trust_principals(principals_of(*trust)) == *trust);
  }

  if (auto kms = parse_kms_policy(doc)) {
    if (!kms->list_resources.empty() || !kms->key_arns.empty()) {
      const std::string built = build_kms_policy(*kms);
      auto reparsed = parse_kms_policy(built);
      check(reparsed.has_value() && *reparsed == *kms);
      // Splitting never loses or invents a key, and every part fits.
      constexpr std::size_t kMax = 6144;
      std::size_t keys = 0;
      for (const auto& part : split_kms_policy(*kms, kMax)) {
        keys += part.key_arns.size();
        if (part.key_arns.size() > 1) check(build_kms_policy(part).size() <= kMax);
      }
      check(keys == kms->key_arns.size());
    }
  }
  return 0;
}
