#!/usr/bin/env bash
# Validate every collector config in collector-config/*.yaml with the spanforge collector
# distribution (built, or taken from the cache, by scripts/build-collector.sh).
#
# A file counts as a collector config when it has top-level `receivers:` and `service:` keys
# (builder-config.yaml and anything else are skipped). Each config is validated twice:
# with the environment variables it reads unset (so every `${env:VAR:-default}` default is
# exercised) and with sample values set.
#
# Output: one line per config, `ok <file>` or `FAIL <file>: <reason>`, then a final line
# `N passed, M failed`. Exits non-zero if any config failed (or none was found).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config_dir="${SPANFORGE_COLLECTOR_CONFIG_DIR:-$repo_root/collector-config}"

# Every variable the configs read, with a sample value.
sample_env=(
  OTELCOL_OTLP_GRPC_ENDPOINT=127.0.0.1:14317
  OTELCOL_OTLP_HTTP_ENDPOINT=127.0.0.1:14318
  OTELCOL_HEALTH_ENDPOINT=127.0.0.1:13133
  OTELCOL_PROMETHEUS_ENDPOINT=127.0.0.1:18889
  OTELCOL_TELEMETRY_HOST=127.0.0.1
  OTELCOL_TELEMETRY_PORT=18888
  OTELCOL_INSTANCE_ID=check-0
  OTELCOL_LOG_LEVEL=warn
  OTELCOL_STORAGE_DIR=/tmp/spanforge-collector-check
  OTELCOL_MEMORY_LIMIT_MIB=512
  OTELCOL_MEMORY_SPIKE_LIMIT_MIB=128
  OTELCOL_METRICS_FLUSH_INTERVAL=5s
  OTELCOL_METRIC_EXPIRATION=30m
  OTELCOL_SPANMETRICS_CARDINALITY_LIMIT=2000
  OTELCOL_TAIL_SAMPLING_DECISION_WAIT=5s
  OTELCOL_TAIL_SAMPLING_NUM_TRACES=10000
  OTELCOL_TAIL_SAMPLING_LATENCY_MS=500
  OTELCOL_TAIL_SAMPLING_PERCENTAGE=25
  TEMPO_ENDPOINT=127.0.0.1:4317
  TEMPO_INSECURE=true
  LOKI_ENDPOINT=http://127.0.0.1:3100
  LANGFUSE_OTLP_ENDPOINT=http://127.0.0.1:3000/api/public/otel
  LANGFUSE_OTLP_COMPRESSION=gzip
  LANGFUSE_AUTH=cGstbGYtc2FtcGxlOnNrLWxmLXNhbXBsZQ==
  GATEWAY_ENDPOINTS='[127.0.0.1:24317, 127.0.0.1:34317]'
  GATEWAY_INSECURE=true
)
unset_args=()
for kv in "${sample_env[@]}"; do
  unset_args+=(-u "${kv%%=*}")
done

passed=0
failed=0
report_fail() { # file reason
  printf 'FAIL %s: %s\n' "$1" "$2"
  failed=$((failed + 1))
}

shopt -s nullglob
configs=()
for f in "$config_dir"/*.yaml "$config_dir"/*.yml; do
  if grep -q '^receivers:' "$f" && grep -q '^service:' "$f"; then
    configs+=("$f")
  fi
done

if ((${#configs[@]} == 0)); then
  echo "FAIL $config_dir: no collector config found"
  echo "0 passed, 1 failed"
  exit 1
fi

build_log="$(mktemp)"
trap 'rm -f "$build_log"' EXIT
if ! binary="$("$repo_root/scripts/build-collector.sh" 2>"$build_log")" || [[ ! -x "$binary" ]]; then
  reason="collector build failed: $(grep -v '^go: downloading' "$build_log" | tail -n 3 | tr '\n' ' ')"
  cat "$build_log" >&2
  for f in "${configs[@]}"; do
    report_fail "${f#"$repo_root"/}" "$reason"
  done
  echo "$passed passed, $failed failed"
  exit 1
fi

# Prints the reason on failure (last meaningful line of the validator's output).
validate() { # label file env-args...
  local label="$1" file="$2"
  shift 2
  local out
  if out="$(env "$@" "$binary" validate --config="$file" 2>&1)"; then
    return 0
  fi
  printf '%s: %s' "$label" "$(printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | tail -n 3 | tr '\n' ' ' | cut -c1-600)"
  return 1
}

for f in "${configs[@]}"; do
  rel="${f#"$repo_root"/}"
  if reason="$(validate "with defaults" "$f" "${unset_args[@]}")" \
     && reason="$(validate "with sample environment" "$f" "${sample_env[@]}")"; then
    printf 'ok %s\n' "$rel"
    passed=$((passed + 1))
  else
    report_fail "$rel" "$reason"
  fi
done

echo "$passed passed, $failed failed"
((failed == 0))
