#!/usr/bin/env bash
# Installs the programs the Rust test suites talk to, if missing. Idempotent.
set -euo pipefail

need=()
# (the Rust suites add their servers here: redis-server, …)
for pkg in "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
