"""RemoteEngine: the Engine over an HTTP API — our /v1, Upshot's or Koalr's (ENGMETRICS_PROVIDER) — keeping no data.

Each area is a client implemented from the area's interface (`remote_area`): every declared operation goes through
`RemoteEngine.call`, which gives the provider one deadline (ENGMETRICS_REMOTE_DEADLINE_SECONDS, default 20 s) for
all the requests, retries and pages of the answer; what the interface offers in process only is `Unsupported`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import httpx2
from pydantic import BaseModel

from engmetrics.areas.activity.api import ActivityApi
from engmetrics.areas.alerts.api import AlertsApi
from engmetrics.areas.catalogue.api import CatalogueApi
from engmetrics.areas.custom_metrics.api import CustomMetricsApi
from engmetrics.areas.ai.api import AiApi
from engmetrics.areas.dora.api import DoraApi
from engmetrics.areas.flow.api import FlowApi
from engmetrics.areas.forecast.api import ForecastApi
from engmetrics.areas.health.api import HealthApi
from engmetrics.areas.reports.api import ReportsApi
from engmetrics.areas.repos.api import ReposApi
from engmetrics.areas.risk.api import RiskApi
from engmetrics.config import Settings
from engmetrics.engine.engine import Engine
from engmetrics.engine.implement import Method, implement, interface_class
from engmetrics.engine.registry import AREA_INTERFACES
from engmetrics.engine.remote.deadline import deadline_for_call
from engmetrics.engine.remote.engmetrics import EngmetricsProvider
from engmetrics.engine.remote.http import RemoteOptions
from engmetrics.engine.remote.koalr import KoalrProvider
from engmetrics.engine.remote.provider import Provider
from engmetrics.engine.remote.upshot import UpshotProvider
from engmetrics.errors import Unsupported
from engmetrics.operations import Operation, area_operations

A = TypeVar("A")

PROVIDERS: Mapping[str, type[Provider]] = {
    EngmetricsProvider.name: EngmetricsProvider,
    UpshotProvider.name: UpshotProvider,
    KoalrProvider.name: KoalrProvider,
}
"""ENGMETRICS_PROVIDER → the provider answering for that API."""

_AREA_NAMES: dict[type, str] = {interface: name for name, interface in AREA_INTERFACES}


class RemoteEngine(Engine):
    """The Engine over an HTTP API (``settings.api_url``, ``settings.provider``); keeps no data of its own.

    Each area is a client generated from the area's interface (`remote_area`): its operations go through
    `call` (one deadline per call), and what the interface offers in process only is `Unsupported` here.
    """

    def __init__(self, settings: Settings, *, options: RemoteOptions | None = None,
                 transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.options = options or RemoteOptions(deadline_seconds=settings.remote_deadline_seconds)
        self.provider = PROVIDERS[settings.provider](settings, self.options, transport)
        super().__init__(
            repos=remote_area(ReposApi, self),
            dora=remote_area(DoraApi, self),
            activity=remote_area(ActivityApi, self),
            flow=remote_area(FlowApi, self),
            risk=remote_area(RiskApi, self),
            forecast=remote_area(ForecastApi, self),
            reports=remote_area(ReportsApi, self),
            catalogue=remote_area(CatalogueApi, self),
            custom_metrics=remote_area(CustomMetricsApi, self),
            alerts=remote_area(AlertsApi, self),
            health=remote_area(HealthApi, self),
            ai=remote_area(AiApi, self),
        )

    async def call(self, op: Operation, q: BaseModel | None) -> BaseModel:
        """Answer ``op`` through the provider within one deadline (`RemoteOptions.deadline_seconds`) that
        covers every request, retry and page the answer takes."""
        with deadline_for_call(self.options.deadline_seconds):
            return await self.provider.call(op, q)

    async def aclose(self) -> None:
        await self.provider.http.aclose()


def remote_area(interface: Callable[[], A], engine: RemoteEngine) -> A:
    """An implementation of ``interface`` (an area's, listed in `AREA_INTERFACES`) whose operations ``engine``
    answers over HTTP; its in-process-only methods raise `Unsupported`."""
    cls = interface_class(interface)
    area = _AREA_NAMES.get(cls)
    if area is None:
        raise TypeError(f"{cls.__name__} is not an area interface listed in AREA_INTERFACES")
    ops = {op.name: op for op in area_operations(area, cls)}
    methods = {name: _operation_method(ops[name], engine) if name in ops else _in_process_method(name, engine)
               for name in cls.__abstractmethods__}
    return implement(interface, methods, "Remote")


def _operation_method(op: Operation, engine: RemoteEngine) -> Method:
    """The area method for ``op``: ``engine.call`` with its request (none for operations that take none)."""
    if op.query_model is None:

        async def call_none(self: object) -> BaseModel:
            return await engine.call(op, None)

        method: Method = call_none
    else:

        async def call_one(self: object, q: BaseModel) -> BaseModel:
            return await engine.call(op, q)

        method = call_one
    method.__name__ = method.__qualname__ = op.name
    method.__doc__ = f"{op.summary} (over HTTP: {op.method} /v1{op.path})"
    return method


def _in_process_method(name: str, engine: RemoteEngine) -> Method:
    """An in-process-only method of an area interface: `Unsupported` over HTTP, saying why."""

    async def unsupported(self: object, *args: object, **kwargs: object) -> object:
        if name == "sync":
            raise Unsupported(
                f"In remote mode there is nothing to sync locally: {engine.provider.label} keeps its own data up "
                "to date (on an engmetrics API server, `engmetrics api` syncs in the background; `engmetrics sync` "
                "there forces it)."
            )
        raise Unsupported(f"{engine.provider.label} cannot answer {name.replace('_', ' ')}: it is only "
                          "available with a local store (unset ENGMETRICS_API_URL).")

    unsupported.__name__ = unsupported.__qualname__ = name
    return unsupported
