"""What every remote provider shares: its API's address and key, its `Http` client, and how its answers and
refusals become our models and our errors (`Unsupported`, `NotFound`, `InvalidInput`, `RemoteError`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, TypeVar

import httpx2
from pydantic import BaseModel, ValidationError

from engmetrics.config import Settings
from engmetrics.engine.remote.http import Http, ProviderError, RemoteOptions, public_url
from engmetrics.errors import EngmetricsError, InvalidInput, NotFound, RemoteError, Unsupported
from engmetrics.operations import Operation
from engmetrics.validation import describe_error

M = TypeVar("M", bound=BaseModel)


class Provider(ABC):
    """How one API answers the engine's operations (`call`)."""

    name: ClassVar[str]  # ENGMETRICS_PROVIDER
    display: ClassVar[str]  # e.g. "Upshot's API"
    key_hint: ClassVar[str]  # what to do about a missing or rejected key
    api_prefix: ClassVar[str]  # the API's version prefix, dropped from ENGMETRICS_API_URL when given there

    def __init__(self, settings: Settings, options: RemoteOptions, transport: httpx2.AsyncBaseTransport | None) -> None:
        if not settings.api_url:
            raise InvalidInput("Remote mode needs ENGMETRICS_API_URL (e.g. http://metrics.internal:8080).")
        url = settings.api_url.rstrip("/")
        if url.endswith(self.api_prefix):
            url = url[: -len(self.api_prefix)]
        self.settings = settings
        self.url = url
        self.label = f"{self.display} at {public_url(url)}"
        self.http = Http(url, self.auth_headers(), self.label, self.key_hint, options, transport)

    def auth_headers(self) -> dict[str, str]:
        """Headers carrying the key (never logged)."""
        return {"Authorization": f"Bearer {self.secret()}"} if self.settings.api_key else {}

    def secret(self) -> str:
        """The key's value."""
        return self.settings.api_key.get_secret_value() if self.settings.api_key else ""

    def require_key(self) -> None:
        """`RemoteError` when no key is configured."""
        if not self.settings.api_key:
            raise RemoteError(f"ENGMETRICS_API_KEY is not set, and {self.label} needs one: {self.key_hint}")

    @abstractmethod
    async def call(self, op: Operation, q: BaseModel | None) -> BaseModel:
        """Answer ``op`` for request ``q`` (None for operations that take none)."""

    def unsupported(self, op: Operation, why: str = "") -> Unsupported:
        """The error for an operation this provider's API does not offer."""
        what = op.summary.rstrip(".")
        what = what[0].lower() + what[1:] if what else op.name
        return Unsupported(
            f"{self.display[0].upper() + self.display[1:]} does not offer {op.name} ({what}). {why}".rstrip()
            + " Use a local engmetrics (unset ENGMETRICS_API_URL) or an engmetrics API server for it."
        )

    def user_error(self, exc: ProviderError, where: str) -> EngmetricsError:
        """A vendor's 4xx as a user error naming the vendor."""
        text = exc.message or f"HTTP {exc.status}"
        if exc.status == 404:
            return NotFound(f"{self.label} found nothing for {where}: {text}", param=exc.param)
        return InvalidInput(f"{self.label} rejected {where} ({exc.status}): {text}", param=exc.param)

    def parse(self, model: type[M], data: object, where: str) -> M:
        """``data`` validated as ``model`` (`RemoteError` saying the body did not match)."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            _, problem = describe_error(exc.errors()[0])
            raise RemoteError(
                f"{self.label} answered {where} with a body that does not match {model.__name__} ({problem}). "
                f"Check that ENGMETRICS_PROVIDER={self.name} matches the API at {public_url(self.url)}."
            ) from None
