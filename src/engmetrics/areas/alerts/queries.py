"""Every SQL statement of the alerts area: alert definitions and their state, webhook deliveries (one per action
per transition) and the delivery log (one row per attempt). Times are Unix seconds (UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from engmetrics.store.connection import Connection

_ALERT_COLUMNS = ("id, fingerprint, metric, operator, threshold, window_days, severity, repo, team, actions, state,"
                  " last_value, last_evaluated_at, state_changed_at, created_at")


@dataclass(frozen=True)
class AlertRow:
    """An alert as stored (``actions``: JSON with encrypted secrets; ``window_days`` the window in days)."""

    id: str
    fingerprint: str
    metric: str
    operator: str
    threshold: float
    window_days: int
    severity: str
    repo: str | None
    team: str | None
    actions: str
    state: str
    last_value: float | None
    last_evaluated_at: int | None
    state_changed_at: int | None
    created_at: int


@dataclass(frozen=True)
class DeliveryRow:
    """A queued notification: its alert, transition, URL, JSON body, status, attempts so far, next attempt time."""

    id: str
    alert_id: str
    transition: str
    url: str
    payload: str
    status: str
    attempts: int
    next_attempt_at: int


def by_fingerprint(conn: Connection, fingerprint: str) -> AlertRow | None:
    """The alert with this definition fingerprint, or None."""
    row = conn.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE fingerprint = ?", (fingerprint,)).fetchone()
    return None if row is None else AlertRow(*row)


def get(conn: Connection, alert_id: str) -> AlertRow | None:
    """The alert ``alert_id``, or None."""
    row = conn.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    return None if row is None else AlertRow(*row)


def all_alerts(conn: Connection) -> list[AlertRow]:
    """Every alert, oldest first."""
    return [AlertRow(*r) for r in conn.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts ORDER BY created_at, id")]


def insert(conn: Connection, a: AlertRow) -> None:
    """Store a new alert."""
    conn.execute(
        f"INSERT INTO alerts ({_ALERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (a.id, a.fingerprint, a.metric, a.operator, a.threshold, a.window_days, a.severity, a.repo, a.team, a.actions,
         a.state, a.last_value, a.last_evaluated_at, a.state_changed_at, a.created_at),
    )


def set_actions(conn: Connection, alert_id: str, actions: str) -> None:
    """Replace an alert's actions (new secrets for the same definition)."""
    conn.execute("UPDATE alerts SET actions = ? WHERE id = ?", (actions, alert_id))


def delete(conn: Connection, alert_id: str) -> bool:
    """Delete an alert and its queued deliveries; True when it existed."""
    conn.execute("DELETE FROM alert_deliveries WHERE alert_id = ? AND status = 'pending'", (alert_id,))
    return conn.execute("DELETE FROM alerts WHERE id = ?", (alert_id,)).rowcount > 0


def record_evaluation(conn: Connection, alert_id: str, from_state: str, state: str, value: float | None, at: int,
                      changed: bool) -> bool:
    """Store an evaluation's outcome: the state, the value seen, when (and when the state changed) — only while the
    alert is still in ``from_state``, the state the evaluation started from. False (nothing written) when another
    process's evaluation moved it meanwhile (processes sharing a store: the transition and its notifications are
    that one's, never made twice)."""
    if changed:
        cur = conn.execute("UPDATE alerts SET state = ?, last_value = ?, last_evaluated_at = ?, state_changed_at = ?"
                           " WHERE id = ? AND state = ?", (state, value, at, at, alert_id, from_state))
    else:
        cur = conn.execute("UPDATE alerts SET state = ?, last_value = ?, last_evaluated_at = ? WHERE id = ? AND state = ?",
                           (state, value, at, alert_id, from_state))
    return cur.rowcount > 0


def enqueue(conn: Connection, delivery_id: str, alert_id: str, transition: str, url: str, payload: str,
            at: int) -> None:
    """Queue one notification, due now."""
    conn.execute(
        "INSERT INTO alert_deliveries (id, alert_id, transition, url, payload, status, attempts, next_attempt_at,"
        " created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        (delivery_id, alert_id, transition, url, payload, at, at),
    )


def due(conn: Connection, now: int) -> list[DeliveryRow]:
    """Pending notifications whose next attempt is due, oldest first."""
    return [DeliveryRow(*r) for r in conn.execute(
        "SELECT id, alert_id, transition, url, payload, status, attempts, next_attempt_at FROM alert_deliveries"
        " WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, id", (now,))]


def record_attempt(conn: Connection, delivery_id: str, attempt: int, at: int, status_code: int | None,
                   error: str | None, outcome: str, next_attempt_at: int) -> None:
    """Log one attempt and move the delivery on: delivered, failed (given up) or pending (retry later)."""
    conn.execute(
        "INSERT INTO alert_delivery_attempts (delivery_id, attempt, at, status_code, error) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (delivery_id, attempt) DO NOTHING",
        (delivery_id, attempt, at, status_code, error),
    )
    conn.execute(
        "UPDATE alert_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
        " delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END WHERE id = ?",
        (outcome, attempt, next_attempt_at, outcome, at, delivery_id),
    )


def delivery_counts(conn: Connection) -> dict[str, int]:
    """Notifications by status (pending, delivered, failed)."""
    return {str(s): int(n) for s, n in conn.execute("SELECT status, count(*) FROM alert_deliveries GROUP BY status")}


@dataclass(frozen=True)
class AttemptRow:
    """One logged attempt: delivery, alert, transition, attempt number, time, HTTP status, error."""

    delivery_id: str
    alert_id: str
    transition: str
    attempt: int
    at: int
    status_code: int | None
    error: str | None


def attempts(conn: Connection, alert_id: str | None, limit: int) -> list[AttemptRow]:
    """The delivery log, newest first (one alert's, or every alert's)."""
    where, args = (" WHERE d.alert_id = ?", [alert_id]) if alert_id else ("", [])
    return [AttemptRow(*r) for r in conn.execute(
        "SELECT a.delivery_id, d.alert_id, d.transition, a.attempt, a.at, a.status_code, a.error"
        f" FROM alert_delivery_attempts a JOIN alert_deliveries d ON d.id = a.delivery_id{where}"
        " ORDER BY a.at DESC, a.attempt DESC LIMIT ?", [*args, limit])]
