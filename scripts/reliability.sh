#!/usr/bin/env bash
# The reliability suite (docs/reliability.md): the fault sweep (every fault kind at every call of a
# pass, in every sweep world), N seeded simulations, and the crash-point sweep (the `sharekeeper
# apply` process SIGKILLed right after each of its writes, then applied again). Invariants S1-S4 are
# checked after every committed write. Ends with exactly one line:
#   reliability: R runs, C sweep cases, K crash points; V invariant violations, U unconverged
# and exits non-zero when V or U is not 0 (or a part could not run).
#   scripts/reliability.sh [--runs N] [--seed S] [--minutes M] [--stride K] [--only sweep|sim|crash]
#   --runs N      seeded runs (default 1000), seeds S, S+1, ..., S+N-1
#   --seed S      first seed (default 1); a failure prints the command that replays its seed
#   --minutes M   stop the seeded runs after M minutes (default: no limit)
#   --stride K    sweep only call indexes 1, 1+K, 1+2K, ... of each world and kind (default 1:
#                 every call; CI's budget uses a larger one, docs/reliability.md)
#   SHAREKEEPER_RELIABILITY_PRESET      configure preset when the build directory is new (default ci;
#                                       `release` runs the suite several times faster)
#   SHAREKEEPER_RELIABILITY_BUILD_DIR   build directory (default build/<preset>)
#   SHAREKEEPER_JOBS                    parallel compile jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=1000 seed=1 minutes=0 stride=1 only=all
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --stride) stride=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "reliability.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in "$runs" "$seed" "$minutes" "$stride"; do
  [[ "$v" =~ ^[0-9]+$ ]] || { echo "reliability.sh: $v is not a non-negative integer" >&2; exit 2; }
done
case "$only" in all|sweep|sim|crash) ;; *) echo "reliability.sh: --only sweep|sim|crash" >&2; exit 2 ;; esac
preset=${SHAREKEEPER_RELIABILITY_PRESET:-ci}
build=${SHAREKEEPER_RELIABILITY_BUILD_DIR:-build/$preset}
jobs=${SHAREKEEPER_JOBS:-2}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}
bin=$build/tests/reliability
if [ ! -f "$build/CMakeCache.txt" ]; then cmake --preset "$preset" -B "$build" >/dev/null; fi
cmake --build "$build" -j "$jobs" --target reliability_sweep_test reliability_sim_test reliability_crash_test sharekeeper >&2

start=$(date +%s)
R=0 C=0 K=0 V=0 U=0 broken=0
# field NAME LINE: the value of NAME=... in a RELIABILITY summary line.
field() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<<"$2"; }
part() {  # part KIND COMMAND...: runs one binary, echoes its output to stderr, keeps its summary
  local kind=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  grep -E '^(FAIL|RELIABILITY|sweep |crash )' <<<"$out" >&2 || true
  local line
  line=$(grep "^RELIABILITY $kind " <<<"$out" | tail -1)
  if [ -z "$line" ]; then
    echo "reliability.sh: the $kind part printed no summary (exit $rc):" >&2
    tail -20 <<<"$out" >&2
    broken=1
    return
  fi
  V=$(( V + $(field violations "$line") ))
  U=$(( U + $(field unconverged "$line") ))
  case "$kind" in
    sweep) C=$(field cases "$line") ;;
    sim) R=$(field runs "$line") ;;
    crash) K=$(field points "$line") ;;
  esac
}
[ "$stride" -ge 1 ] || { echo "reliability.sh: --stride must be at least 1" >&2; exit 2; }
if [ "$only" = all ] || [ "$only" = sweep ]; then
  SHAREKEEPER_SWEEP_STRIDE=$stride part sweep "$bin/reliability_sweep_test"
fi
if [ "$only" = all ] || [ "$only" = sim ]; then
  SHAREKEEPER_SIM_RUNS=$runs SHAREKEEPER_SIM_SEED=$seed SHAREKEEPER_SIM_MINUTES=$minutes \
    part sim "$bin/reliability_sim_test"
fi
if [ "$only" = all ] || [ "$only" = crash ]; then part crash "$bin/reliability_crash_test"; fi
echo "reliability.sh: $(( $(date +%s) - start )) s" >&2
echo "reliability: $R runs, $C sweep cases, $K crash points; $V invariant violations, $U unconverged"
[ "$V" -eq 0 ] && [ "$U" -eq 0 ] && [ "$broken" -eq 0 ]
