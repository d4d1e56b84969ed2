#!/usr/bin/env bash
# Installs the Debian packages meshslice needs, only those that are missing. Idempotent:
# runs `apt-get update` only when something has to be installed. Needs root (or sudo).
set -euo pipefail

# Build and test dependencies. Extra groups are requested by name: `deps.sh lan` adds what the
# namespace / mDNS interop tests need, `deps.sh web` what the browser and JavaScript tests need
# (chromium + chromedriver for the dashboard, node + npm for clients/js).
packages=(build-essential cmake pkg-config git ca-certificates
          libuv1-dev libsodium-dev libmsgpack-cxx-dev nlohmann-json3-dev libcli11-dev
          libgtest-dev libgmock-dev libbenchmark-dev
          clang libclang-rt-14-dev iproute2 python3)
for group in "$@"; do
  case "$group" in
    lan) packages+=(avahi-daemon avahi-utils tshark iputils-ping nftables ethtool) ;;
    debug) packages+=(valgrind gdb) ;;
    web)
      packages+=(chromium chromium-driver fonts-dejavu-core)
      # Any node >= 18 will do: a node from elsewhere (nodesource) ships its own npm and
      # conflicts with Debian's npm package, so only install them when the commands are missing.
      command -v node >/dev/null || packages+=(nodejs)
      command -v npm >/dev/null || packages+=(npm)
      ;;
    *) echo "deps.sh: unknown group '$group' (known: lan, web, debug)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Never let a package start a service in the host namespace (avahi-daemon would multicast on
# real interfaces): policy-rc.d exit 101 forbids service starts for the duration.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  created_policy=1
fi
# (an `if`, not `&&`: under set -e a false test in the EXIT trap would become the exit status)
cleanup() { if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT
$SUDO apt-get update -qq
# tshark asks whether non-root users may capture; answer no.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
