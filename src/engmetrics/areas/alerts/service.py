"""The alerts area over the local store: definitions (`queries`), evaluation of each alert's metric over its window
(catalogue metrics through `CatalogueApi`, custom metrics through `CustomMetricsApi`), state transitions
(`metrics.conditions`), and signed webhook deliveries in the background (`delivery`)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets as random
import time
import anyio
import httpx2
from cryptography.fernet import Fernet

from engmetrics.areas.alerts import queries
from engmetrics.areas.alerts.api import AlertsApi
from engmetrics.areas.alerts.delivery import send_due
from engmetrics.areas.alerts.metrics.conditions import breached, next_state, notifies, observed
from engmetrics.areas.alerts.models import (
    Alert,
    AlertCondition,
    AlertCreate,
    AlertDeleted,
    AlertId,
    AlertList,
    AlertRun,
    AlertTransition,
    WebhookTarget,
)
from engmetrics.areas.alerts.secrets import decrypt, encrypt, load_fernet
from engmetrics.areas.catalogue.api import CatalogueApi
from engmetrics.areas.catalogue.models import CATALOGUE, canonical
from engmetrics.areas.context import AreaService, Context
from engmetrics.areas.custom_metrics.api import CustomMetricsApi
from engmetrics.errors import InvalidInput, NotFound
from engmetrics.periods import Bucket, iso, utcnow
from engmetrics.store.claims import claimant_name

log = logging.getLogger(__name__)
WINDOW = re.compile(r"^(\d{1,4})([dw])$")
CLAIMED_POLL_SECONDS = 0.5
"""How often `deliver_pending(wait=True)` looks whether a delivery another process holds was sent."""


def window_days(window: str) -> int:
    """Days in a window such as '7d' or '2w' (`InvalidInput` otherwise)."""
    m = WINDOW.match(window.strip().lower())
    days = int(m.group(1)) * (7 if m.group(2) == "w" else 1) if m else 0
    if not 1 <= days <= 3650:
        raise InvalidInput(f"window {window!r} must be a number of days or weeks ending now, e.g. '7d', '30d', '2w' "
                           "(1 day to 10 years).", param="window")
    return days


def _next_try(d: queries.DeliveryRow, now: float) -> float:
    """When to look at pending delivery ``d`` again (Unix seconds): at its next attempt, or — while another process
    holds it — in a moment (its claim ends when that process records its attempt, at the latest when its lease runs out)."""
    if d.claim_until is not None and d.claim_until >= now:
        return min(now + CLAIMED_POLL_SECONDS, d.claim_until + 1)
    return d.next_attempt_at


def _window_text(days: int) -> str:
    return f"{days // 7}w" if days % 7 == 0 and days >= 14 else f"{days}d"


class AlertsService(AreaService, AlertsApi):
    """Alerts over the local store, valued through the catalogue and custom-metrics areas."""

    def __init__(self, ctx: Context, catalogue: CatalogueApi, custom: CustomMetricsApi) -> None:
        super().__init__(ctx)
        self.catalogue = catalogue
        self.custom = custom
        self._fernet: Fernet | None = None
        self._delivering = anyio.Lock()
        self._claimant = claimant_name()  # this service's name on the deliveries it claims (host:pid:n)
        self._evaluating = anyio.Lock()

    @property
    def fernet(self) -> Fernet:
        """The key encrypting webhook secrets (`secrets.load_fernet`), loaded once."""
        if self._fernet is None:
            self._fernet = load_fernet(self.settings)
        return self._fernet

    # ---- definitions ------------------------------------------------------------------------------------------

    def _public(self, a: queries.AlertRow) -> Alert:
        actions = [WebhookTarget(url=x["url"], signed=bool(x.get("secret"))) for x in json.loads(a.actions)]
        info = CATALOGUE.get(a.metric)
        unit = "percent" if a.operator == "change_pct" else (info.unit if info else None)
        return Alert(
            id=a.id, metric=a.metric, unit=unit, condition=AlertCondition(operator=a.operator, threshold=a.threshold),
            window=_window_text(a.window_days), severity=a.severity, repo=a.repo, team=a.team, actions=actions,
            state=a.state, last_value=a.last_value, last_evaluated_at=iso(a.last_evaluated_at),
            state_changed_at=iso(a.state_changed_at), created_at=iso(a.created_at) or "",
        )

    async def _metric_name(self, metric: str) -> str:
        name = canonical(metric)
        if name is not None:
            return name
        slug = metric.strip().lower()
        custom = [m.slug for m in (await self.custom.list_custom_metrics()).custom_metrics]
        if slug in custom:
            return slug
        more = f", or a custom metric: {', '.join(custom)}" if custom else " (or a custom metric's slug)"
        raise InvalidInput(f"unknown metric {metric!r}; use one of {', '.join(CATALOGUE)}{more}.", param="metric")

    async def create_alert(self, q: AlertCreate) -> Alert:
        metric = await self._metric_name(q.metric)
        days = window_days(q.window)
        if q.repo and q.team:
            raise InvalidInput("Give repo or team, not both.", param="team")
        repo = self.resolve_repo(q.repo).name if q.repo else None
        if q.team:
            self.scope_repo_ids(None, q.team)
        for action in q.actions:
            if not action.url.lower().startswith(("http://", "https://")):
                raise InvalidInput(f"webhook url {action.url!r} must start with http:// or https://.", param="actions")
        fingerprint = hashlib.sha256(json.dumps(
            [metric, q.condition.operator, q.condition.threshold, days, q.severity, repo, q.team,
             sorted(a.url for a in q.actions)]).encode()).hexdigest()
        actions = json.dumps([{"url": a.url, "secret": encrypt(self.fernet, a.secret.get_secret_value())
                               if a.secret is not None and a.secret.get_secret_value() else None} for a in q.actions])

        def write() -> Alert:
            with self.store.tx() as conn:
                existing = queries.by_fingerprint(conn, fingerprint)
                if existing is None:
                    queries.insert(conn, queries.AlertRow(
                        "alrt_" + fingerprint[:16], fingerprint, metric, q.condition.operator, q.condition.threshold,
                        days, q.severity, repo, q.team, actions, "ok", None, None, None, int(time.time())))
                elif any(a.secret is not None for a in q.actions):
                    queries.set_actions(conn, existing.id, actions)  # the same alert, with its secrets replaced
                row = queries.by_fingerprint(conn, fingerprint)
            assert row is not None
            return self._public(row)

        return await self.store.run(write)

    async def list_alerts(self) -> AlertList:
        def read() -> AlertList:
            items = [self._public(a) for a in queries.all_alerts(self.store.read())]
            return AlertList(alerts=items, total=len(items))

        return await self.store.run(read)

    async def delete_alert(self, q: AlertId) -> AlertDeleted:
        def write() -> AlertDeleted:
            with self.store.tx() as conn:
                if queries.get(conn, q.alert_id.strip()) is None:
                    raise NotFound(f"No alert {q.alert_id!r}: list them with list_alerts.", param="alert_id")
                return AlertDeleted(alert_id=q.alert_id, deleted=queries.delete(conn, q.alert_id.strip()))

        return await self.store.run(write)

    # ---- evaluation -------------------------------------------------------------------------------------------

    def _covers(self, a: queries.AlertRow, repo: str | None) -> bool:
        """Whether alert ``a`` is about repository ``repo`` (every alert when ``repo`` is None)."""
        if repo is None or (a.repo is None and a.team is None):
            return True
        if a.repo is not None:
            return a.repo == repo
        try:
            ids = self.scope_repo_ids(None, a.team)
            return self.resolve_repo(repo).id in (ids or [])
        except NotFound:
            return False

    async def _values(self, a: queries.AlertRow, now: int) -> tuple[float | None, float | None, str | None]:
        """(value over the window, value over the previous window, unit) of the alert's metric in its scope."""
        span = a.window_days * 86400
        bks = [Bucket("previous", now - 2 * span, now - span), Bucket("current", now - span, now)]
        repo_ids = self.scope_repo_ids(a.repo, a.team)
        if a.metric in CATALOGUE:
            before, value = (await self.catalogue.metric_series(bks, repo_ids, a.team, [a.metric]))[a.metric]
            return value, before, CATALOGUE[a.metric].unit
        series = await self.custom.custom_series(a.metric, bks, repo_ids, a.team)
        if series is None:
            return None, None, None
        return series.values[1], series.values[0], series.unit

    def _payload(self, a: queries.AlertRow, transition: str, seen: float | None, value: float | None,
                 before: float | None, unit: str | None, now: int) -> str:
        span = a.window_days * 86400
        return json.dumps({
            "type": f"alert.{transition}",
            "alert": {"id": a.id, "metric": a.metric, "condition": {"operator": a.operator, "threshold": a.threshold},
                      "window": _window_text(a.window_days), "severity": a.severity, "repo": a.repo, "team": a.team},
            "state": transition,
            "value": seen,
            "threshold": a.threshold,
            "window": {"label": _window_text(a.window_days), "from": iso(now - span), "to": iso(now)},
            "evidence": {"metric": a.metric, "unit": unit, "value": value, "previous_window_value": before,
                         "change_percent": observed("change_pct", value, before), "evaluated_at": iso(now)},
        }, sort_keys=True)

    async def evaluate_alerts(self, repo: str | None = None, *, deliver: bool = False) -> AlertRun:
        async with self._evaluating:
            rows = await self.store.run(lambda: queries.all_alerts(self.store.read()))
            now = int(utcnow().timestamp())
            run = AlertRun(evaluated=0, transitions=[])
            for a in rows:
                if not self._covers(a, repo):
                    continue
                run.evaluated += 1
                try:
                    value, before, unit = await self._values(a, now)
                except NotFound as exc:  # its repository or team is gone
                    log.warning("alert %s cannot be evaluated: %s", a.id, exc.message)
                    run.no_data.append(a.id)
                    continue
                seen = observed(a.operator, value, before)
                if seen is None:
                    run.no_data.append(a.id)
                state = next_state(a.state, None if seen is None else breached(a.operator, a.threshold, seen))
                changed = state != a.state
                payload = self._payload(a, state, seen, value, before, unit, now) if notifies(a.state, state) else None
                urls = [x["url"] for x in json.loads(a.actions)] if payload else []

                def write(a: queries.AlertRow = a, state: str = state, seen: float | None = seen, changed: bool = changed,
                          payload: str | None = payload, urls: list[str] = urls) -> bool:
                    with self.store.tx() as conn:
                        if not queries.record_evaluation(conn, a.id, a.state, state, seen, now, changed):
                            return False  # another process (a sync worker, an API worker) moved it meanwhile
                        for url in urls:
                            assert payload is not None
                            queries.enqueue(conn, "dlv_" + random.token_hex(8), a.id, state, url, payload, now)
                    return True

                if not await self.store.run(write):
                    continue
                if changed:
                    run.transitions.append(AlertTransition(alert_id=a.id, metric=a.metric, from_state=a.state,
                                                           to_state=state, value=seen, notifications=len(urls)))
        if deliver:
            delivered = await self.deliver_pending(wait=True)
            run.delivered, run.pending, run.failed = delivered.delivered, delivered.pending, delivered.failed
        elif any(t.notifications for t in run.transitions):
            self.ctx.spawn(self._deliver_in_background)
        return run

    # ---- delivery ---------------------------------------------------------------------------------------------

    def _secret_of(self, alert_id: str, url: str) -> str | None:
        a = queries.get(self.store.read(), alert_id)
        if a is None:
            return None
        for x in json.loads(a.actions):
            if x["url"] == url and x.get("secret"):
                return decrypt(self.fernet, x["secret"])
        return None

    async def _deliver_in_background(self) -> None:
        try:
            await self.deliver_pending(wait=True)
        except Exception:  # background work must never take the server down
            log.exception("alert webhook delivery failed")

    async def deliver_pending(self, *, wait: bool = True) -> AlertRun:
        delivered = 0
        async with self._delivering, httpx2.AsyncClient(
            timeout=httpx2.Timeout(self.settings.alerts_timeout_seconds), follow_redirects=False
        ) as client:
            while True:
                delivered += await send_due(self.store, client, self._secret_of, self.settings.alerts_retry_seconds,
                                            self._claimant, self.settings.alerts_timeout_seconds)
                if not wait:
                    break
                pending = await self.store.run(lambda: queries.pending(self.store.read()))
                if not pending:
                    break
                now = time.time()
                await anyio.sleep(max(0.05, min(_next_try(d, now) for d in pending) - now))
        counts = await self.store.run(lambda: queries.delivery_counts(self.store.read()))
        return AlertRun(evaluated=0, transitions=[], delivered=delivered, pending=counts.get("pending", 0),
                        failed=counts.get("failed", 0))

    async def run_forever(self, every_seconds: float) -> None:
        while True:
            try:
                await self.evaluate_alerts()
            except Exception:  # never crash the server from background work
                log.exception("alert evaluation failed")
            await anyio.sleep(every_seconds)
