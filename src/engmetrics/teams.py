"""Teams and people from ``engmetrics.toml``.

```toml
[teams.platform]
repos = ["api", "infra"]          # repository names (see list_repositories)
people = ["ada", "grace"]         # person ids (below), emails or GitHub logins

[people.ada]
emails = ["ada@example.com", "ada@users.noreply.github.com"]
logins = ["ada-l"]
```

A **person** is one human with several identities (emails, GitHub logins); an identity not listed under
``[people]`` is a person of its own. A **team** is a set of repositories and/or people. Its pull requests
are those in its repositories (when it lists repos) authored by its people (when it lists people): both
conditions apply when both are given. Its repositories, for repository-scoped figures such as DORA, are
its listed repos, else every repository its people committed to (`engmetrics.store.repos.team_repo_ids`). A person in two teams counts once in
each team and once overall (identities are merged into the person before counting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engmetrics.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Person:
    """One human: an id and every identity (lowercase emails and logins)."""

    id: str
    emails: frozenset[str]
    logins: frozenset[str]

    @property
    def identities(self) -> frozenset[str]:
        """Emails and logins, lowercase."""
        return self.emails | self.logins


@dataclass(frozen=True)
class Team:
    """A team: repository names and person ids (both possibly empty, never both)."""

    name: str
    repos: tuple[str, ...]
    people: tuple[str, ...]


@dataclass
class Directory:
    """People and teams as configured, with identity resolution."""

    people: dict[str, Person] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    _by_identity: dict[str, str] = field(default_factory=dict)

    def person_of(self, identity: str | None) -> str | None:
        """The person id an email or login belongs to (the identity itself, lowercase, when unlisted)."""
        if not identity:
            return None
        key = identity.strip().lower()
        return self._by_identity.get(key, key)

    def team(self, name: str) -> Team:
        """The team called ``name`` (case-insensitive); `NotFound` listing the configured ones."""
        found = self.teams.get(name) or next((t for n, t in self.teams.items() if n.lower() == name.strip().lower()), None)
        if found is None:
            known = ", ".join(sorted(self.teams)) or "none are configured"
            raise NotFound(
                f"Unknown team {name!r} (teams: {known}). Define it in engmetrics.toml as [teams.{name}] with "
                "repos = [...] and/or people = [...], or call list_teams.",
                param="team",
            )
        return found

    def members(self, team: Team) -> set[str]:
        """Person ids of a team's people."""
        return {self.person_of(p) or p for p in team.people}


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidInput(f"{where} must be a list of non-empty strings in engmetrics.toml, e.g. [\"a\", \"b\"].")
    return [v.strip() for v in value]


def load_directory(teams: dict[str, Any], people: dict[str, Any]) -> Directory:
    """Parse the ``[teams.*]`` and ``[people.*]`` tables; `InvalidInput` naming the bad entry."""
    d = Directory()
    for pid, spec in (people or {}).items():
        if not isinstance(spec, dict):
            raise InvalidInput(f"[people.{pid}] must be a table with emails = [...] and/or logins = [...].")
        emails = frozenset(e.lower() for e in _strings(spec.get("emails"), f"people.{pid}.emails"))
        logins = frozenset(e.lower() for e in _strings(spec.get("logins"), f"people.{pid}.logins"))
        person = Person(pid.strip().lower(), emails, logins)
        d.people[person.id] = person
        d._by_identity[person.id] = person.id
        for ident in person.identities:
            d._by_identity[ident] = person.id
    for name, spec in (teams or {}).items():
        if not isinstance(spec, dict):
            raise InvalidInput(f"[teams.{name}] must be a table with repos = [...] and/or people = [...].")
        repos = tuple(_strings(spec.get("repos"), f"teams.{name}.repos"))
        members = tuple(p.lower() for p in _strings(spec.get("people") or spec.get("members"), f"teams.{name}.people"))
        if not repos and not members:
            raise InvalidInput(f"[teams.{name}] lists neither repos nor people; add repos = [...] or people = [...].")
        d.teams[name] = Team(name, repos, members)
    return d


def identities_of(d: Directory, members: set[str]) -> set[str]:
    """Every identity (lowercase) of the member person ids."""
    out = set(members)
    for pid in members:
        person = d.people.get(pid)
        if person is not None:
            out |= person.identities
    return out


def team_identities(d: Directory, team: str | None) -> set[str] | None:
    """Lowercase emails/logins whose PRs belong to ``team``; None when the team (or no team) has no people filter."""
    if not team:
        return None
    t = d.team(team)
    if not t.people:
        return None
    return identities_of(d, d.members(t))
