#!/usr/bin/env bash
# ThreadSanitizer over the multi-threaded tests: the clock and the worker pool, the scheduler, the daemon
# (HTTP server, reload, coordination wiring and the lease fence), the config watcher, the cloud transport
# and client (unit, and the real client over loopback TLS against the in-process emulator), the
# emulator's server, the reconcilers' observe and apply (worker pools, against the in-process emulator).
# Builds only their targets (tsan preset), runs each binary, exits non-zero on any race or failure.
# A stage of scripts/test.sh (SHAREKEEPER_SKIP_TSAN=1 skips it).
#   SHAREKEEPER_JOBS   parallel build jobs (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${SHAREKEEPER_JOBS:-$(nproc)}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}
targets=(
  support_clock_test support_parallel_test
  daemon_scheduler_test daemon_daemon_test daemon_daemon_coordination_test daemon_http_server_test
  daemon_config_watcher_test daemon_config_reload_test coordination_fence_test
  cloud_transport_test cloud_alibaba_client_test cloud_credentials_providers_test
  integration_client_emulator_test emulator_server_test
  reconcilers_apply_test reconcilers_it_reconcile_emulator_test reconcilers_it_reconcile_shares_test
)
cmake --preset tsan >/dev/null
build_started=$(date +%s)
cmake --build --preset tsan -j "$jobs" --target "${targets[@]}"
echo "tsan: build took $(( $(date +%s) - build_started )) s"
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
failed=0
for t in "${targets[@]}"; do
  bin=$(find build/tsan/tests -type f -name "$t" -perm -u+x | head -1)
  started=$(date +%s)
  if "$bin" --gtest_brief=1 >"build/tsan/$t.log" 2>&1; then
    echo "tsan: $t passed ($(( $(date +%s) - started )) s)"
  else
    echo "tsan: $t FAILED, see build/tsan/$t.log:"; grep -m1 -A30 "WARNING: ThreadSanitizer\|FAILED" "build/tsan/$t.log" || tail -30 "build/tsan/$t.log"
    failed=1
  fi
done
exit $failed
