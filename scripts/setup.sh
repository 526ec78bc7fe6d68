#!/usr/bin/env bash
# Sets osm-ts up on a fresh Debian machine with Node.js 20: the Debian packages the sidecar's
# tests need, npm dependencies (exactly as locked) and the build (TypeScript and the native
# addon in native/). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# iptables and iproute2 (`ip netns`) let src/proxy/original-dst.test.ts redirect a real connection
# in a throwaway network namespace. haproxy, wrk and nghttp2-client (h2load) are what
# `npm run bench:proxy` compares our sidecars with and loads them with; bench/proxy's haproxy test
# also needs haproxy. Installing needs root; without root those tests skip themselves, so a missing
# package is only reported. `apt-get update` runs only when something is missing, so a second run
# costs one dpkg query.
system_packages=(iptables iproute2 haproxy wrk nghttp2-client)
missing=()
for pkg in "${system_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "setup: not installing ${missing[*]} (needs root and apt-get); the tests that need them will skip" >&2
  fi
fi

npm ci --no-audit --no-fund
npm run build
