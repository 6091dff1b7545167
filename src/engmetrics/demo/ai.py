"""The demo's AI-assisted code: AI co-author trailers on commits of the last months (each person their own habit,
adoption ramping up), and Cursor's AI code tracking data for the people who use Cursor — the commits file in the
shape of Cursor's API pages and the accepted changes — written after the history (times in Unix seconds).

Deterministic: every choice comes from generators seeded by the repository and the history's own random state,
never by drawing from the history's generator (its commits stay what they were, but for the trailers).
"""

from __future__ import annotations

import hashlib
import random
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engmetrics.demo.clock import DAY
from engmetrics.demo.git_writer import git_env
from engmetrics.demo.people import AISHA, DANIEL, ELENA, MARCUS, ORG, PRIYA, RAVI, Person

AI_DAYS = 150  # AI assistance starts this many days before the end of the history
RAMP_DAYS = 60  # and reaches each person's full habit after this many days
CLAUDE = "Co-Authored-By: Claude <noreply@anthropic.com>"
CLAUDE_CODE = "🤖 Generated with [Claude Code](https://claude.com/claude-code)"
COPILOT = "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>"


@dataclass(frozen=True)
class Habit:
    """How one person marks AI-assisted commits: how often (at full adoption) and with which lines."""

    share: float
    lines: tuple[str, ...]


TRAILER_HABITS: dict[str, Habit] = {
    PRIYA.email: Habit(0.55, (CLAUDE_CODE, CLAUDE)),
    ELENA.email: Habit(0.45, (CLAUDE,)),
    MARCUS.email: Habit(0.3, (COPILOT,)),
}
"""People who let their AI tool sign its commits."""

CURSOR_USERS: dict[str, float] = {AISHA.email: 0.7, DANIEL.email: 0.5, RAVI.email: 0.6}
"""People who use Cursor (their commits have tracking data), with how much of their code Composer/agent writes."""

MODELS = ("claude-4-sonnet", "gpt-5", "claude-4.5-opus", "gemini-2.5-pro")


def seeded(*parts: object) -> random.Random:
    """A generator seeded by ``parts`` (stable across processes and Python versions)."""
    return random.Random(hashlib.sha256(repr(parts).encode()).hexdigest())


class AiHabits:
    """Adds AI trailers to the messages of one repository's commits (see `TRAILER_HABITS`)."""

    def __init__(self, repo: str, end: int, state: object) -> None:
        self.rng = seeded("ai-trailers", repo, state)
        self.start = end - AI_DAYS * DAY

    def adoption(self, t: int) -> float:
        """0 before AI starts, then rising linearly to 1 over `RAMP_DAYS`."""
        return 0.0 if t < self.start else min(1.0, (t - self.start) / (RAMP_DAYS * DAY))

    def mark(self, message: str, person: Person, t: int) -> str:
        """``message`` with the person's AI trailer when this commit was made with AI (else unchanged)."""
        habit = TRAILER_HABITS.get(person.email)
        if habit is None or t < self.start:
            return message
        if self.rng.random() >= habit.share * self.adoption(t):
            return message
        lines = habit.lines if len(habit.lines) == 1 or self.rng.random() < 0.5 else habit.lines[1:]
        return message.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"


# ---- tracking data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedCommit:
    """A non-merge commit of main as git logs it."""

    sha: str
    email: str
    time: int
    subject: str
    added: int
    deleted: int


