"""Our own /v1 API (an `engmetrics api` server) as a provider: every operation at its declared route, so
operations added to an area work remotely with no code here; list objects followed page by page
(``starting_after`` the last item's id, or the server's ``next_cursor`` for items without one) until ``limit``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from engmetrics.engine.remote.cursors import decode_remote_cursor, encode_remote_cursor, state_str
from engmetrics.engine.remote.http import Params, Primitive, ProviderError, public_url
from engmetrics.engine.remote.provider import Provider
from engmetrics.errors import InvalidInput, NotFound, RemoteError, Unsupported
from engmetrics.operations import Operation
from engmetrics.wire import API_MAX_LIMIT, ListShape, list_shape, path_params


class ListObject(BaseModel):
    """A page of a list operation as our REST API answers it; its other fields (e.g. ``total``) are kept as extras."""

    model_config = ConfigDict(extra="allow")

    object: Literal["list"]
    data: list[JsonValue]
    has_more: bool = False
    next_cursor: str | None = None  # for items without an id


def _query(values: Mapping[str, JsonValue]) -> Params:
    """A request's fields as query parameters (a request model's fields are scalars or lists of scalars)."""
    return {name: [_scalar(name, v) for v in value] if isinstance(value, list) else _scalar(name, value)
            for name, value in values.items()}


def _scalar(name: str, value: JsonValue) -> Primitive:
    if isinstance(value, list | dict):
        raise TypeError(f"request field {name!r} cannot be sent as a query parameter: {value!r}")
    return value


def _item_id(item: JsonValue) -> str | None:
    """The ``id`` of a list item (None when it has none)."""
    value = item.get("id") if isinstance(item, dict) else None
    return value if isinstance(value, str) and value else None


class EngmetricsProvider(Provider):
    """Our own /v1 API: every operation at its declared route; list objects paged with starting_after."""

    name = "engmetrics"
    display = "the engmetrics API"
    key_hint = ("create one on the server with `engmetrics api-key create --name NAME` and set ENGMETRICS_API_KEY "
                "to the printed key.")
    api_prefix = "/v1"

    async def call(self, op: Operation, q: BaseModel | None) -> BaseModel:
        self.require_key()
        path = "/v1" + op.path
        values = q.model_dump(mode="json", by_alias=True, exclude_none=True) if q is not None else {}
        for name in path_params(op):
            path = path.replace("{" + name + "}", quote(str(values.pop(name, "")), safe=""))
        where = f"{op.method} {path}"
        try:
            if op.method != "GET":  # POST and DELETE send the rest of the request as a JSON body
                data = await self.http.request(op.method, path, body=values)
                return self.parse(op.result_model, data, where)
            shape = list_shape(op)
            if shape is None:
                data = await self.http.request("GET", path, params=_query(values))
                return self.parse(op.result_model, data, where)
            return await self._list(op, shape, path, values, where)
        except ProviderError as exc:
            # Our server's 4xx carry the engine's own message: the same error as in local mode.
            if exc.status == 404:
                raise NotFound(exc.message, param=exc.param) from None
            if exc.status == 501 or exc.code == "unsupported":
                raise Unsupported(exc.message) from None
            raise InvalidInput(exc.message or f"{self.label} rejected {where} ({exc.status}).", param=exc.param) from None

    async def _list(self, op: Operation, shape: ListShape, path: str, values: dict[str, JsonValue],
                    where: str) -> BaseModel:
        """Pages of the list object at ``path`` until ``limit`` items, as the operation's result (its items field,
        its other fields from the first page, and our cursor)."""
        limit = values.pop("limit", 20)
        limit = limit if isinstance(limit, int) else 20
        cursor_in = values.pop("cursor", None)
        state = decode_remote_cursor(cursor_in if isinstance(cursor_in, str) else None)
        after = state_str(state, "a")
        upstream = state_str(state, "c")  # lists whose items have no id page with the server's cursor (next_cursor)
        items: list[JsonValue] = []
        extras: dict[str, object] = {}
        has_more = by_cursor = False
        while len(items) < limit:
            params: dict[str, JsonValue] = {**values, "limit": min(API_MAX_LIMIT, limit - len(items))}
            if after:
                params["starting_after"] = after
            if upstream:
                params["cursor"] = upstream
            body = await self.http.request("GET", path, params=_query(params))
            try:
                page = ListObject.model_validate(body)
            except ValidationError:
                raise RemoteError(f"{self.label} answered {where} with something other than a list object. Check that "
                                  f"ENGMETRICS_PROVIDER={self.name} matches the API at {public_url(self.url)}.") from None
            if not extras:
                extras = {k: v for k, v in (page.model_extra or {}).items() if k in shape.extra_fields}
            items += page.data
            has_more = page.has_more
            by_cursor = "next_cursor" in page.model_fields_set
            if not has_more or not page.data:
                break
            if by_cursor:
                upstream = page.next_cursor
            elif (last_id := _item_id(page.data[-1])) is not None:
                after = last_id
            else:
                break
        cursor = None
        if has_more and items:
            if upstream and by_cursor:
                cursor = encode_remote_cursor({"c": upstream})
            elif (last_id := _item_id(items[-1])) is not None:
                cursor = encode_remote_cursor({"a": last_id})
        return self.parse(op.result_model, {**extras, shape.items_field: items, "cursor": cursor}, where)
