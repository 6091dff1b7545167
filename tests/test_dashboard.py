"""The MCP App dashboard and the HTML report, drawn in a real browser (the system's Chromium, driven by
Playwright; `.ci/run` installs it).

Real tool results come from the demo through a real MCP client that renders Apps (it advertises
``io.modelcontextprotocol/ui``); the dashboard's HTML comes from the server by ``resources/read``. A small host
page loads it in a sandboxed iframe, answers its ``ui/initialize``, posts the tool input and result, and the test
reads what the app drew: tiles, tier bands, points, bars, labels, against the numbers of the result. One browser
serves the whole module. Screenshots go to ``ENGMETRICS_SCREENSHOTS`` (a folder) when set, e.g. ``bench/results``.
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.extension import advertise

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.dashboard.app import DASHBOARD_META, DASHBOARD_TOOLS, DASHBOARD_URI
from engmetrics.server.runtime import Runtime
from helpers import copy_store

CHROMIUM = os.environ.get("ENGMETRICS_CHROMIUM", "/usr/bin/chromium")
APPS = advertise("io.modelcontextprotocol/ui", {"mimeTypes": ["text/html;profile=mcp-app"]})

HOST_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>test host</title></head><body>
<iframe id="app" sandbox="allow-scripts" width="700" height="600"></iframe>
<script>
window.hostLog = [];
window.loadApp = (html, toolName, args, result) => {
  const frame = document.getElementById("app");
  window.addEventListener("message", (event) => {
    if (event.source !== frame.contentWindow) return;
    const m = event.data;
    window.hostLog.push(m.method || ("response " + m.id));
    const post = (message) => frame.contentWindow.postMessage(message, "*");
    if (m.method === "ui/initialize") post({jsonrpc: "2.0", id: m.id, result: {protocolVersion: "2026-01-26",
      hostInfo: {name: "engmetrics-test-host", version: "1"}, hostCapabilities: {},
      hostContext: {theme: "light", displayMode: "inline", toolInfo: {tool: {name: toolName}}}}});
    if (m.method === "ui/notifications/initialized") {
      post({jsonrpc: "2.0", method: "ui/notifications/tool-input", params: {arguments: args}});
      post({jsonrpc: "2.0", method: "ui/notifications/tool-result", params: result});
    }
    if (m.method === "ui/notifications/size-changed") frame.height = String(Math.max(200, m.params.height + 20));
  });
  frame.srcdoc = html;
};
</script></body></html>"""

CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "dora": ("get_dora", {"repo": "webapp", "period": "last_90_days"}),
    "series": ("get_metric_series", {"metric": "lead_time", "repo": "webapp", "period": "last_90_days"}),
    "forecast": ("forecast_delivery", {"items": 30, "repo": "webapp"}),
    "by_date": ("forecast_delivery", {"by_date": "2027-06-30", "repo": "webapp"}),
    "risk": ("score_pr_risk", {"repo": "webapp", "base": "v2.12.0", "head": "HEAD"}),
}


