"""How figures are written in prose, and the check that prose cites only figures from the facts.

Every number in generated text comes from `fmt` (at most 1 decimal, trailing zeros dropped), so the same
figure is always spelt the same way; every count before a noun from `count` ("1 bot", "2 bots", "1 fix"). `numbers_in` extracts numbers from any text (thousands separators
and trailing zeros normalised), and `unsupported_numbers` lists those of a text not found in the facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")
_UNIT_WORDS = {
    "deploys_per_week": "deploys/week",
    "hours": "h",
    "percent": "%",
    "lines": "lines",
    "ratio": "",
    "incidents_per_week_per_service": "incidents/week/service",
    "items_per_week_per_team": "items/week/team",
}
_TWO_DECIMALS = frozenset({"ratio", "incidents_per_week_per_service", "items_per_week_per_team"})
"""Units whose values are small: written with two decimals (0.25, not 0.2)."""


def num(value: float | int) -> str:
    """``value`` with at most one decimal and no trailing zeros: 4.25 → '4.3', 12.0 → '12'."""
    text = f"{float(value):.1f}"
    return text[:-2] if text.endswith(".0") else text


def plural(noun: str) -> str:
    """The plural of an English noun or noun phrase (its last word): fix → fixes, dependency update → …updates,
    entry → entries, change → changes."""
    head, _, last = noun.rpartition(" ")
    lower = last.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        last = last[:-1] + "ies"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def count(n: int | None, noun: str, plural_form: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one: count(1, "bot") → '1 bot', count(2, "fix") → '2 fixes',
    count(0, "deployment") → '0 deployments', count(None, "fix") → 'an unknown number of fixes' (a figure a
    remote provider does not send). ``plural_form`` overrides the English rule of `plural`."""
    if n is None:
        return f"an unknown number of {plural_form or plural(noun)}"
    return f"{n} {noun if n == 1 else (plural_form or plural(noun))}"


def fmt(value: float | int | None, unit: str) -> str:
    """A figure in words: '4.2 deploys/week', '18.5 h', '12.5%', 'n/a' for None. Hours ≥ 48 are also given in days."""
    if value is None:
        return "n/a"
    if unit == "percent":
        return f"{num(value)}%"
    if unit == "hours" and value >= 48:
        return f"{num(value)} h ({num(value / 24)} days)"
    if unit == "lines":
        return f"{num(value)} {'line' if num(value) == '1' else 'lines'}"
    if unit in _TWO_DECIMALS:
        text = f"{float(value):.2f}".rstrip("0").rstrip(".")
        return f"{text} {_UNIT_WORDS[unit]}".rstrip()
    return f"{num(value)} {_UNIT_WORDS.get(unit, unit)}"


def normalise(token: str) -> str:
    """A number token in canonical form: no sign, no separators, no trailing decimal zeros."""
    t = token.lstrip("+-").replace(",", "")
    if "." in t:
        t = t.rstrip("0").rstrip(".")
    return t or "0"


def numbers_in(text: str) -> set[str]:
    """Every number written in ``text``, normalised (dates and ISO weeks contribute their parts)."""
    return {normalise(m.group(0)) for m in _NUMBER.finditer(text)}


def unsupported_numbers(text: str, facts: Iterable[str]) -> list[str]:
    """Numbers in ``text`` that appear nowhere in ``facts`` (texts whose numbers are allowed), sorted."""
    allowed: set[str] = set()
    for fact in facts:
        allowed |= numbers_in(fact)
    return sorted(numbers_in(text) - allowed)
