"""Toolsets: which MCP tools a server offers (`engmetrics serve --toolsets`, ``ENGMETRICS_TOOLSETS``).

An agent pays for every tool it is offered, on every turn: the whole `tools/list` result (sizes are measured in
characters; ~4 characters a token). Each tool declares its toolset (`engmetrics.operations.Tool.toolset`); a
server offers the tools of the toolsets chosen, ``default`` unless told otherwise, ``all`` for every tool.
``core`` (the repositories and sync) is always offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from mcp_types import Icon

from engmetrics.errors import InvalidInput
from engmetrics.validation import sentence, unknown_name_message

TOOLSETS: dict[str, str] = {
    "core": "The repositories and their sync (always offered)",
    "dora": "DORA figures and their weekly or monthly series",
    "delivery": "What shipped and what broke: deployments, incidents, the changelog",
    "risk": "Change risk: score a branch, range, commit or PR; the riskiest recent changes",
    "forecast": "Monte Carlo delivery and backlog forecasts",
    "reports": "Reports for an audience, in markdown, Slack, email or HTML with charts",
    "insights": "Health scorecards, the DORA report's tiers and what stands out in the weekly series",
    "flow": "Pull requests, cycle time, code review, value stream, stuck PRs, teams",
    "activity": "The activity feed and one contributor's work",
    "ai": "AI-assisted code: its share and its stability",
    "alerts": "Alerts on the metrics",
    "health": "Health and risk signals",
    "metrics": "Custom metrics",
}
"""Every toolset, with what it is for (README "Toolsets" lists their tools)."""

TOOLSET_ICONS: dict[str, str] = {
    "core": "M1 1h6v2H1zm0 3h6v3H1z",
    "dora": "M0 8V5h2v3zm3 0V1h2v7zm3 0V3h2v5z",
    "delivery": "M0 3h4V0l4 4-4 4V5H0z",
    "risk": "M4 0l4 8H0zm-.5 3v2h1V3zm0 3v1h1V6z",
    "forecast": "M0 8V6l3-3 2 2 3-4v7z",
    "reports": "M1 0h5l1 1v7H1zm1 2v1h4V2zm0 2v1h4V4z",
    "insights": "M4 1C2 1 0 4 0 4s2 3 4 3 4-3 4-3-2-3-4-3zm0 1.5a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3z",
    "flow": "M0 1h5l2 2-2 2H0l2-2zm1 4h5l2 2H3z",
    "activity": "M0 4h2l1-3 2 6 1-3h2v1H7l-2 3-2-6-1 2H0z",
}
"""Each toolset's icon: an 8×8 SVG path (the tools' ``icons``, 2025-11-25), kept tiny: every `tools/list` carries it."""
_DEFAULT_ICON = "M0 0h8v8H0zm2 2v4h4V2z"


def toolset_icon(toolset: str) -> Icon:
    """The icon of ``toolset``'s tools, as a self-contained SVG data URI (a square for a toolset without one)."""
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8'><path d='{TOOLSET_ICONS.get(toolset, _DEFAULT_ICON)}'/></svg>"
    return Icon(src="data:image/svg+xml," + quote(svg, safe=" '=/:.,-"), mime_type="image/svg+xml")


ALWAYS = "core"
DEFAULT_TOOLSETS: tuple[str, ...] = ("core", "dora", "delivery", "risk", "forecast", "reports", "ai")
"""Offered when nothing is chosen: the tools that answer the common questions (DORA, what shipped, how risky,
when done, write the update, how much is AI-written)."""


def parse_toolsets(spec: str | Iterable[str] | None) -> frozenset[str] | None:
    """The toolsets ``spec`` names — a comma-separated string or names; ``default`` stands for `DEFAULT_TOOLSETS`
    and may be combined (``default,flow``) — always with ``core``; None for ``all`` (every tool).

    An unknown name raises `InvalidInput` naming the closest toolset and listing them all.
    """
    if spec is None:
        names = ["default"]
    elif isinstance(spec, str):
        names = [n.strip().lower() for n in spec.split(",") if n.strip()]
    else:
        names = [n.strip().lower() for n in spec if n.strip()]
    if not names:
        names = ["default"]
    if "all" in names:
        return None
    chosen = {ALWAYS}
    for name in names:
        if name == "default":
            chosen.update(DEFAULT_TOOLSETS)
        elif name in TOOLSETS:
            chosen.add(name)
        else:
            message = sentence(unknown_name_message(name, [*TOOLSETS, "default", "all"], noun="toolset"))
            raise InvalidInput(f"{message} 'default' is {', '.join(DEFAULT_TOOLSETS)}. Choose with --toolsets or "
                               "ENGMETRICS_TOOLSETS, comma-separated.")
    return frozenset(chosen)


def offered(toolset: str, chosen: frozenset[str] | None) -> bool:
    """Whether a tool of ``toolset`` is offered under ``chosen`` (`parse_toolsets`; None: every tool)."""
    return chosen is None or toolset in chosen
