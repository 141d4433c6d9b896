#!/usr/bin/env bash
# The Debian package as a user gets it (scripts/package.sh, cmake/Packaging.cmake):
#   1. without installing: its files, their owner and modes, and Depends covering every shared library
#      the two binaries need (found independently of dpkg-shlibdeps: NEEDED -> file -> owning package);
#   2. installed for real into this machine with `dpkg -i` (as root; CI runs as root): `sharekeeper
#      version` and `--help`, `systemd-analyze verify` of the installed unit, the unit not enabled, the
#      installed emulator serving the installed quickstart seed to the installed sharekeeper (validate,
#      plan, one `run --once` pass, plan again converged), then `dpkg --purge` and nothing left behind.
# Why the real machine and not `dpkg --root`/`--instdir` into a temporary directory: maintainer scripts
# then run against a tree with no shell, libraries or dpkg database of its own, and Depends cannot be
# checked, so it would prove less than it seems. The machine is left as it was: the package is purged
# on every exit path, and the test refuses to run (skips) when a sharekeeper package is already installed.
#   tests/package/package_test.sh [path/to/sharekeeper_*.deb]   (default: build one with scripts/package.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
deb=${1:-}
if [ -z "$deb" ]; then deb=$("$root/scripts/package.sh" | tail -1); fi
deb=$(readlink -f "$deb")
[ -f "$deb" ] || { echo "package_test: no package at $deb" >&2; exit 1; }

passed=0
skipped=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() {
  echo "FAIL $*" >&2
  echo "$passed passed, 1 failed"
  exit 1
}
work=$(mktemp -d)
installed_by_us=0
emu_pid=""
cleanup() {
  if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
  if [ "$installed_by_us" = 1 ]; then dpkg --purge sharekeeper >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "FAIL: unexpected error at line $LINENO of $0" >&2' ERR

version=$(dpkg-deb --field "$deb" Version)
depends=$(dpkg-deb --field "$deb" Depends)
echo "package_test: $deb (version $version)"
echo "  Depends: $depends"

# ---- 1. The archive.
dpkg-deb --contents "$deb" >"$work/contents"
for f in ./usr/bin/sharekeeper ./usr/bin/sharekeeper-emulator ./usr/lib/systemd/system/sharekeeper.service \
  ./usr/share/doc/sharekeeper/README.md ./usr/share/doc/sharekeeper/runbook.md \
  ./usr/share/doc/sharekeeper/gitops.md ./usr/share/doc/sharekeeper/config.schema.json \
  ./usr/share/doc/sharekeeper/examples/single-account.yaml ./usr/share/doc/sharekeeper/examples/quickstart.yaml \
  ./usr/share/doc/sharekeeper/examples/seed/quickstart.json ./usr/share/doc/sharekeeper/ram/sharekeeper-policy.json; do
  grep -q " $f\$" "$work/contents" || fail "the package holds $f"
done
ok "the package holds the binaries, the unit, docs/, README.md, examples/ and the RAM policy"
if awk '{print $2}' "$work/contents" | grep -qv '^root/root$'; then fail "every file is owned by root/root"; fi
for b in sharekeeper sharekeeper-emulator; do
  grep -q "^-rwxr-xr-x root/root .* ./usr/bin/$b\$" "$work/contents" || fail "/usr/bin/$b is root-owned 0755"
done
ok "files owned by root/root, binaries 0755"
depend_names=$(tr ',' '\n' <<<"$depends" | sed 's/(.*)//; s/ //g')
grep -qxF ca-certificates <<<"$depend_names" || fail "Depends names ca-certificates (TLS to Alibaba Cloud)"
mkdir "$work/x"
dpkg-deb -x "$deb" "$work/x"
libs=0
for b in sharekeeper sharekeeper-emulator; do
  for lib in $(objdump -p "$work/x/usr/bin/$b" | awk '/NEEDED/ {print $2}'); do
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !seen {print $NF; seen = 1}')
    [ -n "$path" ] || fail "$b needs $lib, which this machine cannot resolve"
    # dpkg knows a library by the path its package installed (/lib or /usr/lib: merged /usr).
    pkg=$({ dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null || true; } | head -1 | cut -d: -f1)
    [ -n "$pkg" ] || fail "no Debian package owns $path ($lib of $b)"
    # The package itself, or a virtual package it provides (libspdlog1.10 provides libspdlog1.10-fmt9,
    # the name its shlibs file tells dpkg-shlibdeps to depend on).
    names="$pkg $(dpkg-query -W -f='${Provides}' "$pkg" | tr ',' '\n' | sed 's/(.*)//; s/ //g')"
    found=0
    for n in $names; do
      if grep -qxF "$n" <<<"$depend_names"; then found=1; fi
    done
    [ "$found" = 1 ] || fail "Depends lacks $pkg (or what it provides), which provides $lib for $b"
    libs=$((libs + 1))
  done
done
[ "$libs" -gt 3 ] || fail "found only $libs shared libraries needed by the binaries"
ok "Depends covers every shared library the binaries need ($libs NEEDED entries)"
if awk -F'\t' '{print}' "$work/contents" | grep -q ' ./etc/'; then fail "the package ships nothing under /etc (the config is the admin's)"; fi
ok "nothing under /etc: the config and the credentials are the admin's"

# ---- 2. Installed for real.
if [ "$(id -u)" -ne 0 ]; then
  echo "skip the install checks: they need root (dpkg -i)"
  echo "$passed passed, 0 failed, 1 skipped"
  exit 0
fi
if dpkg-query -W -f='${Status}' sharekeeper 2>/dev/null | grep -q installed; then
  echo "skip the install checks: a sharekeeper package is already installed on this machine, and this test does not touch it"
  echo "$passed passed, 0 failed, 1 skipped"
  exit 0
fi
command -v systemd-analyze >/dev/null || fail "systemd-analyze is installed (package systemd; scripts/install-deps.sh)"
installed_by_us=1
dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1 || { cat "$work/dpkg-i.log" >&2; fail "dpkg -i (missing Depends? apt-get install ./$(basename "$deb") pulls them)"; }
ok "dpkg -i installs it, its Depends satisfied"

[ "$(/usr/bin/sharekeeper version)" = "sharekeeper $version" ] || fail "sharekeeper version prints 'sharekeeper $version'"
ok "sharekeeper version: $(/usr/bin/sharekeeper version)"
/usr/bin/sharekeeper --help >"$work/help" || fail "sharekeeper --help exits 0"
for sub in validate plan apply run version; do grep -q "^  $sub" "$work/help" || fail "--help lists $sub"; done
ok "sharekeeper --help lists validate, plan, apply, run, version"

unit=/usr/lib/systemd/system/sharekeeper.service
grep -q '^ExecStart=/usr/bin/sharekeeper run ' "$unit" || fail "the installed unit starts /usr/bin/sharekeeper"
# No systemd runs as PID 1 here, so verify is the check: syntax, directives, and that ExecStart exists.
if ! systemd-analyze verify "$unit" >"$work/verify" 2>&1 || grep -q 'sharekeeper' "$work/verify"; then
  cat "$work/verify" >&2
  fail "systemd-analyze verify $unit is clean"
fi
ok "systemd-analyze verify $unit: clean"
state=$(systemctl --root=/ is-enabled sharekeeper.service 2>/dev/null || true)
[ "$state" = "disabled" ] || fail "installing does not enable the service (is-enabled: '$state')"
ok "the service is installed but not enabled (it needs the admin's config first)"

# The installed emulator, seed and example config, driven by the installed sharekeeper.
docs=/usr/share/doc/sharekeeper
/usr/bin/sharekeeper-emulator --listen 127.0.0.1:0 --seed "$docs/examples/seed/quickstart.json" \
  --port-file "$work/port" >"$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/emulator.log" >&2; fail "the installed emulator starts"; }
