#!/usr/bin/env bash
# Fails when the dependency tree holds two versions of a crate that must be unique: two
# copies of opentelemetry mean two sets of globals (silently broken context propagation),
# two HTTP/gRPC stacks mean a bloated, slower build.
set -euo pipefail
cd "$(dirname "$0")/.."

dupes=$(cargo tree --workspace --all-features -d --depth 0 -e normal,build 2>/dev/null \
  | awk 'NF {print $1, $2}' | sort -u \
  | grep -E '^(opentelemetry[a-z_-]*|tracing-opentelemetry|tonic|prost|reqwest|hyper|axum|tower|http|h2) ' || true)
if [[ -n "$dupes" ]]; then
  echo "duplicate versions of crates that must be unique:"
  echo "$dupes"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "dependency tree: one version each of opentelemetry*, tonic, prost, reqwest, hyper, axum, tower, http, h2"
echo "1 passed, 0 failed"
