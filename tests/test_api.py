"""The REST API through a real HTTP client (httpx2) against a real uvicorn server on 127.0.0.1.

Covers auth (401/403), each error type of the envelope, validation naming the parameter, pagination in
both directions, idempotent replay and conflict, rate limiting to 429 and recovery after the reset, the
version header, request ids and the OpenAPI document. Also the `api-key` CLI (secret shown once, stored
only as a hash).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn

from engmetrics.api.app import API_VERSION, ApiConfig, build_api
from engmetrics.api.limits import PlanLimits
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.operations import operation
from engmetrics.models import Model


# ---- helpers shared with the remote tests -------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """An ASGI app served by uvicorn in a thread on 127.0.0.1 (context manager); ``url`` is its base."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise AssertionError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def copy_store(src: Path, dst_dir: Path) -> Path:
    """Copy a SQLite store (with its WAL files) into ``dst_dir``."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    db = dst_dir / "engmetrics.db"
    shutil.copy(src, db)
    for suffix in ("-wal", "-shm"):
        side = Path(str(src) + suffix)
        if side.exists():
            shutil.copy(side, Path(str(db) + suffix))
    return db


# ---- a test engine with one POST operation (the generic routing, idempotency) ----------------------------------


class NoteIn(Model):
    """A note to record."""

    text: str
    repo: str | None = None


class NoteOut(Model):
    """A recorded note."""

    id: str
    text: str
    calls: int


class NotesApi(ABC):
    """One POST operation, to exercise POST routing and idempotency."""

    @operation("POST", "/notes")
    @abstractmethod
    async def record_note(self, q: NoteIn) -> NoteOut:
        """Record a note (counts executions)."""


class Notes(NotesApi):
    calls = 0

    async def record_note(self, q: NoteIn) -> NoteOut:
        Notes.calls += 1
        return NoteOut(id=f"note_{Notes.calls}", text=q.text, calls=Notes.calls)


class NotesEngine(LocalEngine):
    """LocalEngine plus a notes area."""

    def __init__(self, settings: Settings) -> None:
        self.notes = Notes()
        super().__init__(settings)

    def area_interfaces(self) -> tuple[tuple[str, type], ...]:
        return (*super().area_interfaces(), ("notes", NotesApi))


@pytest.fixture(scope="module")
def api_env(backend, sample_settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A running API over a copy of the sample store (on each store: SQLite, PostgreSQL); keys: full,
    read-only-metrics, revoked."""
    settings = backend.copy(sample_settings, tmp_path_factory.mktemp("api") / "engmetrics.db", sync_max_age_seconds=3600)
    engine = NotesEngine(settings)
    keys = {
        "full": engine.keys.create("full", ["*"], "enterprise", api_version=API_VERSION).secret,
        "metrics": engine.keys.create("metrics-only", ["metrics:read"], "enterprise", api_version=API_VERSION).secret,
    }
    revoked = engine.keys.create("old", None, "free", api_version=API_VERSION)
    engine.keys.revoke(revoked.key.id)
    keys["revoked"] = revoked.secret
    with Served(build_api(engine)) as served:
        yield served.url, keys, engine
    engine.store.close()


def client(url: str, key: str | None = None, **headers: str) -> httpx2.Client:
    h = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx2.Client(base_url=url, headers={**h, **headers}, timeout=30)


