"""Shared fixtures for the operations tests (run them with scripts/test-ops.sh).

Tools come from the environment that scripts/install-ops-tools.sh writes (PROMTOOL, PROMETHEUS,
ALERTMANAGER, AMTOOL, OPSCHECK), else from PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "collector-config" / "prometheus" / "rules"
RULE_TESTS_DIR = REPO / "collector-config" / "prometheus" / "tests"
ALERTMANAGER_DIR = REPO / "collector-config" / "alertmanager"
DOCKER_DIR = REPO / "docker"
DASHBOARDS_DIR = DOCKER_DIR / "grafana" / "dashboards"
DATASOURCES_FILE = DOCKER_DIR / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
OPERATIONS_DOC = REPO / "docs" / "operations.md"
RUNBOOK_BASE = "https://github.com/spanforge/spanforge/blob/main/docs/operations.md"

# Point the dashboard checks at a Prometheus with real data (e.g. the compose stack after
# traffic): then every panel query must also return data.
LIVE_PROMETHEUS_URL = os.environ.get("SPANFORGE_PROMETHEUS_URL", "").rstrip("/")


def tool(name: str) -> str:
    """Path of a tool: $NAME (upper case) if set, else PATH. Fails the test if missing."""
    path = os.environ.get(name.upper()) or shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: run scripts/install-ops-tools.sh (or set {name.upper()})")
    return path


def run(args: list[str], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(args, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None, timeout: float = 10):
    """A JSON request; returns (status, parsed body or text)."""
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read().decode()
            status = resp.status
    except urllib.error.HTTPError as e:
        raw = e.read().decode()
        status = e.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


class Server:
    """A program started for a test, stopped (and its log kept) at teardown."""

    def __init__(self, name: str, args: list[str], log: Path, ready_url: str, timeout: float = 30):
        self.name = name
        self.log = log
        self._logf = open(log, "w")
        self.proc = subprocess.Popen(args, stdout=self._logf, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.stop()
                pytest.fail(f"{name} exited with {self.proc.returncode}:\n{log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(ready_url, timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"{name} not ready after {timeout}s:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._logf.close()

    def output(self) -> str:
        self._logf.flush()
        return self.log.read_text()


def load_yaml(path: Path):
    with open(path) as f:
        return yaml.safe_load(f)


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.rules.yml"))


def all_rules() -> list[tuple[Path, dict]]:
    out = []
    for f in rule_files():
        for group in load_yaml(f)["groups"]:
            for rule in group["rules"]:
                out.append((f, rule))
    return out


def recorded_names() -> set[str]:
    return {r["record"] for _, r in all_rules() if "record" in r}


def parse_promql(exprs: list[str]) -> list[dict]:
    """Parses with Prometheus' own parser (tests/ops/opscheck); returns [{expr, error, metrics}]."""
    res = run([tool("opscheck"), "promql"], input=json.dumps(exprs))
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory):
    """A Prometheus HTTP API base URL: SPANFORGE_PROMETHEUS_URL, else a real Prometheus started
    on loopback with an empty TSDB and every rule file loaded."""
    if LIVE_PROMETHEUS_URL:
        yield LIVE_PROMETHEUS_URL
        return
    tmp = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    config = tmp / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"evaluation_interval": "1s"},
                "rule_files": [str(p) for p in rule_files()],
            }
        )
    )
    server = Server(
        "prometheus",
        [
            tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        tmp / "prometheus.log",
        f"http://127.0.0.1:{port}/-/ready",
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def prom_query(base: str, expr: str, at: float | None = None):
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    return http("GET", f"{base}/api/v1/query?{urllib.parse.urlencode(params)}")
