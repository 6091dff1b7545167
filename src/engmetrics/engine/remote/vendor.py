"""What the vendor providers (Upshot, Koalr) share: a table of the operations their API offers, each handler
typed by its request model, every other operation `Unsupported`; and the window a request asks for."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel

from engmetrics.engine.remote.http import ProviderError
from engmetrics.engine.remote.provider import Provider
from engmetrics.operations import Operation
from engmetrics.periods import Window, resolve_window
from engmetrics.queries import WindowArgs

Q = TypeVar("Q", bound=BaseModel)

Handler = Callable[[Operation, BaseModel | None], Awaitable[BaseModel]]
"""Answers one operation for its request (our result model, built from the vendor's answer)."""


def handler(query: type[Q], run: Callable[[Operation, Q], Awaitable[BaseModel]]) -> Handler:
    """``run`` as a `Handler` of requests of type ``query`` (the operation's request model)."""

    async def checked(op: Operation, q: BaseModel | None) -> BaseModel:
        if not isinstance(q, query):
            raise TypeError(f"{op.name} takes a {query.__name__}, not {type(q).__name__}")
        return await run(op, q)

    return checked


def no_query(run: Callable[[Operation], Awaitable[BaseModel]]) -> Handler:
    """``run`` as a `Handler` of an operation that takes no request."""

    async def checked(op: Operation, q: BaseModel | None) -> BaseModel:
        if q is not None:
            raise TypeError(f"{op.name} takes no request, not {type(q).__name__}")
        return await run(op)

    return checked


class VendorProvider(Provider):
    """A vendor API: a table of operation name → `Handler`; other operations are `Unsupported`."""

    @abstractmethod
    def handlers(self) -> Mapping[str, Handler]:
        """The operations this vendor's API offers."""

    async def call(self, op: Operation, q: BaseModel | None) -> BaseModel:
        run = self.handlers().get(op.name)
        if run is None:
            raise self.unsupported(op)
        self.require_key()
        try:
            return await run(op, q)
        except ProviderError as exc:
            raise self.user_error(exc, op.name) from None


def window_of(q: WindowArgs) -> Window:
    """The window a request asks for (``period``, or ``from``/``to``)."""
    return resolve_window(q.period, q.from_, q.to)
