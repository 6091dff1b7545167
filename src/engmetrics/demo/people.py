"""The demo's organisation and its people: names, e-mails, time zones, commit-message styles and how much
each one commits, and the git identity lines (``Name <email> <unix seconds> ±HHMM``) written for them."""

from __future__ import annotations

from dataclasses import dataclass

ORG = "acme"  # the GitHub organisation (merge messages, CODEOWNERS teams)


@dataclass(frozen=True)
class Person:
    """Someone who commits, tags or merges."""

    name: str
    email: str
    tz_minutes: int  # fixed UTC offset of the person's working hours, in minutes
    style: str  # commit subjects: "conventional" | "gitmoji" | "plain" | "mixed" (or "bot")
    weight: float = 1.0  # relative share of the commits among the people active at a time
    active: tuple[float, float] = (0.0, 1.0)  # share of the repository's timeline the person works in
    alt_email: str | None = None  # a second address (personal) used now and then


PRIYA = Person("Priya Raman", "priya.raman@acme.io", 0, "conventional", 1.4,
               alt_email="priya.raman.dev@gmail.com")
MARCUS = Person("Marcus Chen", "marcus.chen@acme.io", -480, "mixed", 1.2)
SOFIA = Person("Sofía Álvarez", "sofia.alvarez@acme.io", 60, "gitmoji", 1.0)
JONAS = Person("Jonas Weber", "jonas.weber@acme.io", 60, "plain", 0.9, active=(0.0, 0.82))
AISHA = Person("Aisha Okafor", "aisha.okafor@acme.io", 0, "conventional", 1.0, active=(0.12, 1.0))
DANIEL = Person("Daniel Kim", "daniel.kim@acme.io", -300, "conventional", 0.9, active=(0.35, 1.0))
ELENA = Person("Elena Petrova", "elena.petrova@acme.io", 120, "conventional", 1.3)
RAVI = Person("Ravi Patel", "ravi.patel@acme.io", 330, "mixed", 1.0, active=(0.08, 1.0))
DEPENDABOT = Person("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", 0, "bot", 0.0)
GITHUB = Person("GitHub", "noreply@github.com", 0, "bot", 0.0)


def ident(person: Person, ts: int, *, alt: bool = False) -> str:
    """The git identity of ``person`` at ``ts`` (Unix seconds), in the person's UTC offset; ``alt`` picks
    the second e-mail address when the person has one."""
    email = person.alt_email if alt and person.alt_email else person.email
    off = person.tz_minutes
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    return f"{person.name} <{email}> {ts} {sign}{off // 60:02d}{off % 60:02d}"
