"""Turn what a user says about time ("last_30_days", "7d", "2025-02-01".."now") into a UTC window.

A `Window` is half-open, ``[start, end)``, in UTC. Explicit ``to`` values are inclusive: a date
``to=2025-02-15`` covers that whole day, a time covers that second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from engmetrics.errors import InvalidInput

NAMED_PERIODS = (
    "last_7_days",
    "last_14_days",
    "last_30_days",
    "last_90_days",
    "7d",
    "14d",
    "30d",
    "90d",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "ytd",
)
DEFAULT_PERIOD = "last_30_days"
_RELATIVE = re.compile(r"^(?:last_)?(\d{1,4})(?:d|_days?)$")
_RELATIVE_WEEKS = re.compile(r"^(?:last_)?(\d{1,3})(?:w|_weeks?)$")
ACCEPTED_HELP = (
    "Accepted periods: " + ", ".join(NAMED_PERIODS) + ", any 'Nd' or 'last_N_days' (N days up to now), 'Nw'; "
    "or explicit from/to as ISO dates or times in UTC (e.g. from='2025-02-01', to='2025-02-15'), "
    "a relative '7d' (7 days ago) or the literal 'now'."
)


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open UTC interval ``[start, end)`` with the words that named it."""

    start: datetime
    end: datetime
    label: str

    @property
    def start_ts(self) -> int:
        """Start as Unix seconds."""
        return int(self.start.timestamp())

    @property
    def end_ts(self) -> int:
        """End (exclusive) as Unix seconds."""
        return int(self.end.timestamp())

    @property
    def days(self) -> float:
        """Length in days."""
        return (self.end - self.start).total_seconds() / 86400.0

    @property
    def weeks(self) -> float:
        """Length in weeks."""
        return self.days / 7.0

    def previous(self) -> Window:
        """The window of equal length that ends where this one starts."""
        length = self.end - self.start
        return Window(self.start - length, self.start, f"previous {self.label}")

    def contains(self, ts: int) -> bool:
        """Whether Unix time ``ts`` lies in the window."""
        return self.start_ts <= ts < self.end_ts


