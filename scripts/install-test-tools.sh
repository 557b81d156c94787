#!/usr/bin/env bash
# Installs the programs the Rust test suites talk to, if missing. Idempotent.
set -euo pipefail

# redis-server: the Redis integration's tests start their own server on a free loopback port.
packages=(redis-server "$@")
need=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The Debian package starts a system-wide server on 6379; the tests do not use it.
