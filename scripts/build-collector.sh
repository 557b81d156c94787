#!/usr/bin/env bash
# Build the spanforge collector distribution (otelcol-spanforge) from
# collector-config/builder-config.yaml with the OpenTelemetry Collector Builder.
#
# Prints ONLY the absolute path of the binary on stdout; all progress goes to stderr.
# The result is cached under $SPANFORGE_CACHE (default ~/.cache/spanforge) in a directory
# keyed by the sha256 of the manifest, so a second run returns at once.
#
# Environment:
#   SPANFORGE_CACHE          cache root (default: $HOME/.cache/spanforge)
#   SPANFORGE_COLLECTOR_MANIFEST  manifest to build (default: collector-config/builder-config.yaml)
#   SPANFORGE_BUILD_JOBS     parallel compile jobs (default: number of cores, at most 2)
#   GOPROXY, GOFLAGS, ...    honoured as usual
set -euo pipefail

log() { printf 'build-collector: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="${SPANFORGE_COLLECTOR_MANIFEST:-$repo_root/collector-config/builder-config.yaml}"
cache="${SPANFORGE_CACHE:-$HOME/.cache/spanforge}"

[[ -f "$manifest" ]] || die "manifest not found: $manifest"
command -v go >/dev/null 2>&1 || die "go is not on PATH (the collector is built from source with the Go toolchain)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum is not on PATH"

manifest="$(cd "$(dirname "$manifest")" && pwd)/$(basename "$manifest")"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

dist_name="$(sed -n 's/^[[:space:]]*name:[[:space:]]*\([A-Za-z0-9._-]*\).*/\1/p' "$manifest" | head -n1)"
[[ -n "$dist_name" ]] || die "could not read dist.name from $manifest"

digest="$(sha256sum "$manifest" | cut -d' ' -f1)"
out_dir="$cache/otelcol/$digest"
binary="$out_dir/$dist_name"

# Fast path: already built for exactly this manifest.
if [[ -x "$binary" ]]; then
  printf '%s\n' "$binary"
  exit 0
fi

# The builder version must match the core collector release of the manifest: take it from
# the otlp receiver line (every core v0.x module in the manifest is at the same release).
builder_version="$(sed -n 's#.*go\.opentelemetry\.io/collector/receiver/otlpreceiver[[:space:]]\{1,\}\(v[0-9][0-9.]*\).*#\1#p' "$manifest" | head -n1)"
[[ -n "$builder_version" ]] || die "could not infer the core collector version from $manifest (no otlpreceiver line)"

cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
jobs="${SPANFORGE_BUILD_JOBS:-$(( cores < 2 ? cores : 2 ))}"

# Serialise concurrent builds of the same manifest (tests may call this in parallel).
mkdir -p "$cache/otelcol"
lock="$cache/otelcol/$digest.lock"
exec 9>"$lock"
if command -v flock >/dev/null 2>&1; then
  if ! flock -n 9; then
    log "another build of this manifest is running; waiting for it"
    flock 9
  fi
fi
if [[ -x "$binary" ]]; then
  printf '%s\n' "$binary"
  exit 0
fi

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0
export GOMAXPROCS="${GOMAXPROCS:-$jobs}"
# -trimpath: reproducible paths; -p: respect the small machine.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath -p=$jobs"

# 1. The builder itself, cached per version.
builder_dir="$cache/bin/ocb-$builder_version"
builder="$builder_dir/builder"
if [[ ! -x "$builder" ]]; then
  log "installing go.opentelemetry.io/collector/cmd/builder@$builder_version into $builder_dir"
  mkdir -p "$builder_dir"
  GOBIN="$builder_dir" go install "go.opentelemetry.io/collector/cmd/builder@$builder_version" >&2 \
    || die "go install go.opentelemetry.io/collector/cmd/builder@$builder_version failed"
fi

# 2. Generate and compile in a scratch directory, then move the binary into place atomically.
work="$(mktemp -d "$cache/otelcol/build.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

cp "$manifest" "$work/builder-config.yaml"
log "building $dist_name (manifest sha256 $digest) with builder $builder_version, $jobs jobs; a cold build takes several minutes"
start=$(date +%s)
(
  cd "$work"
  "$builder" --config="$work/builder-config.yaml" >&2
) || die "the collector builder failed (see the output above)"

built="$work/_build/$dist_name"
[[ -x "$built" ]] || die "the builder finished but $built does not exist"
"$built" --version >&2 || die "the built binary does not run"

mkdir -p "$out_dir"
cp "$manifest" "$out_dir/builder-config.yaml"
mv -f "$built" "$binary.tmp.$$"
mv -f "$binary.tmp.$$" "$binary"
log "built $binary in $(( $(date +%s) - start ))s"

printf '%s\n' "$binary"
