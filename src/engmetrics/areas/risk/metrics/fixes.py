"""Fix commits, the labels SZZ draws from them, and how far those labels reach.

- A **fix** is a commit whose message matches the fix pattern (`DEFAULT_FIX_PATTERN`: fix/bug/defect/hotfix/
  patch/revert/regression/crash words; a reference that only closes an issue such as "Fixes #12" or "Closes #12"
  is not one, and a version bump never is; ``ENGMETRICS_RISK_FIX_PATTERN`` replaces it). A **revert** is a
  commit titled ``Revert …`` with a "This reverts commit <sha>" line (`engmetrics.commits.reverted_sha`).
- SZZ labels neither merge commits, nor commits touching more than `MAX_FIX_FILES` files, nor bots' commits
  (`engmetrics.bots.is_bot` on the author's name or email).
- `LabelCoverage` counts the fixes labelled, pending and unreadable; `fix_labels` is its public form
  (`engmetrics.models.FixLabels`), with a sentence when not every fix is labelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from engmetrics.bots import is_bot
from engmetrics.commits import reverted_sha
from engmetrics.areas.repos.models import FixLabels

MAX_FIX_FILES = 100
LABEL_VERSION = 1  # bump when what a label means changes: labels made by another version are made again

DEFAULT_FIX_PATTERN = (
    r"(?ims)\A"
    # A version bump is never a fix, whatever the release notes it quotes say: "Bump x from 1.2.3 to 1.2.4",
    # "chore(deps): update y from v1 to v2", "Bump version to 2.0.1", Dependabot's "update-type:
    # version-update:semver-patch" and "dependency-type:" lines.
    r"(?!\s*(?:[\w-]+(?:\([^)\n]*\))?!?:\s*)?(?:bump|bumps|bumped|upgrade|upgrades|upgraded|update|updates|updated)\b"
    r"[^\n]*\bfrom\s+v?\d[^\n]*\bto\s+v?\d)"
    r"(?!\s*(?:[\w-]+(?:\([^)\n]*\))?!?:\s*)?(?:bump|bumps|bumped)\b[^\n]*\bversion\b)"
    r"(?!.*^\s*(?:-\s*)?(?:update-type:\s*version-update:|dependency-type:))"
    # A fix word; "Fixes #12", "fixes org/repo#12" or "Fixes https://…/issues/12" only closes an issue (any
    # issue: features too), so it is not a fix by itself; neither are "Closes #N" and "Resolves #N".
    r".*?(?:\bfix(?:e[sd]|ing)?\b(?!:?[ \t]+(?:[\w.-]+/[\w.-]+)?#\d+|:?[ \t]+https?://\S+/issues/\d+)"
    r"|\bbug(?:s|fix(?:es)?)?\b|\bdefects?\b|\bhotfix(?:es)?\b|(?<!semver-)\bpatch(?:ed)?\b|\brevert(?:s|ed)?\b"
    r"|\bregressions?\b|\bcrash(?:es|ed)?\b)"
)


@dataclass(frozen=True, slots=True)
class Fix:
    """A fix (or revert) commit to label. ``time``: its committer time (Unix seconds)."""

    sha: str
    parent: str
    time: int
    kind: Literal["fix", "revert"]
    reverted: str | None


def fix_of(sha: str, parent: str, time: int, subject: str, body: str, files_changed: int, author_name: str | None,
           author_email: str | None, pattern: re.Pattern[str]) -> Fix | None:
    """The `Fix` a single-parent commit is for SZZ (a revert, or a fix by ``pattern``), or None: not a fix, a
    bot's commit, or one touching more than `MAX_FIX_FILES` files."""
    if files_changed > MAX_FIX_FILES or is_bot(author_name) or is_bot(author_email):
        return None
    message = f"{subject}\n\n{body}" if body else subject
    reverted = reverted_sha(message)
    if subject.startswith("Revert ") and reverted:
        return Fix(sha, parent, time, "revert", reverted)
    if pattern.search(message):
        return Fix(sha, parent, time, "fix", None)
    return None


@dataclass
class LabelCoverage:
    """How many of a repository's fixes SZZ has labelled: ``labelled`` (traced, even to nothing), ``pending``
    (not tried yet, or git failed on them: tried on the next run) and ``unreadable`` (git said objects they
    need are missing or corrupt; tried again once commits or objects arrive). ``error``: one of git's messages,
    if any."""

    fixes: int
    labelled: int
    pending: int
    unreadable: int
    error: str | None = None


def fix_labels(coverage: LabelCoverage) -> FixLabels:
    """The public form of SZZ's label coverage, with a note when not every fix is labelled."""
    note = None
    if coverage.pending or coverage.unreadable:
        parts = []
        if coverage.pending:
            parts.append(f"{coverage.pending} pending (not traced yet: git failed on them or they are new)")
        if coverage.unreadable:
            parts.append(f"{coverage.unreadable} unreadable (git: {coverage.error or 'objects missing'})")
        note = (f"{coverage.labelled} of {coverage.fixes} fixes are labelled; {' and '.join(parts)}. The model "
                "learned from the labelled ones only; pending ones are tried again on the next run, unreadable ones once a "
                "fetch brings new commits or objects.")
    return FixLabels(fixes=coverage.fixes, labelled=coverage.labelled, pending=coverage.pending,
                     unreadable=coverage.unreadable, note=note)


def sync_fix_labels_of(coverage: LabelCoverage) -> FixLabels:
    """What `sync` says about the labels: `fix_labels`, its note saying when the pending fixes get traced (sync
    itself labels nothing: SZZ runs when risk is first scored or evaluated)."""
    labels = fix_labels(coverage)
    if coverage.pending and not coverage.unreadable and coverage.labelled == 0:
        labels.note = (f"{coverage.pending} fix commits found; SZZ traces them the first time change risk is scored "
                       "or evaluated (score_pr_risk, engmetrics risk evaluate).")
    elif coverage.pending and not coverage.unreadable:
        labels.note = (f"{coverage.pending} of {coverage.fixes} fixes are not traced yet (new, or git failed on them "
                       "before); SZZ traces them the next time change risk is scored or evaluated.")
    return labels
