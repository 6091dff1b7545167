"""CODEOWNERS: which touched paths have an owner, and whether an owner took part in the change.

- The file GitHub reads: ``.github/CODEOWNERS``, else ``CODEOWNERS`` at the root, else ``docs/CODEOWNERS``.
- Rules are read as GitHub does: one ``pattern owner…`` per line, ``#`` comments; the **last** matching rule
  wins (a rule with no owners un-owns its paths). Patterns follow gitignore: a leading ``/`` or a ``/`` inside
  anchors to the root, otherwise the pattern matches at any depth; a trailing ``/`` or a directory name covers
  everything below; ``*`` does not cross ``/``, ``**`` does, ``?`` is one character.
- ``owner_coverage``: share (0–1) of the change's touched paths that have an owner.
- ``owner_involved``: 1 when an owner of any touched path authored or co-authored the change (a
  ``Co-authored-by:`` trailer), else 0. An owner matches a person by email literally, by ``@login`` against the
  login in a GitHub no-reply address (``123+login@users.noreply.github.com``) or the email's local part or
  the author name, or through the teams configuration (``[people.<id>] emails/logins``, ``[teams.<name>]
  people`` for ``@org/team`` owners) when one is given.
- Over history (`Timeline`) the CODEOWNERS in force for a change is the last version committed before it,
  so the features have no look-ahead (its versions are read from git by `engmetrics.areas.risk.codeowners_history`).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
_CO_AUTHOR = re.compile(r"(?im)^\s*co-authored-by\s*:\s*(.*?)\s*<([^>]+)>\s*$")
_NOREPLY = re.compile(r"^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$", re.I)


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if body.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        i += 1
    prefix = "^" if anchored else "^(?:.*/)?"
    return re.compile(prefix + "".join(out) + "(?:/.*)?$")


@dataclass(frozen=True)
class Rules:
    """Parsed CODEOWNERS rules, in file order."""

    rules: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def parse(cls, text: str) -> Rules:
        """Rules of a CODEOWNERS file's text."""
        rules = []
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("\\#") else line.strip()
            if not line:
                continue
            parts = line.split()
            rules.append((parts[0], tuple(p for p in parts[1:])))
        return cls(tuple(rules))

    def owners(self, path: str) -> tuple[str, ...]:
        """The owners of ``path`` (last matching rule; empty when none)."""
        for pattern, owners in reversed(self.rules):
            if _compile(pattern).match(path):
                return owners
        return ()


@dataclass
class People:
    """Identity lookups from the teams configuration: person → identities, team → people."""

    identities: dict[str, set[str]] = field(default_factory=dict)
    teams: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, teams: Mapping[str, object] | None, people: Mapping[str, object] | None) -> People:
        """From ``Settings.teams``/``Settings.people`` (``emails``, ``logins``; team ``people``/``members``)."""
        out = cls()
        for pid, spec in (people or {}).items():
            ids = {pid.lower()}
            if isinstance(spec, Mapping):
                for key in ("emails", "logins", "email", "login"):
                    value = spec.get(key)
                    for v in [value] if isinstance(value, str) else (value or []):
                        ids.add(str(v).lower().lstrip("@"))
            out.identities[pid.lower()] = ids
        for name, spec in (teams or {}).items():
            if isinstance(spec, Mapping):
                members = spec.get("people") or spec.get("members") or []
                out.teams[name.lower()] = {str(m).lower().lstrip("@") for m in members}
        return out


def identities_of(email: str, name: str = "") -> set[str]:
    """Strings an owner entry may name one person by: email, login (no-reply address, local part), name."""
    email = email.lower()
    ids = {email}
    local = email.partition("@")[0]
    m = _NOREPLY.match(email)
    ids.add(m.group(1) if m else local)
    if name:
        ids.add(name.lower())
    return ids


def participants(author_email: str, author_name: str, message: str) -> set[str]:
    """Identities of the author and every ``Co-authored-by:`` in ``message``."""
    ids = identities_of(author_email, author_name)
    for name, email in _CO_AUTHOR.findall(message):
        ids |= identities_of(email, name)
    return ids


def owner_matches(owner: str, ids: set[str], people: People | None = None) -> bool:
    """Whether the CODEOWNERS entry ``owner`` (``@login``, ``@org/team`` or an email) names one of ``ids``."""
    o = owner.lower()
    if "@" in o and not o.startswith("@"):
        return o in ids
    o = o.lstrip("@")
    if "/" in o:
        if people is None:
            return False
        members = people.teams.get(o.partition("/")[2]) or people.teams.get(o) or set()
        return any(ids & people.identities.get(m, {m}) for m in members)
    if o in ids:
        return True
    if people is not None:
        return any(o in pid and ids & pid for pid in people.identities.values())
    return False


def signals(rules: Rules | None, paths: Iterable[str], ids: set[str], people: People | None = None) -> tuple[float, float]:
    """(owner_coverage, owner_involved) of a change touching ``paths`` made by ``ids``; (0, 0) with no rules."""
    paths = list(paths)
    if rules is None or not rules.rules or not paths:
        return 0.0, 0.0
    owned = 0
    involved = False
    for p in paths:
        owners = rules.owners(p)
        if owners:
            owned += 1
            if not involved and any(owner_matches(o, ids, people) for o in owners):
                involved = True
    return owned / len(paths), 1.0 if involved else 0.0


@dataclass
class Timeline:
    """CODEOWNERS versions over history: (commit time, text), oldest first; text "" when it was removed."""

    versions: list[tuple[int, str]] = field(default_factory=list)

    def at(self, time: int) -> Rules | None:
        """The rules in force for a change at ``time`` (the last version committed strictly before it)."""
        i = bisect.bisect_left([t for t, _ in self.versions], time)
        return _parsed(self.versions[i - 1][1]) if i else None


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> Rules | None:
    return Rules.parse(text) if text else None
