"""The AI sources against stand-ins on 127.0.0.1 (`ai_standins`): Cursor's AI Code Tracking API (pages of at most
1000, dates, the user filter, CSV streaming, the 5-requests-a-minute limit paced and its 429s waited out, privacy-mode
rows, bad keys) and its sync into a real store (incremental, idempotent, matched to the commits of a repository the
test builds); GitHub Copilot's usage metrics reports (download links, daily backfill, seats) and the figures and
Koalr shape made of them, through the engine and the REST API."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from ai_standins import CopilotApi, CursorApi
from engmetrics.api.app import API_VERSION, build_api
from engmetrics.areas.ai.models import AiImpactQuery, CopilotQuery, CopilotUsage
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.engine.remote.engine import RemoteEngine
from engmetrics.errors import InvalidInput, RemoteError
from engmetrics.sources.cursor.client import COMMITS, CHANGES, CsvRows, CursorClient, cursor_date
from gitrepo import GitRepo
from test_api import Served

KEY = "crsr_test_key"
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def commit_row(i: int, *, sha: str | None = None, when: datetime | None = None, email: str = "ada@example.com",
               private: bool = False, **extra: Any) -> dict[str, Any]:
    """One AiCommitMetric as the API answers it (privacy mode: no message, branch unknown)."""
    at = when or NOW - timedelta(hours=i + 1)
    row: dict[str, Any] = {
        "commitHash": sha or hashlib.sha1(f"c{i}".encode()).hexdigest(), "userId": f"user_{email[:3]}",
        "userEmail": email, "repoName": "acme/app", "branchName": "main", "isPrimaryBranch": True,
        "totalLinesAdded": 10 + i % 7, "totalLinesDeleted": 1, "tabLinesAdded": i % 3, "tabLinesDeleted": 0,
        "composerLinesAdded": i % 5, "composerLinesDeleted": 0, "nonAiLinesAdded": 5, "nonAiLinesDeleted": 1,
        "message": f"feat: change {i}, with \"quotes\"\nand a second line", "commitTs": iso(at),
        "createdAt": iso(at + timedelta(minutes=2)),
    }
    if private:
        row.update(branchName=None, isPrimaryBranch=None, message=None)
    row.update(extra)
    return row


@pytest.fixture
def cursor() -> Any:
    api = CursorApi(KEY, limit=1000, window=1.0)
    with Served(api.app) as served:
        yield api, served.url


async def read_all(client: CursorClient, endpoint: str = COMMITS, start: str = "30d", **kw: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async for page in client.pages(endpoint, start, "now", **kw):
        rows += page
    return rows


# ---- the client -------------------------------------------------------------------------------------------------


async def test_pages_hold_at_most_1000_rows_and_every_row_arrives(cursor) -> None:
    api, url = cursor
    api.commits = [commit_row(i, when=NOW - timedelta(minutes=i + 1)) for i in range(2300)]
    async with CursorClient(KEY, url, page_size=5000) as client:  # asked for more than Cursor allows
        rows = await read_all(client)
    assert [r["commitHash"] for r in rows] == [r["commitHash"] for r in api.commits]
    sizes = [q["pageSize"] for path, q in api.requests]
    assert sizes == ["1000", "1000", "1000"] and [q["page"] for _, q in api.requests] == ["1", "2", "3"]


async def test_dates_and_the_user_filter_reach_cursor_as_given(cursor) -> None:
    api, url = cursor
    api.commits = [commit_row(0, when=NOW - timedelta(days=10)), commit_row(1, email="bob@example.com"),
                   commit_row(2, when=NOW - timedelta(days=40))]
    async with CursorClient(KEY, url) as client:
        recent = await read_all(client, start="7d")
        bob = await read_all(client, start="30d", user="bob@example.com")
        dated = await read_all(client, start=(NOW - timedelta(days=45)).date().isoformat())
    assert [r["commitHash"] for r in recent] == [api.commits[1]["commitHash"]]
    assert [r["userEmail"] for r in bob] == ["bob@example.com"]
    assert len(dated) == 3
    assert api.requests[0][1]["startDate"] == "7d" and api.requests[0][1]["endDate"] == "now"
    assert api.requests[1][1]["user"] == "bob@example.com"
    assert cursor_date("2025-07-01T10:00:00Z") == "2025-07-01T10:00:00Z" and cursor_date("NOW") == "now"
    with pytest.raises(InvalidInput, match="not a date Cursor accepts"):
        cursor_date("yesterday")


async def test_the_client_paces_itself_to_the_limit_without_a_429(cursor) -> None:
    api, url = cursor
    api.limit, api.window = 5, 1.0
    api.commits = [commit_row(i) for i in range(650)]
    said: list[str] = []

    async def on_wait(message: str, seconds: float) -> None:
        said.append(message)

    async with CursorClient(KEY, url, page_size=100, per_minute=5, window_seconds=1.0, on_wait=on_wait) as client:
        rows = await read_all(client)
        assert client.stats.waits >= 1 and client.stats.requests == 7
    assert len(rows) == 650 and api.rejected_429 == 0
    assert said and all("5 requests a minute on /analytics/ai-code/commits" in m for m in said)


async def test_429s_are_waited_out_and_said_never_an_error(cursor) -> None:
    api, url = cursor
    api.limit, api.window, api.retry_after = 2, 1.0, 1.0
    api.commits = [commit_row(i) for i in range(23)]
    said: list[tuple[str, float]] = []

    async def on_wait(message: str, seconds: float) -> None:
        said.append((message, seconds))

    async with CursorClient(KEY, url, page_size=5, per_minute=100, on_wait=on_wait) as client:
        rows = await read_all(client)
        waits = client.stats.waits
    assert len(rows) == 23
    assert api.rejected_429 >= 1 and waits == api.rejected_429
    assert all("429" in m and s >= 1.0 for m, s in said)


async def test_it_gives_up_only_after_the_allowed_wait(cursor) -> None:
    api, url = cursor
    api.always_429 = True
    api.commits = [commit_row(0)]
    async with CursorClient(KEY, url, max_wait=2.5) as client:
        with pytest.raises(RemoteError, match="ENGMETRICS_AI_MAX_WAIT_SECONDS") as err:
            await read_all(client)
        assert client.stats.waits == 2  # two waits of 1 s fitted in 2.5 s; the third did not
    assert KEY not in str(err.value)


async def test_a_bad_key_is_a_clear_error_that_never_shows_the_key(cursor) -> None:
    _, url = cursor
    async with CursorClient("crsr_wrong_secret", url) as client:
        with pytest.raises(RemoteError, match="401.*ENGMETRICS_CURSOR_API_KEY") as err:
            await read_all(client)
    assert "crsr_wrong_secret" not in str(err.value)
    with pytest.raises(InvalidInput, match="ENGMETRICS_CURSOR_API_KEY"):
        CursorClient("", url)


async def test_csv_downloads_stream_rows_with_quoted_newlines_and_privacy_mode(cursor) -> None:
    api, url = cursor
    api.commits = [commit_row(i, private=i % 4 == 0) for i in range(40)]
    api.changes = [{"changeId": f"chg{i}", "userId": "user_ada", "userEmail": "ada@example.com",
                    "source": "TAB" if i % 2 else "COMPOSER", "model": None if i % 2 else "gpt-5",
                    "totalLinesAdded": i, "totalLinesDeleted": 0, "createdAt": iso(NOW - timedelta(hours=i + 1)),
                    "metadata": [{"fileExtension": "ts", "linesAdded": i}] if i % 3 else
                    [{"fileName": "src/a,b.ts", "fileExtension": "ts", "linesAdded": i}]} for i in range(12)]
    async with CursorClient(KEY, url) as client:
        commits = [row async for _, row in client.csv_rows(COMMITS, "30d")]
        changes = [row async for _, row in client.csv_rows(CHANGES, "30d")]
    assert len(commits) == 40 and commits[1]["message"] == api.commits[1]["message"]
    assert commits[0]["message"] == "" and commits[0]["branch_name"] == ""  # privacy mode
    assert [c["commit_hash"] for c in commits] == [r["commitHash"] for r in api.commits]
    assert [json.loads(c["metadata_json"]) for c in changes] == [r["metadata"] for r in api.changes]
    parser = CsvRows()  # the record boundary is a newline outside quotes, wherever the chunks split
    text = 'a,b\n1,"x\ny"\n2,"z""q"\n'
    rows = [r for k in range(0, len(text), 3) for r in parser.feed(text[k:k + 3])] + parser.finish()
    assert rows == [["a", "b"], ["1", "x\ny"], ["2", 'z"q']]


# ---- the sync, into a store ------------------------------------------------------------------------------------


@pytest.fixture
def synced(tmp_path: Path, cursor) -> Any:
    """A repository 'app' with six commits of the last days, synced; the stand-in holds tracking rows for four of
    them (one by an abbreviated hash, one in privacy mode), one for a commit the store never saw, a bad row."""
    api, url = cursor
    repo = GitRepo(tmp_path / "app")
    shas = [repo.commit({f"src/m{i}.py": "x = 1\n" * (i + 2)}, f"feat: m{i}", when=NOW - timedelta(days=6 - i))
            for i in range(6)]
    api.commits = [
        commit_row(0, sha=shas[0], when=NOW - timedelta(days=6), totalLinesAdded=2, tabLinesAdded=1,
                   composerLinesAdded=0),
        commit_row(1, sha=shas[1][:9], when=NOW - timedelta(days=5), totalLinesAdded=3, tabLinesAdded=0,
                   composerLinesAdded=3),
        commit_row(2, sha=shas[2], when=NOW - timedelta(days=4), private=True, totalLinesAdded=4, tabLinesAdded=2,
                   composerLinesAdded=1),
        commit_row(3, sha=shas[3], when=NOW - timedelta(days=3), totalLinesAdded=5, tabLinesAdded=0,
                   composerLinesAdded=0),
        commit_row(4, sha="ab" * 20, when=NOW - timedelta(days=2)),
        commit_row(5, sha="not-a-hash", when=NOW - timedelta(days=1)),
    ]
    api.changes = [{"changeId": "chg1", "userEmail": "ada@example.com", "source": "COMPOSER", "model": "gpt-5",
                    "totalLinesAdded": 12, "totalLinesDeleted": 0, "createdAt": iso(NOW - timedelta(days=2)),
                    "metadata": [{"fileExtension": "py", "linesAdded": 12}]}]
    settings = Settings(db=tmp_path / "db.sqlite", cursor_api_key=KEY, cursor_api_url=url, cursor_first_sync_days=30,
                        sync_max_age_seconds=3600)
    engine = LocalEngine(settings)
    engine.register_repository(repo.path)
    anyio.run(engine.repos.sync)
    yield api, engine, shas
    engine.store.close()


def test_sync_writes_tracking_rows_matched_to_stored_commits(synced) -> None:
    api, engine, shas = synced
    report = anyio.run(engine.ai.sync_sources)
    commits, changes = report.cursor
    assert (commits.rows, commits.imported, commits.unchanged) == (6, 5, 0)
    assert len(commits.errors) == 1 and "page 1 item 6" in commits.errors[0] and "not a commit hash" in commits.errors[0]
    assert (changes.rows, changes.imported) == (1, 1)
    assert commits.start == (NOW - timedelta(days=30)).date().isoformat()
    assert report.tracking_rows_unmatched == 1 and report.rate_limit_waits == 0
    impact = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(period="last_30_days"))
    # Six commits (m0…m5) add 2…7 lines (x = 1 repeated i + 2 times): 27 lines; tracking data for four of them:
    # TAB 1 + COMPOSER 3 + (TAB 2 + COMPOSER 1) + 0 = 7 AI lines; AI-assisted: m0, m1, m2.
    assert (impact.commits, impact.lines_added, impact.commits_with_tracking_data) == (6, 27, 4)
    assert (impact.ai_lines_added, impact.ai_share_of_lines_percent) == (7, 25.93)
    assert (impact.ai_assisted_commits, impact.ai_assisted_commits_percent) == (3, 50.0)
    assert impact.tracking_rows_unmatched == 1
    assert impact.accepted_changes is not None and impact.accepted_changes.lines_added_by_model == {"gpt-5": 12}


def test_sync_is_incremental_and_a_second_run_changes_nothing(synced) -> None:
    api, engine, _ = synced
    anyio.run(engine.ai.sync_sources)
    first = len(api.requests)
    again = anyio.run(engine.ai.sync_sources)
    # From two days before the cursor: the rows of the last two days only — one already stored, one bad.
    assert [(e.rows, e.imported, e.unchanged, len(e.errors)) for e in again.cursor] == [(2, 0, 1, 1), (1, 0, 1, 0)]
    starts = {q["startDate"] for path, q in api.requests[first:]}
    assert starts == {(NOW.date() - timedelta(days=2)).isoformat()}  # the cursor (today) less two days' overlap


def test_sync_by_csv_and_for_one_user(synced) -> None:
    api, engine, _ = synced
    report = anyio.run(lambda: engine.ai.sync_sources(use_csv=True, user="ada@example.com"))
    commits, _ = report.cursor
    assert (commits.rows, commits.imported) == (6, 5) and "csv row 6" in commits.errors[0]
    assert all(path.endswith(".csv") and q["user"] == "ada@example.com" for path, q in api.requests)


def test_privacy_mode_rows_are_normal(synced) -> None:
    api, engine, shas = synced
    anyio.run(engine.ai.sync_sources)
    row = engine.store.read().execute(
        "SELECT branch_name, is_primary_branch, message, tab_lines_added, sha FROM ai_commit_metrics WHERE commit_hash = ?",
        (shas[2],)).fetchone()
    assert tuple(row) == (None, None, None, 2, shas[2])


# ---- Copilot ---------------------------------------------------------------------------------------------------


def day_record(d: date, k: int) -> dict[str, Any]:
    return {"day": d.isoformat(), "daily_active_users": 5 + k % 3, "weekly_active_users": 9,
            "monthly_active_users": 10 + k % 8, "code_generation_activity_count": 100 + k,
            "code_acceptance_activity_count": 30 + k % 10, "loc_suggested_to_add_sum": 400, "loc_added_sum": 60 + k,
            "loc_deleted_sum": 3, "totals_by_feature": []}


def expected_copilot(api: CopilotApi, days: int) -> tuple[float, float, float]:
    """Koalr's three figures over the last ``days`` days, from the definitions: the window is [now − days, now); the
    28-day report stored the days k = 12…39 (day k is end − (39 − k)) and those starting in the window count.
    Adoption: the last day's 28-day actives ÷ 20 seats; acceptance: acceptances ÷ generations; hours: lines added
    × 0.5 min ÷ 60 (percentages rounded to 2 decimals, then fractions to 4, as the figures are)."""
    start = NOW - timedelta(days=days)

    def midnight(k: int) -> datetime:
        d = api.latest_end - timedelta(days=39 - k)
        return datetime(d.year, d.month, d.day, tzinfo=UTC)

    ks = [k for k in range(12, 40) if start <= midnight(k) < NOW]
    gen = sum(100 + k for k in ks)
    acc = sum(30 + k % 10 for k in ks)
    lines = sum(60 + k for k in ks)
    return (round(round((10 + ks[-1] % 8) / 20 * 100, 2) / 100, 4), round(round(acc / gen * 100, 2) / 100, 4),
            round(lines * 0.5 / 60, 2))


@pytest.fixture
def copilot(tmp_path: Path) -> Any:
    api = CopilotApi(seats=20)
    end = NOW.date() - timedelta(days=1)
    api.latest_end = end
    for k in range(40):
        d = end - timedelta(days=39 - k)
        api.days[d] = day_record(d, k)
    with Served(api.app) as served:
        api.url = served.url
        settings = Settings(db=tmp_path / "db.sqlite", github_token=api.token, github_api_url=served.url,
                            copilot_org=api.org, sync_max_age_seconds=3600)
        engine = LocalEngine(settings)
        yield api, engine
        engine.store.close()


def test_copilot_reports_land_and_give_adoption_acceptance_and_hours(copilot) -> None:
    api, engine = copilot
    report = anyio.run(engine.ai.sync_sources)
    assert report.copilot is not None
    assert (report.copilot.reports, report.copilot.days_written, report.copilot.seats) == (1, 28, 20)
    assert report.copilot.last_day == api.latest_end.isoformat()
    assert api.downloads_with_auth == 0  # signed links: never GitHub's token
    got = anyio.run(engine.ai.get_copilot, CopilotQuery(days=10))
    assert (got.adoption_rate, got.acceptance_rate, got.estimated_hours_saved) == expected_copilot(api, 10)
    assert set(got.model_dump(by_alias=True)) == {"adoptionRate", "acceptanceRate", "estimatedHoursSaved"}


def test_copilot_backfills_the_days_between_two_syncs_with_daily_reports(copilot) -> None:
    api, engine = copilot
    end = api.latest_end
    api.latest_end = end - timedelta(days=5)
    anyio.run(engine.ai.sync_sources)
    api.latest_end = end + timedelta(days=30)  # a month later: the 28-day report no longer reaches the last sync
    for k in range(40, 70):
        d = end - timedelta(days=39 - k)
        api.days[d] = day_record(d, k)
    before = len(api.requests)
    report = anyio.run(engine.ai.sync_sources)
    daily = sorted(q["day"] for path, q in api.requests[before:] if path.endswith("organization-1-day"))
    first_missing = end - timedelta(days=4)
    report_start = api.latest_end - timedelta(days=27)
    expected = [(first_missing + timedelta(days=i)).isoformat() for i in range((report_start - first_missing).days)]
    assert daily == expected and report.copilot.reports == 1 + len(expected)


def test_copilot_usage_over_rest_in_koalrs_shape(copilot, tmp_path: Path) -> None:
    api, engine = copilot
    anyio.run(engine.ai.sync_sources)
    secret = engine.keys.create("t", ["*"], "enterprise", api_version=API_VERSION).secret
    with Served(build_api(engine)) as served, httpx2.Client(base_url=served.url,
                                                            headers={"Authorization": f"Bearer {secret}"}) as c:
        body = c.get("/v1/copilot", params={"days": 30}).json()
        bad = c.get("/v1/copilot", params={"days": 0})

        async def remote() -> CopilotUsage:  # an MCP server in remote mode over this API asks the same
            e = RemoteEngine(Settings(api_url=served.url, api_key=secret))
            try:
                return await e.ai.get_copilot(CopilotQuery(days=30))
            finally:
                await e.aclose()

        over_remote = anyio.run(remote)
    assert over_remote.model_dump(by_alias=True) == body
    assert set(body) == {"adoptionRate", "acceptanceRate", "estimatedHoursSaved"}
    assert (body["adoptionRate"], body["acceptanceRate"], body["estimatedHoursSaved"]) == expected_copilot(api, 30)
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "days"
    koalr = CopilotUsage.model_validate({"adoptionRate": 0.74, "acceptanceRate": 0.38, "estimatedHoursSaved": 312})
    assert (koalr.adoption_rate, koalr.acceptance_rate, koalr.estimated_hours_saved) == (0.74, 0.38, 312)


def test_copilot_without_seat_access_says_so(copilot) -> None:
    api, engine = copilot
    api.seats = None
    report = anyio.run(engine.ai.sync_sources)
    assert report.copilot.seats is None and any("seats unknown" in n for n in report.notes)
    assert anyio.run(engine.ai.get_copilot, CopilotQuery()).adoption_rate is None


def test_copilot_refused_names_the_policy_and_token(copilot) -> None:
    api, engine = copilot
    api.token = "ghp_other"
    with pytest.raises(RemoteError, match="Copilot usage metrics") as err:
        anyio.run(engine.ai.sync_sources)
    assert "ghp_test" not in str(err.value)
