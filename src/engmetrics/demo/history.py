"""One demo repository's history on main, written through fast-import in time order: direct and squash-merged
commits, pull requests merged with merge commits (dependabot bumps among them), and what main held when."""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from engmetrics.demo.ai import AiHabits
from engmetrics.demo.clock import DAY, HOUR
from engmetrics.demo.contents import ContentGenerator
from engmetrics.demo.git_writer import Changes, FastImport
from engmetrics.demo.messages import PLAIN, TOPICS, commit_subject, pick_kind
from engmetrics.demo.people import DEPENDABOT, GITHUB, ORG, Person, ident
from engmetrics.demo.profiles import RepoProfile
from engmetrics.demo.timeline import Timeline
from engmetrics.demo.tree import RepoTree, put_lines


@dataclass(frozen=True)
class MainCommit:
    """A commit on main: when (Unix seconds), its fast-import mark, its subject, whether it is a merge."""

    time: int
    mark: int
    subject: str
    is_merge: bool


@dataclass(frozen=True)
class BuiltRepo:
    """A repository's written history and every fast-import mark's commit sha."""

    history: History
    marks: dict[int, str]


class History:
    """Builds one repository's history through fast-import, in time order."""

    def __init__(self, profile: RepoProfile, rng: random.Random, start: int, end: int, fi: FastImport):
        self.p = profile
        self.rng = rng
        self.fi = fi
        self.time = Timeline(profile, rng, start, end)
        self.text = ContentGenerator(rng, profile.lang)
        self.tree = RepoTree(profile, rng, self.text)
        self.main: list[MainCommit] = []
        self.main_times: list[int] = []
        self.pr = 11
        self.ai = AiHabits(profile.name, end, rng.getstate())  # its own generator: the history's draws stay as they were

    def next_pr(self) -> int:
        """A new pull-request number (numbers are shared with issues, so they skip)."""
        self.pr += self.rng.randint(1, 3)
        return self.pr

    def commit_main(self, t: int, author: str, committer: str, message: str, changes: Changes, *,
                    merge_parent: int | None = None) -> int:
        """Write a commit on main at ``t`` (a merge when ``merge_parent``); returns its mark."""
        parents = [self.main[-1].mark] if self.main else []
        if merge_parent is not None:
            parents.append(merge_parent)
        mark = self.fi.commit("refs/heads/main", author, committer, message, parents, changes)
        self.tree.apply(changes, t)
        subject = message.split("\n", 1)[0]
        self.main.append(MainCommit(t, mark, subject, merge_parent is not None))
        self.main_times.append(t)
        return mark

    def tip_at(self, t: int) -> MainCommit:
        """The commit main pointed at at ``t`` (the first commit before it)."""
        i = bisect.bisect_right(self.main_times, t) - 1
        return self.main[max(i, 0)]

    def direct(self, t: int, *, kind: str | None = None, person: Person | None = None,
               squash: bool | None = None, message: str | None = None,
               changes: Changes | None = None, scope: str | None = None) -> int:
        """A commit made on main, or squash-merged from a pull request ("… (#123)", authored earlier)."""
        r = self.rng
        person = person or self.time.pick_author(t)
        kind = kind or pick_kind(self.rng, self.time.frac(t))
        scope = scope or r.choice(list(self.p.areas))
        if message is None:
            subject = commit_subject(self.rng, person, kind, scope, r.choice(TOPICS[scope]))
            squash = r.random() < 0.35 if squash is None else squash
            if squash:
                subject += f" (#{self.next_pr()})"
            message = subject + "\n"
            if r.random() < 0.2:
                message += f"\n{self.text.sentence()}\n"
            if r.random() < 0.05:
                other = self.time.pick_author(t, exclude=person)
                message += f"\nCo-authored-by: {other.name} <{other.email}>\n"
            message = self.ai.mark(message, person, t)
        if changes is None:
            changes = self.tree.content_change(kind, scope, t, {}, set())
        f = self.time.frac(t)
        if squash:
            at = self.time.work_time(person, t - (3 if f < 0.75 else 1) * DAY, t - 2 * HOUR)
            return self.commit_main(t, self.time.author_of(person, at), ident(GITHUB, t), message, changes)
        author = self.time.author_of(person, t)
        committer = self.time.author_of(person, t)  # drawn again: may pick the other address
        return self.commit_main(t, author, committer, message, changes)

    def merge_pr(self, t: int, *, bot_bump: bool = False, person: Person | None = None) -> int:
        """A pull request: commits on a branch forked earlier, merged into main with a merge commit."""
        r = self.rng
        f = self.time.frac(t)
        person = person or self.time.pick_author(t)
        scope = r.choice(list(self.p.areas))
        topic = r.choice(TOPICS[scope])
        if bot_bump:
            life = int(r.uniform(6 * HOUR, 4 * DAY))
        elif f < 0.75:
            life = int(r.uniform(1 * DAY, 6 * DAY))
        else:
            life = int(r.uniform(3 * HOUR, 1.5 * DAY))
        fork_t = max(t - life, self.main_times[0] + 60)
        fork = self.tip_at(fork_t)
        overlay: Changes = {}
        n = 1 if bot_bump else r.randint(1, 4)
        times = sorted(self.time.work_time(person, fork_t, t - 600) for _ in range(n))
        parent = fork.mark
        members: list[int] = []
        pr = self.next_pr()
        if bot_bump:
            dep = r.choice(sorted(self.tree.deps))
            if self.tree.deps.get("lodash") == "4.17.20":  # the classic security bump comes first
                dep = "lodash"
            old = self.tree.deps[dep]
            major, minor, patch = (int(x) for x in old.split("."))
            new = f"{major}.{minor}.{patch + 1}" if r.random() < 0.7 else f"{major}.{minor + 1}.0"
            if dep == "lodash" and old == "4.17.20":
                new = "4.17.21"
            manifests = self.tree.manifest()
            if any(not (p not in self.tree.locked and self.tree.modified.get(p, 0) <= fork_t) for p in manifests):
                return self.direct(t, person=person)
            self.tree.deps[dep] = new
            for path, lines in self.tree.manifest().items():
                put_lines(overlay, path, lines)
            title = f"Bump {dep} from {old} to {new}"
            eco = "npm_and_yarn" if self.p.lang == "ts" else "pip"
            branch = f"dependabot/{eco}/{dep}-{new}"
            msg = (f"{title}\n\nBumps [{dep}](https://github.com/{dep}/{dep}) from {old} to {new}.\n\n"
                   f"Signed-off-by: {DEPENDABOT.name} <support@github.com>\n")
            parent = self.fi.commit("refs/demo/pr", ident(DEPENDABOT, times[0]), ident(GITHUB, times[0]),
                                    msg, [parent], dict(overlay))
            members.append(parent)
        else:
            kind = r.choice(["feat", "feat", "feat", "fix", "refactor", "perf"])
            title = commit_subject(self.rng, person, kind, scope, topic)
            branch = f"{'feature' if kind != 'fix' else 'fix'}/{topic.lower().replace(' ', '-').replace('/', '')}"
            branch = "".join(c for c in branch if c.isalnum() or c in "/-.")
            for i, ct in enumerate(times):
                ckind = kind if i == 0 else r.choice([kind, "test", "fix", "refactor"])
                ch = self.tree.content_change(ckind, scope, ct, overlay, set(), since=fork_t)
                if not ch:
                    continue
                msg = (title if i == 0 else commit_subject(self.rng, person, ckind, scope, topic)) + "\n"
                if i > 0 and r.random() < 0.25:
                    msg = r.choice(PLAIN) + "\n"
                msg = self.ai.mark(msg, person, ct)
                who = self.time.author_of(person, ct)
                parent = self.fi.commit("refs/demo/pr", who, who, msg, [parent], ch)
                overlay.update(ch)
                members.append(parent)
        if not members:
            return self.direct(t, person=person)
        merger = person if not bot_bump and r.random() < 0.7 else self.time.pick_author(t)
        message = f"Merge pull request #{pr} from {ORG}/{branch}\n\n{title}\n"
        return self.commit_main(t, self.time.author_of(merger, t), ident(GITHUB, t), message, overlay,
                                merge_parent=parent)

    def finish(self) -> BuiltRepo:
        """Drop the pull-request work ref, end the stream and return the history with every mark's sha."""
        self.fi.reset("refs/demo/pr")
        return BuiltRepo(self, self.fi.finish())
