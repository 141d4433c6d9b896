#!/usr/bin/env bash
# Installs everything sharekeeper needs on a fresh Debian 12 machine (build, tests, compat, e2e).
# Idempotent; nothing is downloaded at build time. Run as root (or with sudo available).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
pkgs=(build-essential cmake ninja-build ccache mold pkg-config openssl git
      libboost1.81-dev libssl-dev libyaml-cpp-dev libyaml-dev nlohmann-json3-dev prometheus-cpp-dev zlib1g-dev
      libgtest-dev libgmock-dev libbenchmark-dev libspdlog-dev libfmt-dev libcli11-dev
      clang libclang-rt-14-dev clang-format clang-tidy prometheus curl procps python3
      dpkg-dev systemd python3-yaml jq etcd-server etcd-client)
# dpkg-dev: dpkg-shlibdeps derives the .deb's Depends (scripts/package.sh); systemd: systemd-analyze
# verify of the packaged unit (tests/package); python3-yaml and jq: the GitOps recipe's test and its
# GitHub snippet (tests/gitops). CPack writes the .deb itself with root ownership: no fakeroot needed.
# Node.js >= 18 and npm are needed by tests/compat; the machine image ships them, apt only when absent.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# etcd-server and etcd-client: the coordination tests start their own etcd on free loopback ports in
# a temp dir (tests/integration/coordination); an etcd.service the package may start on the default
# ports 2379/2380 does not disturb them.
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi
# Node packages for the SDK compatibility tests (versions pinned by package-lock.json).
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$here/tests/compat/package.json" ] && [ ! -d "$here/tests/compat/node_modules" ]; then
  (cd "$here/tests/compat" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi)
fi
