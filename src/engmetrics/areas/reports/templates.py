"""Where the prompts folder is, and the report templates in it (``prompts/templates/report-<audience>.md``,
Markdown with ``{placeholder}`` fields that `metrics.report.compose` fills); built-in templates stand in
when the folder or a file is missing."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from engmetrics.areas.reports.models import Audience

_PACKAGE = Path(__file__).resolve().parents[2]  # …/engmetrics, installed or in a checkout's src/

_DEFAULT_TEMPLATES = {
    "team": "# {title}\n\n{summary}\n\n## Headline numbers\n\n{headline}\n\n## What shipped\n\n{shipped}\n\n"
    "## Risks and incidents\n\n{risks}\n\n## Insights\n\n{insights}\n\n## What to watch\n\n{watch}\n",
    "leaders": "# {title}\n\n{summary}\n\n## Delivery outcomes\n\n{headline}\n\n## Delivered\n\n{shipped_summary}\n\n"
    "## Risks\n\n{risks_summary}\n\n## Trends\n\n{insights_top}\n\n## What to watch\n\n{watch}\n",
    "customers": "# {title}\n\n{customer_intro}\n\n## New\n\n{features}\n\n## Improved\n\n{improvements}\n\n"
    "## Fixed\n\n{fixes}\n",
}


def prompts_dir() -> Path | None:
    """The prompts folder: ``engmetrics/_prompts`` in an installed package, else the checkout's ``prompts/``."""
    for candidate in (_PACKAGE / "_prompts", _PACKAGE.parents[1] / "prompts"):
        if candidate.is_dir():
            return candidate
    return None


@lru_cache(maxsize=8)
def template(audience: Audience) -> str:
    """The report template for ``audience`` (prompts/templates/report-<audience>.md, else the built-in one)."""
    base = prompts_dir()
    if base is not None:
        path = base / "templates" / f"report-{audience}.md"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return _DEFAULT_TEMPLATES[audience]
