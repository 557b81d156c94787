"""Prometheus rules: syntax, unit tests, metadata, coverage, metric names, loading in Prometheus."""

from __future__ import annotations

import re
import time

import pytest

from conftest import (
    LIVE_PROMETHEUS_URL,
    OPERATIONS_DOC,
    RULE_TESTS_DIR,
    RULES_DIR,
    RUNBOOK_BASE,
    all_rules,
    http,
    load_yaml,
    parse_promql,
    recorded_names,
    rule_files,
    run,
    tool,
)
from known_metrics import KNOWN

SEVERITIES = {"page", "ticket", "warning", "info"}
RULE_FILES = rule_files()
TEST_FILES = sorted(RULE_TESTS_DIR.glob("*.test.yml"))
ALERTS = [(f, r) for f, r in all_rules() if "alert" in r]


def github_anchors(markdown: str) -> set[str]:
    """Heading anchors as GitHub renders them (lower case, punctuation dropped, spaces -> '-')."""
    anchors = set()
    for line in markdown.splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            text = re.sub(r"[`*_]", "", m.group(1)).strip().lower()
            anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text)))
    return anchors


def test_there_are_rules_and_tests():
    assert len(RULE_FILES) >= 7, RULE_FILES
    assert TEST_FILES
    assert len(ALERTS) >= 20


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(path):
    res = run([tool("promtool"), "check", "rules", str(path)])
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(path):
    res = run([tool("promtool"), "test", "rules", path.name], cwd=path.parent)
    assert res.returncode == 0, res.stdout + res.stderr


def test_every_rule_file_is_unit_tested():
    tested = set()
    for t in TEST_FILES:
        for rf in load_yaml(t)["rule_files"]:
            tested.add((t.parent / rf).resolve())
    missing = [p.name for p in RULE_FILES if p.resolve() not in tested]
    assert not missing, f"rule files no unit test loads: {missing}"


@pytest.mark.parametrize("path,rule", ALERTS, ids=lambda x: x["alert"] if isinstance(x, dict) else x.name)
def test_alert_metadata(path, rule):
    labels = rule.get("labels", {})
    ann = rule.get("annotations", {})
    assert labels.get("severity") in SEVERITIES, f"{rule['alert']}: severity must be one of {SEVERITIES}"
    for key in ("summary", "description", "runbook_url"):
        assert ann.get(key, "").strip(), f"{rule['alert']}: annotation {key} missing"
    assert ann["runbook_url"] == f"{RUNBOOK_BASE}#{rule['alert'].lower()}", ann["runbook_url"]


def test_every_runbook_anchor_exists_in_operations_md():
    anchors = github_anchors(OPERATIONS_DOC.read_text())
    missing = sorted({r["alert"] for _, r in ALERTS if r["annotations"]["runbook_url"].split("#", 1)[1] not in anchors})
    assert not missing, f"docs/operations.md has no heading for: {missing}"


def test_every_alert_has_firing_and_silent_unit_tests():
    firing: dict[tuple[str, str], int] = {}
    silent: dict[str, int] = {}
    for t in TEST_FILES:
        for case in load_yaml(t)["tests"]:
            for art in case.get("alert_rule_test", []):
                name = art["alertname"]
                exp = art.get("exp_alerts") or []
                if not exp:
                    silent[name] = silent.get(name, 0) + 1
                for a in exp:
                    sev = a.get("exp_labels", {}).get("severity")
                    firing[(name, sev)] = firing.get((name, sev), 0) + 1
    problems = []
    for _, rule in ALERTS:
        name, sev = rule["alert"], rule["labels"]["severity"]
        if (name, sev) not in firing:
            problems.append(f"{name} ({sev}): no test where it fires")
        if name not in silent:
            problems.append(f"{name}: no test where it stays silent")
    assert not problems, "\n".join(problems)


def test_alert_names_are_unique_per_severity():
    seen = {}
    for path, rule in ALERTS:
        key = (rule["alert"], rule["labels"]["severity"])
        assert key not in seen, f"{key} defined in {seen[key]} and {path.name}"
        seen[key] = path.name


def test_rules_reference_only_known_metrics_and_recording_rules():
    known = KNOWN | recorded_names()
    rules = all_rules()
    parsed = parse_promql([r["expr"] for _, r in rules])
    problems = []
    for (path, rule), p in zip(rules, parsed):
        name = rule.get("alert") or rule.get("record")
        if p.get("error"):
            problems.append(f"{path.name} {name}: {p['error']}")
        for m in p["metrics"]:
            if m not in known:
                problems.append(f"{path.name} {name}: unknown metric {m}")
    assert not problems, "\n".join(problems)


def test_recording_rule_names_follow_convention():
    for path, rule in all_rules():
        if "record" in rule:
            assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", rule["record"]), f"{path.name}: {rule['record']}"


@pytest.mark.skipif(bool(LIVE_PROMETHEUS_URL), reason="checks the Prometheus this suite starts")
def test_rules_load_and_evaluate_in_prometheus(prometheus):
    """The real Prometheus loads every group and evaluates every rule without error."""
    expected = {g["name"] for f in RULE_FILES for g in load_yaml(f)["groups"]}
    deadline = time.monotonic() + 20
    while True:
        status, body = http("GET", f"{prometheus}/api/v1/rules")
        assert status == 200, body
        groups = body["data"]["groups"]
        evaluated = all(r.get("lastEvaluation", "").startswith("20") for g in groups for r in g["rules"])
        if {g["name"] for g in groups} == expected and evaluated:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"groups loaded: {sorted(g['name'] for g in groups)}; expected {sorted(expected)}")
        time.sleep(0.5)
    bad = [(g["name"], r.get("name"), r.get("lastError")) for g in groups for r in g["rules"] if r.get("health") != "ok"]
    assert not bad, bad
