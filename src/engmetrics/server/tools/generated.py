"""MCP tools generated from the operations areas declare (`@operation(..., tool=Tool(...))`).

A generated tool takes exactly its request model's fields as arguments (each described once, on the model),
validates them into the model, waits until the runtime has data, and calls the operation on the engine;
name, title, description and annotations come from the declaration. Only tools that really behave
differently (`sync` reports progress, `generate_report` may ask the client's model to polish) are written
by hand beside this module.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from engmetrics.operations import Operation, Tool
from engmetrics.queries import validate
from engmetrics.server.errors import user_errors
from engmetrics.server.runtime import Runtime
from engmetrics.server.toolsets import toolset_icon

R = TypeVar("R")


def argument_type(model: type[BaseModel], name: str, *, nullable: bool = False) -> Any:
    """The annotation a tool argument for ``model``'s field ``name`` takes: its type (or null, with ``nullable``) and
    constraints, with its one description (and its wire name, e.g. ``from``)."""
    field = model.model_fields[name]
    described = Field(description=field.description, alias=field.alias)
    value: Any = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    if nullable:  # the constraints then apply to the value, not to null
        return Annotated[value | None, described]
    return Annotated[value, described]


def accepts_from(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Let a hand-written tool take the argument ``from`` (a Python keyword) as its parameter ``from_``: the SDK
    calls a tool with its arguments' wire names; this maps ``from`` back while keeping ``fn``'s signature."""

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> Any:
        if "from" in kwargs:
            kwargs["from_"] = kwargs.pop("from")
        return await fn(**kwargs)

    wrapper.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]  # the SDK reads __signature__
    return wrapper


def with_model_arguments(fn: Callable[..., Awaitable[R]], model: type[BaseModel],
                         names: tuple[str, ...]) -> Callable[..., Awaitable[R]]:
    """``fn`` (which receives these arguments in ``**arguments``) taking ``model``'s fields ``names`` as its first
    keyword parameters, typed and described as `argument_type` does, with the model's defaults: how a hand-written
    tool takes a request model's arguments, each described once, on the model."""
    own = inspect.signature(fn)
    params = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=argument_type(model, name),
                          default=model.model_fields[name].get_default(call_default_factory=True))
        for name in names
    ]
    params += [p for p in own.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    fn.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]  # the SDK reads __signature__
    fn.__annotations__ = {**{p.name: p.annotation for p in params}, "return": own.return_annotation}
    return fn


def _parameters(model: type[BaseModel], spec: Tool) -> list[inspect.Parameter]:
    """One keyword parameter per field of ``model`` but the excluded ones (its type, description, constraints, alias
    and default; with ``nullable_options``, optional fields take null for their default)."""
    params = []
    for name, field in model.model_fields.items():
        if name in spec.exclude:
            continue
        annotation = argument_type(model, name)
        if field.is_required():
            default = inspect.Parameter.empty
        elif spec.nullable_options:
            default, annotation = None, argument_type(model, name, nullable=True)
        else:
            default = field.get_default(call_default_factory=True)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    return params


def operation_tool(op: Operation, rt: Runtime) -> Callable[..., Awaitable[BaseModel]]:
    """The async function the SDK registers for ``op``: its signature is the request model's fields."""
    model = op.query_model
    wire = {f.alias: name for name, f in model.model_fields.items() if f.alias} if model else {}

    async def tool(**arguments: Any) -> BaseModel:
        await rt.ready()
        if model is None:
            return await rt.engine.call(op, None)
        values = {wire.get(k, k): v for k, v in arguments.items()}
        return await rt.engine.call(op, validate(model, **values))

    name = op.tool_name or op.name
    params = _parameters(model, op.tool or Tool(title=name, description=op.summary)) if model is not None else []
    tool.__name__ = tool.__qualname__ = name
    tool.__doc__ = op.summary
    tool.__signature__ = inspect.Signature(params, return_annotation=op.result_model)  # type: ignore[attr-defined]  # the SDK reads __signature__
    tool.__annotations__ = {**{p.name: p.annotation for p in params}, "return": op.result_model}
    return user_errors(tool)


def register_operation_tools(mcp: MCPServer[Any], rt: Runtime, operations: list[Operation],
                             meta: Callable[[str], dict[str, Any] | None] | None = None) -> None:
    """Add a tool for every operation that declares one; ``meta`` gives a tool's `_meta` by name (the dashboard's
    ``ui.resourceUri``)."""
    for op in operations:
        spec = op.tool
        name = op.tool_name
        if spec is None or name is None:
            continue
        mcp.add_tool(
            operation_tool(op, rt),
            name=name,
            title=spec.title,
            description=spec.description,
            annotations=ToolAnnotations(
                read_only_hint=spec.read_only, idempotent_hint=spec.idempotent, open_world_hint=spec.open_world,
                destructive_hint=spec.destructive,
            ),
            meta=meta(name) if meta is not None else None,
            icons=[toolset_icon(spec.toolset)],
        )
