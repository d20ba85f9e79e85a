#!/usr/bin/env bash
# Installs the Debian packages Tern needs to build, run and test — only the
# missing ones, so a second run costs one dpkg query.
set -euo pipefail

build_pkgs=(cmake ninja-build ccache g++ pkg-config clang libclang-rt-14-dev
  libboost-dev libboost-system-dev libssl-dev libexpat1-dev libidn11-dev
  libsqlite3-dev libspdlog-dev libfmt-dev libtoml11-dev libcli11-dev
  libgtest-dev libbenchmark-dev libc-ares-dev)
# prosody and ejabberd: the import tests run them by hand (tests/e2e/peers.py),
# never through the init system.
test_pkgs=(python3 python3-pytest python3-slixmpp python3-aioxmpp libstrophe-dev openssl
  prosody ejabberd tzdata chromium
  python3-aiohttp)  # slixmpp's XEP-0363 upload (tests/e2e/test_upload.py)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The web page is built with npm (converse.js). A node from elsewhere
# (nodesource) brings its own npm; Debian's would conflict with it.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq || true
# Installing a server package must not start it as a system service: a
# policy-rc.d that answers 101 ("action forbidden") keeps invoke-rc.d from
# starting prosody or ejabberd; one that is already there is left alone.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod +x "$policy"
  own_policy=1
fi
status=0
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" || status=$?
[ "$own_policy" = 1 ] && "${sudo_cmd[@]}" rm -f "$policy"
exit "$status"