def assert_envelope(r: httpx2.Response, status: int, type_: str, code: str | None = None, param: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    err = body["error"]
    assert err["type"] == type_ and err["message"]
    if code:
        assert err["code"] == code, err
    if param:
        assert err.get("param") == param, err
    assert "Traceback" not in r.text
    assert r.headers["request-id"].startswith("req_")
    return err


# ---- tests -------------------------------------------------------------------------------------------------


def test_health_needs_no_key_and_carries_request_id(api_env) -> None:
    url, _, _ = api_env
    with client(url) as c:
        r = c.get("/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.headers["request-id"].startswith("req_") and r.headers["engmetrics-version"] == API_VERSION


def test_auth_missing_invalid_revoked_and_scopes(api_env) -> None:
    url, keys, _ = api_env
    with client(url) as c:
        r = c.get("/v1/metrics/dora")
        assert_envelope(r, 401, "authentication_error", "api_key_missing")
        assert r.headers["www-authenticate"] == "Bearer"
        assert "x-ratelimit-limit" in r.headers
    with client(url, "emk_not-a-real-key") as c:
        assert_envelope(c.get("/v1/metrics/dora"), 401, "authentication_error", "api_key_invalid")
    with client(url, keys["revoked"]) as c:
        err = assert_envelope(c.get("/v1/metrics/dora"), 401, "authentication_error", "api_key_invalid")
        assert keys["revoked"] not in err["message"]
    with client(url, keys["metrics"]) as c:
        assert c.get("/v1/metrics/dora", params={"period": "last_90_days"}).status_code == 200
        err = assert_envelope(c.get("/v1/deployments"), 403, "permission_error", "insufficient_scope")
        assert "deployments:read" in err["message"]
        assert_envelope(c.post("/v1/notes", json={"text": "x"}), 403, "permission_error")


def test_every_response_has_request_id_version_and_rate_headers(api_env) -> None:
    url, keys, _ = api_env
    ids = set()
    with client(url, keys["full"]) as c:
        for path in ("/v1/metrics/dora", "/v1/repositories", "/v1/nope", "/v1/deployments?limit=0"):
            r = c.get(path)
            ids.add(r.headers["request-id"])
            for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "engmetrics-version"):
                assert h in r.headers, (path, h)
        assert c.get("/v1/repositories", headers={"Engmetrics-Version": "2024-01-01"}).headers["engmetrics-version"] == "2024-01-01"
        assert_envelope(c.get("/v1/repositories", headers={"Engmetrics-Version": "yesterday"}), 400,
                        "invalid_request_error", param="Engmetrics-Version")
    assert len(ids) == 4


@pytest.mark.parametrize(
    ("path", "params", "status", "code", "param"),
    [
        ("/v1/metrics/dora", {"period": "fortnight-ish"}, 422, None, "period"),
        ("/v1/metrics/dora", {"benchmark_year": "abc"}, 422, "parameter_invalid", "benchmark_year"),
        ("/v1/metrics/dora", {"benchmark_year": "1999"}, 422, None, "benchmark_year"),
        ("/v1/metrics/dora", {"from": "2025-02-10", "to": "2025-02-01"}, 422, None, "from"),
        ("/v1/metrics/dora", {"colour": "blue"}, 400, "parameter_unknown", "colour"),
        ("/v1/metrics/dora", {"repo": "nope"}, 404, None, None),
        ("/v1/deployments", {"limit": "0"}, 422, "parameter_invalid", "limit"),
        ("/v1/deployments", {"limit": "500"}, 422, "parameter_invalid", "limit"),
        ("/v1/deployments", {"starting_after": "a", "ending_before": "b"}, 400, None, "ending_before"),
        ("/v1/deployments", {"starting_after": "no-such-id"}, 400, "resource_missing", "starting_after"),
        ("/v1/incidents", {"status": "closed-ish"}, 422, "parameter_invalid", "status"),
        ("/v1/contributors/nobody@nowhere.org/summary", {}, 404, "not_found", "contributor"),
        ("/v1/no-such-route", {}, 404, "resource_missing", None),
    ],
)
def test_invalid_requests_name_the_parameter(api_env, path: str, params: dict, status: int, code: str | None,
                                             param: str | None) -> None:
    url, keys, _ = api_env
    with client(url, keys["full"]) as c:
        assert_envelope(c.get(path, params=params), status, "invalid_request_error", code, param)


def test_post_body_validation_and_bad_json(api_env) -> None:
    url, keys, _ = api_env
    with client(url, keys["full"]) as c:
        assert_envelope(c.post("/v1/notes", json={}), 422, "invalid_request_error", "parameter_invalid", "text")
        assert_envelope(c.post("/v1/notes", content=b"{not json", headers={"Content-Type": "application/json"}),
                        400, "invalid_request_error", "body_invalid")
        assert_envelope(c.get("/v1/notes"), 405, "invalid_request_error", "method_not_allowed")


def test_results_are_the_engine_models(api_env) -> None:
    url, keys, engine = api_env
    with client(url, keys["full"]) as c:
        r = c.get("/v1/metrics/dora", params={"from": "2020-01-01", "to": "2020-01-31", "repo": "sample"})
        assert r.status_code == 200
        body = r.json()
        assert body["deployment_frequency"]["unit"] == "deploys_per_week" and body["period"]["from"].startswith("2020-01-01")
        summary = c.get("/v1/contributors/ada%40example.com/summary", params={"period": "last_90_days"}).json()
        assert summary["contributor"] == "ada@example.com" and summary["commits"] > 0
        assert c.get("/v1/repositories").json()["repositories"][0]["name"] == "sample"


def _walk(c: httpx2.Client, path: str, params: dict[str, Any], direction: str, start: str | None = None) -> list[dict]:
    seen: list[dict] = []
    cursor = start
    while True:
        q = dict(params)
        if cursor:
            q[direction] = cursor
        body = c.get(path, params=q).json()
        assert body["object"] == "list" and body["url"] == path
        page = body["data"]
        seen = seen + page if direction == "starting_after" else page + seen
        if not body["has_more"]:
            return seen
        cursor = page[-1]["id"] if direction == "starting_after" else page[0]["id"]


@pytest.mark.parametrize("path", ["/v1/deployments", "/v1/activity", "/v1/incidents"])
def test_pagination_forwards_and_backwards(api_env, path: str) -> None:
    url, keys, _ = api_env
    params = {"period": "last_90_days", "limit": 3}
    with client(url, keys["full"]) as c:
        everything = c.get(path, params={"period": "last_90_days", "limit": 100}).json()
        forward = _walk(c, path, params, "starting_after")
        ids = [x["id"] for x in forward]
        assert ids[: len(everything["data"])] == [x["id"] for x in everything["data"]] and len(set(ids)) == len(ids)
        assert len(ids) > 100 if everything["has_more"] else len(ids) == len(everything["data"])
        if len(forward) > 1:
            backward = _walk(c, path, params, "ending_before", start=forward[-1]["id"])
            assert [x["id"] for x in backward] == [x["id"] for x in forward[:-1]]
        default = c.get(path, params={"period": "last_90_days"}).json()
        assert len(default["data"]) == min(10, len(forward))
    if path == "/v1/deployments":
        assert everything["total"] == len(forward) > 3


def test_idempotent_replay_and_conflict(api_env) -> None:
    url, keys, _ = api_env
    with client(url, keys["full"]) as c:
        first = c.post("/v1/notes", json={"text": "ship it"}, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == 200 and "idempotent-replayed" not in first.headers
        calls = Notes.calls
        again = c.post("/v1/notes", json={"text": "ship it"}, headers={"Idempotency-Key": "k-1"})
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json() and Notes.calls == calls
        assert again.headers["request-id"] != first.headers["request-id"]
        assert_envelope(c.post("/v1/notes", json={"text": "other"}, headers={"Idempotency-Key": "k-1"}), 409,
                        "idempotency_error", "idempotency_key_reused", "Idempotency-Key")
        unkeyed = [c.post("/v1/notes", json={"text": "x"}).json()["id"] for _ in range(2)]
        assert unkeyed[0] != unkeyed[1]
        assert_envelope(c.post("/v1/notes", json={"text": "x"}, headers={"Idempotency-Key": "x" * 300}), 400,
                        "invalid_request_error", param="Idempotency-Key")
    # Another key's Idempotency-Key space is separate.
    with client(url, keys["full"]) as c:
        assert c.post("/v1/notes", json={"text": "ship it"}, headers={"Idempotency-Key": "k-1"}).headers[
            "idempotent-replayed"] == "true"


def test_openapi_lists_every_operation(api_env) -> None:
    url, keys, engine = api_env
    with client(url, keys["full"]) as c:
        assert c.get("/v1/openapi.json").status_code == 200
        doc = c.get("/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for op in engine.operations():
        assert op.method.lower() in doc["paths"]["/v1" + op.path], op.name
    deployments = doc["paths"]["/v1/deployments"]["get"]
    names = {p["name"] for p in deployments["parameters"]}
    assert {"limit", "starting_after", "ending_before", "from", "period"} <= names and "cursor" not in names
    assert doc["paths"]["/v1/notes"]["post"]["requestBody"]
    assert "Error" in doc["components"]["schemas"]


def test_internal_error_is_an_api_error_without_traceback(backend, sample_settings, tmp_path) -> None:
    engine = LocalEngine(backend.copy(sample_settings, tmp_path / "engmetrics.db"))
    secret = engine.keys.create("t", None, "pro", api_version=API_VERSION).secret
    with engine.store.tx() as conn:
        conn.execute("DROP TABLE incidents")  # a broken store: the engine fails with an unexpected error
    with Served(build_api(engine)) as served, client(served.url, secret) as c:
        err = assert_envelope(c.get("/v1/incidents"), 500, "api_error", "internal_error")
        assert "req_" in err["message"]
    engine.store.close()


def test_rate_limit_to_429_and_recovery_after_reset(backend, sample_settings, tmp_path) -> None:
    engine = LocalEngine(backend.copy(sample_settings, tmp_path / "engmetrics.db"))
    config = ApiConfig(plans={"free": PlanLimits(3, 1000), "pro": PlanLimits(100, 4)}, minute_seconds=2.0)
    per_minute = engine.keys.create("small", None, "free", api_version=API_VERSION).secret
    per_day = engine.keys.create("daily", None, "pro", api_version=API_VERSION).secret
    with Served(build_api(engine, config)) as served:
        with client(served.url, per_minute) as c:
            # Start at the beginning of a window so the three requests share it.
            time.sleep(2.0 - time.time() % 2.0 + 0.05)
            remaining = [int(c.get("/v1/repositories").headers["x-ratelimit-remaining"]) for _ in range(3)]
            assert remaining == [2, 1, 0]
            r = c.get("/v1/repositories")
            err = assert_envelope(r, 429, "rate_limit_error", "rate_limit_exceeded")
            assert err["retry_after"] == int(r.headers["retry-after"]) >= 1
            assert r.headers["x-ratelimit-remaining"] == "0" and int(r.headers["x-ratelimit-reset"]) > time.time() - 1
            assert "3 requests per 2 seconds" in err["message"]
            time.sleep(max(0.0, int(r.headers["x-ratelimit-reset"]) - time.time()) + 0.05)
            assert c.get("/v1/repositories").status_code == 200
        with client(served.url, per_day) as c:
            assert [c.get("/v1/repositories").status_code for _ in range(4)] == [200] * 4
            err = assert_envelope(c.get("/v1/repositories"), 429, "rate_limit_error", "rate_limit_exceeded")
            assert "per day" in err["message"]
    engine.store.close()


def _cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engmetrics.cli.main", *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=60)


def test_api_key_cli_shows_the_secret_once_and_stores_a_hash(tmp_path) -> None:
    db = tmp_path / "keys.db"
    made = _cli("api-key", "create", "--name", "ci", "--scopes", "metrics:read", "--scopes", "deployments:read",
                "--plan", "pro", "--json", db=db)
    assert made.returncode == 0, made.stderr
    info = json.loads(made.stdout)
    assert set(info) >= {"id", "key", "name", "scopes"} and info["id"].startswith("key_")
    assert info["scopes"] == ["metrics:read", "deployments:read"] and info["name"] == "ci"
    listed = _cli("api-key", "list", "--json", db=db)
    assert info["key"] not in listed.stdout and json.loads(listed.stdout)[0]["id"] == info["id"]
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("keys.db"))
    assert info["key"].encode() not in raw
    assert _cli("api-key", "revoke", info["id"], db=db).returncode == 0
    assert json.loads(_cli("api-key", "list", "--json", db=db).stdout)[0]["revoked_at"]
    bad = _cli("api-key", "revoke", "key_nope", db=db)
    assert bad.returncode == 2 and "api-key list" in bad.stderr
    assert _cli("api-key", "create", "--name", "x", "--scopes", "everything!", db=db).returncode == 2


def test_lists_without_item_ids_page_with_next_cursor(api_env) -> None:
    url, keys, _ = api_env
    path, params = "/v1/risk/changes", {"period": "last_90_days", "repo": "sample", "limit": 2}
    with client(url, keys["full"]) as c:
        first = c.get(path, params=params)
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["object"] == "list" and "next_cursor" in body
        seen = list(body["data"])
        while body["has_more"]:
            body = c.get(path, params={**params, "cursor": body["next_cursor"]}).json()
            seen += body["data"]
        assert len(seen) == body["total"]
        assert_envelope(c.get(path, params={**params, "starting_after": "x"}), 400, "invalid_request_error",
                        param="starting_after")
