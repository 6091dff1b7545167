"""Alerts end to end: a webhook receiver on 127.0.0.1 verifies each signature (HMAC-SHA256 of "<t>.<body>");
firing → one notification, still firing → none, resolved → one; a receiver answering 500 then 200 gets the retry;
a receiver that hangs does not block the sync. Two processes sharing a store deliver a notification once; a delivery
whose process died mid-send is sent by another once its claim's lease runs out. Secrets stay encrypted; the tools
through a real MCP session; REST in the Scrums shape."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import httpx2
import pytest
from conftest import Backend
from cryptography.fernet import Fernet
from gitrepo import GitRepo
from pydantic import SecretStr
from helpers import call, mcp_session
from test_api import Served

from engmetrics.api.app import API_VERSION, ApiConfig, build_api
from engmetrics.areas.alerts.models import AlertCreate, AlertRun
from engmetrics.areas.custom_metrics.models import CustomMetricCreate
from engmetrics.areas.alerts.secrets import key_file
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.errors import InvalidInput

SECRET = "whsec_s3cr3t-value"


class Receiver:
    """A webhook receiver on 127.0.0.1: records each request, checks its signature with the test's own HMAC, and
    answers ``statuses`` in turn (200 once they run out); with ``hang`` it holds each request until released."""

    def __init__(self, statuses: list[int] | None = None, hang: bool = False) -> None:
        self.statuses = list(statuses or [])
        self.hang = hang
        self.release = threading.Event()
        self.got: list[dict[str, object]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append({"body": json.loads(body), "valid": outer.verify(self.headers.get("Engmetrics-Signature", ""), body),
                                  "event": self.headers.get("Engmetrics-Event")})
                if outer.hang:
                    outer.release.wait(60)
                code = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def verify(header: str, body: bytes) -> bool:
        """Stripe's scheme, computed here: t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>.<body>")), t recent."""
        parts = dict(p.split("=", 1) for p in header.split(","))
        expected = hmac.new(SECRET.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _lcov(covered: int, total: int = 10) -> str:
    return "SF:app.py\n" + "".join(f"DA:{i},{1 if i <= covered else 0}\n" for i in range(1, total + 1)) + "end_of_record\n"


def _coverage_repo(tmp_path: Path, **settings: object) -> LocalEngine:
    repo = GitRepo(tmp_path / "app")
    repo.commit({"app.py": "x = 1\n"}, "feat: app", when=datetime.now(UTC) - timedelta(days=3))
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite", alerts_every_seconds=0, **settings))
    engine.register_repository(repo.path)
    return engine


async def _report(engine: LocalEngine, tmp_path: Path, covered: int) -> None:
    path = tmp_path / f"cov{covered}.lcov"
    path.write_text(_lcov(covered))
    at = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    await engine.catalogue.import_coverage(path, "app", at=at)


async def _until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    with anyio.fail_after(30):
        while not predicate():
            await anyio.sleep(0.02)


def _deliveries(db: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT transition, status, attempts FROM alert_deliveries ORDER BY created_at, id").fetchall()


async def test_firing_once_still_firing_never_resolved_once(tmp_path, receiver) -> None:
    engine = _coverage_repo(tmp_path)
    await _report(engine, tmp_path, covered=5)  # 50% < 60 → breached
    alert = await engine.alerts.create_alert(AlertCreate(
        metric="test_coverage", condition={"operator": "lt", "threshold": 60}, window="7d", severity="high",
        repo="app", actions=[{"url": receiver.url, "secret": SECRET}]))
    assert alert.state == "ok" and alert.unit == "percent"
    async with anyio.create_task_group() as tg:
        engine.start_background(tg)
        await engine.repos.sync()  # the sync's last step evaluates: ok → firing
        await _until(lambda: len(receiver.got) == 1, "the firing notification")
        firing = receiver.got[0]
        assert firing["valid"] and firing["event"] == "alert.firing"
        body = firing["body"]
        assert body["type"] == "alert.firing" and body["value"] == 50.0 and body["threshold"] == 60
        assert body["window"]["label"] == "7d" and body["alert"]["id"] == alert.id
        assert body["evidence"]["metric"] == "test_coverage" and body["evidence"]["unit"] == "percent"

        await engine.repos.sync()  # still 50%: still firing, nothing sent
        await engine.alerts.deliver_pending(wait=True)
        listed = (await engine.alerts.list_alerts()).alerts
        assert [(a.state, a.last_value) for a in listed] == [("firing", 50.0)]
        assert len(receiver.got) == 1 and _deliveries(engine.settings.db) == [("firing", "delivered", 1)]

        await _report(engine, tmp_path, covered=9)  # the same day: replaces the report; 90% ≥ 60 → resolved
        await engine.repos.sync()
        await _until(lambda: len(receiver.got) == 2, "the resolved notification")
        assert receiver.got[1]["valid"] and receiver.got[1]["body"]["type"] == "alert.resolved"
        assert receiver.got[1]["body"]["value"] == 90.0
        await engine.repos.sync()  # resolved and still fine: nothing
        await engine.alerts.deliver_pending(wait=True)
        assert len(receiver.got) == 2
        tg.cancel_scope.cancel()
    assert [a.state for a in (await engine.alerts.list_alerts()).alerts] == ["resolved"]
    engine.store.close()


async def test_a_receiver_answering_500_then_200_gets_the_retry(tmp_path) -> None:
    flaky = Receiver(statuses=[500])
    engine = _coverage_repo(tmp_path, alerts_retry_seconds=[0.2, 0.2])
    await engine.repos.sync()
    await _report(engine, tmp_path, covered=3)
    await engine.alerts.create_alert(AlertCreate(metric="coverage", condition={"operator": "lte", "threshold": 30},
                                                 actions=[{"url": flaky.url, "secret": SECRET}]))
    run = await engine.alerts.evaluate_alerts(deliver=True)  # what `engmetrics alerts run` does
    flaky.close()
    assert [(t.from_state, t.to_state, t.value) for t in run.transitions] == [("ok", "firing", 30.0)]
    assert (run.delivered, run.pending, run.failed) == (1, 0, 0)
    assert len(flaky.got) == 2 and all(g["valid"] for g in flaky.got) and flaky.got[0]["body"] == flaky.got[1]["body"]
    with sqlite3.connect(engine.settings.db) as conn:
        log = conn.execute("SELECT attempt, status_code, error FROM alert_delivery_attempts ORDER BY attempt").fetchall()
    assert log == [(1, 500, "HTTP 500"), (2, 200, None)]
    engine.store.close()


async def test_a_receiver_that_always_fails_is_given_up_after_the_retries(tmp_path) -> None:
    down = Receiver(statuses=[503, 503, 503])
    engine = _coverage_repo(tmp_path, alerts_retry_seconds=[0.1, 0.1])
    await engine.repos.sync()
    await _report(engine, tmp_path, covered=3)
    await engine.alerts.create_alert(AlertCreate(metric="test_coverage", condition={"operator": "lt", "threshold": 50},
                                                 actions=[{"url": down.url, "secret": SECRET}]))
    run = await engine.alerts.evaluate_alerts(deliver=True)
    down.close()
    assert (run.delivered, run.pending, run.failed) == (0, 0, 1) and len(down.got) == 3
    assert _deliveries(engine.settings.db) == [("firing", "failed", 3)]
    engine.store.close()


async def test_a_receiver_that_hangs_does_not_block_the_sync(tmp_path) -> None:
    stuck = Receiver(hang=True)
    engine = _coverage_repo(tmp_path, alerts_timeout_seconds=60)
    await _report(engine, tmp_path, covered=1)
    await engine.alerts.create_alert(AlertCreate(metric="test_coverage", condition={"operator": "lt", "threshold": 50},
                                                 actions=[{"url": stuck.url, "secret": SECRET}]))
    async with anyio.create_task_group() as tg:
        engine.start_background(tg)
        with anyio.fail_after(60):  # a sync waiting on the webhook would never return: the receiver holds it
            report = await engine.repos.sync()
        assert not report.errors and not stuck.release.is_set()
        await _until(lambda: len(stuck.got) == 1, "the webhook request")  # delivery runs in the background
        stuck.release.set()
        await _until(lambda: _deliveries(engine.settings.db) == [("firing", "delivered", 1)], "its delivery")
        tg.cancel_scope.cancel()
    stuck.close()
    assert stuck.got[0]["valid"]
    engine.store.close()


async def _two_processes_with_a_queued_notification(backend: Backend, tmp_path: Path, url: str) -> list[LocalEngine]:
    """Two engines on one store (two processes of a team server, as far as the store can tell) and a firing alert's
    notification to ``url`` queued, not sent yet (no background task group)."""
    repo = GitRepo(tmp_path / "app")
    repo.commit({"app.py": "x = 1\n"}, "feat: app", when=datetime.now(UTC) - timedelta(days=3))
    settings = backend.settings(tmp_path / "db.sqlite", alerts_every_seconds=0, alerts_timeout_seconds=60,
                                alerts_key=SecretStr(Fernet.generate_key().decode()))
    engines = [LocalEngine(settings), LocalEngine(settings)]
    engines[0].register_repository(repo.path)
    await _report(engines[0], tmp_path, covered=5)  # 50% < 60 → breached
    await engines[0].alerts.create_alert(AlertCreate(
        metric="test_coverage", condition={"operator": "lt", "threshold": 60}, repo="app",
        actions=[{"url": url, "secret": SECRET}]))
    run = await engines[0].alerts.evaluate_alerts()
    assert [(t.to_state, t.notifications) for t in run.transitions] == [("firing", 1)]
    return engines


def _stored(engine: LocalEngine, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in engine.store.read().execute(sql).fetchall()]


async def test_two_processes_delivering_at_once_send_a_notification_once(backend: Backend, tmp_path: Path) -> None:
    """Two processes sharing the store deliver the same queued notification at once: the first claims it and sends
    it; the second, reading it due while the first's request is still in flight (the receiver holds it), finds it
    claimed and leaves it. The receiver gets it once; one attempt is logged, the first's; the claim is released."""
    stuck = Receiver(hang=True)
    engines = await _two_processes_with_a_queued_notification(backend, tmp_path, stuck.url)
    runs: dict[int, AlertRun] = {}

    async def deliver(i: int) -> None:
        runs[i] = await engines[i].alerts.deliver_pending(wait=False)

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(deliver, 0)
            await _until(lambda: len(stuck.got) == 1, "the first process's request")
            tg.start_soon(deliver, 1)
            await _until(lambda: 1 in runs or len(stuck.got) == 2, "the second process's pass")
            stuck.release.set()
        assert len(stuck.got) == 1 and stuck.got[0]["valid"] and stuck.got[0]["event"] == "alert.firing"
        assert (runs[0].delivered, runs[1].delivered) == (1, 0)
        assert _stored(engines[0], "SELECT transition, status, attempts, claimed_by, claim_until FROM alert_deliveries") \
            == [("firing", "delivered", 1, None, None)]
        assert _stored(engines[0], "SELECT attempt, status_code, error FROM alert_delivery_attempts") == [(1, 200, None)]
    finally:
        stuck.close()
        for engine in engines:
            engine.store.close()


async def test_a_delivery_whose_process_died_mid_send_is_sent_once_its_claim_runs_out(backend: Backend,
                                                                                     tmp_path: Path) -> None:
    """A process claims a notification and stops mid-send (its task cancelled while the receiver holds the request:
    it never records an attempt). While its claim's lease lasts another process leaves the delivery; once the lease
    has run out (the test moves it into the past, as the clock would), that process claims it, sends it and records
    the attempt as its own (the first try is attempt 1: the dead one recorded none)."""
    stuck = Receiver(hang=True)
    engines = await _two_processes_with_a_queued_notification(backend, tmp_path, stuck.url)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(engines[0].alerts.deliver_pending)
            await _until(lambda: len(stuck.got) == 1, "the first process's request")
            tg.cancel_scope.cancel()  # the first process dies mid-send
        stuck.release.set()
        held = _stored(engines[0], "SELECT status, attempts, claimed_by IS NOT NULL, claim_until FROM alert_deliveries")
        assert [row[:3] for row in held] == [("pending", 0, True)] and int(held[0][3]) > time.time()  # type: ignore[call-overload]

        left = await engines[1].alerts.deliver_pending(wait=False)  # the dead one's lease still lasts: not sent
        assert (left.delivered, left.pending, len(stuck.got)) == (0, 1, 1)

        with engines[0].store.tx() as conn:  # the lease runs out
            conn.execute("UPDATE alert_deliveries SET claim_until = ?", (int(time.time()) - 1,))
        taken = await engines[1].alerts.deliver_pending(wait=False)
        assert (taken.delivered, taken.pending, len(stuck.got)) == (1, 0, 2)
        assert stuck.got[1]["valid"] and stuck.got[1]["body"] == stuck.got[0]["body"]
        assert _stored(engines[0], "SELECT status, attempts, claimed_by, claim_until FROM alert_deliveries") \
            == [("delivered", 1, None, None)]
        assert _stored(engines[0], "SELECT attempt, status_code FROM alert_delivery_attempts") == [(1, 200)]
    finally:
        stuck.close()
        for engine in engines:
            engine.store.close()


async def test_change_pct_against_the_previous_window(tmp_path, receiver) -> None:
    repo = GitRepo(tmp_path / "app")
    now = datetime.now(UTC)
    for i in range(2):  # previous 7 days: 2 commits of 10 lines; last 7 days: 2 commits of 30 lines
        repo.commit({f"old{i}.py": "x\n" * 10}, "feat: old", when=now - timedelta(days=10, hours=i))
        repo.commit({f"new{i}.py": "y\n" * 30}, "feat: new", when=now - timedelta(days=2, hours=i))
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite", alerts_every_seconds=0))
    engine.register_repository(repo.path)
    await engine.repos.sync()
    await engine.alerts.create_alert(AlertCreate(metric="change_size", condition={"operator": "change_pct",
                                                                                  "threshold": 100}, repo="app",
                                                 actions=[{"url": receiver.url, "secret": SECRET}]))
    await engine.alerts.create_alert(AlertCreate(metric="change_size", condition={"operator": "change_pct",
                                                                                  "threshold": 250}, repo="app"))
    run = await engine.alerts.evaluate_alerts(deliver=True)
    # Median change size 10 → 30 lines: +200%. ≥ +100% fires, ≥ +250% does not.
    assert [(t.to_state, t.value) for t in run.transitions] == [("firing", 200.0)]
    states = {a.condition.threshold: (a.state, a.last_value, a.unit) for a in (await engine.alerts.list_alerts()).alerts}
    assert states == {100.0: ("firing", 200.0, "percent"), 250.0: ("ok", 200.0, "percent")}
    body = receiver.got[0]["body"]
    assert body["evidence"]["value"] == 30.0 and body["evidence"]["previous_window_value"] == 10.0
    engine.store.close()


async def test_an_alert_on_a_custom_metric(tmp_path, receiver) -> None:
    """A custom metric is alerted on like a catalogue one: commits touching src/ in the last 7 days, counted."""
    repo = GitRepo(tmp_path / "app")
    now = datetime.now(UTC)
    repo.commit({"src/a.py": "a\n"}, "feat: a", when=now - timedelta(days=20))  # outside the window
    for i in range(3):
        repo.commit({f"src/m{i}.py": "m\n"}, "feat: m", when=now - timedelta(days=2, hours=i))
    repo.commit({"docs/readme.md": "r\n"}, "docs: readme", when=now - timedelta(days=1))  # outside the path
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite", alerts_every_seconds=0))
    engine.register_repository(repo.path)
    await engine.repos.sync()
    await engine.custom_metrics.create_custom_metric(CustomMetricCreate(
        slug="src-commits", label="Commits to src", source="commits", aggregation="count", path="src/**"))
    await engine.alerts.create_alert(AlertCreate(metric="src-commits", condition={"operator": "gte", "threshold": 3},
                                                 window="7d", repo="app",
                                                 actions=[{"url": receiver.url, "secret": SECRET}]))
    await engine.alerts.create_alert(AlertCreate(metric="src-commits", condition={"operator": "gt", "threshold": 3},
                                                 window="7d", repo="app"))
    # Second count, from git: commits of the last 7 days that touched src/.
    since = (now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    counted = subprocess.run(["git", "-C", str(repo.path), "rev-list", "--count", f"--since={since}", "HEAD", "--",
                              "src"], capture_output=True, text=True, check=True).stdout.strip()
    assert counted == "3"
    run = await engine.alerts.evaluate_alerts(deliver=True)
    assert [(t.to_state, t.value) for t in run.transitions] == [("firing", 3.0)]
    states = {a.condition.operator: (a.state, a.last_value) for a in (await engine.alerts.list_alerts()).alerts}
    assert states == {"gte": ("firing", 3.0), "gt": ("ok", 3.0)}
    assert receiver.got[0]["valid"] and receiver.got[0]["body"]["evidence"]["metric"] == "src-commits"
    engine.store.close()


EVERY = 0.2  # seconds between evaluations in the served engine


async def test_serve_evaluates_alerts_on_its_interval(tmp_path, receiver) -> None:
    """Inside the MCP server (as `serve` runs it), alerts are evaluated every ENGMETRICS_ALERTS_EVERY_SECONDS:
    an alert created through the tool fires and notifies with no sync and no `alerts run`."""
    engine = _coverage_repo(tmp_path)
    await engine.repos.sync()
    await _report(engine, tmp_path, covered=4)  # 40% < 60 → breached
    engine.store.close()
    async with mcp_session(tmp_path / "db.sqlite", alerts_every_seconds=EVERY) as (client, served):
        served.last_sync_at = time.time()  # fresh: no tool call starts a sync (which would evaluate too)
        made = await call(client, "create_alert", {"metric": "test_coverage", "window": "7d", "repo": "app",
                                                   "condition": {"operator": "lt", "threshold": 60},
                                                   "actions": [{"url": receiver.url, "secret": SECRET}]})
        assert made["state"] == "ok"
        await _until(lambda: len(receiver.got) == 1, "the interval's firing notification")
        listed = await call(client, "list_alerts", {})
        assert [(a["state"], a["last_value"]) for a in listed["alerts"]] == [("firing", 40.0)]
    assert receiver.got[0]["valid"] and receiver.got[0]["body"]["value"] == 40.0


async def test_secrets_are_encrypted_at_rest_and_never_answered(tmp_path) -> None:
    engine = _coverage_repo(tmp_path)
    made = await engine.alerts.create_alert(AlertCreate(
        metric="lead_time", condition={"operator": "gt", "threshold": 48},
        actions=[{"url": "https://hooks.example.com/x", "secret": SECRET}]))
    assert SECRET not in made.model_dump_json() and made.actions[0].signed
    with sqlite3.connect(engine.settings.db) as conn:
        stored = conn.execute("SELECT actions FROM alerts").fetchone()[0]
    assert SECRET not in stored and json.loads(stored)[0]["secret"].startswith("gAAAA")  # a Fernet token
    mode = stat.S_IMODE(os.stat(key_file(engine.settings)).st_mode)
    assert mode == 0o600
    with pytest.raises(InvalidInput, match="window"):
        await engine.alerts.create_alert(AlertCreate(metric="lead_time", condition={"operator": "gt", "threshold": 1},
                                                     window="soon"))
    with pytest.raises(InvalidInput, match="test_coverage"):
        await engine.alerts.create_alert(AlertCreate(metric="velocity", condition={"operator": "gt", "threshold": 1}))
    engine.store.close()


async def test_alert_tools(workspace_copy) -> None:
    args = {"metric": "change_failure_rate", "condition": {"operator": "gt", "threshold": 5}, "window": "30d",
            "severity": "high", "repo": "sample",
            "actions": [{"type": "notify_webhook", "url": "http://127.0.0.1:9/x", "secret": SECRET}]}
    async with mcp_session(workspace_copy.db, alerts_every_seconds=0) as (client, engine):
        first = await call(client, "create_alert", args)
        again = await call(client, "create_alert", args)
        run = await engine.alerts.evaluate_alerts()
        listed = await call(client, "list_alerts", {})
        dora = await call(client, "get_dora", {"repo": "sample", "period": "last_30_days"})
        deleted = await call(client, "delete_alert", {"alert_id": first["id"]})
        empty = await call(client, "list_alerts", {})
        missing = await client.call_tool("delete_alert", {"alert_id": first["id"]})
        bad = await client.call_tool("create_alert", {**args, "condition": {"operator": "above", "threshold": 5}})
    assert first["id"] == again["id"] and first["state"] == "ok" and SECRET not in json.dumps(first)
    assert run.evaluated == 1
    (alert,) = listed["alerts"]
    cfr = dora["change_failure_rate"]["value"]
    assert alert["last_value"] == cfr and alert["state"] == ("firing" if cfr is not None and cfr > 5 else "ok")
    assert deleted == {"alert_id": first["id"], "deleted": True} and empty == {"alerts": [], "total": 0}
    assert missing.is_error and "list_alerts" in missing.content[0].text
    assert bad.is_error and "change_pct" in bad.content[0].text


def test_alerts_rest_in_the_scrums_shape(tmp_path) -> None:
    engine = _coverage_repo(tmp_path)
    key = engine.keys.create("t", None, "enterprise", api_version=API_VERSION).secret
    with Served(build_api(engine, ApiConfig(cache_seconds=0))) as served:
        h = {"Authorization": f"Bearer {key}"}
        made = httpx2.post(f"{served.url}/v1/intelligence/alerts", headers=h, json={
            "metric": "change_failure_rate", "condition": {"operator": "gt", "threshold": 5.0}, "window": "7d",
            "severity": "high", "actions": [{"type": "notify_webhook", "url": "https://hooks.example.com/a",
                                             "secret": SECRET}]})
        listed = httpx2.get(f"{served.url}/v1/intelligence/alerts", headers=h)
        gone = httpx2.delete(f"{served.url}/v1/intelligence/alerts/{made.json()['id']}", headers=h)
        connected = httpx2.post(f"{served.url}/v1/intelligence/repositories", headers=h,
                                json={"repository": str(tmp_path / "app")})
        repos = httpx2.get(f"{served.url}/v1/intelligence/repositories", headers=h)
    engine.store.close()
    assert made.status_code == 200 and made.json()["condition"] == {"operator": "gt", "threshold": 5.0}
    assert SECRET not in made.text and SECRET not in listed.text
    assert listed.json()["total"] == 1 and listed.json()["alerts"][0]["state"] == "ok"
    assert gone.json() == {"alert_id": made.json()["id"], "deleted": True}
    # Connecting starts the backfill (here, with no background task group, before answering).
    assert connected.status_code == 200 and connected.json()["sync_state"] == "synced"
    assert connected.json()["commits"] == 1
    assert [(r["name"], r["sync_state"]) for r in repos.json()["repositories"]] == [("app", "synced")]
