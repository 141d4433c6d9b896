#!/usr/bin/env bash
# The main job, end to end against the local emulator (no cloud account needed):
#   1. installs dependencies and builds `sharekeeper` and `sharekeeper-emulator`;
#   2. starts the emulator over TLS (self-signed cert) with examples/seed/quickstart.json;
#   3. validates examples/quickstart.yaml, shows the plan, applies it, shows that a second plan is empty;
#   4. runs the daemon against it: /status, grant metrics, POST /reconcile with and without the admin
#      token, and a graceful SIGTERM.
# Set SHAREKEEPER_QUICKSTART_KEEP=1 to leave the emulator and daemon running at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev --target sharekeeper sharekeeper-emulator
bin=$root/build/dev
sk=$bin/daemon/sharekeeper
work=$(mktemp -d)
pids=()
cleanup() {
  if [ "${SHAREKEEPER_QUICKSTART_KEEP:-0}" != "1" ]; then
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
  fi
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
wait_file() { for _ in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.1; done; echo "timed out waiting for $1" >&2; return 1; }

say "starting sharekeeper-emulator (TLS, seed examples/seed/quickstart.json)"
"$bin/emulator/sharekeeper-emulator" --listen 127.0.0.1:0 --seed examples/seed/quickstart.json \
  --tls-self-signed --cert-out "$work/emulator-ca.pem" --port-file "$work/emulator.port" >"$work/emulator.log" 2>&1 &
pids+=($!)
wait_file "$work/emulator.port"
port=$(cat "$work/emulator.port")
endpoint="https://127.0.0.1:$port"
echo "emulator at $endpoint (its certificate: $work/emulator-ca.pem)"

# The sharer account's access key from the seed, through the SDK default chain's first source (env).
export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tQuickstartSharer01
export ALIBABA_CLOUD_ACCESS_KEY_SECRET=QuickstartSharerSecret0123456789
flags=(--endpoint-override "$endpoint" --ca-file "$work/emulator-ca.pem" --log-format text --log-level warn)
config=examples/quickstart.yaml

say "sharekeeper validate -c $config"
"$sk" validate -c "$config"

say "sharekeeper plan -c $config"
"$sk" plan -c "$config" "${flags[@]}"

say "sharekeeper apply -c $config --auto-approve"
"$sk" apply -c "$config" --auto-approve "${flags[@]}"

say "sharekeeper plan --detailed-exitcode (0 = converged, nothing left to do)"
set +e
"$sk" plan -c "$config" --detailed-exitcode "${flags[@]}" >/dev/null
rc=$?
set -e
echo "exit code: $rc"

say "is every grant usable? (plan -o json: each grant's state, and whether each resource is shared)"
"$sk" plan -c "$config" -o json "${flags[@]}" | python3 -c '
import json, sys
p = json.load(sys.stdin)
for g in p["grants"]:
    shared = ", ".join(r["resource"] + " sharing: " + r["sharing"] for r in g["resources"]) or "no resources"
    print("%s -> %s:%s  %s  (%s)%s" % (g["share"], g["target_type"], g["target"], g["state"], shared,
          "" if g["state"] == "Ready" else "  reason: " + g["reason"]))
'

say "what the cloud now holds: the image share role's trust policy (emulator state)"
curl -sk "$endpoint/_emulator/state" | python3 -c '
import json, sys
s = json.load(sys.stdin)
for acct in s.get("accounts", []):
    for r in acct.get("roles", []):
        if r.get("name", r.get("roleName", "")).startswith("AliyunECSShareEncrypt"):
            print(r.get("name", r.get("roleName")))
            doc = r.get("trustPolicy") or r.get("assumeRolePolicyDocument")
            print(json.dumps(doc if isinstance(doc, dict) else json.loads(doc), indent=2))
' || echo "(could not read the emulator state)"

say "sharekeeper run (the daemon; --listen 127.0.0.1:0 picks a free port, the default is 127.0.0.1:9464)"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/admin-token"
"$sk" run -c "$config" --listen 127.0.0.1:0 --admin-token-file "$work/admin-token" "${flags[@]}" \
  >"$work/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$work/daemon.log" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/daemon.log" | head -1)
for _ in $(seq 1 100); do curl -sf "$url/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
say "GET $url/status"
curl -s "$url/status" >"$work/status.json" || true
python3 -m json.tool "$work/status.json" >"$work/status.pretty" 2>/dev/null || cp "$work/status.json" "$work/status.pretty"
head -60 "$work/status.pretty"
say "GET $url/metrics (grant readiness)"
curl -s "$url/metrics" >"$work/metrics.txt" || true
grep -E '^sharekeeper_(grant_ready|grant_state\{.*state="Ready"|reconcile_total|config_info)' "$work/metrics.txt" | head -20 || true
say "POST $url/reconcile with the admin token (without it: 401)"
printf 'no token:   HTTP %s\n' "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/reconcile")"
printf 'with token: HTTP %s\n' "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $(cat "$work/admin-token")" "$url/reconcile")"
say "SIGTERM: the daemon finishes in-flight work and exits 0"
kill -TERM "${pids[-1]}"
set +e; wait "${pids[-1]}"; rc=$?; set -e
echo "daemon exit code: $rc"
unset 'pids[-1]'

say "done"
