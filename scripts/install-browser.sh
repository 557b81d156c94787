#!/usr/bin/env bash
# Install what the web UI test (crates/spanforge-cli/tests/cli/ui.rs) needs, idempotently:
#   * chromium          Debian package "chromium" (headless; the test never downloads a browser)
#   * playwright-core   from the npm registry, pinned, into $SPANFORGE_CACHE/browser
# A second run only checks. Prints the node_modules directory on stdout (the test finds it at
# ${SPANFORGE_CACHE:-$HOME/.cache/spanforge}/browser/node_modules, or at $SPANFORGE_NODE_MODULES).
# Progress goes to stderr.
#
# Environment:
#   SPANFORGE_CACHE            cache root (default: $HOME/.cache/spanforge)
#   PLAYWRIGHT_CORE_VERSION    playwright-core version (default below)
set -euo pipefail

log() { printf 'install-browser: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cache="${SPANFORGE_CACHE:-$HOME/.cache/spanforge}"
mkdir -p "$cache/browser"
cache="$(cd "$cache" && pwd)"
dir="$cache/browser"

# playwright-core drives the system Chromium over CDP; it has no dependencies and, unlike the
# "playwright" package, no install script that downloads browsers.
PLAYWRIGHT_CORE_VERSION="${PLAYWRIGHT_CORE_VERSION:-1.65.1}"

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

# 1. Chromium (Debian) and fonts, so that screenshots have readable text.
if [[ ! -x /usr/bin/chromium ]]; then
  apt_install chromium fonts-dejavu-core
fi

# 2. Node.js and npm, to run tests/ui/check.mjs (playwright-core needs Node 18 or newer).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 18)) || die "node $(node --version) is too old: playwright-core needs 18 or newer"

# 3. playwright-core, pinned, into its own directory.
installed="$(node -p "try { require('$dir/node_modules/playwright-core/package.json').version } catch { '' }")"
if [[ "$installed" != "$PLAYWRIGHT_CORE_VERSION" ]]; then
  log "npm install playwright-core@$PLAYWRIGHT_CORE_VERSION into $dir"
  [[ -f "$dir/package.json" ]] || printf '{"name":"spanforge-browser","private":true}\n' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --save-exact --ignore-scripts --loglevel=error \
    "playwright-core@$PLAYWRIGHT_CORE_VERSION" >&2 || die "npm install playwright-core failed"
fi

log "ready: /usr/bin/chromium ($(/usr/bin/chromium --version 2>/dev/null | head -n1)), playwright-core $PLAYWRIGHT_CORE_VERSION"
printf '%s\n' "$dir/node_modules"
