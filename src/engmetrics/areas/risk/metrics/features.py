"""Features of a change (a commit, or a set of commits scored as one), computed with no look-ahead.

A `History` holds what is known about a repository after a sequence of changes; ``features(change)``
reads it without changing it and ``add(change)`` records the change. Changes are fed in the order of
their committer time (then sha), so a change's features use only the changes before it and never
change when newer commits arrive. Merge commits are not changes here (git records no diff for them).

Kamei et al. (2013) just-in-time features (subsystem = first path segment, "." for files at the root;
directory = the parent folder):

- ``ns`` subsystems touched; ``nd`` directories touched; ``nf`` files touched.
- ``entropy``: −Σ pₖ·log₂ pₖ over files, pₖ = lines changed (added + deleted) in file k ÷ lines changed
  in the change (bits; not normalised; binary files left out).
- ``la``/``ld``: lines added/deleted (binary files count 0).
- ``lt``: lines in the touched files before the change, summed over files (reconstructed from history:
  cumulative additions − deletions, carried across renames).
- ``fix``: 1 when the message says it fixes something (same pattern as SZZ), else 0. A reference that only
  closes an issue ("Fixes #12", "Closes #12", "Resolves #12") is not a fix by itself, a version bump never
  is, and neither is any commit by a bot (`engmetrics.bots.is_bot` on the author's name or email).
- ``ndev``: distinct authors (by email) who changed the touched files before.
- ``age``: mean over touched files with earlier changes of the days since that file's last change.
- ``nuc``: distinct earlier changes that touched any of the files.
- ``exp``: the author's earlier changes; ``rexp``: Σ over them of 1/(1 + age in years);
  ``sexp``: the author's earlier changes touching any subsystem this change touches.

Signals beyond Kamei:

- ``test_share``: lines changed in test files ÷ lines changed (0–1); ``tests_touched``: 1 when any
  test file is touched (test files as `engmetrics.filekinds.is_test` says: ``test``/``tests``/``spec``/
  ``__tests__`` folders, ``test_*``, ``*_test.*``, ``*.test.*``, ``*.spec.*``, ``conftest.py``).
- ``hotspot``: the most changes any touched file had in the 90 days before (count).
- ``recent_fixes``: distinct earlier fix commits (by message, same pattern as ``fix``) that touched any of
  the touched files in the 365 days before (count). Files that keep being fixed keep being fixed
  (Kim et al. 2007, FixCache), and lines added to them are the ones later fixes change.
- ``coupling_missed``: files that changed together with a touched file in at least half of that
  file's earlier changes (and at least 3 times) but are not in this change (count; co-changes are
  counted from changes of at most 20 files).
- ``sensitive``: touched files on sensitive paths (migrations, dependency manifests and lock files,
  CI configuration as `engmetrics.filekinds` classifies it, infrastructure, auth/security code) (count).
- ``ai_share``: share of the changed lines that come from AI-assisted commits: AI-marked by
  `engmetrics.ai_markers` (``Co-authored-by: Claude <noreply@anthropic.com>``, ``Made-with: Cursor``, "Generated
  with Claude Code", an AI author such as Copilot) (0–1).
- ``author_file_exp``: share of the touched files the author changed before (0–1).
- ``sloc_added``: source lines added — added lines of source files (`engmetrics.filekinds.is_source`: not
  documentation, tests, generated or vendored files, configuration or data) that are not blank and not
  comment-only, whitespace-only edits not counted (see `engmetrics.areas.risk.source_lines`): the lines a later fix can be
  traced back to by SZZ. Lines added to source files stand in when git could not diff the commit.
- ``owner_coverage``: share of the touched paths with an owner in the CODEOWNERS in force before the
  change (0–1; 0 when the repository has none); ``owner_involved``: 1 when an owner of a touched path
  authored or co-authored (``Co-authored-by:``) the change (see `engmetrics.areas.risk.metrics.codeowners`).
"""

from __future__ import annotations

import bisect
import json
import math
import re
import zlib
from collections.abc import Iterable
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from engmetrics.areas.risk.metrics.changes import Change, directory, is_bot_change, sensitive_kinds, subsystem
from engmetrics.areas.risk.metrics.codeowners import People, Timeline, participants
from engmetrics.areas.risk.metrics.codeowners import signals as owner_signals
from engmetrics.areas.risk.metrics.fixes import DEFAULT_FIX_PATTERN
from engmetrics.bots import is_bot
from engmetrics.filekinds import is_test

