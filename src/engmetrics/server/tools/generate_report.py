"""The generate_report tool (written by hand: before answering it may ask the client's model, through MCP
sampling, to polish the report's prose; every number in the polished text is checked against the report's facts)."""

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Resolve, Sample
from mcp_types import CreateMessageResult, SamplingMessage, TextContent, ToolAnnotations
from pydantic import Field

from engmetrics.areas.context import ProgressFn
from engmetrics.areas.reports.metrics.report import POLISH_SYSTEM, polish_request
from engmetrics.areas.reports.models import ReportRequest, ReportStatus
from engmetrics.errors import EngmetricsError
from engmetrics.operations import Tool
from engmetrics.queries import validate
from engmetrics.server.errors import user_errors
from engmetrics.server.runtime import Runtime
from engmetrics.server.tasks import Work
from engmetrics.server.toolsets import toolset_icon
from engmetrics.server.tools.generated import accepts_from, with_model_arguments

log = logging.getLogger("engmetrics.server")

GENERATE_REPORT_TOOL = Tool(
    title="Generate report",
    toolset="reports",
    read_only=False,
    description="""\
Write an engineering report from computed numbers: DORA figures with trends, what shipped, risks, incidents, \
insights and what to watch. audience: team, leaders or customers; format: markdown, slack, email or html (with \
charts). Complete from its templates; a client that offers sampling may polish the prose (kept only if every number \
checks out). Clients with tasks get a task ('generating', then 'ready'). Read it again with get_report; a \
'generating' answer (a remote provider) gives `estimated_seconds`: call get_report after that long.
Example: generate_report(audience="team", period="last_14_days", format="slack") → {"report_id": \
"rpt_3f2a9c0d1e4b", "status": "ready", "report": {"content": "*Engineering Update — …", ...}}
""",
)


REPORT_ARGUMENTS = ("audience", "period", "from_", "to", "format", "repo", "team")
"""The tool's arguments taken from `ReportRequest` (described there), in the order the tool lists them."""


def _arguments(ctx: Context) -> dict[str, Any]:
    """The tools/call arguments as the client sent them (wire names, e.g. 'from')."""
    params = ctx.request_context.params or {}
    args = params.get("arguments") if hasattr(params, "get") else None
    return dict(args or {})


def _text_of(result: CreateMessageResult | None) -> str:
    """The text the client's model answered ('' for none, or for an image or audio answer)."""
    if result is None or not isinstance(result.content, TextContent):
        return ""
    return result.content.text.strip()


def report_work(rt: Runtime) -> Callable[[dict[str, Any], ProgressFn], Awaitable[ReportStatus]]:
    """The report's work from the call's arguments (wire names): the report from its templates, complete without
    any model; progress says it is generating, with an estimate of how long that takes (the last report's time)."""
    took = [2.0]  # seconds the last report took here: the next one's estimate

    async def work(arguments: dict[str, Any], progress: ProgressFn) -> ReportStatus:
        q = validate(
            ReportRequest, audience=arguments.get("audience"), period=arguments.get("period"),
            from_=arguments.get("from"), to=arguments.get("to"), format=arguments.get("format"),
            repo=arguments.get("repo"), team=arguments.get("team"),
        )
        await rt.ready()
        await progress(0, None, f"generating (about {max(1, round(took[0]))} s)")
        started = time.monotonic()
        status = await rt.engine.reports.generate_report(q)
        took[0] = time.monotonic() - started
        await progress(1, 1, status.status)
        return status

    return work


def register_generate_report(mcp: MCPServer[Any], rt: Runtime) -> Work:
    """Add generate_report; its work, for the task path (`engmetrics.server.tasks`: a client with tasks gets a
    task, 'generating' then 'ready', and the report from the templates, no polish)."""
    run = report_work(rt)

    async def _quiet(done: float, total: float | None, message: str | None) -> None:
        return None

    # ---- generate_report: resolvers run before the body (the SDK asks the client's model in between) ----

    async def _generated(ctx: Context) -> ReportStatus:
        try:
            return await run(_arguments(ctx), _quiet)
        except EngmetricsError as exc:
            raise ToolError(exc.message) from None
        except ToolError:
            raise
        except Exception:
            log.exception("generate_report failed unexpectedly")
            raise ToolError(
                "engmetrics hit an internal error in generate_report; the server log (stderr) has the details."
            ) from None

    async def _polish(
        ctx: Context, polish: bool, generated: Annotated[ReportStatus, Resolve(_generated)]
    ) -> Sample | None:
        caps = ctx.client_capabilities
        if not polish or generated.report is None or caps is None or caps.sampling is None or not rt.is_local:
            return None
        draft = await rt.engine.reports.report_markdown(generated.report_id)
        text = polish_request(generated.report.audience, draft, generated.report.numbers)
        return Sample(
            [SamplingMessage(role="user", content=TextContent(type="text", text=text))],
            max_tokens=2000, system_prompt=POLISH_SYSTEM, temperature=0.3,
        )

    async def generate_report(
        *,
        polish: Annotated[bool, Field(description="Let the client's model polish the prose (numbers checked)")] = True,
        generated: Annotated[ReportStatus, Resolve(_generated)],
        polished: Annotated[CreateMessageResult | None, Resolve(_polish)] = None,
        **arguments: Any,  # ReportRequest's fields, read by `_generated` as the client sent them
    ) -> ReportStatus:
        status = generated
        text = _text_of(polished)
        if text and rt.is_local:
            report, unsupported = await rt.engine.reports.polish_report(status.report_id, text)
            notes = list(status.notes)
            if unsupported:
                notes.append(
                    "The client's model rewrote the report but cited numbers not in the facts "
                    f"({', '.join(unsupported[:5])}); the template text was kept."
                )
            else:
                notes.append("Polished by the client's model; every number checked against the facts.")
            status = ReportStatus(report_id=report.id, status=report.status, estimated_seconds=0, report=report, notes=notes)
        return status

    tool = user_errors(with_model_arguments(generate_report, ReportRequest, REPORT_ARGUMENTS))
    spec = GENERATE_REPORT_TOOL
    mcp.add_tool(
        accepts_from(tool), name="generate_report", title=spec.title, description=spec.description,
        icons=[toolset_icon(spec.toolset)],
        annotations=ToolAnnotations(read_only_hint=spec.read_only, destructive_hint=False,
                                    idempotent_hint=spec.idempotent, open_world_hint=spec.open_world),
    )
    return run
