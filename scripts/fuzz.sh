#!/usr/bin/env bash
# Builds the config loader's libFuzzer target (fuzz preset: clang, ASan+UBSan+libFuzzer) and fuzzes it
# for N seconds (default 60), starting from the checked-in seed corpus (tests/fuzz/corpus/config), which
# is never modified: new inputs go to a temporary directory. Exits non-zero on a crash, leak, timeout
# or out-of-memory; the failing input is kept under the build directory (fuzz-artifacts/).
#   scripts/fuzz.sh [SECONDS]
#   SHAREKEEPER_FUZZ_BUILD_DIR   build directory (default build/fuzz)
#   SHAREKEEPER_JOBS             parallel compile jobs (default nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=${SHAREKEEPER_FUZZ_BUILD_DIR:-build/fuzz}
jobs=${SHAREKEEPER_JOBS:-$(nproc)}

echo "== build config_fuzzer ($build)"
cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" --target config_fuzzer -j "$jobs"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
echo "== fuzz config loader for ${seconds}s"
# -timeout: one input taking over 10 s is a hang; -rss_limit_mb: the loader must stay small on any
# input of up to -max_len bytes; leaks are reported by ASan (detect_leaks is on by default on Linux).
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$build/tests/fuzz/config_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" tests/fuzz/corpus/config
echo "== fuzz: no crash, leak or timeout in ${seconds}s"
