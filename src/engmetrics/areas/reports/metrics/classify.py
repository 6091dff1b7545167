"""Classify commits (and PR titles) for the changelog by their words and the files they touched.

Rules, first match wins (5 then corrects what the words said by what the files say):

1. **Noise** (grouped, never listed): merge commits that are not pull-request merges ("merges");
   dependency bumps — ``Bump x from 1 to 2``, ``chore(deps)``/``build(deps)``, ``Update dependency x``,
   ``deps:``, gitmoji ⬆️/⬇️/📌/➕/➖ ("dependencies"); release housekeeping — ``Update release notes``,
   ``Update changelog``, ``Release v1.2``, ``Release version 1.2``, ``Start version 1.3``, ``Bump version``, ``chore(release)``, 🔖 ("release_chores");
   translation syncs — ``Translated using Weblate``, ``New Crowdin updates``, ``Update translations``,
   ``i18n sync``, 🌐 ("translations"); any other commit by a bot author (name or email containing
   ``[bot]``, dependabot, renovate, github-actions) ("bots").
2. **Conventional commits** ``type(scope)!: text``: feat/feature → features; fix/bugfix/hotfix → fixes;
   perf/refactor/style/improve/improvement/enhance → improvements; docs/doc → docs; security/sec →
   security; test/tests → tests; revert/build/ci/chore → other. ``!`` or a ``BREAKING CHANGE:`` footer
   marks it breaking.
3. **Gitmoji** (emoji or ``:code:``) at the start: ✨ 🎉 → features; 🐛 🚑 🩹 → fixes; ⚡ ♻️ 🎨 💄 🚸
   ♿ 🔥 🚨 → improvements; 📝 💡 → docs; 🔒 🔐 → security; 💥 → breaking (features); ✅ → tests;
   👷 💚 🔧 🙈 → other.
4. **Keywords** in plain subjects: a security word (security, CVE-, vulnerability, XSS, CSRF, injection)
   → security; a fix word (`engmetrics.commits.is_fix`) → fixes; starting with
   Add/Introduce/Implement/Support/Allow/Enable/New/Create → features; improve/optimi[sz]e/speed up/
   faster/refactor/clean up/simplify/performance/update → improvements; docs/documentation/README/typo
   → docs; anything else → other.
5. **Files** (when the commit's paths are known; a pull request merge stands for the files of the commits
   it brought in): a commit that changed no product file (`engmetrics.filekinds`: only documentation,
   tests, CI configuration and repository metadata such as LICENSE or CHANGELOG) is not a feature, fix,
   improvement or security change, whatever its words. Metadata aside, documentation only → docs; tests
   only → tests; anything else (CI only, metadata only, a mix) → what the words said if that was docs or
   tests, else other. "Add FAQ entry" touching ``docs/faq.md`` is docs, "Add tests for X" touching
   ``tests/`` is tests, "Fix the CI matrix" touching ``.github/workflows/`` is other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from typing import Literal, TypeVar

from engmetrics.areas.reports.models import Category, NoiseKind
from engmetrics.bots import is_bot
from engmetrics.commits import is_fix
from engmetrics.filekinds import NON_PRODUCT_KINDS, kind_of

T = TypeVar("T", bound=str)

_CONVENTIONAL = re.compile(r"^\s*(?P<type>[A-Za-z]+)(?:\((?P<scope>[^)]*)\))?(?P<bang>!)?\s*:\s*(?P<text>.*)$")
_CONV_TYPES: dict[str, Category] = {
    "feat": "features", "feature": "features", "features": "features",
    "fix": "fixes", "bugfix": "fixes", "hotfix": "fixes", "bug": "fixes",
    "perf": "improvements", "refactor": "improvements", "style": "improvements", "improve": "improvements",
    "improvement": "improvements", "enhance": "improvements", "enhancement": "improvements",
    "docs": "docs", "doc": "docs",
    "security": "security", "sec": "security",
    "test": "tests", "tests": "tests",
    "revert": "other", "build": "other", "ci": "other", "chore": "other",
}
# gitmoji: (emoji forms, :code:) → category; "breaking" marks breaking (category features)
_GITMOJI: list[tuple[tuple[str, ...], Category | Literal["breaking"]]] = [
    (("✨", ":sparkles:", "🎉", ":tada:"), "features"),
    (("🐛", ":bug:", "🚑", ":ambulance:", "🩹", ":adhesive_bandage:"), "fixes"),
    (("⚡", ":zap:", "♻", ":recycle:", "🎨", ":art:", "💄", ":lipstick:", "🚸", ":children_crossing:",
      "♿", ":wheelchair:", "🔥", ":fire:", "🚨", ":rotating_light:"), "improvements"),
    (("📝", ":memo:", "💡", ":bulb:"), "docs"),
    (("🔒", ":lock:", "🔐", ":closed_lock_with_key:"), "security"),
    (("💥", ":boom:"), "breaking"),
    (("✅", ":white_check_mark:"), "tests"),
    (("👷", ":construction_worker:", "💚", ":green_heart:", "🔧", ":wrench:", "🙈", ":see_no_evil:"), "other"),
]
_GITMOJI_NOISE: list[tuple[tuple[str, ...], NoiseKind]] = [
    (("⬆", ":arrow_up:", "⬇", ":arrow_down:", "📌", ":pushpin:", "➕", ":heavy_plus_sign:", "➖",
      ":heavy_minus_sign:"), "dependencies"),
    (("🔖", ":bookmark:"), "release_chores"),
    (("🌐", ":globe_with_meridians:"), "translations"),
]
_DEPENDENCY = re.compile(
    r"^\s*(?:bump\s+\S+\s+from\s+\S+\s+to\s+\S+|(?:chore|build|fix|ci)\(deps(?:-dev)?\)!?:|deps(?:\([^)]*\))?:"
    r"|update\s+dependency\b|update\s+dependencies\b|\[?snyk\]?\s+(?:upgrade|fix)|upgrade\s+\S+\s+from\s+\S+\s+to\b"
    r"|update\s+\S+\s+requirement\s+from\b)",
    re.IGNORECASE,
)
_RELEASE_CHORE = re.compile(
    r"^\s*(?:update\s+(?:the\s+)?(?:release\s+notes|changelog)|(?:chore\(release\)|release)\s*:?\s*(?:version\s+)?v?\d+\.\d+"
    r"|bump\s+(?:the\s+)?version|start\s+version\s+v?\d|prepare\s+(?:for\s+)?(?:release|v?\d+\.\d+)|chore\(release\)|version\s+bump"
    r"|v?\d+\.\d+\.\d+\s*$)",
    re.IGNORECASE,
)
_TRANSLATION = re.compile(
    r"(?:translated\s+using\s+weblate|new\s+crowdin\s+updates|update\s+translations?\b|i18n\s+sync|"
    r"sync\s+translations|translations?\s+update|l10n:\s)",
    re.IGNORECASE,
)
_MERGE = re.compile(r"^\s*Merge (?:branch|remote-tracking branch|pull request|tag|commit|[0-9a-f]{7,40})\b", re.I)
_SECURITY = re.compile(r"\b(?:security|CVE-\d|vulnerab\w*|XSS|CSRF|injection|sanitiz\w*)\b", re.IGNORECASE)
_FEATURE = re.compile(r"^\s*(?:add|adds|added|introduce[sd]?|implement(?:s|ed)?|support|allow|enable|new|create)\b", re.I)
_IMPROVEMENT = re.compile(
    r"\b(?:improve\w*|optimi[sz]\w*|speed\s+up|faster|refactor\w*|clean\s*up|simplif\w*|performance|update[sd]?|tweak\w*)\b",
    re.IGNORECASE,
)
_DOCS = re.compile(r"\b(?:docs?|documentation|readme|typos?|docstrings?)\b", re.IGNORECASE)
_BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE:", re.MULTILINE)
_SQUASH_SUFFIX = re.compile(r"\s*\(#\d+\)\s*$")


@dataclass(frozen=True, slots=True)
class Classified:
    """How one change is shown: ``noise`` set means grouped (not listed); else listed in ``category``."""

    category: Category
    title: str
    breaking: bool = False
    scope: str | None = None
    noise: NoiseKind | None = None


def _gitmoji(subject: str, table: Sequence[tuple[tuple[str, ...], T]]) -> tuple[T, str] | None:
    s = subject.lstrip()
    for forms, category in table:
        for form in forms:
            if s.startswith(form):
                rest = s[len(form):].lstrip("\ufe0f ").strip()
                return category, rest
    return None


def _tidy(text: str) -> str:
    text = _SQUASH_SUFFIX.sub("", text).strip()
    return text[:1].upper() + text[1:] if text else text


def category_by_files(paths: Iterable[str], by_words: Category) -> Category:
    """The category rule 5 gives a commit that touched ``paths`` and whose words said ``by_words``: unchanged
    when a product file is among them (or none is known), else docs, tests or other."""
    kinds = {kind_of(p) for p in paths if p}
    if not kinds or not kinds <= NON_PRODUCT_KINDS:
        return by_words
    kinds.discard("metadata")
    if kinds == {"docs"}:
        return "docs"
    if kinds == {"tests"}:
        return "tests"
    return by_words if by_words in ("docs", "tests") else "other"


def classify(subject: str, body: str = "", *, author: str = "", is_merge: bool = False,
             paths: Iterable[str] | None = None) -> Classified:
    """Classify one commit subject (or PR title) by the module's rules; ``author`` is 'name <email>',
    ``paths`` the repository paths it changed (None: unknown, words alone decide)."""
    found = _classify_words(subject, body, author=author, is_merge=is_merge)
    if found.noise or paths is None:
        return found
    category = category_by_files(paths, found.category)
    return found if category == found.category else replace(found, category=category)


def _classify_words(subject: str, body: str, *, author: str, is_merge: bool) -> Classified:
    subject = (subject or "").strip()
    if is_merge or _MERGE.match(subject):
        return Classified("other", subject, noise="merges")
    if _DEPENDENCY.match(subject):
        return Classified("other", subject, noise="dependencies")
    if _TRANSLATION.search(subject):
        return Classified("other", subject, noise="translations")
    if _RELEASE_CHORE.match(subject):
        return Classified("other", subject, noise="release_chores")
    noisy = _gitmoji(subject, _GITMOJI_NOISE)
    if noisy is not None:
        return Classified("other", subject, noise=noisy[0])
    if is_bot(author):
        return Classified("other", subject, noise="bots")

    breaking_footer = bool(_BREAKING_FOOTER.search(body or ""))
    m = _CONVENTIONAL.match(subject)
    if m and m.group("type").lower() in _CONV_TYPES:
        text = m.group("text")
        # A gitmoji after the prefix ("feat: ✨ x") is dropped from the title.
        emoji = _gitmoji(text, _GITMOJI)
        if emoji is not None:
            text = emoji[1]
        return Classified(
            _CONV_TYPES[m.group("type").lower()], _tidy(text), breaking=bool(m.group("bang")) or breaking_footer, scope=m.group("scope") or None
        )
    emoji = _gitmoji(subject, _GITMOJI)
    if emoji is not None:
        kind, text = emoji
        if kind == "breaking":
            return Classified("features", _tidy(text), breaking=True)
        return Classified(kind, _tidy(text), breaking=breaking_footer)
    text = _tidy(subject)
    category: Category
    if _SECURITY.search(subject):
        category = "security"
    elif is_fix(subject):
        category = "fixes"
    elif _FEATURE.match(subject):
        category = "features"
    elif _IMPROVEMENT.search(subject):
        category = "improvements"
    elif _DOCS.search(subject):
        category = "docs"
    else:
        category = "other"
    return Classified(category, text, breaking=breaking_footer)
