#!/usr/bin/env bash
# Every test: installs what the project needs (apt + npm), builds the ci preset (-Werror, AddressSanitizer +
# UBSan) and runs every ctest under the sanitizers (-j2), then builds the Debian package from the release
# preset and installs, checks and purges it (as root), runs scripts/reliability.sh on that release build,
# fuzzes the config loader for 60 s and the policy parser, error redactor, HTTP router and emulator request
# parser for 20 s each, runs the multi-threaded tests under ThreadSanitizer (scripts/tsan.sh), checks
# that every C++ file is clang-formatted (scripts/lint.sh format) and runs clang-tidy (.clang-tidy) over
# every first-party TU (scripts/lint.sh tidy). Every stage prints its duration.
# Exit code: 0 only when everything passed.
#   SHAREKEEPER_SKIP_PACKAGE=1   skip the package build and its install test
#   SHAREKEEPER_SKIP_RELIABILITY=1   skip scripts/reliability.sh (SHAREKEEPER_RELIABILITY_RUNS seeded runs,
#                                    default 50; SHAREKEEPER_RELIABILITY_STRIDE, default 12: every
#                                    12th call index of the sweep; the crash sweep always runs whole)
#   SHAREKEEPER_SKIP_FUZZ=1   skip the libFuzzer runs (SHAREKEEPER_FUZZ_SECONDS: the config loader's share, 60)
#   SHAREKEEPER_SKIP_TSAN=1   skip the ThreadSanitizer build and its tests
#   SHAREKEEPER_SKIP_LINT=1   skip the clang-format check
#   SHAREKEEPER_SKIP_TIDY=1   skip clang-tidy (88 TUs: 11-15 min with SHAREKEEPER_JOBS=1 here)
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

echo "== build (ci preset: Debug -O0, -Werror, AddressSanitizer + UBSan)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
stage_done build
# Every label (unit, integration, compat, e2e, layering, reliability) under the sanitizers: a leak at exit
# of the daemon or the emulator turns its clean-SIGTERM checks red (ASAN_OPTIONS in CMakePresets.json).
echo "== tests (ci preset, every label, under ASan + UBSan)"
ctest --preset ci
stage_done tests

if [ "${SHAREKEEPER_SKIP_PACKAGE:-0}" != "1" ]; then
  # The release build is most of this stage's cost (ccache makes a rebuild cheap); the install test is
  # a few seconds. tests/package/package_test.sh says why it installs into the machine itself.
  echo "== package (release preset: .deb, then dpkg -i, checks, dpkg --purge)"
  deb=$(SHAREKEEPER_JOBS=$jobs bash scripts/package.sh | tail -1)
  bash tests/package/package_test.sh "$deb"
  stage_done package
fi
if [ "${SHAREKEEPER_SKIP_RELIABILITY:-0}" != "1" ]; then
  # On the release build the package stage made: the suite is CPU-bound, and -O2 runs it several times
  # faster than -O0 with sanitizers (the ctest stage ran its small variants under ASan already).
  echo "== reliability (sweep, seeded runs, crash points on the release build; docs/reliability.md)"
  SHAREKEEPER_RELIABILITY_PRESET=release SHAREKEEPER_JOBS=$jobs bash scripts/reliability.sh \
    --runs "${SHAREKEEPER_RELIABILITY_RUNS:-50}" --stride "${SHAREKEEPER_RELIABILITY_STRIDE:-12}"
  stage_done reliability
fi
if [ "${SHAREKEEPER_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== fuzz (clang libFuzzer + ASan/UBSan: config loader, policy documents, error redactor, HTTP router, emulator requests)"
  bash scripts/fuzz.sh "${SHAREKEEPER_FUZZ_SECONDS:-60}"
  stage_done fuzz
fi
if [ "${SHAREKEEPER_SKIP_TSAN:-0}" != "1" ]; then
  echo "== tsan (ThreadSanitizer: scheduler, daemon, HTTP server, transport, observe/apply, clock)"
  SHAREKEEPER_JOBS=$jobs bash scripts/tsan.sh
  stage_done tsan
fi
if [ "${SHAREKEEPER_SKIP_LINT:-0}" != "1" ]; then
  echo "== format (every tracked C++ file clang-formatted)"
  bash scripts/lint.sh format
  stage_done format
fi
# On the ci build's compile_commands.json (the build stage configured it); any finding fails the stage.
if [ "${SHAREKEEPER_SKIP_TIDY:-0}" != "1" ]; then
  echo "== tidy (clang-tidy over every first-party TU, our headers included)"
  SHAREKEEPER_JOBS=$jobs bash scripts/lint.sh tidy
  stage_done tidy
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
