"""Alertmanager: the configuration is valid, routes by severity, inhibits, and reaches Discord.

The end-to-end tests run the real Alertmanager on loopback with collector-config/alertmanager/
(only the secret's path is changed, to a file that points at tests/ops/fake_discord.py).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import pytest

from conftest import ALERTMANAGER_DIR, RUNBOOK_BASE, Server, free_port, http, load_yaml, run, tool
from fake_discord import FakeDiscord

CONFIG = ALERTMANAGER_DIR / "alertmanager.yml"
SECRET_PATH = "/run/secrets/discord_webhook_url"
DISCORD_RED = 0x992D22


def test_amtool_check_config():
    res = run([tool("amtool"), "check-config", str(CONFIG)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout


def test_every_receiver_is_discord_with_a_secret_file():
    cfg = load_yaml(CONFIG)
    for r in cfg["receivers"]:
        assert r.get("discord_configs"), f"receiver {r['name']} has no discord_configs"
        for d in r["discord_configs"]:
            assert d.get("webhook_url_file") == SECRET_PATH, r["name"]
            assert "webhook_url" not in d, f"{r['name']}: the URL belongs in the secret file"


@pytest.mark.parametrize(
    "labels,receiver",
    [
        ("severity=page alertname=AvailabilityErrorBudgetBurn service_name=api slo=availability", "discord-page"),
        ("severity=ticket alertname=AvailabilityErrorBudgetBurn service_name=api slo=availability", "discord-ticket"),
        ("severity=warning alertname=APIResponseSlow service_name=api", "discord-warning"),
        ("severity=info alertname=Something", "discord-info"),
        ("alertname=NoSeverity", "discord-warning"),
    ],
)
def test_routing_by_severity(labels, receiver):
    res = run([tool("amtool"), "config", "routes", "test", f"--config.file={CONFIG}", *labels.split()])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == receiver


@pytest.fixture()
def alertmanager(tmp_path):
    """(api base URL, FakeDiscord) with the real Alertmanager running our configuration."""
    with FakeDiscord() as discord:
        conf_dir = tmp_path / "alertmanager"
        shutil.copytree(ALERTMANAGER_DIR, conf_dir)
        secret = tmp_path / "discord_webhook_url"
        secret.write_text(discord.url + "\n")
        cfg = conf_dir / "alertmanager.yml"
        text = cfg.read_text()
        assert SECRET_PATH in text
        cfg.write_text(text.replace(SECRET_PATH, str(secret)))
        port = free_port()
        server = Server(
            "alertmanager",
            [
                tool("alertmanager"),
                f"--config.file={cfg}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            tmp_path / "alertmanager.log",
            f"http://127.0.0.1:{port}/-/ready",
        )
        try:
            yield f"http://127.0.0.1:{port}", discord, server
        finally:
            server.stop()


def alert(name: str, severity: str, **labels) -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    return {
        "labels": {"alertname": name, "severity": severity, **labels},
        "annotations": {
            "summary": f"{labels.get('service_name', 'stack')} summary for {name}",
            "description": f"What happened to {labels.get('service_name', 'the stack')}.",
            "runbook_url": f"{RUNBOOK_BASE}#{name.lower()}",
        },
        "startsAt": now.isoformat(),
        "endsAt": (now + dt.timedelta(minutes=10)).isoformat(),
        "generatorURL": "http://prometheus.invalid/graph",
    }


def test_page_reaches_discord_as_an_embed(alertmanager):
    api, discord, server = alertmanager
    page = alert("AvailabilityErrorBudgetBurn", "page", service_name="checkout", slo="availability")
    status, body = http("POST", f"{api}/api/v2/alerts", [page])
    assert status == 200, body

    msg = discord.wait_for(lambda m: "AvailabilityErrorBudgetBurn" in json.dumps(m), timeout=40)
    assert msg is not None, f"no Discord message; Alertmanager log:\n{server.output()[-3000:]}"
    assert len(msg["embeds"]) == 1
    embed = msg["embeds"][0]
    assert "AvailabilityErrorBudgetBurn" in embed["title"]
    assert "FIRING" in embed["title"] and "page" in embed["title"]
    assert embed["color"] == DISCORD_RED
    desc = embed["description"]
    assert "severity **page**" in desc
    assert "checkout summary for AvailabilityErrorBudgetBurn" in desc
    assert "What happened to checkout." in desc
    assert f"[Runbook]({RUNBOOK_BASE}#availabilityerrorbudgetburn)" in desc
    assert "`slo=availability`" in desc and "`service_name=checkout`" in desc
    assert msg["content"] == "@here", "a page mentions @here"
    assert len(embed["title"]) <= 256 and len(desc) <= 4096


def test_page_inhibits_ticket_of_same_slo_and_service(alertmanager):
    api, discord, _ = alertmanager
    labels = {"service_name": "checkout", "slo": "availability"}
    other = {"service_name": "search", "slo": "availability"}
    alerts = [
        alert("AvailabilityErrorBudgetBurn", "page", **labels),
        alert("AvailabilityErrorBudgetBurn", "ticket", **labels),
        alert("AvailabilityErrorBudgetBurn", "ticket", **other),
    ]
    assert http("POST", f"{api}/api/v2/alerts", alerts)[0] == 200

    def state(severity, service):
        _, body = http("GET", f"{api}/api/v2/alerts")
        for a in body:
            if a["labels"]["severity"] == severity and a["labels"]["service_name"] == service:
                return a["status"]
        return None

    deadline = time.monotonic() + 20
    while True:
        ticket = state("ticket", "checkout")
        if ticket and ticket["state"] == "suppressed":
            break
        assert time.monotonic() < deadline, f"ticket not inhibited: {ticket}"
        time.sleep(0.5)
    assert ticket["inhibitedBy"], ticket
    assert state("page", "checkout")["state"] == "active"
    assert state("ticket", "search")["state"] == "active", "another service's ticket stays active"