def logged_commits(repo: Path, since: int) -> list[LoggedCommit]:
    """The non-merge commits of ``repo``'s main authored at or after ``since``, oldest first, with their lines."""
    text = subprocess.run(
        ["git", "log", "--no-merges", "--reverse", "--numstat", "--format=@@%H%x00%ae%x00%at%x00%s", "main"], cwd=repo, env=git_env(), check=True, capture_output=True, text=True,
    ).stdout
    out: list[LoggedCommit] = []
    for block in text.split("@@")[1:]:
        head, _, rest = block.partition("\n")
        sha, email, at, subject = head.split("\x00")
        added = deleted = 0
        for line in rest.splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
                added += int(parts[0])
                deleted += int(parts[1])
        if int(at) >= since:
            out.append(LoggedCommit(sha, email.lower(), int(at), subject, added, deleted))
    return out


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def tracking_rows(repo_name: str, commits: list[LoggedCommit], end: int, state: object) -> list[dict[str, object]]:
    """Cursor's ``AiCommitMetric`` rows for the Cursor users' commits after AI starts: TAB and COMPOSER lines as
    shares of each commit's added lines (growing with adoption); a third of the hashes abbreviated to 10 digits,
    a quarter of the rows in privacy mode (no message, branch unknown)."""
    rng = seeded("ai-tracking", repo_name, state)
    start = end - AI_DAYS * DAY
    rows: list[dict[str, object]] = []
    for c in commits:
        agent = CURSOR_USERS.get(c.email)
        if agent is None or c.time < start or rng.random() < 0.1:  # a tenth committed outside Cursor
            continue
        ramp = min(1.0, (c.time - start) / (RAMP_DAYS * DAY))
        tab = int(c.added * rng.uniform(0.05, 0.3) * ramp)
        composer = int(c.added * rng.uniform(0.3, 1.0) * agent * ramp) if rng.random() < agent else 0
        composer = min(composer, c.added - tab)
        user = "user_" + hashlib.sha1(c.email.encode()).hexdigest()[:12]
        private = rng.random() < 0.25
        row: dict[str, object] = {
            "commitHash": c.sha[:10] if rng.random() < 0.33 else c.sha,
            "userId": user, "userEmail": c.email, "repoName": f"{ORG}/{repo_name}",
            "branchName": None if private else "main", "isPrimaryBranch": None if private else True,
            "totalLinesAdded": c.added, "totalLinesDeleted": c.deleted,
            "tabLinesAdded": tab, "tabLinesDeleted": 0, "composerLinesAdded": composer,
            "composerLinesDeleted": min(c.deleted, composer // 3),
            "nonAiLinesAdded": max(0, c.added - tab - composer), "nonAiLinesDeleted": max(0, c.deleted - composer // 3),
            "message": None if private else c.subject, "commitTs": _iso(c.time), "createdAt": _iso(c.time + 120),
        }
        rows.append(row)
    for i in range(3):  # commits of branches never pushed: tracking data for commits the store never sees
        email = sorted(CURSOR_USERS)[i % len(CURSOR_USERS)]
        t = end - (i + 2) * DAY
        rows.append({
            "commitHash": hashlib.sha1(f"{repo_name}:unpushed:{i}".encode()).hexdigest(), "userEmail": email,
            "userId": "user_" + hashlib.sha1(email.encode()).hexdigest()[:12], "repoName": f"{ORG}/{repo_name}",
            "branchName": f"wip/spike-{i}", "isPrimaryBranch": False, "totalLinesAdded": 40, "totalLinesDeleted": 0,
            "tabLinesAdded": 5, "tabLinesDeleted": 0, "composerLinesAdded": 30, "composerLinesDeleted": 0,
            "nonAiLinesAdded": 5, "nonAiLinesDeleted": 0, "message": "wip", "commitTs": _iso(t),
            "createdAt": _iso(t + 120),
        })
    return rows


def change_rows(repo_name: str, commits: list[LoggedCommit], end: int, state: object) -> list[dict[str, object]]:
    """Cursor's ``AiCodeChangeMetric`` rows: the accepted TAB completions and COMPOSER diffs behind the Cursor users'
    commits of the last 60 days (file names left out in privacy mode, as Cursor does)."""
    rng = seeded("ai-changes", repo_name, state)
    rows: list[dict[str, object]] = []
    ext = ".ts" if repo_name == "webapp" else ".py"
    for c in commits:
        if c.email not in CURSOR_USERS or c.time < end - 60 * DAY:
            continue
        for k in range(rng.randint(1, 4)):
            source = "TAB" if rng.random() < 0.6 else "COMPOSER"
            lines = rng.randint(1, 6) if source == "TAB" else rng.randint(5, 60)
            private = rng.random() < 0.25
            entry: dict[str, object] = {"fileExtension": ext.lstrip("."), "linesAdded": lines, "linesDeleted": 0}
            if not private:
                entry["fileName"] = f"src/{c.subject.split(':')[0].split('(')[-1].strip(') ')[:12] or 'app'}{ext}"
            rows.append({
                "changeId": hashlib.sha1(f"{repo_name}:{c.sha}:{k}".encode()).hexdigest()[:24],
                "userId": "user_" + hashlib.sha1(c.email.encode()).hexdigest()[:12], "userEmail": c.email,
                "source": source, "model": None if source == "TAB" else rng.choice(MODELS),
                "totalLinesAdded": lines, "totalLinesDeleted": 0, "createdAt": _iso(c.time - 600 * (k + 1)),
                "metadata": [entry],
            })
    return rows
