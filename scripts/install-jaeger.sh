#!/usr/bin/env bash
# Build Jaeger v2 (github.com/jaegertracing/jaeger/cmd/jaeger) from the Go module proxy and
# print ONLY the absolute path of the binary on stdout (progress goes to stderr).
#
# Jaeger is the stand-in for Tempo in tests: a real OTLP trace backend with a query API
# (/api/v3/traces, /api/v3/services). Module version v1.76.0 is the Jaeger v2.13.0 release.
#
# `go install github.com/jaegertracing/jaeger/cmd/jaeger@v1.76.0` refuses (Jaeger's go.mod has
# replace directives), so the binary is built as a tool of a throwaway module in the cache.
# Cached and idempotent: a second run returns at once.
#
# Environment:
#   SPANFORGE_CACHE          cache root (default: $HOME/.cache/spanforge)
#   SPANFORGE_JAEGER_VERSION module version (default: v1.76.0)
#   SPANFORGE_BUILD_JOBS     parallel compile jobs (default: number of cores, at most 2)
#
# Run it (in-memory storage, everything on loopback) with the config printed by
# `scripts/install-jaeger.sh --print-config`, e.g.
#   scripts/install-jaeger.sh --print-config > /tmp/jaeger.yaml
#   "$(scripts/install-jaeger.sh)" --config=/tmp/jaeger.yaml
# The config reads JAEGER_OTLP_GRPC_ENDPOINT (127.0.0.1:4317), JAEGER_OTLP_HTTP_ENDPOINT
# (127.0.0.1:4318), JAEGER_QUERY_HTTP_ENDPOINT (127.0.0.1:16686), JAEGER_QUERY_GRPC_ENDPOINT
# (127.0.0.1:16685), JAEGER_HEALTH_ENDPOINT (127.0.0.1:13133), JAEGER_METRICS_PORT (8888).
set -euo pipefail

log() { printf 'install-jaeger: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

print_config() {
  cat <<'YAML'
# Jaeger v2 all-in-one with in-memory storage, bound to loopback.
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    logs:
      level: warn
    metrics:
      level: basic
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${env:JAEGER_METRICS_PORT:-8888}
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: ${env:JAEGER_HEALTH_ENDPOINT:-127.0.0.1:13133}
  jaeger_query:
    # Jaeger traces itself to OTLP localhost:4317 by default: that would feed its own spans
    # into a collector under test (and delays shutdown while it retries).
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: ${env:JAEGER_QUERY_HTTP_ENDPOINT:-127.0.0.1:16686}
    grpc:
      endpoint: ${env:JAEGER_QUERY_GRPC_ENDPOINT:-127.0.0.1:16685}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${env:JAEGER_OTLP_GRPC_ENDPOINT:-127.0.0.1:4317}
      http:
        endpoint: ${env:JAEGER_OTLP_HTTP_ENDPOINT:-127.0.0.1:4318}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
YAML
}

if [[ "${1:-}" == "--print-config" ]]; then
  print_config
  exit 0
fi

command -v go >/dev/null 2>&1 || die "go is not on PATH (Jaeger is built from source with the Go toolchain)"

version="${SPANFORGE_JAEGER_VERSION:-v1.76.0}"
cache="${SPANFORGE_CACHE:-$HOME/.cache/spanforge}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
dir="$cache/jaeger/$version"
binary="$dir/jaeger"

if [[ -x "$binary" ]]; then
  printf '%s\n' "$binary"
  exit 0
fi

mkdir -p "$dir"
exec 9>"$dir.lock"
if command -v flock >/dev/null 2>&1; then
  if ! flock -n 9; then
    log "another install of Jaeger $version is running; waiting for it"
    flock 9
  fi
fi
if [[ -x "$binary" ]]; then
  printf '%s\n' "$binary"
  exit 0
fi

cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
jobs="${SPANFORGE_BUILD_JOBS:-$(( cores < 2 ? cores : 2 ))}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0
export GOMAXPROCS="${GOMAXPROCS:-$jobs}"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath -p=$jobs"

mod="$dir/toolmod"
if [[ ! -f "$mod/go.mod" ]] || ! grep -q "github.com/jaegertracing/jaeger $version" "$mod/go.mod"; then
  rm -rf "$mod"
  mkdir -p "$mod"
  log "resolving github.com/jaegertracing/jaeger/cmd/jaeger@$version as a Go tool in $mod"
  (
    cd "$mod"
    go mod init spanforge.local/jaeger-tool >&2
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$version" >&2
  ) || { rm -rf "$mod"; die "could not resolve github.com/jaegertracing/jaeger/cmd/jaeger@$version from the module proxy"; }
fi

log "compiling Jaeger $version with $jobs jobs; a cold build takes several minutes"
start=$(date +%s)
(
  cd "$mod"
  go build -ldflags='-s -w' -o "$binary.tmp.$$" github.com/jaegertracing/jaeger/cmd/jaeger >&2
) || { rm -f "$binary.tmp.$$"; die "go build of github.com/jaegertracing/jaeger/cmd/jaeger@$version failed"; }
mv -f "$binary.tmp.$$" "$binary"
log "built $binary in $(( $(date +%s) - start ))s"

printf '%s\n' "$binary"