grep -q '^listening on http://127.0.0.1:' "$work/emulator.log" || fail "the emulator prints its address"
ok "sharekeeper-emulator serves $docs/examples/seed/quickstart.json on port $(cat "$work/port")"
export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tQuickstartSharer01
export ALIBABA_CLOUD_ACCESS_KEY_SECRET=QuickstartSharerSecret0123456789
flags=(--endpoint-override "http://127.0.0.1:$(cat "$work/port")" --log-format text --log-level warn)
config="$docs/examples/quickstart.yaml"
/usr/bin/sharekeeper validate -c "$config" >/dev/null || fail "sharekeeper validate of the installed example"
rc=0
/usr/bin/sharekeeper plan -c "$config" --detailed-exitcode "${flags[@]}" >"$work/plan" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$work/plan" >&2; fail "plan --detailed-exitcode exits 2 (changes) against the fresh world, got $rc"; }
rc=0
/usr/bin/sharekeeper run -c "$config" --once --listen 127.0.0.1:0 "${flags[@]}" >"$work/run" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$work/run" >&2; fail "sharekeeper run --once converges (exit $rc)"; }
rc=0
/usr/bin/sharekeeper plan -c "$config" --detailed-exitcode "${flags[@]}" >"$work/plan2" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$work/plan2" >&2; fail "plan --detailed-exitcode exits 0 after the pass, got $rc"; }
ok "installed sharekeeper: validate, plan (exit 2), run --once, plan (exit 0) against the installed emulator"
kill -TERM "$emu_pid"
rc=0
wait "$emu_pid" || rc=$?
emu_pid=""
[ "$rc" = 0 ] || fail "the emulator exits 0 on SIGTERM (got $rc)"
ok "sharekeeper-emulator exits 0 on SIGTERM"

dpkg --purge sharekeeper >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "dpkg --purge"; }
installed_by_us=0
for f in /usr/bin/sharekeeper /usr/bin/sharekeeper-emulator "$unit" "$docs"; do
  [ ! -e "$f" ] || fail "$f is gone after the purge"
done
if dpkg-query -W -f='${Status}' sharekeeper 2>/dev/null | grep -q installed; then fail "dpkg no longer lists sharekeeper"; fi
ok "dpkg --purge leaves nothing behind"
echo "$passed passed, 0 failed"
