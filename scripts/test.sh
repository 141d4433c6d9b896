#!/usr/bin/env bash
# Every test: installs what the project needs (apt + npm), builds with -Werror and runs ctest -j2, then
# builds the Debian package from the release preset and installs, checks and purges it (as root), then
# builds the AddressSanitizer+UBSan variant and runs its tests, then fuzzes the config loader for 60 s
# and the policy parser, error redactor and HTTP router for 20 s each, runs scripts/reliability.sh, and
# checks that every C++ file is clang-formatted (scripts/lint.sh format). Every stage prints its
# duration. Exit code: 0 only when everything passed.
#   SHAREKEEPER_SKIP_PACKAGE=1   skip the package build and its install test
#   SHAREKEEPER_SKIP_ASAN=1   skip the sanitizer build (quick local runs)
#   SHAREKEEPER_SKIP_FUZZ=1   skip the libFuzzer runs (SHAREKEEPER_FUZZ_SECONDS: the config loader's share, 60)
#   SHAREKEEPER_SKIP_RELIABILITY=1   skip scripts/reliability.sh (SHAREKEEPER_RELIABILITY_RUNS seeded runs,
#                                    default 50; SHAREKEEPER_RELIABILITY_STRIDE, default 12: every
#                                    12th call index of the sweep; the crash sweep always runs whole)
#   SHAREKEEPER_SKIP_LINT=1   skip the clang-format check
#   SHAREKEEPER_TIDY=1        also run clang-tidy over every first-party TU (scripts/lint.sh tidy; slow)
#   SHAREKEEPER_TSAN=1        also build the tsan preset and run the multi-threaded tests (scripts/tsan.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=${SHAREKEEPER_JOBS:-$(nproc)}
# ccache: paths under the checkout are hashed relative to it, so another clone of the repository (CI's)
# reuses the cache of this one.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}
start=$(date +%s)
stage_start=$start
# Prints how long the stage that just ended took, and starts timing the next one.
stage_done() {
  echo "== stage $1 took $(( $(date +%s) - stage_start )) s"
  stage_start=$(date +%s)
}

echo "== build (ci preset: Debug -O0, -Werror)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
stage_done build
echo "== tests (ci preset)"
ctest --preset ci
stage_done tests

if [ "${SHAREKEEPER_SKIP_PACKAGE:-0}" != "1" ]; then
  # The release build is most of this stage's cost (ccache makes a rebuild cheap); the install test is
  # a few seconds. tests/package/package_test.sh says why it installs into the machine itself.
  echo "== package (release preset: .deb, then dpkg -i, checks, dpkg --purge)"
  package_start=$(date +%s)
  deb=$(SHAREKEEPER_JOBS=$jobs bash scripts/package.sh | tail -1)
  bash tests/package/package_test.sh "$deb"
  echo "== package stage took $(( $(date +%s) - package_start )) s"
  stage_done package
fi
if [ "${SHAREKEEPER_SKIP_ASAN:-0}" != "1" ]; then
  echo "== build (asan preset: AddressSanitizer + UndefinedBehaviorSanitizer)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  # The sanitizer stage runs the unit tests; integration, compat and e2e ran in the ci stage above
  # (run them under ASan by hand with `ctest --preset asan`). -Werror is enforced by the ci stage: at -O1
  # GCC 12 reports false positives inside Asio that -O0 does not.
  echo "== tests (asan preset, unit label)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan -L unit
  stage_done asan
fi
if [ "${SHAREKEEPER_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== fuzz (clang libFuzzer + ASan/UBSan: config loader, policy documents, error redactor, HTTP router)"
  bash scripts/fuzz.sh "${SHAREKEEPER_FUZZ_SECONDS:-60}"
  stage_done fuzz
fi
if [ "${SHAREKEEPER_SKIP_RELIABILITY:-0}" != "1" ]; then
  echo "== reliability (sweep, seeded runs, crash points; docs/reliability.md)"
  bash scripts/reliability.sh --runs "${SHAREKEEPER_RELIABILITY_RUNS:-50}" \
    --stride "${SHAREKEEPER_RELIABILITY_STRIDE:-12}"
  stage_done reliability
fi
if [ "${SHAREKEEPER_SKIP_LINT:-0}" != "1" ]; then
  echo "== format (every tracked C++ file clang-formatted)"
  bash scripts/lint.sh format
  stage_done format
fi
# Opt-in until their first full runs are clean (see scripts/lint.sh, scripts/tsan.sh): clang-tidy over
# every first-party TU, and ThreadSanitizer over the multi-threaded tests.
if [ "${SHAREKEEPER_TIDY:-0}" = "1" ]; then
  echo "== tidy (clang-tidy over every first-party TU)"
  SHAREKEEPER_JOBS=$jobs bash scripts/lint.sh tidy
  stage_done tidy
fi
if [ "${SHAREKEEPER_TSAN:-0}" = "1" ]; then
  echo "== tsan (ThreadSanitizer: scheduler, daemon, HTTP server, transport, observe/apply, clock)"
  SHAREKEEPER_JOBS=$jobs bash scripts/tsan.sh
  stage_done tsan
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
