#!/usr/bin/env bash
# Builds the Debian package from the `release` preset (-O2, stripped):
#   scripts/package.sh      -> build/release/packages/sharekeeper_<version>_<arch>.deb (its path is the last line)
# Contents, Depends and maintainer scripts are defined in cmake/Packaging.cmake:
#   /usr/bin/sharekeeper, /usr/bin/sharekeeper-emulator, /usr/lib/systemd/system/sharekeeper.service,
#   /usr/share/doc/sharekeeper (docs/, README.md, examples/, deploy/ram/).
# Depends come from dpkg-shlibdeps (package dpkg-dev) on the two binaries, plus ca-certificates.
# Install, then configure and start by hand (the package never starts the service itself):
#   apt-get install ./build/release/packages/sharekeeper_0.1.0_amd64.deb
#   install -d -m 0750 /etc/sharekeeper && cp /usr/share/doc/sharekeeper/examples/single-account.yaml /etc/sharekeeper/
#   openssl rand -hex 32 | systemd-creds encrypt --name=admin-token - /etc/credstore.encrypted/sharekeeper-admin-token
#   systemctl enable --now sharekeeper
# tests/package/package_test.sh installs the result into this machine, checks it and purges it again.
# Only the two binaries are built (cpack does not build `all`: CMAKE_SKIP_INSTALL_ALL_DEPENDENCY).
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}
jobs=${SHAREKEEPER_JOBS:-$(nproc)}
command -v dpkg-shlibdeps >/dev/null || { echo "package.sh: dpkg-shlibdeps missing (apt-get install dpkg-dev, or scripts/install-deps.sh)" >&2; exit 1; }
cmake --preset release >&2
cmake --build --preset release -j "$jobs" --target sharekeeper sharekeeper-emulator >&2  # stdout: only the path
rm -f build/release/packages/sharekeeper_*.deb
(cd build/release && cpack -G DEB >/dev/null)
deb=$(ls build/release/packages/sharekeeper_*.deb)
dpkg-deb --field "$deb" Package Version Architecture Depends Installed-Size >&2
echo "$deb"
