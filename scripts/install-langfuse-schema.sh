#!/usr/bin/env bash
# Installs Langfuse's Python SDK (langfuse==4.18.0, the newest release that still ships the
# ingestion models, langfuse.api.ingestion.types) into a venv, for the test that validates
# every batch-ingestion event spanforge-langfuse produces against Langfuse's own schema.
#
#   ${SPANFORGE_CACHE:-$HOME/.cache/spanforge}/langfuse-venv/bin/python
set -euo pipefail
cache="${SPANFORGE_CACHE:-$HOME/.cache/spanforge}"
venv="$cache/langfuse-venv"
version="4.18.0"

if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c \
  "import importlib.metadata as m, sys; sys.exit(m.version('langfuse') != '$version')" 2>/dev/null; then
  echo "langfuse $version already installed in $venv"
  exit 0
fi
mkdir -p "$cache"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "langfuse==$version"
"$venv/bin/python" -c "from langfuse.api.ingestion.types import IngestionEvent; print('langfuse $version ingestion schema ready')"
