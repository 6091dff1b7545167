"""The commit graph of one repository and what each deployment shipped (commits reachable from it and from no
earlier deployment)."""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engmetrics.commits import reverted_shas
from engmetrics.errors import InvalidInput

@dataclass(frozen=True, slots=True)
class CommitInfo:
    """One commit as the DORA functions need it. Times are Unix seconds."""

    sha: str
    parents: tuple[str, ...] = ()
    author_time: int = 0
    subject: str = ""
    body: str = ""


class CommitGraph:
    """An in-memory parent graph of one repository's commits, indexed by integer.

    Parents not present (shallow history, missing objects) are ignored. Generation numbers
    (1 + the largest parent generation; roots 1) are computed on first need.
    """

    __slots__ = ("shas", "index", "parents", "author_times", "subjects", "bodies", "_generation", "_sorted", "_reverts")
    shas: list[str]
    index: dict[str, int]
    parents: list[tuple[int, ...]]
    author_times: list[int]
    subjects: list[str]
    bodies: list[str]
    _generation: list[int] | None
    _sorted: list[str] | None
    _reverts: dict[int, tuple[str, ...]] | None

    def __init__(self, commits: Iterable[CommitInfo]) -> None:
        rows = list(commits)
        self._setup(
            [c.sha for c in rows],
            [c.parents for c in rows],
            [c.author_time for c in rows],
            [c.subject for c in rows],
            [c.body for c in rows],
        )

    def _setup(
        self,
        shas: list[str],
        parent_shas: Sequence[Sequence[str]],
        author_times: list[int],
        subjects: list[str],
        bodies: list[str],
    ) -> None:
        self.shas = shas
        self.index = idx = {sha: i for i, sha in enumerate(shas)}
        get = idx.get
        self.parents = [
            () if not ps else (i,) if len(ps) == 1 and (i := get(ps[0])) is not None
            else tuple(j for p in ps if (j := get(p)) is not None)
            for ps in parent_shas
        ]
        self.author_times = author_times
        self.subjects = subjects
        self.bodies = bodies
        self._generation = None
        self._sorted = None
        self._reverts = None

    @classmethod
    def from_commits(cls, commits: Iterable[CommitInfo]) -> CommitGraph:
        """Build a graph from `CommitInfo` rows (any order)."""
        return cls(commits)

    @classmethod
    def from_columns(
        cls,
        shas: list[str],
        parents: Sequence[Sequence[str]],
        author_times: list[int],
        subjects: list[str],
        bodies: list[str],
    ) -> CommitGraph:
        """Build a graph from parallel lists (fast path for large histories; oldest first is fastest)."""
        graph = cls.__new__(cls)
        graph._setup(shas, parents, author_times, subjects, bodies)
        return graph

    def __len__(self) -> int:
        return len(self.shas)

    def __contains__(self, sha: object) -> bool:
        return sha in self.index

    def resolve(self, sha: str | None) -> str | None:
        """The full sha for ``sha`` or a unique prefix of at least 4 hex digits; None if unknown/ambiguous."""
        if not sha:
            return None
        s = sha.strip().lower()
        if s in self.index:
            return s
        if len(s) < 4:
            return None
        if self._sorted is None:
            self._sorted = sorted(self.shas)
        ordered = self._sorted
        i = bisect_left(ordered, s)
        if i < len(ordered) and ordered[i].startswith(s):
            if i + 1 < len(ordered) and ordered[i + 1].startswith(s):
                return None
            return ordered[i]
        return None

    def message(self, i: int) -> str:
        """Subject and body of commit ``i``."""
        return f"{self.subjects[i]}\n\n{self.bodies[i]}"

    def is_merge(self, i: int) -> bool:
        """Whether commit ``i`` has two or more (known) parents."""
        return len(self.parents[i]) > 1

    @property
    def generation(self) -> list[int]:
        """Generation number per commit index (roots 1)."""
        if self._generation is None:
            gen = [0] * len(self.shas)
            parents = self.parents
            for start, ps in enumerate(parents):
                # One pass when parents come before children (oldest-first order); DFS otherwise.
                if not ps:
                    gen[start] = 1
                    continue
                g = 0
                for p in ps:
                    gp = gen[p]
                    if not gp:
                        break
                    if gp > g:
                        g = gp
                else:
                    gen[start] = g + 1
                    continue
                stack = [start]
                while stack:
                    node = stack[-1]
                    if gen[node]:
                        stack.pop()
                        continue
                    pending = [p for p in parents[node] if not gen[p]]
                    if pending:
                        stack.extend(pending)
                    else:
                        gen[node] = 1 + max((gen[p] for p in parents[node]), default=0)
                        stack.pop()
            self._generation = gen
            return gen
        return self._generation

    def reachable(self, i: int, stop: bytearray | None = None) -> list[int]:
        """Indices of the commits reachable from ``i`` (itself included) and not in ``stop``.

        ``stop`` is a membership array (0/1 per index) closed under ancestry — the commits reachable from
        some other commit — so the result is exactly ``ancestors(i) − stop`` and the walk costs only
        the result's size. ``stop`` is left unchanged.
        """
        parents = self.parents
        if stop is None:
            mark = bytearray(len(self.shas))
            mark[i] = 1
            out = [i]
            stack = [i]
            while stack:
                for p in parents[stack.pop()]:
                    if not mark[p]:
                        mark[p] = 1
                        out.append(p)
                        stack.append(p)
            return out
        if stop[i]:
            return []
        stop[i] = 2
        out = [i]
        stack = [i]
        while stack:
            for p in parents[stack.pop()]:
                if not stop[p]:
                    stop[p] = 2
                    out.append(p)
                    stack.append(p)
        for n in out:
            stop[n] = 0
        return out

    @property
    def revert_targets(self) -> dict[int, tuple[str, ...]]:
        """For every commit with "This reverts commit <sha>" lines: the full shas it reverts that are in the
        graph (every line counts; a target not in the graph — e.g. a commit squashed away inside a PR — is
        left out, so the tuple may be empty). Computed once."""
        if self._reverts is None:
            targets: dict[int, tuple[str, ...]] = {}
            for ci, body in enumerate(self.bodies):
                if "evert" not in body and "EVERT" not in body:
                    continue  # cheap pre-filter: no "revert" in any case that git or people write
                named = reverted_shas(body)
                if not named:
                    continue
                targets[ci] = tuple(t for n in named if (t := self.resolve(n)) is not None)
            self._reverts = targets
            return targets
        return self._reverts

    def paint(self, this: int, prev: int) -> tuple[list[int], list[int]]:
        """``(this..prev sides)``: commits reachable from ``this`` only, and from ``prev`` only.

        Git's paint-down walk with generation numbers: visit commits in decreasing generation, carrying
        flags "from this"/"from prev"; a commit carrying both is common and so are its ancestors; stop
        when only common commits are queued. Cost ∝ the commits between the two tips, not the history.
        """
        gen = self.generation
        parents = self.parents
        flags: dict[int, int] = {this: 1}
        flags[prev] = flags.get(prev, 0) | 2
        heap = [(-gen[this], this)]
        if prev != this:
            heap.append((-gen[prev], prev))
        heapq.heapify(heap)
        live = sum(1 for _, n in heap if flags[n] != 3)
        only_this: list[int] = []
        only_prev: list[int] = []
        while heap and live > 0:
            _, node = heapq.heappop(heap)
            f = flags[node]
            if f != 3:
                live -= 1
                (only_this if f == 1 else only_prev).append(node)
            for p in parents[node]:
                old = flags.get(p, 0)
                new = old | f
                if new == old:
                    continue
                flags[p] = new
                if old == 0:
                    heapq.heappush(heap, (-gen[p], p))
                    if new != 3:
                        live += 1
                elif new == 3 and old != 3:
                    live -= 1  # queued (not yet popped: its generation is lower) and now common
        return only_this, only_prev


