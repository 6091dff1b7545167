"""Every SQL statement of the alerts area: alert definitions and their state, webhook deliveries (one per action
per transition) and the delivery log (one row per attempt). Times are Unix seconds (UTC).

Processes sharing a store never act twice on what one of them read: an evaluation writes its transition only while
the alert is still in the state it read (`record_evaluation`), and a delivery is sent only by the process that claimed
it while it was still as `due` read it (`claim`), which alone records its attempt (`record_attempt`)."""

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
    """A queued notification: its alert, transition, URL, JSON body, status, attempts so far, next attempt time, and
    the lease of the process sending it now (None: no process claims it)."""

    id: str
    alert_id: str
    transition: str
    url: str
    payload: str
    status: str
    attempts: int
    next_attempt_at: int
    claim_until: int | None


_DELIVERY_COLUMNS = "id, alert_id, transition, url, payload, status, attempts, next_attempt_at, claim_until"
_UNCLAIMED = "(claim_until IS NULL OR claim_until < ?)"
"""No process holds the delivery: never claimed, released, or its claimant's lease ran out before the time given."""


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
    """Pending notifications whose next attempt is due and that no process holds (unclaimed, or the claim's lease ran
    out before ``now``), oldest first."""
    return [DeliveryRow(*r) for r in conn.execute(
        f"SELECT {_DELIVERY_COLUMNS} FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= ?"
        f" AND {_UNCLAIMED} ORDER BY created_at, id", (now, now))]


def pending(conn: Connection) -> list[DeliveryRow]:
    """Every pending notification (due or not, claimed or not), oldest first."""
    return [DeliveryRow(*r) for r in conn.execute(
        f"SELECT {_DELIVERY_COLUMNS} FROM alert_deliveries WHERE status = 'pending' ORDER BY created_at, id")]


def claim(conn: Connection, d: DeliveryRow, claimant: str, now: int, lease_until: int) -> bool:
    """Make delivery ``d`` ``claimant``'s to send, until ``lease_until`` — only while it is still as `due` read it:
    pending, with the same attempts, held by no process (unclaimed, or the claim's lease ran out before ``now``).
    False (nothing written) when another process claimed it or recorded an attempt meanwhile: that one sends it.

    Two processes claiming at once: on PostgreSQL the second waits for the first's row lock, then checks the
    condition again on the row the first wrote and finds it claimed; SQLite runs write transactions one at a time."""
    cur = conn.execute(
        "UPDATE alert_deliveries SET claimed_by = ?, claim_until = ?"
        f" WHERE id = ? AND status = 'pending' AND attempts = ? AND {_UNCLAIMED}",
        (claimant, lease_until, d.id, d.attempts, now),
    )
    return cur.rowcount > 0


def record_attempt(conn: Connection, delivery_id: str, claimant: str, attempt: int, at: int, status_code: int | None,
                   error: str | None, outcome: str, next_attempt_at: int) -> bool:
    """Log attempt ``attempt`` of the delivery ``claimant`` claimed, move it on — delivered, failed (given up) or
    pending (retry at ``next_attempt_at``) — and release the claim. False (nothing written) when it is no longer
    ``claimant``'s: its lease ran out and another process claimed it, or its alert was deleted."""
    cur = conn.execute(
        "UPDATE alert_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, claimed_by = NULL,"
        " claim_until = NULL, delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END"
        " WHERE id = ? AND claimed_by = ? AND attempts = ? AND status = 'pending'",
        (outcome, attempt, next_attempt_at, outcome, at, delivery_id, claimant, attempt - 1),
    )
    if cur.rowcount == 0:
        return False
    conn.execute(
        "INSERT INTO alert_delivery_attempts (delivery_id, attempt, at, status_code, error) VALUES (?, ?, ?, ?, ?)",
        (delivery_id, attempt, at, status_code, error),
    )
    return True


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
