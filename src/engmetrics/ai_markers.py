"""What a commit's own text says about AI assistance: AI co-author trailers and "Generated with …" markers.

The one rule, shared by the AI-impact area (commits marked by git alone: a lower bound of AI assistance) and change
risk (its ``ai_share`` signal). A commit is **AI-marked** when it names an AI tool in one of these places:

- a ``Co-authored-by:`` trailer or line whose name, GitHub account (a ``…@users.noreply.github.com`` address) or
  known AI address names a tool of the list
  (default `DEFAULT_AI_TOOLS`; ``ENGMETRICS_AI_MARKERS`` replaces it): ``Co-authored-by: Claude
  <noreply@anthropic.com>``, ``Co-authored-by: Copilot <…+Copilot@users.noreply.github.com>``, ``Co-authored-by:
  aider (gpt-4o) <noreply@aider.chat>``;
- an AI-specific trailer (``Made-with:``, ``Generated-by:``, ``Generated-with:``, ``Assisted-by:``, ``AI-assisted:``,
  ``AI-agent:``, ``Coding-agent:``) or a line "Generated with …" / "Created with …" / "Made with …" whose first words
  name a tool of the list or one of `AI_CONTEXT_TOOLS` (names that are also people's first names, such as Claude or
  Devin, count only there): ``Made-with: Cursor``, ``🤖 Generated with [Claude Code](https://claude.com/claude-code)``;
- the commit's author name or GitHub account naming a tool of the list (``Copilot``, ``Paul Gauthier (aider)``,
  ``devin-ai-integration[bot]``), or a known AI address (``cursoragent@cursor.com``).

Names match as whole words, case-insensitively (``cursor-based`` is not Cursor). Other email addresses never count,
neither their domain nor their user part: a person at cursor.com, or one who writes as aider@example.org, is a
person; only the known AI addresses of `KNOWN_AI_EMAILS` and GitHub's noreply addresses (whose user part is the
account) are read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

DEFAULT_AI_TOOLS: tuple[str, ...] = (
    "claude code", "copilot", "cursor", "cursoragent", "codex", "openai", "chatgpt", "gpt-4", "gpt-4o", "gpt-5",
    "aider", "devin-ai", "devin ai", "devin-ai-integration", "gemini", "windsurf", "codeium", "amazon q", "codewhisperer", "tabnine",
    "sourcegraph cody", "google-labs-jules", "cline", "roo code", "opencode", "qodo",
)
"""The AI tools a marker may name (lowercase), unless ``ENGMETRICS_AI_MARKERS`` gives another list."""

AI_CONTEXT_TOOLS: tuple[str, ...] = ("claude", "devin", "jules", "cody")
"""Tools whose names are also people's names: they count only in AI-specific trailers and "Generated with" lines."""

KNOWN_AI_EMAILS: dict[str, str] = {
    "noreply@anthropic.com": "claude",
    "cursoragent@cursor.com": "cursor",
    "noreply@aider.chat": "aider",
}
"""Addresses AI tools sign co-author trailers with, and the tool each stands for."""

CO_AUTHOR_KEY = "co-authored-by"
AI_KEYS: tuple[str, ...] = (
    "made-with", "generated-by", "generated-with", "assisted-by", "ai-assisted", "ai-agent", "coding-agent",
)
"""Trailer keys that only ever name AI tools."""

CANONICAL: dict[str, str] = {
    "claude code": "claude", "cursoragent": "cursor", "devin ai": "devin", "devin ai integration": "devin", "google labs jules": "jules",
    "sourcegraph cody": "cody", "gpt 4": "openai", "gpt 4o": "openai", "gpt 5": "openai", "chatgpt": "openai",
    "codeium": "windsurf",
}
"""How a matched name (lowercase, '-' and '_' as spaces) is reported: the product it stands for."""

_EMAIL = re.compile(r"<?([^\s<>@]+)@([^\s<>]+?)>?(?=\s|$)")
GITHUB_NOREPLY = "users.noreply.github.com"


