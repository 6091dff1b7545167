"""The webapp repository's two years: ordinary changes and pull requests, dependabot bumps, annotated
release and pre-release tags, two reverted changes shipped and reverted in the next release, a bug shipped
in v2.4.0 and the hotfix release v2.4.1 made of two ``fix:`` commits (times in Unix seconds)."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from pathlib import Path

from engmetrics.demo.clock import DAY, HOUR
from engmetrics.demo.contents import NOUNS
from engmetrics.demo.git_writer import Changes, FastImport
from engmetrics.demo.history import BuiltRepo, History
from engmetrics.demo.people import AISHA, DANIEL, GITHUB, MARCUS, PRIYA, SOFIA, Person, ident
from engmetrics.demo.png import random_png
from engmetrics.demo.profiles import WEBAPP
from engmetrics.demo.releases import Release, plan_releases
from engmetrics.demo.tree import put_lines


@dataclass(frozen=True)
class Tag:
    """An annotated tag written: its name, the commit's mark, the tagger's time, whether a pre-release."""

    name: str
    mark: int
    time: int
    prerelease: bool


@dataclass(frozen=True)
class Revert:
    """A change on main (``reverted``, a mark) and the commit reverting it (``revert``)."""

    reverted: int
    revert: int
    reverted_subject: str


@dataclass(frozen=True)
class BuiltWebapp(BuiltRepo):
    """The webapp's history with its tags, releases, the commit that shipped the hotfixed bug, and reverts."""

    tags: list[Tag]
    releases: list[Release]
    bug: int  # mark of the change v2.4.1 fixes
    reverts: list[Revert]


# ------------------------------------------------------------------------ what happens, in time order


@dataclass(frozen=True)
class _TagDue:
    name: str
    release: Release | None  # None: a pre-release tag


@dataclass(frozen=True)
class _HotfixFixDue:
    pass


@dataclass(frozen=True)
class _BugDue:
    pass


@dataclass(frozen=True)
class _RevertTargetDue:
    release_index: int  # the change lands before this release and is reverted before the next


@dataclass(frozen=True)
class _RevertDue:
    mark: int
    before: Changes  # the touched paths' contents before the change (None: the path did not exist)
    subject: str
    author: Person


@dataclass(frozen=True)
class _BumpDue:
    pass


@dataclass(frozen=True)
class _ChangeDue:
    person: Person


_Event = _TagDue | _HotfixFixDue | _BugDue | _RevertTargetDue | _RevertDue | _BumpDue | _ChangeDue


def build_webapp(repo: Path, rng: random.Random, start: int, end: int) -> BuiltWebapp:
    """Write the webapp's history from ``start`` to ``end`` into the empty repository ``repo``."""
    with FastImport(repo) as fi:
        return _Simulation(fi, rng, start, end).run()


