"""How much of the code AI writes: shares over the non-merge commits authored in a window. Pure; lines are counts,
shares percentages (2 decimals), times Unix seconds.

Per commit (`CommitFacts`): its lines added (git numstat), the AI lines of its tracking data when it has some (TAB
completions and COMPOSER/agent diffs; the lines counted never exceed its lines added: TAB lines first, then
COMPOSER lines), and the AI tool its trailers or markers name (`engmetrics.ai_markers`).

- ``ai_share_of_lines_percent`` = AI lines added (tracking data) ÷ lines added by the commits × 100; null when no
  commit has tracking data (git alone cannot count AI lines) or no line was added.
- ``ai_assisted_commits_percent`` = commits with any AI line (tracking data) or an AI trailer ÷ commits × 100.
- By source: ``tab`` and ``composer`` (commits with such lines; lines ÷ all lines added), and ``trailer_only``
  (commits marked by a trailer with no AI line in tracking data; their lines ÷ all lines added: an upper bound of
  what AI wrote there).
- Adoption: people (bots aside) with an AI-assisted commit ÷ people who committed × 100.
- A commit's AI share: its AI lines ÷ its lines added (1 when it added none but has AI lines); its group ``none``
  (no AI line, no trailer), ``some`` (under 50 %) or ``mostly`` (50 % or more, or trailer-marked).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from engmetrics.trends import r2

Group = Literal["none", "some", "mostly"]
GROUPS: tuple[Group, ...] = ("none", "some", "mostly")
MOSTLY = 0.5
AI_SERIES_METRICS = ("ai_share_of_lines", "ai_assisted_commits", "ai_adoption")
"""The AI metrics `get_metric_series` offers (percent, per bucket over the commits authored in it)."""


@dataclass(frozen=True, slots=True)
class CommitFacts:
    """What the AI figures need of one non-merge commit."""

    repo: str
    sha: str
    person: str  # the author as a person (identities merged), lowercase
    is_bot: bool
    time: int  # author time, Unix seconds
    lines_added: int  # git numstat, binary files 0
    tab_lines: int | None = None  # tracking data; None when the commit has none
    composer_lines: int | None = None
    tool: str | None = None  # the AI tool its trailers or markers name
    teams: tuple[str, ...] = ()

    @property
    def tracked(self) -> bool:
        """Whether the commit has tracking data."""
        return self.tab_lines is not None or self.composer_lines is not None

    @property
    def raw_ai_lines(self) -> int:
        """TAB + COMPOSER lines as the tracking data gives them."""
        return (self.tab_lines or 0) + (self.composer_lines or 0)

    @property
    def tab_counted(self) -> int:
        """TAB lines counted: at most the lines added."""
        return min(self.tab_lines or 0, self.lines_added)

    @property
    def composer_counted(self) -> int:
        """COMPOSER lines counted: at most the lines added left after TAB lines."""
        return min(self.composer_lines or 0, self.lines_added - self.tab_counted)

    @property
    def ai_lines(self) -> int:
        """AI lines counted (TAB + COMPOSER, at most the lines added)."""
        return self.tab_counted + self.composer_counted

    @property
    def ai_assisted(self) -> bool:
        """Any AI line in its tracking data, or an AI trailer."""
        return self.raw_ai_lines > 0 or self.tool is not None

    @property
    def ai_fraction(self) -> float:
        """Its AI share, 0–1 (1 when it added no line but has AI lines)."""
        if self.lines_added > 0:
            return self.ai_lines / self.lines_added
        return 1.0 if self.raw_ai_lines > 0 else 0.0

    @property
    def group(self) -> Group:
        """none / some / mostly (see the module docstring)."""
        if self.tool is not None or self.ai_fraction >= MOSTLY:
            return "mostly"
        return "some" if self.ai_fraction > 0 else "none"


def percent(part: float, whole: float) -> float | None:
    """``part ÷ whole × 100``, 2 decimals; None when ``whole`` is 0."""
    return r2(part / whole * 100.0) if whole else None


@dataclass(frozen=True, slots=True)
class Shares:
    """The share figures of a set of commits."""

    commits: int
    commits_with_tracking_data: int
    lines_added: int
    ai_lines_added: int
    ai_share_of_lines_percent: float | None
    ai_assisted_commits: int
    ai_assisted_commits_percent: float | None


def shares(facts: Sequence[CommitFacts]) -> Shares:
    """The share figures of ``facts`` (see the module docstring)."""
    tracked = sum(1 for f in facts if f.tracked)
    lines = sum(f.lines_added for f in facts)
    ai = sum(f.ai_lines for f in facts)
    assisted = sum(1 for f in facts if f.ai_assisted)
    return Shares(
        commits=len(facts), commits_with_tracking_data=tracked, lines_added=lines, ai_lines_added=ai,
        ai_share_of_lines_percent=percent(ai, lines) if tracked else None,
        ai_assisted_commits=assisted, ai_assisted_commits_percent=percent(assisted, len(facts)),
    )


@dataclass(frozen=True, slots=True)
class SourceFigures:
    """One source of AI code: the commits with it, its lines, their share of all lines and of all commits."""

    source: Literal["tab", "composer", "trailer_only"]
    commits: int
    lines_added: int
    share_of_lines_percent: float | None
    share_of_commits_percent: float | None


def by_source(facts: Sequence[CommitFacts]) -> list[SourceFigures]:
    """TAB, COMPOSER and trailer-only figures (see the module docstring)."""
    lines = sum(f.lines_added for f in facts)
    tab = [f for f in facts if (f.tab_lines or 0) > 0]
    composer = [f for f in facts if (f.composer_lines or 0) > 0]
    trailer = [f for f in facts if f.tool is not None and f.raw_ai_lines == 0]
    parts: list[tuple[Literal["tab", "composer", "trailer_only"], list[CommitFacts], int]] = [
        ("tab", tab, sum(f.tab_counted for f in tab)),
        ("composer", composer, sum(f.composer_counted for f in composer)),
        ("trailer_only", trailer, sum(f.lines_added for f in trailer)),
    ]
    return [SourceFigures(name, len(chosen), counted, percent(counted, lines), percent(len(chosen), len(facts)))
            for name, chosen, counted in parts]


def by_tool(facts: Iterable[CommitFacts]) -> dict[str, int]:
    """Trailer-marked commits per AI tool named, most first."""
    counts: dict[str, int] = {}
    for f in facts:
        if f.tool is not None:
            counts[f.tool] = counts.get(f.tool, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def by_key(facts: Sequence[CommitFacts], key: str) -> dict[str, list[CommitFacts]]:
    """The commits grouped by person (``key='person'``) or by each team they belong to (``key='team'``)."""
    out: dict[str, list[CommitFacts]] = {}
    for f in facts:
        for k in (f.teams if key == "team" else (f.person,)):
            out.setdefault(k, []).append(f)
    return out


@dataclass(frozen=True, slots=True)
class Adoption:
    """People (bots aside) who committed, those with an AI-assisted commit, and their share."""

    people: int
    ai_people: int
    adoption_percent: float | None


def adoption(facts: Iterable[CommitFacts]) -> Adoption:
    """People with AI-assisted commits ÷ people who committed (bots aside), in percent."""
    people: set[str] = set()
    ai: set[str] = set()
    for f in facts:
        if f.is_bot:
            continue
        people.add(f.person)
        if f.ai_assisted:
            ai.add(f.person)
    return Adoption(len(people), len(ai), percent(len(ai), len(people)))


def series_value(metric: str, facts: Sequence[CommitFacts]) -> float | None:
    """One bucket's value of an AI series metric (`AI_SERIES_METRICS`) over the commits authored in it; None for an
    empty bucket (and for the share of lines when no commit in it has tracking data)."""
    if not facts:
        return None
    if metric == "ai_share_of_lines":
        return shares(facts).ai_share_of_lines_percent
    if metric == "ai_assisted_commits":
        return shares(facts).ai_assisted_commits_percent
    if metric == "ai_adoption":
        return adoption(facts).adoption_percent
    raise ValueError(f"not an AI series metric: {metric}")
