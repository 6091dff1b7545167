"""What a commit message says: a fix, a revert (and of which commits). Shared by DORA, risk and reports."""

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
