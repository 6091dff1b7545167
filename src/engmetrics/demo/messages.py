"""Commit messages: the topics of each scope, which kind of change a commit is (fix, feat, refactor…), and
its subject line in the author's style (conventional, gitmoji, plain)."""

from __future__ import annotations

import random

from engmetrics.demo.people import Person

KINDS = ["fix", "feat", "refactor", "perf", "docs", "test", "chore", "ci"]
TOPICS = {
    "api": ["pagination for /api/orders", "rate limiting on login", "order search endpoint", "ETag caching",
            "bulk user import", "webhook retries", "request ids in logs", "API versioning header"],
    "ui": ["dark mode toggle", "saved carts", "checkout progress bar", "product quick view", "skeleton loaders",
           "address autocomplete", "keyboard navigation in menus", "cart badge count"],
    "payments": ["multi-currency totals", "3-D Secure challenge flow", "refund reasons", "Apple Pay button",
                 "invoice PDF download", "partial captures", "tax rounding", "payment retry banner"],
    "utils": ["date formatting helpers", "money formatter", "retry helper", "feature flag client"],
    "charges": ["idempotency keys", "partial captures", "charge metadata", "currency conversion",
                "charge search", "capture timeouts"],
    "refunds": ["partial refunds", "refund reasons", "refund webhooks", "refund reconciliation"],
    "webhooks": ["signature verification", "webhook replay", "dead-letter queue", "event deduplication"],
    "ledger": ["double-entry postings", "daily settlement report", "ledger snapshots", "balance checks"],
}
FIX_PHRASES = ["handle null {t}", "prevent double submit in {t}", "race condition in {t}", "wrong rounding in {t}",
               "crash when {t} is empty", "off-by-one in {t}", "stale cache for {t}", "timeout in {t}"]
PLAIN = ["WIP", "address review comments", "tweak styles", "cleanup", "more tests", "small fixes",
         "update copy", "fix lint"]
GITMOJI = {"feat": "✨", "fix": "🐛", "refactor": "♻️", "perf": "⚡️", "docs": "📝", "test": "✅", "chore": "🔧",
           "ci": "👷"}
GITMOJI_CODES = {"feat": "sparkles", "fix": "bug", "refactor": "recycle", "perf": "zap", "docs": "memo",
                 "test": "white_check_mark", "chore": "wrench", "ci": "construction_worker"}


def pick_kind(rng: random.Random, frac: float) -> str:
    """The kind of an ordinary change at ``frac`` (0..1) of the timeline: more fixes in the middle stretch."""
    p_fix = 0.22 if frac < 0.4 else 0.32 if frac < 0.75 else 0.14
    rest = 1.0 - p_fix
    weights = [p_fix] + [rest * w for w in (0.45, 0.15, 0.06, 0.1, 0.12, 0.09, 0.03)]
    return rng.choices(KINDS, weights)[0]


def commit_subject(rng: random.Random, person: Person, kind: str, scope: str, topic: str) -> str:
    """The subject line of a ``kind`` commit about ``topic`` in ``scope``, in ``person``'s style."""
    r = rng
    if kind == "fix":
        desc = r.choice(FIX_PHRASES).format(t=topic)
    elif kind == "feat":
        desc = f"{r.choice(['add', 'support', 'introduce'])} {topic}"
    elif kind == "refactor":
        desc = f"{r.choice(['extract', 'simplify', 'split up', 'rename'])} {topic} {r.choice(['logic', 'module', 'helpers'])}"
    elif kind == "perf":
        desc = f"{r.choice(['cache', 'memoize', 'batch queries for'])} {topic}"
    elif kind == "docs":
        desc = f"document {topic}"
    elif kind == "test":
        desc = f"cover {topic}"
    elif kind == "ci":
        desc = r.choice(["cache dependencies in CI", "run tests on pull requests", "split lint job"])
    else:
        desc = r.choice(["tidy config", "update .gitignore", "bump tooling", "remove dead code"])
    style = person.style
    if style == "mixed":
        style = r.choice(["conventional", "conventional", "plain", "gitmoji"])
    if style == "conventional" or kind == "fix" and style != "plain" and r.random() < 0.5:
        scoped = r.random() < 0.75 and kind not in ("ci", "chore")
        return f"{kind}({scope}): {desc}" if scoped else f"{kind}: {desc}"
    if style == "gitmoji":
        if r.random() < 0.25:
            return f":{GITMOJI_CODES.get(kind, 'wrench')}: {desc}"
        return f"{GITMOJI.get(kind, '🔧')} {desc}"
    if r.random() < 0.08:
        return r.choice(PLAIN)
    return desc[0].upper() + desc[1:]
