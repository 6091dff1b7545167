"""What a commit message says: a fix, a revert (and of which commits), the pull request it names. Shared by DORA,
risk, reports and the git source."""

from __future__ import annotations

import re

_FIX_CONVENTIONAL = re.compile(r"^\s*(?:fix|hotfix|bugfix|bug|patch)(?:\([^)]*\))?!?\s*:", re.IGNORECASE)
_FIX_WORD = re.compile(r"\b(?:fix|fixes|fixed|fixing|hotfix|hotfixes|bugfix|bugfixes|bug|bugs|patch|patched)\b", re.I)
_REVERTS = re.compile(r"This reverts commit ([0-9a-fA-F]{7,40})", re.IGNORECASE)
REVERT_SUBJECT = re.compile(r"^\s*(?:Revert\s+\"|revert(?:\([^)]*\))?!?\s*:|Reapply\s+\"Revert)", re.IGNORECASE)


def is_fix(subject: str) -> bool:
    """Whether a commit subject describes a fix: conventional ``fix:``/``fix(x):``/``hotfix:``, or the
    words fix/fixes/fixed/hotfix/bugfix/bug/patch anywhere (case-insensitive)."""
    return bool(_FIX_CONVENTIONAL.match(subject) or _FIX_WORD.search(subject))


def reverted_sha(message: str) -> str | None:
    """The sha (7–40 hex digits, lower case) named by the first "This reverts commit <sha>." line, or None."""
    m = _REVERTS.search(message or "")
    return m.group(1).lower() if m else None


def reverted_shas(message: str) -> list[str]:
    """Every sha named by a "This reverts commit <sha>" line (a squash of several reverts names several),
    lower case, in order, without repeats."""
    return list(dict.fromkeys(m.group(1).lower() for m in _REVERTS.finditer(message or "")))


def is_revert(subject: str, message: str = "") -> bool:
    """Whether a commit is a revert: subject ``Revert "…"``/``revert:``, or a "This reverts commit" line."""
    return bool(REVERT_SUBJECT.match(subject or "")) or reverted_sha(message) is not None


_MERGE_PR = re.compile(r"^Merge pull request #(\d+) from (\S+)")
_BITBUCKET = re.compile(r"\(pull request #(\d+)\)")
_GITLAB = re.compile(r"See merge request \S+!(\d+)")
SQUASH_SUFFIX = re.compile(r"\(#(\d+)\)\s*$")
"""A subject's closing ``(#N)``: how GitHub's squash (and merge-commit titles) name the PR."""


def pr_number(subject: str, body: str = "") -> tuple[int, str] | None:
    """The PR number a commit message names and the form that names it: 'merge' (a merge-commit message)
    or 'squash' (a ``(#N)`` subject), or None. The form is a hint only: `merged_prs` decides by parents."""
    if m := _MERGE_PR.match(subject):
        return int(m.group(1)), "merge"
    if m := _BITBUCKET.search(subject):
        return int(m.group(1)), "merge"
    if subject.startswith("Merge ") and (m := _GITLAB.search(body)):
        return int(m.group(1)), "merge"
    if m := SQUASH_SUFFIX.search(subject):
        return int(m.group(1)), "squash"
    return None
