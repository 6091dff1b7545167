"""Toolsets: which MCP tools a server offers (`engmetrics serve --toolsets`, ``ENGMETRICS_TOOLSETS``).

An agent pays for every tool it is offered, on every turn: the whole `tools/list` result (sizes are measured in
characters; ~4 characters a token). Each tool declares its toolset (`engmetrics.operations.Tool.toolset`); a
server offers the tools of the toolsets chosen, ``default`` unless told otherwise, ``all`` for every tool.
``core`` (the repositories and sync) is always offered.
"""

from __future__ import annotations

from collections.abc import Iterable

from engmetrics.errors import InvalidInput
from engmetrics.validation import sentence, unknown_name_message

TOOLSETS: dict[str, str] = {
    "core": "The repositories and their sync (always offered)",
    "dora": "DORA figures, their weekly or monthly series and the DORA report's tiers",
    "delivery": "What shipped and what broke: deployments, incidents, the changelog",
    "risk": "Change risk: score a branch, range, commit or PR; the riskiest recent changes",
    "forecast": "Monte Carlo delivery and backlog forecasts",
    "reports": "Reports for an audience, in markdown, Slack, email or HTML with charts",
    "insights": "Health scorecards and what stands out in the weekly series",
    "flow": "Pull requests, cycle time, code review, value stream, stuck PRs, teams",
    "activity": "The activity feed and one contributor's work",
    "ai": "AI-assisted code: its share and its stability",
    "alerts": "Alerts on the metrics",
    "health": "Health and risk signals",
    "metrics": "Custom metrics",
}
"""Every toolset, with what it is for (README "Toolsets" lists their tools)."""

ALWAYS = "core"
DEFAULT_TOOLSETS: tuple[str, ...] = ("core", "dora", "delivery", "risk", "forecast", "reports")
"""Offered when nothing is chosen: the tools that answer the common questions (DORA, what shipped, how risky,
when done, write the update)."""


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
