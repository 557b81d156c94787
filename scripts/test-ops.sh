#!/usr/bin/env bash
# Tests for the operations half of spanforge: Prometheus rules and their unit tests,
# Alertmanager (config, routing, inhibition, a real Alertmanager posting to a fake Discord),
# Grafana dashboards (every PromQL query run through a real Prometheus) and provisioning,
# and docker/docker-compose.yml (Compose Specification schema, files, references).
#
#   scripts/test-ops.sh                 # everything
#   scripts/test-ops.sh -k dashboards   # extra arguments go to pytest
#   SPANFORGE_PROMETHEUS_URL=http://localhost:9090 scripts/test-ops.sh -k dashboards
#       # check the dashboards against a Prometheus with real data: every panel must return data
#
# Installs missing tools first (scripts/install-ops-tools.sh). The last line is
# "N passed, M failed"; the exit status is non-zero if anything failed.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${SPANFORGE_CACHE:-$HOME/.cache/spanforge}"

bash "$repo_root/scripts/install-ops-tools.sh"
set -a
# shellcheck disable=SC1091
. "$cache/ops-tools.env"
set +a

work="$(mktemp -d "${TMPDIR:-/tmp}/spanforge-test-ops.XXXXXX")"
trap 'rm -rf "$work"' EXIT

status=0
(
  cd "$repo_root/tests/ops"
  "$OPS_PYTHON" -m pytest -p no:cacheprovider -q -rfE \
    --basetemp="$work/pytest" --junitxml="$work/junit.xml" "$@"
) || status=$?

summary="$("$OPS_PYTHON" - "$work/junit.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 0 0")
    sys.exit()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
tests = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(tests - failed - skipped, failed, skipped)
EOF
)"
read -r passed failed skipped <<<"$summary"

# pytest exits 5 when it collected nothing: that is a failure here too.
if [[ $status -eq 0 && $passed -eq 0 ]]; then
  status=1
fi
if [[ $status -ne 0 && $failed -eq 0 ]]; then
  failed=1
fi
if [[ $skipped -gt 0 ]]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
