"""Declaring engine methods as operations, so faces can be generated instead of hand-written.

An operation is an async Engine method taking at most one request model ``q`` and returning a
pydantic model. Its HTTP method and path (under the REST API's ``/v1``) are declared with
`@operation`; the REST API serves every declared operation and `RemoteEngine` calls them, so a
feature declares its operation once and gets its REST route and remote client for free.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

HttpMethod = Literal["GET", "POST"]


@dataclass(frozen=True)
class Operation:
    """One engine operation: its name (the Engine method), HTTP method and path, request and result models."""

    name: str
    method: HttpMethod
    path: str
    query_model: type[BaseModel] | None
    result_model: type[BaseModel]
    summary: str


def operation(method: HttpMethod, path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an Engine method as the operation served at ``method path`` (path relative to /v1, may hold {id})."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__engmetrics_operation__ = (method, path)  # type: ignore[attr-defined]
        return fn

    return mark


def operations(engine_cls: type) -> list[Operation]:
    """Every operation declared on ``engine_cls`` (and its bases), in declaration order."""
    seen: dict[str, Operation] = {}
    for klass in reversed(engine_cls.__mro__):
        for name, fn in vars(klass).items():
            spec = getattr(fn, "__engmetrics_operation__", None)
            if spec is None:
                continue
            hints = typing.get_type_hints(fn)
            params = [p for p in inspect.signature(fn).parameters if p != "self"]
            query_model = hints.get(params[0]) if params else None
            if query_model is not None and not (isinstance(query_model, type) and issubclass(query_model, BaseModel)):
                raise TypeError(f"operation {name}: its one argument must be a pydantic request model")
            seen[name] = Operation(
                name=name,
                method=spec[0],
                path=spec[1],
                query_model=query_model,
                result_model=hints["return"],
                summary=(inspect.getdoc(fn) or name).splitlines()[0],
            )
    return list(seen.values())
