"""Grafana dashboards and datasource provisioning.

Every PromQL expression of every dashboard (panel targets and template-variable queries) is sent,
with Grafana's variables replaced by concrete values, to a real Prometheus: a parse error fails.
With SPANFORGE_PROMETHEUS_URL set (a Prometheus that has received real traffic, e.g. the compose
stack), each query must also return data, except the panels listed in MAY_BE_EMPTY.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import (
    DASHBOARDS_DIR,
    DATASOURCES_FILE,
    LIVE_PROMETHEUS_URL,
    load_yaml,
    parse_promql,
    prom_query,
    recorded_names,
)
from known_metrics import KNOWN

DASHBOARD_FILES = sorted(DASHBOARDS_DIR.glob("*.json"))

# Grafana's built-in variables, as the test substitutes them.
BUILTINS = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "__interval_ms": "60000",
}
# Dashboard variables are used in regex matchers (=~"$service"): "All" is ".*".
VARIABLE_VALUE = ".*"

# Panels that only have data when something is wrong (or a feature is used): a live Prometheus
# after ordinary traffic may legitimately return nothing for them.
MAY_BE_EMPTY = {
    ("spanforge-service-red", "Error ratio"),
    ("spanforge-service-red", "Error ratio by route"),
    ("spanforge-service-red", "Service graph: requests/s and failures"),
    ("spanforge-database", "Errors/s by error type"),
    ("spanforge-database", "Requests waiting for a connection"),
    ("spanforge-database", "Connection wait p95"),
    ("spanforge-database", "Rows read and written/s"),
    ("spanforge-database", "Rows read in the last 24 h, of the daily budget"),
    ("spanforge-database", "Rows read in the last 24 h"),
    ("spanforge-llm", "Prompt cache hit ratio"),
    ("spanforge-llm", "Time to first chunk p95"),
    ("spanforge-llm", "Errors/s by provider and error type"),
    ("spanforge-slo", "Firing SLO alerts"),
}


def load(path):
    with open(path) as f:
        return json.load(f)


def provisioned_uids() -> dict[str, str]:
    return {d["uid"]: d["type"] for d in load_yaml(DATASOURCES_FILE)["datasources"]}


def panels(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def prometheus_queries():
    """(dashboard uid, panel/variable title, raw expression) for every PromQL query."""
    out = []
    for path in DASHBOARD_FILES:
        d = load(path)
        for p in panels(d):
            for t in p.get("targets", []):
                ds = t.get("datasource") or p.get("datasource") or {}
                if ds.get("uid") == "prometheus" and t.get("expr"):
                    out.append((d["uid"], p["title"], t["expr"]))
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") == "query" and (v.get("datasource") or {}).get("uid") == "prometheus":
                q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
                out.append((d["uid"], f"${v['name']}", q))
    return out


def grafana_to_promql(query: str) -> str:
    """A variable query's label_values()/query_result() becomes the PromQL it runs."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\)\s*", query, re.S)
    if m:
        return f"count by ({m.group(2)}) ({m.group(1)})"
    m = re.fullmatch(r"\s*query_result\((.*)\)\s*", query, re.S)
    if m:
        return m.group(1)
    return query


def substitute(expr: str) -> str:
    def repl(m):
        name = m.group(1) or m.group(2)
        return BUILTINS.get(name, VARIABLE_VALUE)

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", repl, expr)


QUERIES = prometheus_queries()


def test_dashboards_exist():
    names = {p.name for p in DASHBOARD_FILES}
    assert {"service-red.json", "database.json", "llm.json", "slo.json"} <= names


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_dashboard_is_valid_json_with_unique_ids(path):
    d = load(path)
    assert d.get("uid") and d.get("title")
    ids = [p["id"] for p in panels(d)]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    for p in panels(d):
        if p["type"] != "row":
            assert p.get("targets"), f"panel {p['title']!r} has no query"
            g = p["gridPos"]
            assert 0 <= g["x"] and g["x"] + g["w"] <= 24, f"panel {p['title']!r} overflows the grid"


def test_dashboard_uids_are_unique():
    uids = [load(p)["uid"] for p in DASHBOARD_FILES]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_every_datasource_uid_is_provisioned(path):
    known = provisioned_uids()
    d = load(path)
    refs = []
    for p in panels(d):
        if p["type"] == "row":
            continue
        refs.append((p["title"], p.get("datasource")))
        refs += [(p["title"], t.get("datasource")) for t in p.get("targets", [])]
    refs += [(f"${v['name']}", v.get("datasource")) for v in d.get("templating", {}).get("list", [])]
    for where, ds in refs:
        assert isinstance(ds, dict) and ds.get("uid"), f"{where}: no datasource uid"
        assert ds["uid"] in known, f"{where}: datasource uid {ds['uid']!r} is not provisioned"
        assert ds.get("type") in (None, known[ds["uid"]]), f"{where}: type {ds.get('type')} != {known[ds['uid']]}"


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_every_variable_used_is_defined(path):
    d = load(path)
    defined = {v["name"] for v in d.get("templating", {}).get("list", [])}
    text = json.dumps([p.get("targets", []) for p in panels(d)]) + json.dumps(d.get("templating", {}))
    used = {a or b for a, b in re.findall(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", text)}
    undefined = sorted(u for u in used if u not in defined and u not in BUILTINS and not u.startswith("__"))
    assert not undefined, f"undefined variables: {undefined}"


def test_provisioning_links_between_datasources():
    ds = {d["uid"]: d for d in load_yaml(DATASOURCES_FILE)["datasources"]}
    assert {"prometheus", "tempo", "loki"} <= set(ds)
    tempo = ds["tempo"]["jsonData"]
    assert tempo["tracesToLogsV2"]["datasourceUid"] == "loki"
    assert tempo["tracesToMetrics"]["datasourceUid"] == "prometheus"
    assert tempo["serviceMap"]["datasourceUid"] == "prometheus"
    fields = ds["loki"]["jsonData"]["derivedFields"]
    assert any(f["datasourceUid"] == "tempo" and f["matcherRegex"] == "trace_id" for f in fields)
    assert ds["prometheus"]["jsonData"]["exemplarTraceIdDestinations"][0]["datasourceUid"] == "tempo"
    # The trace-to-metrics queries are PromQL too; $__tags expands to label matchers.
    exprs = [q["query"].replace("$$__tags", 'service_name="x"') for q in tempo["tracesToMetrics"]["queries"]]
    parsed = parse_promql(exprs)
    assert all(not p.get("error") for p in parsed), parsed
    assert all(set(p["metrics"]) <= KNOWN for p in parsed), parsed


def test_queries_use_only_known_metrics_and_recording_rules():
    known = KNOWN | recorded_names()
    parsed = parse_promql([substitute(grafana_to_promql(q)) for _, _, q in QUERIES])
    problems = []
    for (uid, title, _), p in zip(QUERIES, parsed):
        if p.get("error"):
            problems.append(f"{uid} / {title}: {p['error']}")
        problems += [f"{uid} / {title}: unknown metric {m}" for m in p["metrics"] if m not in known]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("uid,title,query", QUERIES, ids=[f"{u}/{t}" for u, t, _ in QUERIES])
def test_query_runs_in_prometheus(prometheus, uid, title, query):
    expr = substitute(grafana_to_promql(query))
    status, body = prom_query(prometheus, expr)
    assert status == 200 and body.get("status") == "success", f"{expr}\n-> {body}"
    if LIVE_PROMETHEUS_URL and (uid, title) not in MAY_BE_EMPTY:
        assert body["data"]["result"], f"no data for {uid} / {title}: {expr}"
