#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (idempotently,
# cached under ${SPANFORGE_CACHE:-$HOME/.cache/spanforge}), then runs every suite and prints
# one total line.
#
#   scripts/test.sh            everything
#   scripts/test.sh rust       only the Rust workspace (fmt, clippy, tests)
#   scripts/test.sh collector  only the collector configuration checks
#   scripts/test.sh ops        only the alerting / dashboard / compose checks
set -uo pipefail
cd "$(dirname "$0")/.."

only="${1:-all}"
logs="$(mktemp -d)"
passed=0
failed=0
failed_suites=()

# Sum the closing lines of every runner in a suite's output: cargo's "test result: ok. N passed;
# M failed" and our scripts' "N passed, M failed".
count() {
  local totals
  totals=$(grep -hoE '[0-9]+ passed[;,] [0-9]+ failed' "$1" \
    | awk '{ p += $1; f += $3 } END { printf "%d %d", p, f }')
  passed=$((passed + ${totals% *}))
  failed=$((failed + ${totals#* }))
}

suite() {
  local name="$1"; shift
  echo "=== ${name}"
  local started=$SECONDS
  if "$@" 2>&1 | tee "${logs}/${name}.log"; then
    echo "=== ${name}: ok ($((SECONDS - started)) s)"
  else
    echo "=== ${name}: FAILED ($((SECONDS - started)) s)"
    failed_suites+=("${name}")
  fi
  count "${logs}/${name}.log"
}

rust_suite() {
  set -e
  scripts/install-test-tools.sh
  # Programs the suites talk to, built or installed once and cached: Langfuse's schema, the
  # collector distribution, Jaeger (the trace backend of the end-to-end suite), Prometheus.
  scripts/install-langfuse-schema.sh >/dev/null
  scripts/install-ops-tools.sh >/dev/null
  scripts/build-collector.sh >/dev/null
  scripts/install-jaeger.sh >/dev/null
  # sqld (libsql-server), the real server behind Turso, for the Turso client's tests.
  scripts/install-sqld.sh >/dev/null
  # Headless Chromium and playwright-core for the web UI's browser test.
  scripts/install-browser.sh >/dev/null
  cargo fmt --all -- --check
  scripts/check-deps.sh
  cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
  # Examples are built first: the end-to-end suite runs the example binaries.
  cargo build --workspace --examples --all-features --locked
  RUSTDOCFLAGS="-D rustdoc::broken_intra_doc_links" cargo doc --workspace --no-deps --all-features --locked
  cargo test --workspace --all-features --locked --no-fail-fast
}

case "$only" in
  all|rust) suite rust rust_suite ;;
esac
case "$only" in
  all|collector) suite collector scripts/check-collector-configs.sh ;;
esac
case "$only" in
  all|ops) suite ops scripts/test-ops.sh ;;
esac

echo
if ((${#failed_suites[@]})); then
  echo "failed suites: ${failed_suites[*]}"
  # A suite that failed before its runner printed anything still counts as a failure.
  ((failed == 0)) && failed=${#failed_suites[@]}
fi
echo "${passed} passed, ${failed} failed"
((${#failed_suites[@]} == 0))
