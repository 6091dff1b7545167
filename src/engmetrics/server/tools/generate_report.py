"""The generate_report tool (written by hand: before answering it may ask the client's model, through MCP
sampling, to polish the report's prose; every number in the polished text is checked against the report's facts)."""

import logging
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Resolve, Sample
from mcp_types import CreateMessageResult, SamplingMessage, TextContent, ToolAnnotations
from pydantic import Field

from engmetrics.areas.reports.metrics.report import POLISH_SYSTEM, polish_request
from engmetrics.areas.reports.models import ReportRequest, ReportStatus
from engmetrics.errors import EngmetricsError
from engmetrics.queries import validate
from engmetrics.server.errors import user_errors
from engmetrics.server.runtime import Runtime
from engmetrics.server.tools.generated import accepts_from, with_model_arguments

log = logging.getLogger("engmetrics.server")

GENERATE = """\
Write an engineering report for an audience, grounded in computed numbers: headline DORA figures with trends, \
what shipped (from the changelog), risks and incidents, insights, and what to watch. audience: 'team' (full \
detail), 'leaders' (outcomes and trends, no commit lists) or 'customers' (features and fixes in plain words, \
nothing internal). format: 'markdown', 'slack' (Slack mrkdwn), 'email' (email-safe HTML) or 'html'.

Answers at once with `report_id`, `status` ('ready') and the report (`content`, `word_count`); it is stored and \
readable later with get_report or the resource report://<report_id>. Through a provider that writes reports itself \
(ENGMETRICS_PROVIDER=upshot) it may answer `status` 'generating' with the provider's `estimated_seconds` and no \
report yet: call get_report(report_id) after that long. When this client supports sampling and \
polish is true, the client's model is asked to polish the prose from the same facts; the rewrite is used only \
if every number in it appears in the facts (`report.polished` says which text you got).
Arguments: audience, period (default last_14_days) or from/to, format, repo or team, polish.
Example: generate_report(audience="team", from="2025-02-01", to="2025-02-15", format="slack") → \
{"report_id": "rpt_3f2a9c0d1e4b", "status": "ready", "report": {"content": "*Engineering Update — Feb 1–15*...", \
"word_count": 312}}
"""


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


def register_generate_report(mcp: MCPServer[Any], rt: Runtime) -> None:
    """Add generate_report."""

    # ---- generate_report: resolvers run before the body (the SDK asks the client's model in between) ----

    async def _generated(ctx: Context) -> ReportStatus:
        args = _arguments(ctx)
        try:
            q = validate(
                ReportRequest, audience=args.get("audience"), period=args.get("period"), from_=args.get("from"),
                to=args.get("to"), format=args.get("format"), repo=args.get("repo"), team=args.get("team"),
            )
            await rt.ready()
            return await rt.engine.reports.generate_report(q)
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
    mcp.add_tool(
        accepts_from(tool), name="generate_report", title="Generate report", description=GENERATE,
        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False),
    )
