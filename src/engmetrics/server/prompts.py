"""MCP prompts loaded from ``prompts/*.md``: Markdown with a small front matter.

    ---
    name: weekly-update
    description: A weekly engineering update for the team
    arguments:
      - name: repo
        description: Repository name (all when omitted)
        required: false
        default: all repositories
    ---
    Body text; {{repo}} is replaced by the argument (or its default).

The installed package reads them from ``engmetrics/_prompts`` (pyproject force-includes ``prompts/``
there); a source checkout from the repository's ``prompts/`` folder. ``prompts/templates/`` holds report
templates, not prompts.
"""

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument, UserMessage

from engmetrics.areas.reports.templates import prompts_dir
from engmetrics.server.runtime import Runtime

log = logging.getLogger("engmetrics.server")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass
class PromptFile:
    """One prompt file: its front matter and body."""

    name: str
    description: str
    body: str
    title: str | None = None
    arguments: list[dict[str, Any]] = field(default_factory=list)


def _scalar(text: str) -> Any:
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        return t[1:-1]
    if t.lower() in ("true", "yes"):
        return True
    if t.lower() in ("false", "no"):
        return False
    return t


def parse_prompt(text: str, fallback_name: str = "prompt") -> PromptFile:
    """Parse front matter (``key: value`` lines and an ``arguments:`` list of mappings) and body.

    Raises ValueError naming the problem when the front matter is missing or malformed.
    """
    if not text.startswith("---"):
        raise ValueError("missing front matter (a '---' line, key: value lines, '---')")
    end = text.find("\n---", 3)
    if end < 0:
        raise ValueError("front matter is not closed by a '---' line")
    head, body = text[3:end], text[end + 4:].lstrip("\n")
    meta: dict[str, Any] = {}
    args: list[dict[str, Any]] = []
    in_args = False
    for raw in head.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if in_args and raw.startswith((" ", "\t", "-")):
            line = raw.strip()
            if line.startswith("- "):
                args.append({})
                line = line[2:]
            if not args or ":" not in line:
                raise ValueError(f"bad argument line {raw!r}")
            key, _, value = line.partition(":")
            args[-1][key.strip()] = _scalar(value)
            continue
        in_args = False
        key, sep, value = raw.partition(":")
        if not sep:
            raise ValueError(f"bad front matter line {raw!r}")
        if key.strip() == "arguments" and not value.strip():
            in_args = True
            continue
        meta[key.strip()] = _scalar(value)
    for a in args:
        if "name" not in a:
            raise ValueError("every argument needs a name")
    return PromptFile(
        name=str(meta.get("name") or fallback_name), description=str(meta.get("description") or ""),
        title=meta.get("title"), body=body, arguments=args,
    )


def render(prompt: PromptFile, values: dict[str, Any]) -> str:
    """The body with ``{{arg}}`` replaced by the given value, else the argument's default, else 'not given'."""
    defaults = {a["name"]: a.get("default") for a in prompt.arguments}

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        value = values.get(key)
        if value in (None, ""):
            value = defaults.get(key)
        return str(value) if value not in (None, "") else "not given"

    return _PLACEHOLDER.sub(sub, prompt.body)


def load_prompts(folder: Path | None = None) -> list[PromptFile]:
    """Every valid ``*.md`` prompt in ``folder`` (default: the packaged or checkout prompts), sorted by name."""
    folder = folder or prompts_dir()
    if folder is None:
        log.warning("no prompts folder found: no MCP prompts are served")
        return []
    out = []
    for path in sorted(folder.glob("*.md")):
        try:
            out.append(parse_prompt(path.read_text(encoding="utf-8"), path.stem))
        except (ValueError, OSError) as exc:
            log.warning("skipping prompt %s: %s", path.name, exc)
    return out


def register_prompts(mcp: MCPServer[Any], rt: Runtime) -> None:
    """Add each prompt file as an MCP prompt."""
    for pf in load_prompts():

        def make(p: PromptFile) -> Any:
            def fn(**kwargs: Any) -> list[UserMessage]:
                return [UserMessage(render(p, kwargs))]

            return fn

        mcp.add_prompt(
            Prompt(
                name=pf.name, title=pf.title, description=pf.description, fn=make(pf),
                arguments=[
                    PromptArgument(name=a["name"], description=a.get("description"), required=bool(a.get("required", False)))
                    for a in pf.arguments
                ],
            )
        )