def utcnow() -> datetime:
    """The current time, UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + (d.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def named_window(period: str, now: datetime | None = None) -> Window:
    """Resolve a named or relative period ending now (or at the calendar boundary it names)."""
    now = now or utcnow()
    p = period.strip().lower()
    today = now.date()
    if m := _RELATIVE.match(p):
        days = int(m.group(1))
        if days <= 0:
            raise InvalidInput(f"period {period!r} must cover at least one day. {ACCEPTED_HELP}", param="period")
        return Window(now - timedelta(days=days), now, p)
    if m := _RELATIVE_WEEKS.match(p):
        weeks = int(m.group(1))
        if weeks <= 0:
            raise InvalidInput(f"period {period!r} must cover at least one week. {ACCEPTED_HELP}", param="period")
        return Window(now - timedelta(weeks=weeks), now, p)
    if p == "this_week":
        start = _day_start(today - timedelta(days=today.weekday()))
        return Window(start, now, p)
    if p == "last_week":
        end = _day_start(today - timedelta(days=today.weekday()))
        return Window(end - timedelta(days=7), end, p)
    if p == "this_month":
        return Window(_day_start(today.replace(day=1)), now, p)
    if p == "last_month":
        first = today.replace(day=1)
        return Window(_day_start(_add_months(first, -1)), _day_start(first), p)
    if p == "this_quarter":
        return Window(_day_start(_quarter_start(today)), now, p)
    if p == "last_quarter":
        quarter = _quarter_start(today)
        return Window(_day_start(_add_months(quarter, -3)), _day_start(quarter), p)
    if p in ("ytd", "this_year"):
        return Window(_day_start(date(today.year, 1, 1)), now, p)
    raise InvalidInput(f"Unknown period {period!r}. {ACCEPTED_HELP}", param="period")


def parse_instant(value: str, *, now: datetime | None = None, end_of_day: bool = False, param: str = "from") -> datetime:
    """Parse an ISO date/time, a relative 'Nd' (N days ago) or 'now' into a UTC datetime.

    With ``end_of_day``, a bare date means the start of the next day (an inclusive ``to``),
    and a time means one second after it.
    """
    now = now or utcnow()
    v = value.strip()
    if not v:
        raise InvalidInput(f"{param} is empty. {ACCEPTED_HELP}", param=param)
    if v.lower() == "now":
        return now
    if m := re.fullmatch(r"(\d{1,4})([dhw])", v.lower()):
        n = int(m.group(1))
        unit = {"d": timedelta(days=1), "h": timedelta(hours=1), "w": timedelta(weeks=1)}[m.group(2)]
        return now - n * unit
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        try:
            d = date.fromisoformat(v)
        except ValueError as exc:
            raise InvalidInput(f"{param}={value!r} is not a valid date: {exc}. {ACCEPTED_HELP}", param=param) from None
        start = _day_start(d)
        return start + timedelta(days=1) if end_of_day else start
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{param}={value!r} is not an ISO date or time. {ACCEPTED_HELP}", param=param) from None
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt + timedelta(seconds=1) if end_of_day else dt


def resolve_window(
    period: str | None = None,
    from_: str | None = None,
    to: str | None = None,
    *,
    now: datetime | None = None,
    default: str = DEFAULT_PERIOD,
) -> Window:
    """Resolve ``period`` or explicit ``from``/``to`` (not both) into a `Window`.

    With only ``from``, the window runs to now; with only ``to``, it covers the 30 days before ``to``.
    """
    now = now or utcnow()
    if period and (from_ or to):
        raise InvalidInput("Give either period or from/to, not both.", param="period")
    if from_ or to:
        end = parse_instant(to, now=now, end_of_day=True, param="to") if to else now
        start = parse_instant(from_, now=now, param="from") if from_ else end - timedelta(days=30)
        if start >= end:
            # Echo what was sent (an inclusive `to` date is held internally as the next midnight).
            sent_to = f"to={to!r}" if to else "now (no `to` given)"
            sent_from = f"from={from_!r}" if from_ else f"from (30 days before to, {start.date().isoformat()})"
            raise InvalidInput(
                f"{sent_from} is not before {sent_to}: the window must start before it ends (both are UTC; a `to` "
                f"date is inclusive, so from='2025-02-01', to='2025-02-01' covers that one day). "
                f"Swap them, or send a later `to`.",
                param="from",
            )
        label = f"{(from_ or start.date().isoformat())}..{(to or 'now')}"
        return Window(start, end, label)
    return named_window(period or default, now)


def iso(ts: int | float | None) -> str | None:
    """Unix seconds → ISO 8601 UTC string with a 'Z' (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_ts(value: str | datetime) -> int:
    """ISO 8601 string or datetime → Unix seconds (naive means UTC)."""
    if isinstance(value, str):
        value = parse_instant(value, param="time")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


@dataclass(frozen=True, slots=True)
class Bucket:
    """One series bucket: label and ``[start_ts, end_ts)`` in Unix seconds."""

    label: str
    start_ts: int
    end_ts: int

    @property
    def window(self) -> Window:
        """The bucket as a `Window`."""
        return Window(datetime.fromtimestamp(self.start_ts, UTC), datetime.fromtimestamp(self.end_ts, UTC), self.label)


def buckets(window: Window, granularity: str = "weekly") -> list[Bucket]:
    """UTC-day, ISO-week or calendar-month buckets covering ``window`` (first aligned down, last clipped to its
    end); ``granularity`` is 'daily' (label '2026-03-14'), 'weekly' ('2026-W11') or 'monthly' ('2026-03')."""
    start = window.start.astimezone(UTC)
    day = start.date()
    out: list[Bucket] = []
    if granularity == "daily":
        cur = datetime(day.year, day.month, day.day, tzinfo=UTC)
        while cur < window.end:
            nxt = cur + timedelta(days=1)
            out.append(Bucket(cur.date().isoformat(), int(cur.timestamp()), int(min(nxt, window.end).timestamp())))
            cur = nxt
    elif granularity == "weekly":
        cur = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=day.weekday())
        while cur < window.end:
            nxt = cur + timedelta(days=7)
            y, w, _ = cur.isocalendar()
            out.append(Bucket(f"{y}-W{w:02d}", int(cur.timestamp()), int(min(nxt, window.end).timestamp())))
            cur = nxt
    else:
        cur = datetime(day.year, day.month, 1, tzinfo=UTC)
        while cur < window.end:
            nxt = datetime(cur.year + (cur.month == 12), cur.month % 12 + 1, 1, tzinfo=UTC)
            out.append(Bucket(f"{cur.year}-{cur.month:02d}", int(cur.timestamp()), int(min(nxt, window.end).timestamp())))
            cur = nxt
    return out
