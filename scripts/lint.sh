#!/usr/bin/env bash
# Static checks as a CI stage: clang-format (every tracked C++ file must be formatted) and clang-tidy
# (.clang-tidy) over every first-party translation unit of the ci build's compile_commands.json,
# headers included through HeaderFilterRegex. Exit code non-zero on any finding.
#   lint.sh              both
#   lint.sh format       clang-format only (seconds)
#   lint.sh tidy [FILE]  clang-tidy only, on every TU or on the given ones
#   SHAREKEEPER_JOBS     clang-tidy processes in parallel (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
[ $# -gt 0 ] && shift
jobs=${SHAREKEEPER_JOBS:-$(nproc)}
status=0

if [ "$what" = all ] || [ "$what" = format ]; then
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.cc')
  if clang-format --dry-run -Werror "${files[@]}" 2>build-format.log; then
    echo "clang-format: ${#files[@]} files formatted"
  else
    echo "clang-format: unformatted files (fix: clang-format -i FILE):"
    grep -oE '^[^ :]+\.(cpp|hpp|h|cc):[0-9]+:[0-9]+: (error|warning)' build-format.log | cut -d: -f1 | sort -u
    status=1
  fi
  rm -f build-format.log
fi

if [ "$what" = all ] || [ "$what" = tidy ]; then
  if [ ! -f build/ci/compile_commands.json ]; then cmake --preset ci >/dev/null; fi
  if [ $# -gt 0 ]; then
    tus=("$@")
  else
    # First-party TUs only (not the Asio/Beast TU, which is third-party code compiled once).
    mapfile -t tus < <(git ls-files 'support/*.cpp' 'cloud/*.cpp' 'config/*.cpp' 'reconcilers/*.cpp' \
      'coordination/*.cpp' 'daemon/*.cpp' 'emulator/*.cpp' | grep -v 'support/asio_impl.cpp')
  fi
  log=$(mktemp)
  # A clang-tidy that fails without printing a finding (a crash, a TU it cannot process) is one too:
  # otherwise the TU would pass unchecked.
  printf '%s\n' "${tus[@]}" | xargs -P "$jobs" -I{} sh -c \
    'out=$(clang-tidy -p build/ci --quiet "$1" 2>/dev/null); rc=$?
     printf "%s\n" "$out" | grep -E "(warning|error):" || [ "$rc" -eq 0 ] ||
       echo "$1: error: clang-tidy exited $rc with no finding [lint.sh]"' _ {} >"$log"
  if [ -s "$log" ]; then
    sort -u "$log"
    echo "clang-tidy: $(sort -u "$log" | wc -l) finding(s) in ${#tus[@]} TUs"
    status=1
  else
    echo "clang-tidy: ${#tus[@]} TUs clean"
  fi
  rm -f "$log"
fi
exit $status
