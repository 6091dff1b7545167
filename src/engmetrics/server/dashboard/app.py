"""The dashboard as an MCP App (the ``io.modelcontextprotocol/ui`` extension): one self-contained HTML resource.

``dashboard.html`` (markup and CSS) and ``dashboard.js`` ship in this package and are served as one document of
type ``text/html;profile=mcp-app``: no CDN, no network (``connect-src 'none'``), and a Content-Security-Policy
that admits only this document's own inline script and style by their SHA-256 hashes. The tools in
`DASHBOARD_TOOLS` name it in their ``_meta.ui.resourceUri``; a host that renders Apps shows their results there,
drawn from the tool result itself (structured content, and for get_dora ``_meta["engmetrics/dashboard"]``,
`engmetrics.server.dashboard.data`). Hosts without Apps read the text content as usual. This module imports only
the SDK: it is built with the server, before the handshake.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources

from mcp.server.apps import Apps

DASHBOARD_URI = "ui://engmetrics/dashboard"
DASHBOARD_TOOLS: frozenset[str] = frozenset({"get_dora", "get_metric_series", "forecast_delivery", "score_pr_risk"})
"""The tools whose results the dashboard draws."""
DASHBOARD_META = "engmetrics/dashboard"
"""The result `_meta` key of the extra data get_dora sends to hosts that render Apps."""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@cache
def dashboard_html() -> str:
    """The dashboard document: ``dashboard.html`` with ``dashboard.js`` inlined and its CSP filled with the hashes
    of its one script and one style."""
    here = resources.files(__package__ or "engmetrics.server.dashboard")
    page = (here / "dashboard.html").read_text(encoding="utf-8")
    script = (here / "dashboard.js").read_text(encoding="utf-8")
    style = page[page.index("<style>") + len("<style>"):page.index("</style>")]
    csp = (f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(style)}; img-src data:; "
           "connect-src 'none'; font-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'none'; "
           "form-action 'none'")
    return page.replace("{{CSP}}", csp).replace("<script></script>", f"<script>{script}</script>")


def tool_meta(name: str) -> dict[str, object] | None:
    """The `_meta` a tool carries: the dashboard's URI for the tools it draws."""
    return {"ui": {"resourceUri": DASHBOARD_URI}} if name in DASHBOARD_TOOLS else None


def apps_extension() -> Apps:
    """The Apps extension of the server: the dashboard resource (advertises ``io.modelcontextprotocol/ui``)."""
    apps = Apps()
    apps.add_html_resource(
        DASHBOARD_URI, dashboard_html(), name="dashboard", title="engmetrics dashboard",
        description="DORA figures with tier bands and weekly trends, the deployments timeline, the forecast fan and "
                    "a change's risk breakdown, drawn from the result of get_dora, get_metric_series, "
                    "forecast_delivery or score_pr_risk",
        prefers_border=True,
    )
    return apps
