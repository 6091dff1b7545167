"""How an engine operation looks on the wire: list operations (paged with limit/cursor) vs single results.

Shared by the REST API (which turns engine pages into list objects) and `RemoteEngine` (which turns them back).
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass

from pydantic import BaseModel

from engmetrics.operations import Operation

API_DEFAULT_LIMIT = 10
API_MAX_LIMIT = 100


@dataclass(frozen=True)
class ListShape:
    """A list operation: the result field holding its items, the item model, and its other fields."""

    items_field: str
    item_model: type[BaseModel]
    extra_fields: tuple[str, ...]  # e.g. ("total",): copied onto the list object

    @property
    def item_has_id(self) -> bool:
        """Whether items carry an ``id`` (needed for starting_after / ending_before)."""
        return "id" in self.item_model.model_fields


def _list_item_model(annotation: object) -> type[BaseModel] | None:
    if typing.get_origin(annotation) in (list, tuple):
        args = typing.get_args(annotation)
        if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            return args[0]
    return None


def list_shape(op: Operation) -> ListShape | None:
    """The list shape of ``op`` when it pages (request has limit and cursor, result has one list of models and a cursor)."""
    q, r = op.query_model, op.result_model
    if q is None or "cursor" not in q.model_fields or "limit" not in q.model_fields or "cursor" not in r.model_fields:
        return None
    lists = [(name, m) for name, f in r.model_fields.items() if (m := _list_item_model(f.annotation)) is not None]
    if len(lists) != 1:
        return None
    name, model = lists[0]
    extras = tuple(
        (f.serialization_alias or f.alias or n) for n, f in r.model_fields.items() if n not in (name, "cursor")
    )
    return ListShape(name, model, extras)


def path_params(op: Operation) -> list[str]:
    """Names of the ``{…}`` parameters in the operation's path."""
    return re.findall(r"{(\w+)}", op.path)


def wire_names(model: type[BaseModel]) -> dict[str, str]:
    """Request field name → its name on the wire (the alias, e.g. ``from_`` → ``from``)."""
    return {name: (f.alias or name) for name, f in model.model_fields.items()}