class _Simulation:
    """The webapp's events (planned releases and tags, the hotfix, reverts, bumps, changes) played in time
    order onto one `History`."""

    def __init__(self, fi: FastImport, rng: random.Random, start: int, end: int):
        self.fi = fi
        self.rng = rng
        self.start = start
        self.end = end
        self.h = History(WEBAPP, rng, start, end, fi)
        self.releases = plan_releases(rng, start, end)
        self.events: list[tuple[int, int, _Event]] = []  # a heap of (time, sequence, event)
        self.seq = 0
        self.tags: list[Tag] = []
        self.bug: int | None = None
        self.hotfix_fixes: list[int] = []
        self.reverts: list[Revert] = []
        self.logo_updated = False
        self.last_release_mark: int | None = None

    def push(self, t: int, event: _Event) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, self.seq, event))

    def run(self) -> BuiltWebapp:
        h, rng, start, end, releases = self.h, self.rng, self.start, self.end, self.releases
        hot = next(i for i, r in enumerate(releases) if r.hotfix)
        hot_window = (releases[hot - 1].time, releases[hot].time)
        bug_t = hot_window[0] - int(rng.uniform(1.0, 2.5) * DAY)
        n = len(releases)
        revert_idx = [i for i in (round(0.3 * n), round(0.83 * n)) if abs(i - hot) > 2 and i + 1 < n]

        for rel in releases:
            self.push(rel.time, _TagDue(rel.version, rel))
            for name, rt in rel.rc:
                self.push(rt, _TagDue(name, None))
        fixes = sorted(int(hot_window[0] + (hot_window[1] - hot_window[0]) * x) for x in (0.3, 0.72))
        for ft in fixes:
            self.push(ft, _HotfixFixDue())
        self.push(bug_t, _BugDue())
        for i in revert_idx:
            lo, hi = releases[i - 1].time, releases[i].time
            self.push(lo + int((hi - lo) * rng.uniform(0.5, 0.8)), _RevertTargetDue(i))
        for t, person in h.time.change_times([(hot_window[0] - 3600, hot_window[1] + 600)], per_change=1.42):
            self.push(t, _ChangeDue(person))
        bump_t = start + 30 * DAY
        while bump_t < end - 3 * DAY:
            if not (hot_window[0] - DAY <= bump_t <= hot_window[1] + 600):
                self.push(bump_t, _BumpDue())
            bump_t += int(rng.uniform(14, 28) * DAY)

        h.commit_main(start + HOUR, ident(PRIYA, start + HOUR), ident(PRIYA, start + HOUR),
                      "Initial commit\n", h.tree.initial_tree())
        while self.events:
            t, _, event = heapq.heappop(self.events)
            match event:
                case _TagDue():
                    self.tag(t, event)
                case _HotfixFixDue():
                    self.hotfix_fix(t)
                case _BugDue():
                    self.ship_bug(t)
                case _RevertTargetDue():
                    self.revertible_change(t, event)
                case _RevertDue():
                    self.revert(t, event)
                case _BumpDue():
                    h.merge_pr(t, bot_bump=True)
                case _ChangeDue():
                    self.change(t, event.person)
        built = h.finish()
        if self.bug is None:
            raise RuntimeError("the webapp's timeline has no room for the bug v2.4.1 fixes")
        return BuiltWebapp(built.history, built.marks, self.tags, releases, self.bug, self.reverts)

    def tag(self, t: int, due: _TagDue) -> None:
        """An annotated release tag (notes: the subjects since the previous release) or pre-release tag."""
        h, rng, rel, name = self.h, self.rng, due.release, due.name
        tip = h.main[-1]
        tagger = (PRIYA if rng.random() < 0.6 or h.time.frac(t) > 0.82
                  else AISHA if h.time.frac(t) > 0.12 else MARCUS)
        tt = t + rng.randint(60, 900)
        if rel:
            notes = [s.subject for s in h.main if self.last_release_mark is None or s.mark > self.last_release_mark]
            self.last_release_mark = tip.mark
            body = "\n".join(f"- {s}" for s in notes[-12:])
            msg = f"Release {name}\n\n{body}\n" if body else f"Release {name}\n"
        else:
            msg = f"Pre-release {name}\n"
        self.fi.tag(name, tip.mark, ident(tagger, tt), msg)
        self.tags.append(Tag(name, tip.mark, tt, rel is None))

    def hotfix_fix(self, t: int) -> None:
        """One of the two squash-merged fixes between v2.4.0 and v2.4.1."""
        h, rng = self.h, self.rng
        person = PRIYA if len(self.hotfix_fixes) == 0 else DANIEL
        scope = "payments" if person is PRIYA else "ui"
        subj = ("fix(payments): handle null currency in cart totals" if person is PRIYA
                else "fix(ui): restore cart badge count after refresh")
        changes = h.tree.content_change("fix", scope, t, {}, set())
        at = t - int(rng.uniform(0.3, 1.5) * HOUR)  # squash-merged: written shortly before the merge
        mark = h.commit_main(t, h.time.author_of(person, at), ident(GITHUB, t), subj + f" (#{h.next_pr()})\n",
                             changes)
        self.hotfix_fixes.append(mark)

    def ship_bug(self, t: int) -> None:
        """The change shipped in v2.4.0 whose bug v2.4.1 fixes."""
        h = self.h
        changes = h.tree.content_change("feat", "payments", t, {}, set())
        message = f"feat(payments): multi-currency totals in cart (#{h.next_pr()})\n"
        self.bug = h.direct(t, person=MARCUS, message=message, changes=changes, squash=False)

    def revertible_change(self, t: int, due: _RevertTargetDue) -> None:
        """A change that will be reverted after the next release; its files are locked until then."""
        h, rng = self.h, self.rng
        person = h.time.pick_author(t)
        noun = rng.choice(NOUNS)
        path = f"src/ui/{noun[0].lower() + noun[1:]}CheckoutFlow.tsx"
        before: Changes = {}
        ch: Changes = {}
        put_lines(ch, path, h.text.source_file(path))
        existing = rng.choice([p for p in h.tree.lines if p.startswith("src/ui/") and p not in h.tree.locked])
        before[existing] = h.tree.files[existing]
        before[path] = None
        put_lines(ch, existing, h.text.edit(h.tree.lines[existing]))
        subject = ("feat(ui): new one-page checkout flow" if not self.reverts
                   else "feat(ui): inline address autocomplete in checkout")
        mark = h.direct(t, person=person, message=subject + "\n", changes=ch, squash=False)
        h.tree.locked.update(before)
        i = due.release_index
        lo, hi = self.releases[i].time, self.releases[i + 1].time
        self.push(lo + int((hi - lo) * rng.uniform(0.2, 0.5)), _RevertDue(mark, before, subject, person))

    def revert(self, t: int, due: _RevertDue) -> None:
        """git's standard revert of a change, by someone else."""
        h = self.h
        person = h.time.pick_author(t, exclude=due.author)
        sha = self.fi.sha(due.mark)
        msg = f'Revert "{due.subject}"\n\nThis reverts commit {sha}.\n'
        rmark = h.direct(t, person=person, message=msg, changes=dict(due.before), squash=False)
        h.tree.locked.difference_update(due.before)
        self.reverts.append(Revert(due.mark, rmark, due.subject))

    def change(self, t: int, person: Person) -> None:
        """An ordinary change: the logo refresh once past 55 %, else a pull request (1 in 8) or a commit."""
        h, rng = self.h, self.rng
        f = h.time.frac(t)
        x = rng.random()
        if not self.logo_updated and f > 0.55:
            self.logo_updated = True
            logo: Changes = {"public/logo.png": random_png(rng, 32, 32), "public/favicon.png": random_png(rng, 16, 16)}
            h.direct(t, person=SOFIA, message="🎨 refresh logo and favicon\n", changes=logo, squash=False)
        elif x < 1 / 8:
            h.merge_pr(t, person=person)
        else:
            h.direct(t, person=person)
