"""docker/docker-compose.yml and the files around it.

The compose file is loaded with compose-go (the Compose Specification's reference library: JSON
schema validation, interpolation, consistency checks) through tests/ops/opscheck, with every
profile enabled. No Docker engine is needed.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import DOCKER_DIR, REPO, RULES_DIR, load_yaml, run, tool

COMPOSE = DOCKER_DIR / "docker-compose.yml"
GATEWAY = REPO / "collector-config" / "gateway.yaml"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The normalized project as compose-go sees it (paths resolved, variables interpolated)."""
    res = run([tool("opscheck"), "compose", str(COMPOSE)], cwd=DOCKER_DIR)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_compose_file_is_valid(project):
    expected = {"collector", "tempo", "loki", "prometheus", "alertmanager", "grafana", "llm_service", "langfuse-web"}
    assert expected <= set(project["services"])


def test_schema_validation_rejects_a_broken_file(tmp_path):
    """Control: the validator really validates (an unknown service key must fail)."""
    raw = load_yaml(COMPOSE)
    raw["services"]["grafana"]["no_such_key"] = True
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(raw))
    res = run([tool("opscheck"), "compose", str(broken)], cwd=tmp_path)
    assert res.returncode != 0
    assert "no_such_key" in res.stderr


def test_build_contexts_and_dockerfiles_exist(project):
    builds = {name: s["build"] for name, s in project["services"].items() if s.get("build")}
    assert {"collector", "llm_service"} <= set(builds)
    for name, b in builds.items():
        ctx = Path(b["context"])
        assert ctx.is_dir(), f"{name}: build context {ctx} missing"
        dockerfile = ctx / b.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
        # Every COPY source (outside of --from stages) must exist in the context.
        for line in dockerfile.read_text().splitlines():
            m = re.match(r"\s*COPY\s+(?!--from)(?:--\S+\s+)*(.+)\s+\S+\s*$", line)
            if m:
                for src in m.group(1).split():
                    if src != ".":
                        assert list(ctx.glob(src)), f"{name}: COPY {src} matches nothing in {ctx}"


def test_bind_mounts_and_secrets_exist(project):
    missing = []
    for name, s in project["services"].items():
        for v in s.get("volumes") or []:
            if v["type"] == "bind" and not Path(v["source"]).exists():
                missing.append(f"{name}: {v['source']}")
        for f in s.get("env_file") or []:
            if f.get("required", True) and not Path(f["path"]).exists():
                missing.append(f"{name}: env_file {f['path']}")
    for kind in ("secrets", "configs"):
        for name, s in (project.get(kind) or {}).items():
            if s.get("file") and not Path(s["file"]).exists():
                missing.append(f"{kind}.{name}: {s['file']}")
    assert not missing, "missing files:\n" + "\n".join(missing)


def test_service_references_are_defined():
    raw = load_yaml(COMPOSE)
    services = set(raw["services"])
    problems = []
    for name, s in raw["services"].items():
        deps = s.get("depends_on") or []
        for d in deps if isinstance(deps, list) else deps.keys():
            if d not in services:
                problems.append(f"{name}: depends_on {d}")
        for link in s.get("links") or []:
            if link.split(":")[0] not in services:
                problems.append(f"{name}: links {link}")
        for sec in s.get("secrets") or []:
            sec_name = sec if isinstance(sec, str) else sec["source"]
            if sec_name not in (raw.get("secrets") or {}):
                problems.append(f"{name}: secret {sec_name}")
    assert not problems, problems


def test_images_are_pinned(project):
    for name, s in project["services"].items():
        image = s.get("image", "")
        if s.get("build"):
            continue
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag ({image})"


def test_only_loopback_ports(project):
    for name, s in project["services"].items():
        for p in s.get("ports") or []:
            assert p.get("host_ip") == "127.0.0.1", f"{name}: port {p} is not bound to 127.0.0.1"


def test_prometheus_config_is_valid(tmp_path):
    """promtool check config, with the rules where the compose file mounts them."""
    cfg = load_yaml(DOCKER_DIR / "prometheus" / "prometheus.yml")
    assert cfg["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    cfg["rule_files"] = [str(RULES_DIR / "*.yml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(cfg))
    res = run([tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout + res.stderr
    mounts = {v["target"]: v["source"] for v in _volumes("prometheus")}
    assert Path(mounts["/etc/prometheus/rules"]).resolve() == RULES_DIR.resolve()
    targets = {t for sc in cfg["scrape_configs"] for s in sc["static_configs"] for t in s["targets"]}
    assert "collector:8889" in targets
    assert cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]


def _volumes(service):
    res = run([tool("opscheck"), "compose", str(COMPOSE)], cwd=DOCKER_DIR)
    return json.loads(res.stdout)["services"][service]["volumes"]


def test_alertmanager_gets_config_and_discord_secret(project):
    am = project["services"]["alertmanager"]
    assert any(v["target"] == "/etc/alertmanager" for v in am["volumes"])
    assert [s["source"] for s in am["secrets"]] == ["discord_webhook_url"]
    assert "/run/secrets/discord_webhook_url" in (REPO / "collector-config/alertmanager/alertmanager.yml").read_text()


def test_grafana_mounts_provisioning_and_dashboards(project):
    mounts = {v["target"]: Path(v["source"]) for v in project["services"]["grafana"]["volumes"] if v["type"] == "bind"}
    assert mounts["/etc/grafana/provisioning"] == DOCKER_DIR / "grafana" / "provisioning"
    assert mounts["/var/lib/grafana/dashboards"] == DOCKER_DIR / "grafana" / "dashboards"
    provider = load_yaml(DOCKER_DIR / "grafana/provisioning/dashboards/dashboards.yaml")
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_collector_environment_covers_gateway_config(project):
    """Every ${env:VAR} the gateway config needs without a default is set for the collector."""
    if not GATEWAY.exists():
        pytest.fail(f"{GATEWAY.relative_to(REPO)} is missing: the compose stack mounts it")
    env = project["services"]["collector"].get("environment") or {}
    needed = set()
    for m in re.finditer(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}", GATEWAY.read_text()):
        if not m.group(2):
            needed.add(m.group(1))
    missing = sorted(needed - set(env))
    assert not missing, f"collector environment lacks {missing}"
    for name in ("TEMPO_ENDPOINT", "LOKI_ENDPOINT"):
        assert name in env