@pytest.fixture(scope="module")
def demo_results(demo_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Real results from the demo, through a client that renders Apps: each call's wire result, the dashboard
    HTML read from the server, the tools' `_meta`, and an HTML report."""
    db = copy_store(demo_workspace / "engmetrics.db", tmp_path_factory.mktemp("dash") / "engmetrics.db")

    async def collect() -> dict[str, Any]:
        engine = LocalEngine(Settings(db=db, sync_max_age_seconds=1e9))
        out: dict[str, Any] = {}
        try:
            async with Client(build_server(Runtime(engine, sync_on_start=False)), extensions=[APPS]) as client:
                tools = (await client.list_tools()).tools
                out["tools"] = {t.name: t.meta for t in tools}
                out["icons"] = {t.name: [i.src for i in t.icons or []] for t in tools}
                out["titles"] = {t.name: t.title for t in tools}
                server = client.server_info
                out["server_icons"] = [i.src for i in (server.icons or [])] if server else []
                out["server_title"] = server.title if server else None
                read = await client.read_resource(DASHBOARD_URI)
                out["html"] = read.contents[0].text
                out["mime"] = read.contents[0].mime_type
                out["resource_meta"] = read.contents[0].meta
                for key, (tool, args) in CALLS.items():
                    result = await client.call_tool(tool, args)
                    assert not result.is_error, (key, result.content)
                    out[key] = result.model_dump(by_alias=True, mode="json", exclude_none=True)
                report = await client.call_tool("generate_report", {"audience": "team", "format": "html",
                                                                    "repo": "webapp", "period": "last_90_days"})
                out["report"] = report.structured_content["report"]["content"]
            async with Client(build_server(Runtime(engine, sync_on_start=False))) as plain:  # no Apps
                out["plain_dora"] = (await plain.call_tool(*CALLS["dora"])).model_dump(by_alias=True, exclude_none=True)
        finally:
            engine.store.close()
        return out

    with ThreadPoolExecutor(1) as pool:  # its own thread: Playwright's sync API may hold this one's event loop
        return pool.submit(anyio.run, collect).result()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium (the system's) for the module."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip("no Chromium on this machine: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright  # lazy: only the browser tests need it

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


def draw(browser: Any, html: str, tool: str, args: dict[str, Any], result: dict[str, Any], shot: str) -> Any:
    """Load the app in the host page, post the result; the app's frame once it has drawn (and the console errors)."""
    page = browser.new_page(viewport={"width": 760, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(HOST_PAGE)
    page.evaluate("([html, tool, args, result]) => window.loadApp(html, tool, args, result)", [html, tool, args, result])
    frame = page.frame_locator("#app")
    frame.locator(f"body[data-rendered='{tool}']").wait_for(timeout=15_000)
    folder = os.environ.get("ENGMETRICS_SCREENSHOTS")
    if folder:
        page.locator("#app").screenshot(path=str(Path(folder) / f"dashboard-{shot}.png"))
    return page, frame, errors


def known(values: list[Any]) -> int:
    return sum(1 for v in values if v is not None)


def test_the_dashboard_is_an_app_resource_linked_from_its_tools(demo_results: dict[str, Any]) -> None:
    assert demo_results["mime"] == "text/html;profile=mcp-app"
    html = demo_results["html"]
    assert "<script src" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "script-src 'sha256-" in html and "connect-src 'none'" in html
    linked = {name for name, meta in demo_results["tools"].items() if meta and meta.get("ui")}
    assert linked == set(DASHBOARD_TOOLS) & set(demo_results["tools"])
    assert all(demo_results["tools"][n]["ui"]["resourceUri"] == DASHBOARD_URI for n in linked)
    # get_dora's picture data goes to hosts that render Apps only, never into what a model reads.
    assert DASHBOARD_META in demo_results["dora"]["_meta"]
    assert DASHBOARD_META not in (demo_results["plain_dora"].get("meta") or {})
    assert "weekly" not in demo_results["dora"]["content"][0]["text"]


def test_dora_tiles_tier_bands_trends_and_deployments_timeline(browser: Any, demo_results: dict[str, Any]) -> None:
    result = demo_results["dora"]
    dora, extra = result["structuredContent"], result["_meta"][DASHBOARD_META]
    page, frame, errors = draw(browser, demo_results["html"], "get_dora", CALLS["dora"][1], result, "dora")
    tiles = frame.locator(".tile")
    assert tiles.count() == 5
    for metric in ("deployment_frequency", "lead_time", "change_failure_rate", "mttr", "rework_rate"):
        tile = frame.locator(f".tile[data-metric='{metric}']")
        figure = dora[metric]
        rating = tile.locator(".rating").inner_text()
        assert rating == (figure["rating"] or "no rating"), metric
        assert tile.locator(".spark .point").count() == known([p["value"] for p in extra["weekly"][metric]]), metric
        bands = tile.locator(".tier-band .band").count()
        assert (bands >= 2) if metric in extra["tiers"] else bands == 0, metric
        if figure["trend"]:
            assert figure["trend"] in tile.locator(".trend").inner_text(), metric
    deployments = extra["deployments"]
    failed = [d for d in deployments if d["failed"]]
    assert frame.locator(".timeline circle.deploy").count() == len(deployments) > 5
    assert extra["deployments_total"] == dora["deployment_frequency"]["deployments"] == len(deployments)
    assert frame.locator(".timeline circle.deploy.failed").count() == len(failed) >= 1
    labels = frame.locator(".timeline .label.why").all_text_contents()
    for d in failed:
        assert any(label.startswith(d["tag"]) and (d["signal"] or "failed") in label for label in labels), (d, labels)
    assert "INC-" in " ".join(frame.locator(".failures li").all_inner_texts())
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    assert not errors, errors
    page.close()


def test_metric_series_over_its_tier_bands(browser: Any, demo_results: dict[str, Any]) -> None:
    result = demo_results["series"]
    series = result["structuredContent"]
    page, frame, errors = draw(browser, demo_results["html"], "get_metric_series", CALLS["series"][1], result, "series")
    assert frame.locator(".series-chart .point").count() == known([p["value"] for p in series["series"]]) > 5
    assert frame.locator(".series-chart .bg-band").count() >= 3
    assert "average" in " ".join(frame.locator(".series-chart .label").all_text_contents())
    assert not errors, errors
    page.close()


def test_forecast_fan(browser: Any, demo_results: dict[str, Any]) -> None:
    for key in ("forecast", "by_date"):
        result = demo_results[key]
        forecast = result["structuredContent"]
        page, frame, errors = draw(browser, demo_results["html"], "forecast_delivery", CALLS[key][1], result, key)
        assert frame.locator(".fan-chart polygon.fan").count() == 2
        assert frame.locator(".fan-chart .point").count() == len(forecast["fan"]) > 3
        labels = " ".join(frame.locator(".fan-chart .marker-label").all_text_contents())
        if key == "forecast":
            assert f"P85 {forecast['p85']}" in labels and f"P50 {forecast['p50']}" in labels
            assert f"{forecast['items']} items" in " ".join(frame.locator(".fan-chart .label").all_text_contents())
        else:
            assert f"P95: {forecast['p95']} items" in labels
        assert not errors, errors
        page.close()


def test_risk_breakdown(browser: Any, demo_results: dict[str, Any]) -> None:
    result = demo_results["risk"]
    risk = result["structuredContent"]
    page, frame, errors = draw(browser, demo_results["html"], "score_pr_risk", CALLS["risk"][1], result, "risk")
    moving = [n for n, s in risk["signals"].items() if abs(s["contribution"]) >= 0.05]
    bars = frame.locator(".contributions .bar")
    assert bars.count() == min(12, len(moving)) >= 2
    top = max(moving, key=lambda n: abs(risk["signals"][n]["contribution"]))
    assert frame.locator(f".contributions .bar[data-signal='{top}']").count() == 1
    positive = frame.locator(".contributions .bar.positive").count()
    assert positive == sum(1 for n in moving[:12] if risk["signals"][n]["contribution"] > 0) or positive >= 1
    assert frame.locator(".gauge .score").text_content() == f"{risk['risk_score']} — {risk['tier']}"
    assert risk["recommendation"][:40] in frame.locator(".note").first.inner_text()
    assert not errors, errors
    page.close()


def test_the_html_report_draws_the_same_charts_inline(browser: Any, demo_results: dict[str, Any]) -> None:
    """generate_report(format="html"): inline SVG tiles with tier bands and weekly trends, and the deployments
    timeline with failures marked, rendered by the browser with nothing fetched."""
    html = demo_results["report"]
    dora = demo_results["dora"]["structuredContent"]
    page = browser.new_page(viewport={"width": 900, "height": 1200})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.set_content(html)
    assert page.locator("svg.tier-band").count() == 4  # every rated DORA metric
    assert page.locator("svg.spark").count() == 5
    assert page.locator("svg.spark .point").count() > 20
    assert page.locator("svg.timeline circle.deploy").count() >= dora["deployment_frequency"]["deployments"]
    assert page.locator("svg.timeline circle.deploy.failed").count() == dora["change_failure_rate"]["failed_deployments"]
    labels = " ".join(page.locator("svg.timeline .why").all_text_contents())
    assert all(f["signal"] in labels for f in dora["change_failure_rate"]["failures"])
    boxes = [b for b in (page.locator("svg.timeline .why").nth(i).bounding_box()
                         for i in range(page.locator("svg.timeline .why").count())) if b is not None]
    assert len(boxes) >= 2
    for i, a in enumerate(boxes):  # as the browser drew them: no label over another
        for b in boxes[i + 1:]:
            apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                     or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
            assert apart, (a, b)
    assert [u for u in requests if not u.startswith(("about:", "data:"))] == []
    folder = os.environ.get("ENGMETRICS_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / "report-html.png"), full_page=True)
    page.close()
    print(json.dumps({"report_characters": len(html)}))


def test_server_and_tool_titles_and_icons_are_images(browser: Any, demo_results: dict[str, Any]) -> None:
    """Every tool has a title and an icon (its toolset's), the server too; each icon is an image a browser draws."""
    assert demo_results["server_title"] == "engmetrics" and demo_results["server_icons"]
    assert all(demo_results["titles"].values()) and all(demo_results["icons"].values())
    sources = sorted({*demo_results["server_icons"], *(src for icons in demo_results["icons"].values() for src in icons)})
    assert all(src.startswith("data:image/svg+xml,") for src in sources)
    page = browser.new_page()
    page.set_content("".join(f'<img id="i{n}" width="32" height="32">' for n in range(len(sources))))
    for n, src in enumerate(sources):
        page.evaluate("([id, src]) => { document.getElementById(id).src = src; }", [f"i{n}", src])
    page.wait_for_function("() => [...document.images].every((i) => i.complete)")
    drawn = page.evaluate("() => [...document.images].map((i) => i.naturalWidth > 0)")
    assert drawn == [True] * len(sources), sources
    page.close()
