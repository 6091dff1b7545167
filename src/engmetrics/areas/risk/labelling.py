"""Labelling a repository's fixes with SZZ, incrementally: which stored fixes still need tracing, tracing them
(`engmetrics.areas.risk.szz`: one replay for many, blame for a few) and storing what was found.

- Every fix done is stored (``risk_szz_fixes``) with its links (``risk_szz_links``); a later run labels only
  new fixes. A fix pattern or labeller version (`LABEL_VERSION`) other than the stored labels' wipes them first.
- **Coverage is never overstated.** A fix git could not read is never stored as blaming nobody: when git says
  objects are missing or corrupt it is stored as *unreadable* (with git's message), otherwise it is not stored at
  all (*pending*). Pending fixes are tried again on the next run; unreadable ones on the next run that finds new
  commits or objects (``git count-objects`` changed: a fetch may have brought what was missing).
- When the replay stops on missing objects and the first `PROBE` fixes tried one by one all do too (a partial
  clone without file contents), the rest are marked unreadable without trying each.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from engmetrics.areas.risk import queries
from engmetrics.areas.risk.git_output import GitFailed, is_missing_objects
from engmetrics.areas.risk.metrics.fixes import DEFAULT_FIX_PATTERN, LABEL_VERSION, Fix
from engmetrics.areas.risk.szz import PROBE, REPLAY_MIN, Replayed, label_fix, replay_labels
from engmetrics.config import Settings
from engmetrics.sources.git.run import decode_text, run_git
from engmetrics.store.db import Store

log = logging.getLogger(__name__)

BATCH = 200  # fixes per transaction


def fix_pattern(settings: Settings | None = None) -> str:
    """The fix-message pattern in force: setting ``risk_fix_pattern`` of ``settings`` (default: the
    environment's, ``ENGMETRICS_RISK_FIX_PATTERN`` / ``engmetrics.toml``) or the default."""
    return (settings or Settings()).risk_fix_pattern or DEFAULT_FIX_PATTERN


def objects_fingerprint(path: str) -> str:
    """What `git count-objects -v` says about the repository's object store (changes when a fetch adds objects)."""
    proc = run_git(path, "count-objects", "-v")
    return decode_text(proc.stdout).strip() if proc.returncode == 0 else ""


def _mark_seen(store: Store, repo_id: int, commits: int, path: str) -> None:
    """Record that labelling reached every fix it could with ``commits`` stored commits and git's objects now."""
    objects = objects_fingerprint(path)
    with store.tx() as conn:
        queries.mark_labels_seen(conn, repo_id, commits, objects)


def ensure_labels(store: Store, repo_id: int, path: str, pattern: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Label every fix in the store not labelled yet; returns how many fixes were labelled now.

    One transaction per batch of fixes. When the store holds as many commits as when labelling last finished
    and no fix is left pending — and, when some are unreadable, git's object store is as it was (`git
    count-objects`: no fetch brought objects since) — nothing is scanned. See the module docstring.
    """
    pattern = pattern or fix_pattern()
    commits = queries.commit_count(store.read(), repo_id)
    with store.tx() as conn:
        state = queries.label_state(conn, repo_id)
        fresh = state is not None and state.fix_pattern == pattern and state.version == LABEL_VERSION
        if state is not None and fresh and state.commits_seen == commits:
            if not queries.unreadable_fix_count(conn, repo_id) or state.objects_seen == objects_fingerprint(path):
                return 0  # nothing arrived since the last labelling reached every fix it could
        if not fresh:
            queries.reset_labels(conn, repo_id, pattern, LABEL_VERSION)
    fixes = queries.pending_fixes(store.read(), repo_id, pattern)
    if not fixes:
        _mark_seen(store, repo_id, commits, path)
        return 0
    replayed = Replayed()
    plain = [f for f in fixes if f.kind == "fix"]
    if len(plain) >= REPLAY_MIN:
        replayed = replay_labels(path, plain)
        if replayed.error:
            log.warning("SZZ: the replay stopped in %s (%s); %d of %d fixes are labelled one by one", path,
                        replayed.error, len(plain) - len(replayed.found), len(plain))

    def label(f: Fix) -> dict[str, int] | GitFailed:
        if f.sha in replayed.found:
            return replayed.found[f.sha]
        if f.sha in given_up:
            return given_up[f.sha]
        try:
            return label_fix(path, f)
        except GitFailed as exc:
            return exc

    # When the replay stopped on missing objects, the fixes it did not reach are labelled one by one; if the
    # first `PROBE` of them all fail on missing objects too (a partial clone without file contents), the rest
    # are not tried one by one (each try can cost a fetch git refuses) but marked unreadable with that reason.
    given_up: dict[str, GitFailed] = {}
    if replayed.error and is_missing_objects(replayed.error):
        left = [f for f in plain if f.sha not in replayed.found]
        if len(left) > PROBE:
            probe = [label(f) for f in left[:PROBE]]
            if all(isinstance(r, GitFailed) and r.missing for r in probe):
                reason = GitFailed(f"not read one by one: the replay and the {PROBE} fixes tried alone before it all "
                                   f"hit missing objects ({replayed.error})")
                given_up = {f.sha: r for f, r in zip(left[:PROBE], probe, strict=True) if isinstance(r, GitFailed)}
                given_up |= {f.sha: reason for f in left[PROBE:]}
                log.warning("SZZ: %d fixes in %s not tried one by one: missing objects (partial clone?)",
                            len(left) - PROBE, path)

    workers = max(1, min(8, os.cpu_count() or 1))
    done = 0
    failed: list[GitFailed] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(fixes), BATCH):
            batch = fixes[start : start + BATCH]
            results = list(pool.map(label, batch))
            ok = [(f, r) for f, r in zip(batch, results, strict=True) if not isinstance(r, GitFailed)]
            bad = [(f, r) for f, r in zip(batch, results, strict=True) if isinstance(r, GitFailed)]
            failed += [r for _, r in bad]
            with store.tx() as conn:
                queries.save_labels(
                    conn, repo_id, labelled=ok,
                    # Unreadable: stored (with git's message) so coverage can say so; tried again when commits or
                    # objects arrive. Any other git failure: no row at all, the fix stays pending.
                    unreadable=[(f, r.message) for f, r in bad if r.missing],
                    pending=[f for f, r in bad if not r.missing],
                )
            done += len(ok)
            if progress is not None:
                progress(start + len(batch), len(fixes))
    if failed:
        missing = sum(1 for r in failed if r.missing)
        log.warning("SZZ: git could not label %d fix(es) in %s (%d with missing or corrupt objects): %s; they are "
                    "tried again on the next run%s", len(failed), path, missing, failed[0].message,
                    "" if missing < len(failed) else " that brings commits or objects")
    if all(r.missing for r in failed):  # nothing pending: the next run needs new commits or objects to do more
        _mark_seen(store, repo_id, commits, path)
    return done
