"""The alerts area's models (the Scrums ``POST /v1/intelligence/alerts`` shape): an alert on a catalogue or custom
metric with a condition, a window, a severity, a repository or team scope and webhook actions; its state; what an
evaluation did. Times are ISO 8601 UTC strings; webhook secrets are accepted, never answered."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from engmetrics.models import Model

Operator = Literal["gt", "gte", "lt", "lte", "change_pct"]
AlertSeverity = Literal["low", "medium", "high", "critical"]
AlertState = Literal["ok", "firing", "resolved"]


class AlertCondition(Model):
    """When an alert fires: the metric's value over the window compared with ``threshold``."""

    operator: Operator = Field(description="gt, gte, lt, lte (value vs threshold) or change_pct (percent change vs "
                               "the previous window of equal length: fires at +threshold% or more, or at "
                               "threshold% or less for a negative threshold)")
    threshold: float = Field(description="In the metric's unit (percent for change_pct)")


class AlertAction(Model):
    """What happens on each transition (firing, resolved): a signed JSON POST to a webhook."""

    type: Literal["notify_webhook"] = Field(default="notify_webhook", description="Only notify_webhook")
    url: str = Field(min_length=8, max_length=2000, description="http(s) URL receiving the JSON notification")
    secret: SecretStr | None = Field(default=None, description="Signing secret (HMAC-SHA256, header "
                                     "Engmetrics-Signature); stored encrypted, never shown again")


class AlertCreate(Model):
    """Arguments of create_alert."""

    metric: str = Field(description="A catalogue metric (see get_metric_series) or a custom metric's slug")
    condition: AlertCondition
    window: str = Field(default="7d", description="Window the value is computed over, ending now: '7d', '30d', '2w'")
    severity: AlertSeverity = Field(default="medium", description="low, medium, high or critical")
    repo: str | None = Field(default=None, description="Only this repository (name or path); all when omitted")
    team: str | None = Field(default=None, description="Only this team's repositories; instead of repo")
    actions: list[AlertAction] = Field(default_factory=list, max_length=5,
                                       description="notify_webhook actions (url, secret); none: state only")


class WebhookTarget(Model):
    """A webhook action as answered: its URL and whether a secret signs it (the secret itself never)."""

    type: Literal["notify_webhook"] = "notify_webhook"
    url: str
    signed: bool = Field(description="True when a secret signs its notifications")


class Alert(Model):
    """A stored alert with its state."""

    id: str = Field(description="alrt_… id")
    metric: str
    unit: str | None = None
    condition: AlertCondition
    window: str
    severity: AlertSeverity
    repo: str | None = None
    team: str | None = None
    actions: list[WebhookTarget]
    state: AlertState = Field(description="ok (never fired), firing, resolved (fired, no longer)")
    last_value: float | None = Field(default=None, description="The value at the last evaluation, in `unit` "
                                     "(percent change for change_pct)")
    last_evaluated_at: str | None = None
    state_changed_at: str | None = None
    created_at: str


class AlertList(Model):
    """Every alert with its state."""

    alerts: list[Alert]
    total: int


class AlertId(Model):
    """An alert by id."""

    alert_id: str = Field(min_length=1, max_length=64, description="The alert's id (alrt_…, see list_alerts)")


class AlertDeleted(Model):
    """What delete_alert did."""

    alert_id: str
    deleted: bool


class AlertTransition(Model):
    """One alert whose state changed in an evaluation."""

    alert_id: str
    metric: str
    from_state: AlertState
    to_state: AlertState
    value: float | None
    notifications: int = Field(description="Webhook notifications queued for this transition")


class AlertRun(Model):
    """What an evaluation did: alerts evaluated, transitions, webhook deliveries."""

    evaluated: int
    transitions: list[AlertTransition]
    no_data: list[str] = Field(default_factory=list, description="Alerts whose metric had no value in the window")
    delivered: int = Field(default=0, description="Notifications delivered (when delivery was awaited)")
    pending: int = Field(default=0, description="Notifications still waiting for delivery or a retry")
    failed: int = Field(default=0, description="Notifications given up after every retry")
