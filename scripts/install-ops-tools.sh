#!/usr/bin/env bash
# Install what the operations tests (scripts/test-ops.sh) need, idempotently:
#   * promtool and prometheus      Debian package "prometheus"
#   * alertmanager and amtool      built with `go install` from the Go module proxy, because
#                                  Debian bookworm's 0.25 lacks Discord's webhook_url_file
#   * opscheck                     tests/ops/opscheck (Prometheus' PromQL parser, compose-go)
#   * pytest and PyYAML            in a virtualenv
# Everything lands under ${SPANFORGE_CACHE:-$HOME/.cache/spanforge}; a second run only checks.
# Writes $SPANFORGE_CACHE/ops-tools.env (NAME=path lines) for scripts/test-ops.sh.
# Progress goes to stderr.
#
# Environment:
#   SPANFORGE_CACHE           cache root (default: $HOME/.cache/spanforge)
#   ALERTMANAGER_VERSION      Alertmanager module version (default below)
set -euo pipefail

log() { printf 'install-ops-tools: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${SPANFORGE_CACHE:-$HOME/.cache/spanforge}"
mkdir -p "$cache/bin"
cache="$(cd "$cache" && pwd)"
bin="$cache/bin"

# v0.31.1 is the newest release whose module builds with `go install`: from v0.32 on the web
# UI is generated at release time (ui/app/dist is not in the module), so the build fails.
ALERTMANAGER_VERSION="${ALERTMANAGER_VERSION:-v0.31.1}"
PYTEST_VERSION=9.2.0
PYYAML_VERSION=6.0.3

sudo_if_needed() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
  if [[ $apt_updated -eq 0 ]]; then
    log "apt-get update"
    sudo_if_needed apt-get update -qq >&2
    apt_updated=1
  fi
  log "apt-get install $*"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# 1. promtool + prometheus (Debian). The package's service is not needed; the tests start
#    their own Prometheus on a loopback port.
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  apt_install prometheus
fi
promtool="$(command -v promtool)"
prometheus="$(command -v prometheus)"

# 2. alertmanager + amtool from the Go module proxy, cached per version.
command -v go >/dev/null 2>&1 || die "go is not on PATH (Alertmanager and opscheck are built with it)"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" CGO_ENABLED=0
am_dir="$bin/alertmanager-$ALERTMANAGER_VERSION"
if [[ ! -x "$am_dir/alertmanager" || ! -x "$am_dir/amtool" ]]; then
  log "go install github.com/prometheus/alertmanager/cmd/{alertmanager,amtool}@$ALERTMANAGER_VERSION"
  mkdir -p "$am_dir"
  GOBIN="$am_dir" GOFLAGS="${GOFLAGS:-} -trimpath" go install \
    "github.com/prometheus/alertmanager/cmd/alertmanager@$ALERTMANAGER_VERSION" \
    "github.com/prometheus/alertmanager/cmd/amtool@$ALERTMANAGER_VERSION" >&2 \
    || die "building Alertmanager $ALERTMANAGER_VERSION failed"
fi

# 3. opscheck, rebuilt when its sources change.
src="$repo_root/tests/ops/opscheck"
digest="$(cat "$src/go.mod" "$src/go.sum" "$src"/*.go | sha256sum | cut -c1-16)"
opscheck="$bin/opscheck-$digest"
if [[ ! -x "$opscheck" ]]; then
  log "building tests/ops/opscheck"
  (cd "$src" && go build -trimpath -o "$opscheck.tmp.$$" .) >&2 || die "building opscheck failed"
  mv -f "$opscheck.tmp.$$" "$opscheck"
fi

# 4. Python virtualenv with pytest and PyYAML.
venv="$cache/ops-venv"
want="pytest==$PYTEST_VERSION pyyaml==$PYYAML_VERSION"
if [[ ! -x "$venv/bin/python" ]] || [[ "$(cat "$venv/.spanforge-requirements" 2>/dev/null)" != "$want" ]]; then
  python="$(command -v python3 || true)"
  [[ -n "$python" ]] || apt_install python3 python3-venv
  python="$(command -v python3)"
  if ! "$python" -m venv --clear "$venv" >&2 2>/dev/null; then
    apt_install python3-venv
    "$python" -m venv --clear "$venv" >&2
  fi
  log "pip install $want"
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want >&2
  printf '%s' "$want" > "$venv/.spanforge-requirements"
fi

cat > "$cache/ops-tools.env" <<EOF
PROMTOOL=$promtool
PROMETHEUS=$prometheus
ALERTMANAGER=$am_dir/alertmanager
AMTOOL=$am_dir/amtool
OPSCHECK=$opscheck
OPS_PYTHON=$venv/bin/python
EOF
log "tools ready ($cache/ops-tools.env)"
