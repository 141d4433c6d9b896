#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz preset: clang, ASan+UBSan+libFuzzer) and fuzzes each, starting
# from its checked-in seed corpus (tests/fuzz/corpus/<name>), which is never modified: new inputs go
# to a temporary directory. The config loader gets SECONDS (default 60), the policy-document parser,
# the error/redactor path, the HTTP router and the emulator's request parser a third of that each
# (docs/failure-matrix.md H1); with --minutes M every fuzzer gets M minutes (long runs outside CI, see
# docs/reliability.md for the last one's figures). Exits non-zero
# on a crash, a broken invariant, a leak, a timeout or out-of-memory; the failing input is kept under
# the build directory (fuzz-artifacts/).
#   scripts/fuzz.sh [SECONDS]
#   scripts/fuzz.sh --minutes M
#   SHAREKEEPER_FUZZ_BUILD_DIR   build directory (default build/fuzz)
#   SHAREKEEPER_JOBS             parallel compile jobs (default nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
each=""
if [ "${1:-}" = "--minutes" ]; then
  [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --minutes needs a whole number" >&2; exit 2; }
  each=$(( $2 * 60 ))
  seconds=$each
else
  seconds=${1:-60}
fi
build=${SHAREKEEPER_FUZZ_BUILD_DIR:-build/fuzz}
jobs=${SHAREKEEPER_JOBS:-$(nproc)}
fuzzers=(config policy redact router emulator_request)

echo "== build ${fuzzers[*]/%/_fuzzer} ($build)"
cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" --target "${fuzzers[@]/%/_fuzzer}" -j "$jobs"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
for f in "${fuzzers[@]}"; do
  t=$seconds
  [ "$f" = config ] || [ -n "$each" ] || t=$(( (seconds + 2) / 3 ))
  mkdir -p "$work/$f"
  echo "== fuzz $f for ${t}s"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: the code must stay small on any
  # input of up to -max_len bytes; leaks are reported by ASan (detect_leaks is on by default on Linux).
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$build/tests/fuzz/${f}_fuzzer" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$artifacts/${f}-" "$work/$f" "tests/fuzz/corpus/$f"
done
echo "== fuzz: no crash, broken invariant, leak or timeout"