def _alternatives(names: Sequence[str]) -> re.Pattern[str]:
    """Whole-word, case-insensitive match of any of ``names`` (spaces match spaces, '-' or '_')."""
    ordered = sorted({n.strip().lower() for n in names if n and n.strip()}, key=len, reverse=True)
    if not ordered:
        return re.compile(r"(?!x)x")  # matches nothing
    alts = "|".join(re.escape(n).replace(r"\ ", r"[\s_-]+") for n in ordered)
    return re.compile(rf"(?<![\w-])({alts})(?![\w-])", re.IGNORECASE)


class AiMarkers:
    """The marker rule for one list of tool names (see the module docstring)."""

    def __init__(self, tools: Sequence[str] = DEFAULT_AI_TOOLS) -> None:
        self.tools: tuple[str, ...] = tuple(sorted({t.strip().lower() for t in tools if t and t.strip()}))
        self._tool = _alternatives(self.tools)
        self._ai_context_tool = _alternatives((*self.tools, *AI_CONTEXT_TOOLS))
        keys = "|".join(re.escape(k) for k in (CO_AUTHOR_KEY, *AI_KEYS))
        self._key_line = re.compile(rf"^[ \t]*({keys})[ \t]*:(.*)$", re.IGNORECASE | re.MULTILINE)
        self._generated_line = re.compile(
            r"^\W*(?:generated|created|written|made|authored)\s+(?:with|by|using)\s+(?:the\s+)?\[?(.*)$",
            re.IGNORECASE | re.MULTILINE,
        )

    @staticmethod
    def _canonical(name: str) -> str:
        key = re.sub(r"[\s_-]+", " ", name.lower())
        return CANONICAL.get(key, key)

    def _who(self, value: str, pattern: re.Pattern[str]) -> str | None:
        """The tool a trailer value or an author ("Name <email>", "Name email" or free text) names: a known AI
        address, else its text with GitHub noreply addresses reduced to their account and other addresses dropped."""
        for m in _EMAIL.finditer(value):
            address = f"{m.group(1)}@{m.group(2)}".lower()
            if address in KNOWN_AI_EMAILS:
                return KNOWN_AI_EMAILS[address]

        def account(m: re.Match[str]) -> str:
            return " " + m.group(1).split("+", 1)[-1] + " " if m.group(2).lower() == GITHUB_NOREPLY else " "

        text = _EMAIL.sub(account, value)
        found = pattern.search(text)
        return None if found is None else self._canonical(found.group(1))

    def _key_value(self, key: str, value: str) -> str | None:
        pattern = self._tool if key.strip().lower() == CO_AUTHOR_KEY else self._ai_context_tool
        return self._who(value, pattern)

    def tool_of(self, message: str, trailers: Sequence[Sequence[str]] = (), author: str = "") -> str | None:
        """The AI tool (its product name, lowercase: 'claude', 'cursor', 'copilot'…) a commit's message, trailers
        (``[key, value]`` pairs) or author ("Name email") names — marker lines first, then trailers, then the
        author — or None when it names none."""
        text = message or ""
        for m in self._key_line.finditer(text):
            if tool := self._key_value(m.group(1), m.group(2)):
                return tool
        for m in self._generated_line.finditer(text):
            head = " ".join(m.group(1).split()[:3])
            if (found := self._ai_context_tool.match(head.lstrip("[("))) is not None:
                return self._canonical(found.group(1))
        for pair in trailers:
            if len(pair) >= 2 and pair[0].strip().lower() in (CO_AUTHOR_KEY, *AI_KEYS):
                if tool := self._key_value(pair[0], pair[1]):
                    return tool
        return self._who(author, self._tool) if author else None

    def is_marked(self, message: str, trailers: Sequence[Sequence[str]] = (), author: str = "") -> bool:
        """Whether the commit is AI-marked (`tool_of` names a tool)."""
        return self.tool_of(message, trailers, author) is not None


@functools.lru_cache(maxsize=8)
def markers_for(tools: tuple[str, ...] | None = None) -> AiMarkers:
    """The (cached) rule for ``tools``; the default list `DEFAULT_AI_TOOLS` when None or empty."""
    return AiMarkers(tools or DEFAULT_AI_TOOLS)