KAMEI = ("ns", "nd", "nf", "entropy", "la", "ld", "lt", "fix", "ndev", "age", "nuc", "exp", "rexp", "sexp")
EXTRA = ("test_share", "tests_touched", "hotspot", "coupling_missed", "sensitive", "ai_share", "author_file_exp",
         "owner_coverage", "owner_involved", "recent_fixes", "sloc_added")
FEATURES: tuple[str, ...] = KAMEI + EXTRA
FEATURE_VERSION = 7  # bump when a definition changes: cached models are then rebuilt

Floats = npt.NDArray[np.float64]
"""An array of float64: a feature row, a matrix of rows of `FEATURES`, or one value per change."""

DAY = 86400
YEAR = 365.25 * DAY
HOTSPOT_DAYS = 90
RECENT_FIX_DAYS = 365
COUPLING_MIN = 3
COUPLING_SHARE = 0.5
COUPLING_MAX_FILES = 20

_V = TypeVar("_V")


def _rename(table: dict[str, _V], old: str, new: str) -> None:
    """Carry ``table``'s entry for ``old`` over to ``new`` (a renamed file keeps its history)."""
    if old in table:
        table[new] = table.pop(old)


class History:
    """What earlier changes tell about a repository's files and authors (see the module docstring)."""

    def __init__(self, fix_pattern: str = DEFAULT_FIX_PATTERN) -> None:
        self.fix_pattern = fix_pattern
        self._fix = re.compile(fix_pattern)
        self.n = 0  # changes recorded
        self.last_time = 0
        self.last_sha = ""
        self.f_idx: dict[str, list[int]] = {}  # path -> indices of changes that touched it
        self.f_times: dict[str, list[int]] = {}
        self.f_authors: dict[str, dict[str, int]] = {}
        self.f_loc: dict[str, int] = {}
        self.f_partners: dict[str, dict[str, int]] = {}
        self.f_fixes: dict[str, list[list[int]]] = {}  # path -> [time, change index] of the fixes that touched it
        self.a_times: dict[str, list[int]] = {}
        self.a_sub: dict[str, dict[str, list[int]]] = {}
        self._strong: dict[str, set[str]] = {}  # path -> partners co-changed at least COUPLING_MIN times
        self._arrays: dict[str, tuple[Floats, int]] = {}  # author -> (times buffer, used)
        self.codeowners = Timeline()  # CODEOWNERS versions (set before replaying; saved with the state)
        self.people: People | None = None  # identities from the teams configuration, if any

    def _author_array(self, author: str) -> Floats:
        """The author's change times as float64 (a buffer grown as changes are recorded, not rebuilt)."""
        times = self.a_times[author]
        buf, used = self._arrays.get(author, (None, 0))
        if buf is None or used > len(times):
            buf, used = np.empty(max(16, 2 * len(times)), dtype=np.float64), 0
        if len(times) > len(buf):
            grown = np.empty(2 * len(times), dtype=np.float64)
            grown[:used] = buf[:used]
            buf = grown
        if used < len(times):
            buf[used : len(times)] = times[used:]
            used = len(times)
        self._arrays[author] = (buf, used)
        return buf[:used]

    # -- reading -------------------------------------------------------------------------------

    def is_fix(self, message: str, author: str = "") -> bool:
        """Whether a change is a fix: its message matches the fix pattern and no bot authored it (``author``:
        name and/or email)."""
        return not is_bot(author) and bool(self._fix.search(message))

    def is_fix_change(self, ch: Change) -> bool:
        """`is_fix` of a change (a bot's change is never a fix)."""
        return not is_bot_change(ch) and bool(self._fix.search(ch.message))

    def features(self, ch: Change) -> Floats:
        """The `FEATURES` vector of ``ch`` from the changes recorded so far (float64, units per docstring)."""
        files = ch.files
        paths = [f.path for f in files]
        hist_paths = [f.old_path or f.path for f in files]
        subs = {subsystem(p) for p in paths}
        dirs = {directory(p) for p in paths}
        total = sum(f.lines for f in files)
        entropy = 0.0
        if total:
            for f in files:
                if f.lines:
                    share = f.lines / total
                    entropy -= share * math.log2(share)
        la = ch.lines_added
        ld = sum(f.deleted or 0 for f in files)
        lt = sum(max(self.f_loc.get(p, 0), 0) for p in hist_paths)
        known = [p for p in hist_paths if p in self.f_idx]
        t = ch.time
        if len(known) == 1:
            nuc = len(self.f_idx[known[0]])
            devs = self.f_authors[known[0]]
            ndev = len(devs)
        elif known:
            nuc = len(set().union(*(self.f_idx[p] for p in known)))
            ndev = len(set().union(*(self.f_authors[p] for p in known)))
        else:
            nuc = ndev = 0
        age = (sum(max(t - self.f_times[p][-1], 0) for p in known) / len(known) / DAY) if known else 0.0
        author = ch.author_email
        times = self.a_times.get(author)
        exp = len(times) if times else 0
        rexp = 0.0
        if times:
            arr = self._author_array(author)
            rexp = float(np.sum(1.0 / (1.0 + np.maximum(t - arr, 0.0) / YEAR)))
        subs_of = self.a_sub.get(author)
        if subs_of:
            lists = [subs_of[s] for s in subs if s in subs_of]
            sexp = len(lists[0]) if len(lists) == 1 else (len(set().union(*lists)) if lists else 0)
        else:
            sexp = 0
        test_lines = sum(f.lines for f in files if is_test(f.path))
        tests_touched = any(is_test(p) for p in paths)
        since = t - HOTSPOT_DAYS * DAY
        hotspot = 0
        for p in known:
            ts = self.f_times[p]
            hotspot = max(hotspot, len(ts) - bisect.bisect_left(ts, since))
        touched = set(paths) | set(hist_paths)
        missed: set[str] = set()
        for p in known:
            strong = self._strong.get(p)
            if not strong:
                continue
            need = COUPLING_SHARE * len(self.f_idx[p])
            partners = self.f_partners[p]
            for q in strong:
                if partners.get(q, 0) >= need and q not in touched:
                    missed.add(q)
        fix_since = t - RECENT_FIX_DAYS * DAY
        recent_fixes: set[int] = set()
        for p in known:
            fixes = self.f_fixes.get(p)
            if fixes:
                start = bisect.bisect_left(fixes, fix_since, key=lambda row: row[0])
                recent_fixes.update(i for _, i in fixes[start:])
        sensitive = sum(1 for p in paths if sensitive_kinds(p))
        own = sum(1 for p in hist_paths if author in self.f_authors.get(p, ()))
        rules = self.codeowners.at(t) if self.codeowners.versions else None
        coverage, involved = (
            owner_signals(rules, paths, participants(author, ch.author_name, ch.message), self.people) if rules else (0.0, 0.0)
        )
        return np.array(
            [
                len(subs), len(dirs), len(files), entropy, la, ld, lt, 1.0 if self.is_fix_change(ch) else 0.0,
                ndev, age, nuc, exp, rexp, sexp,
                (test_lines / total) if total else 0.0, 1.0 if tests_touched else 0.0, hotspot, len(missed),
                sensitive, min(ch.ai_lines / total, 1.0) if total else (1.0 if ch.ai_lines else 0.0),
                own / len(files) if files else 0.0, coverage, involved, len(recent_fixes),
                ch.source_lines_added,
            ],
            dtype=np.float64,
        )

    def coupled_missing(self, ch: Change, limit: int = 5) -> list[str]:
        """Files that usually change with the touched ones but are not in ``ch`` (most coupled first)."""
        touched = {f.path for f in ch.files} | {f.old_path for f in ch.files if f.old_path}
        scores: dict[str, float] = {}
        for f in ch.files:
            p = f.old_path or f.path
            n = len(self.f_idx.get(p, ()))
            if n < COUPLING_MIN:
                continue
            for q, c in self.f_partners.get(p, {}).items():
                if c >= COUPLING_MIN and c >= COUPLING_SHARE * n and q not in touched:
                    scores[q] = max(scores.get(q, 0.0), c / n)
        return sorted(scores, key=lambda q: -scores[q])[:limit]

    # -- recording ------------------------------------------------------------------------------

    def add(self, ch: Change) -> None:
        """Record ``ch`` (call after `features`, in time order)."""
        i = self.n
        self.n += 1
        self.last_time = max(self.last_time, ch.time)
        self.last_sha = ch.sha
        author = ch.author_email
        is_fix = self.is_fix_change(ch)
        for f in ch.files:
            if f.old_path and f.old_path != f.path and f.old_path in self.f_idx:
                _rename(self.f_idx, f.old_path, f.path)
                _rename(self.f_times, f.old_path, f.path)
                _rename(self.f_loc, f.old_path, f.path)
                _rename(self.f_authors, f.old_path, f.path)
                _rename(self.f_partners, f.old_path, f.path)
                _rename(self._strong, f.old_path, f.path)
                _rename(self.f_fixes, f.old_path, f.path)
            p = f.path
            self.f_idx.setdefault(p, []).append(i)
            self.f_times.setdefault(p, []).append(ch.time)
            devs = self.f_authors.setdefault(p, {})
            devs[author] = devs.get(author, 0) + 1
            self.f_loc[p] = self.f_loc.get(p, 0) + (f.added or 0) - (f.deleted or 0)
            if is_fix:
                self.f_fixes.setdefault(p, []).append([ch.time, i])
        if 1 < len(ch.files) <= COUPLING_MAX_FILES:
            paths = [f.path for f in ch.files]
            for p in paths:
                partners = self.f_partners.setdefault(p, {})
                for q in paths:
                    if q != p:
                        c = partners[q] = partners.get(q, 0) + 1
                        if c == COUPLING_MIN:
                            self._strong.setdefault(p, set()).add(q)
        self.a_times.setdefault(author, []).append(ch.time)
        subs = self.a_sub.setdefault(author, {})
        for s in {subsystem(f.path) for f in ch.files}:
            subs.setdefault(s, []).append(i)

    # -- persistence ----------------------------------------------------------------------------

    def dumps(self) -> bytes:
        """The state as zlib-compressed JSON."""
        data = {
            "fix_pattern": self.fix_pattern, "n": self.n, "last_time": self.last_time, "last_sha": self.last_sha,
            "f_idx": self.f_idx, "f_times": self.f_times, "f_authors": self.f_authors, "f_loc": self.f_loc,
            "f_partners": self.f_partners, "f_fixes": self.f_fixes, "a_times": self.a_times, "a_sub": self.a_sub,
            "codeowners": self.codeowners.versions,
        }
        return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)

    @classmethod
    def loads(cls, blob: bytes) -> History:
        """A state saved by `dumps`."""
        data = json.loads(zlib.decompress(blob))
        h = cls(data["fix_pattern"])
        h.codeowners = Timeline([(int(t), str(x)) for t, x in data.get("codeowners", [])])
        h.n, h.last_time, h.last_sha = data["n"], data["last_time"], data["last_sha"]
        h.f_idx, h.f_times, h.f_authors, h.f_loc = data["f_idx"], data["f_times"], data["f_authors"], data["f_loc"]
        h.f_partners, h.f_fixes, h.a_times, h.a_sub = data["f_partners"], data["f_fixes"], data["a_times"], data["a_sub"]
        h._strong = {p: {q for q, c in d.items() if c >= COUPLING_MIN} for p, d in h.f_partners.items()}
        return h


def replay(changes: Iterable[Change], history: History | None = None, fix_pattern: str = DEFAULT_FIX_PATTERN,
           *, until: tuple[int, str] | None = None, skip: frozenset[str] = frozenset(), codeowners: Timeline | None = None,
           people: People | None = None) -> tuple[History, list[str], Floats]:
    """Feed ``changes`` (in time order) through a `History`: (the history after them, their shas, their features).

    ``until`` = (time, sha): stop before the first change ordered at or after it; ``skip``: shas not recorded.
    """
    h = history or History(fix_pattern)
    if codeowners is not None:
        h.codeowners = codeowners
    if people is not None:
        h.people = people
    shas: list[str] = []
    rows: list[Floats] = []
    for ch in changes:
        if until is not None and (ch.time, ch.sha) >= until:
            break
        if ch.sha in skip:
            continue
        rows.append(h.features(ch))
        shas.append(ch.sha)
        h.add(ch)
    X = np.vstack(rows) if rows else np.zeros((0, len(FEATURES)))
    return h, shas, X
