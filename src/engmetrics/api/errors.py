"""The error envelope of the REST API, after the Upstat conventions (Stripe-style).

Every error is ``{"error": {"type", "code", "message", "param"?}}``. Types and statuses:
``invalid_request_error`` 400/404/422 (501 when the engine cannot answer), ``authentication_error`` 401,
``permission_error`` 403, ``idempotency_error`` 409, ``rate_limit_error`` 429, ``api_error`` 500/502.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from engmetrics.errors import EngmetricsError, RemoteError
from engmetrics.validation import describe_validation_error


class ApiError(Exception):
    """An error answered with the envelope: HTTP status, type, code, message, optional param and extras."""

    def __init__(
        self, status: int, type_: str, code: str, message: str, *, param: str | None = None,
        headers: dict[str, str] | None = None, **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The envelope as a dict."""
        err: dict[str, Any] = {"type": self.type, "code": self.code, "message": self.message}
        if self.param:
            err["param"] = self.param
        err.update(self.extra)
        return {"error": err}

    def response(self) -> Response:
        """A JSON response carrying the envelope."""
        return Response(json.dumps(self.body()), status_code=self.status, media_type="application/json",
                        headers=self.headers)


def from_engmetrics(exc: EngmetricsError) -> ApiError:
    """An engine's user error as an API error (same message, status from the error class)."""
    if isinstance(exc, RemoteError):
        return ApiError(502, "api_error", exc.code, exc.message)
    status = exc.http_status
    type_ = "invalid_request_error" if status < 500 or exc.code == "unsupported" else "api_error"
    return ApiError(status, type_, exc.code, exc.message, param=exc.param)


def from_validation(exc: ValidationError, aliases: dict[str, str] | None = None) -> ApiError:
    """A pydantic validation error as a 422 naming the first offending parameter, in our words
    (`engmetrics.validation.describe_validation_error`)."""
    first_param, text = describe_validation_error(exc, aliases)
    return ApiError(422, "invalid_request_error", "parameter_invalid", f"Invalid parameters: {text}", param=first_param)


def invalid(message: str, *, param: str | None = None, code: str = "parameter_invalid", status: int = 400) -> ApiError:
    """A 400 (or given status) ``invalid_request_error``."""
    return ApiError(status, "invalid_request_error", code, message, param=param)


def internal(request_id: str) -> ApiError:
    """A 500 for a bug: no detail, the request id to quote."""
    return ApiError(500, "api_error", "internal_error",
                    f"engmetrics hit an internal error; the server log has the details under Request-Id {request_id}.")
