// The daemon's mapping of the planner's enums to metric labels: every guard and every drifted
// object kind has a label of the bounded sets Metrics pre-creates (else its counts would fold into
// "other" or vanish). Links sharekeeper_daemon (the reconcilers side), so it is registered by name
// in CMakeLists.txt rather than by the *_test.cpp glob of the core tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <set>
#include <string>

#include "daemon/metrics.hpp"
#include "daemon/reconcile_runner.hpp"

namespace sharekeeper::daemon {
namespace {

template <std::size_t N>
bool listed(const std::string& label, const char* const (&labels)[N]) {
  return std::any_of(std::begin(labels), std::end(labels),
                     [&](const char* l) { return label == l; });
}

TEST(ReconcileRunnerLabels, EveryGuardHasItsOwnBlockedReasonLabel) {
  std::set<std::string> seen;
  for (reconcilers::Guard g : reconcilers::kAllGuards) {
    const std::string label = blocked_reason_label(g);
    EXPECT_TRUE(listed(label, Metrics::kBlockedReasons)) << label;
    EXPECT_TRUE(seen.insert(label).second) << "two guards share " << label;
  }
  EXPECT_EQ(seen.size(), std::size(Metrics::kBlockedReasons));
  // The label is the guard's prose with underscores (what dashboards and alerts already use).
  EXPECT_EQ(std::string(blocked_reason_label(reconcilers::Guard::kMaxRevocationsPerCycle)),
            "max_revocations_per_cycle");
}

TEST(ReconcileRunnerLabels, DriftedObjectsHaveDriftLabels) {
  for (auto k : {reconcilers::ObjectKind::kTrustPolicy, reconcilers::ObjectKind::kKmsPolicy,
                 reconcilers::ObjectKind::kAttachment})
    EXPECT_TRUE(listed(drift_label(k), Metrics::kDriftObjects)) << drift_label(k);
}

}  // namespace
}  // namespace sharekeeper::daemon
