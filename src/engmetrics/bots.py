"""Which authors are bots: Dependabot, Renovate, pre-commit.ci, GitHub Actions and the like.

One rule shared by change risk (bots' commits are neither fixes nor training rows), reports and changelogs
(bot noise is grouped) and contributor figures. It matches a name, an email or a login.
"""

from __future__ import annotations

import functools
import re

_BOT = re.compile(
    r"\[bot\]|\bbot@|-bot\b|\bdependabot|\brenovate|\bpre-commit-ci|\bgithub-actions|\bgreenkeeper|\bsnyk-bot|"
    r"\bweblate\b|\bimgbot|\ballcontributors|\bmergify|\bcodecov-commenter|\bpyup-bot|\bdeepsource-autofix",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=8192)
def is_bot(identity: str | None) -> bool:
    """Whether a name, email or login (or 'Name <email>') belongs to an automation account."""
    return bool(identity) and _BOT.search(identity or "") is not None
