#!/usr/bin/env bash
# The main job, against the local emulator. Installs dependencies, builds, and runs what exists today.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev --target sharekeeper
echo
build/dev/daemon/sharekeeper version
echo
echo "quickstart: only the build and the CLI skeleton exist so far; the emulator, config, plan/apply and"
echo "the daemon land with their issues, and this script will run them against the emulator then."
