#!/usr/bin/env bash
# The daemon against the local emulator, for a person: starts sharekeeper-emulator with
# examples/seed/quickstart.json, shows `sharekeeper plan`, starts `sharekeeper run` with
# examples/single-account.yaml, waits until it is ready, then shows the converge (audit log lines),
# /status, a few metrics, a triggered pass, and stops both.
#   BUILD_DIR=build/dev deploy/quickstart/run-against-emulator.sh
# (scripts/quickstart.sh builds first and calls this.)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build/dev}
SK=$BUILD_DIR/daemon/sharekeeper
EMU=$BUILD_DIR/emulator/sharekeeper-emulator
for b in "$SK" "$EMU"; do [[ -x $b ]] || { echo "missing $b: build it first (cmake --build --preset dev)" >&2; exit 1; }; done
for t in curl jq; do command -v $t >/dev/null || { echo "needs $t" >&2; exit 1; }; done

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

wait_for() {  # wait_for <seconds> <command...>: poll until the command succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "timed out waiting for: $*" >&2; return 1; }
    sleep 0.2
  done
}
port_of() { grep -o 'listening on http://[0-9.]*:[0-9]*' "$1" | grep -o '[0-9]*$'; }

echo "== starting the emulator (a local Alibaba Cloud) with examples/seed/quickstart.json"
"$EMU" --listen 127.0.0.1:0 --seed examples/seed/quickstart.json >"$work/emu.out" 2>"$work/emu.err" &
pids+=($!)
wait_for 20 port_of "$work/emu.out"
EMU_URL="http://127.0.0.1:$(port_of "$work/emu.out")"
echo "   $EMU_URL"

# The sharer's access key from the seed; a real deployment uses a RAM role (docs/runbook.md).
export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tQuickstartSharer01
export ALIBABA_CLOUD_ACCESS_KEY_SECRET=QuickstartSharerSecret0123456789
sed 's/interval: 5m/interval: 30s/' examples/single-account.yaml >"$work/config.yaml"
openssl rand -hex 32 >"$work/token"

echo
echo "== sharekeeper plan (what the daemon is about to do)"
"$SK" plan -c "$work/config.yaml" --endpoint-override "$EMU_URL" || true

echo
echo "== sharekeeper run (the daemon)"
"$SK" run -c "$work/config.yaml" --listen 127.0.0.1:0 --admin-token-file "$work/token" \
  --endpoint-override "$EMU_URL" --log-format text >"$work/daemon.out" 2>"$work/daemon.err" &
pids+=($!)
wait_for 20 port_of "$work/daemon.out"
D="http://127.0.0.1:$(port_of "$work/daemon.out")"
wait_for 60 curl -sf "$D/readyz"
echo "   $D is ready; the converge, as audit records:"
grep -E 'change applied|pass finished' "$work/daemon.err" | sed 's/^/   /'

echo
echo "== GET /status (summary and grants)"
curl -s "$D/status" | jq '{summary, config: .config.revision, grants: [.grants[] | {share, target, state}]}'

echo
echo "== GET /metrics (a few)"
curl -s "$D/metrics" | grep -E '^sharekeeper_(grant_ready|reconcile_total|config_info|last_successful)' | sed 's/^/   /'

echo
echo "== POST /reconcile (with the admin token): a converged account needs no change"
before=$(curl -s "$D/metrics" | awk '/^sharekeeper_changes_total/ {s+=$2} END {print s+0}')
curl -s -XPOST -H "Authorization: Bearer $(cat "$work/token")" "$D/reconcile" | sed 's/^/   /'
two_passes() { curl -s "$D/metrics" | awk '/^sharekeeper_reconcile_total.*success/ {s+=$2} END {exit !(s>=2)}'; }
wait_for 30 two_passes
after=$(curl -s "$D/metrics" | awk '/^sharekeeper_changes_total/ {s+=$2} END {print s+0}')
echo "   changes applied in total: $before before the triggered pass, $after after"
echo "   without the token: HTTP $(curl -s -o /dev/null -w '%{http_code}' -XPOST "$D/reconcile")"

echo
echo "== stopping (SIGTERM: in-flight work finishes, exit 0)"
kill -TERM "${pids[1]}"
wait "${pids[1]}" && echo "   daemon exited 0"
