"""The alerts area's interface (Scrums' ``/v1/intelligence/alerts``): create, list and delete alerts on catalogue or
custom metrics; in process, evaluate them (after syncs, on an interval, on demand) and deliver their webhooks."""

from __future__ import annotations

from abc import ABC, abstractmethod

from engmetrics.areas.alerts.models import AlertCreate, AlertDeleted, AlertId, AlertList, Alert, AlertRun
from engmetrics.operations import Tool, operation

CREATE_ALERT_TOOL = Tool(
    title="Create alert",
    toolset="alerts",
    read_only=False,
    idempotent=True,
    destructive=False,
    description="""\
Create an alert that fires when a metric crosses a threshold: metric (any catalogue metric such as \
change_failure_rate, lead_time, deployment_frequency, test_coverage, code_churn, open_incident_rate, or a custom \
metric's slug), condition {operator: gt|gte|lt|lte|change_pct, threshold} (change_pct: percent change against the \
previous window), window ('7d', '30d'…), severity (low, medium, high, critical), repo or team, and actions \
[{type: "notify_webhook", url, secret}]. Evaluated after every sync, on an interval while the server runs, and \
on demand (`engmetrics alerts run`). A webhook gets one signed JSON POST when the alert starts firing and one when \
it resolves — never repeated while it keeps firing. Creating the same alert again answers the existing one. The \
secret is stored encrypted and never shown again.

Use it for "tell us when the change failure rate goes above 5%", "warn me if lead time jumps 50% week over week".
Example: create_alert(metric="change_failure_rate", condition={"operator": "gt", "threshold": 5}, window="7d", \
severity="high", repo="webapp", actions=[{"type": "notify_webhook", "url": "https://hooks.example.com/eng", \
"secret": "whsec_..."}]) → {"id": "alrt_...", "state": "ok", ...}
""",
)

LIST_ALERTS_TOOL = Tool(
    title="Alerts",
    toolset="alerts",
    description="""\
Every alert with its state — ok (never fired), firing, resolved — the last value seen (in the metric's unit; \
percent change for change_pct), when it was last evaluated and when its state last changed. Webhook URLs are \
shown, secrets never.
Use it for "what alerts are firing?", "which alerts do we have?".
Example: list_alerts() → {"alerts": [{"id": "alrt_...", "metric": "change_failure_rate", "state": "firing", \
"last_value": 12.5, ...}], "total": 1}
""",
)

DELETE_ALERT_TOOL = Tool(
    title="Delete alert",
    toolset="alerts",
    read_only=False,
    idempotent=False,
    destructive=True,
    description="""\
Delete an alert by id (from list_alerts); its queued notifications are dropped.
Example: delete_alert(alert_id="alrt_3f2a9c0d1e4b5a6c") → {"alert_id": "alrt_3f2a9c0d1e4b5a6c", "deleted": true}
""",
)


class AlertsApi(ABC):
    """Alerts on metrics: definitions, states, evaluation and webhook notifications."""

    @operation("POST", "/intelligence/alerts", tool=CREATE_ALERT_TOOL)
    @abstractmethod
    async def create_alert(self, q: AlertCreate) -> Alert:
        """Create an alert (the same definition again answers the existing one)."""

    @operation("GET", "/intelligence/alerts", tool=LIST_ALERTS_TOOL)
    @abstractmethod
    async def list_alerts(self) -> AlertList:
        """Every alert with its state and last value."""

    @operation("DELETE", "/intelligence/alerts/{alert_id}", tool=DELETE_ALERT_TOOL)
    @abstractmethod
    async def delete_alert(self, q: AlertId) -> AlertDeleted:
        """Delete an alert."""

    # ---- in process only (sync steps, the server's background task, the CLI) --------------------------------

    @abstractmethod
    async def evaluate_alerts(self, repo: str | None = None, *, deliver: bool = False) -> AlertRun:
        """Evaluate every alert (or those whose scope covers repository ``repo``), record transitions and queue
        their notifications; deliver them in the background when a server runs, or now with ``deliver``."""

    @abstractmethod
    async def deliver_pending(self, *, wait: bool = True) -> AlertRun:
        """Send due notifications; with ``wait``, also wait out retries until none is pending."""

    @abstractmethod
    async def run_forever(self, every_seconds: float) -> None:
        """Evaluate and deliver every ``every_seconds`` until cancelled (the servers' background task)."""