def changes_between(graph: CommitGraph, this_sha: str, prev_sha: str | None) -> list[str]:
    """The shas reachable from ``this_sha`` and not from ``prev_sha`` (``git rev-list prev..this``, merges
    included); everything reachable when ``prev_sha`` is None. Unknown shas → `InvalidInput`."""
    this = graph.index.get(this_sha)
    if this is None:
        raise InvalidInput(f"commit {this_sha!r} is not in the stored history", param="sha")
    if prev_sha is None:
        out = graph.reachable(this)
        return [graph.shas[i] for i in out]
    prev = graph.index.get(prev_sha)
    if prev is None:
        raise InvalidInput(f"commit {prev_sha!r} is not in the stored history", param="sha")
    only_this, _ = graph.paint(this, prev)
    return [graph.shas[i] for i in only_this]


@dataclass(frozen=True, slots=True)
class Shipped:
    """What one deployment shipped: commit indices into the graph, and whether it was the first."""

    changes: tuple[int, ...]
    first: bool
    known: bool = True


def assign_changes(graph: CommitGraph, shas_in_time_order: Sequence[str | None]) -> list[Shipped]:
    """`Shipped` for each deployment of ONE repository/service sequence, in the order given (time order).

    A deployment ships the commits reachable from it and from **no earlier deployment of the sequence**.
    Where each deployment descends from the one before (one release line, the common case) this is
    exactly ``git rev-list prev..this``. Where it does not — two release lines whose tags interleave in
    time (v2.3.0, v1.9.5, v2.3.1), or a rollback and a redeploy — ``prev..this`` would count again every
    commit shipped since the lines forked (or since the rollback), inflating change counts and lead
    times; here a commit counts once, at the first deployment that shipped it. Cost ∝ the commits walked
    (a membership array of everything shipped so far). A deployment whose sha is not in the graph ships
    nothing (``known=False``). The first known deployment ships everything reachable and is flagged
    ``first`` (it contributes no lead times).
    """
    reached = bytearray(len(graph))
    seen_first = False
    out: list[Shipped] = []
    for sha in shas_in_time_order:
        i = graph.index.get(sha) if sha else None
        if i is None:
            out.append(Shipped((), False, False))
            continue
        changes = graph.reachable(i, reached)
        for c in changes:
            reached[c] = 1
        out.append(Shipped(tuple(changes), not seen_first))
        seen_first = True
    return out
