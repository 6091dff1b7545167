"""Declaring an area's operations once, so every face is generated instead of hand-written.

An operation is an async method of an area's interface (an abstract class in ``areas/<area>/api.py``) taking
at most one request model ``q`` and returning a pydantic model. `@operation` gives its HTTP method and path
(under the REST API's ``/v1``) and, when it is also an MCP tool, a `Tool` (title, description written for a
model, annotations). From these declarations the REST routes and OpenAPI document (`engmetrics.api`), the
remote client (`engmetrics.engine.remote`) and the MCP tools (`engmetrics.server.tools`) are built; the
tool's input schema comes from the request model, whose field descriptions are the one place each
parameter is described.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

HttpMethod = Literal["GET", "POST", "DELETE"]
F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__engmetrics_operation__"


@dataclass(frozen=True)
class Tool:
    """How an operation is offered as an MCP tool: title, description for a model, annotations.

    ``name`` defaults to the operation's name. ``read_only``/``idempotent``/``open_world`` become the
    tool's annotations (MCP hints). ``exclude`` names request fields not offered to a model (advanced options the
    REST API and the CLI still take); they keep their defaults. With ``nullable_options`` every optional field is
    offered as nullable with a null default (a model may send null; the field's own default then applies).
    """

    title: str
    description: str
    name: str | None = None
    exclude: tuple[str, ...] = ()
    nullable_options: bool = False
    toolset: str = "core"
    """The toolset the tool belongs to (`--toolsets` chooses which are offered)."""
    read_only: bool = True
    idempotent: bool = True
    open_world: bool = False
    destructive: bool | None = None
    """Whether the tool deletes or overwrites (MCP's destructiveHint); None leaves the hint unset."""


@dataclass(frozen=True)
class Operation:
    """One declared operation: its area and name, HTTP method and path, request and result models, tool."""

    area: str
    name: str
    method: HttpMethod
    path: str
    query_model: type[BaseModel] | None
    result_model: type[BaseModel]
    summary: str
    tool: Tool | None = None

    @property
    def tool_name(self) -> str | None:
        """The MCP tool's name, or None when the operation is not a tool."""
        return None if self.tool is None else (self.tool.name or self.name)


def operation(method: HttpMethod, path: str, *, tool: Tool | None = None) -> Callable[[F], F]:
    """Mark an area interface's method as the operation served at ``method path`` (relative to /v1, may hold
    ``{field}``), and as an MCP tool when ``tool`` is given."""

    def mark(fn: F) -> F:
        setattr(fn, _MARK, (method, path, tool))
        return fn

    return mark


def area_operations(area: str, interface: type) -> list[Operation]:
    """Every operation declared on ``interface`` (and its bases), in declaration order."""
    seen: dict[str, Operation] = {}
    for klass in reversed(interface.__mro__):
        for name, fn in vars(klass).items():
            spec = getattr(fn, _MARK, None)
            if spec is None:
                continue
            hints = typing.get_type_hints(fn)
            params = [p for p in inspect.signature(fn).parameters if p != "self"]
            query_model = hints.get(params[0]) if params else None
            if query_model is not None and not (isinstance(query_model, type) and issubclass(query_model, BaseModel)):
                raise TypeError(f"operation {name}: its one argument must be a pydantic request model")
            seen[name] = Operation(
                area=area,
                name=name,
                method=spec[0],
                path=spec[1],
                query_model=query_model,
                result_model=hints["return"],
                summary=(inspect.getdoc(fn) or name).splitlines()[0],
                tool=spec[2],
            )
    return list(seen.values())


def collect(areas: Sequence[tuple[str, type]]) -> list[Operation]:
    """The operations of every ``(area name, interface)``, in the order given."""
    return [op for name, interface in areas for op in area_operations(name, interface)]
