"""Compact JSON Schemas for `tools/list`: what a model or a client validator needs, nothing more.

Every tool's input and output schema is sent to the client on each `tools/list`, and hosts put much of it in the
model's context on every turn (sizes in characters; ~4 characters a token). pydantic's schemas carry a `title`
on every node (a re-spelling of the property name), `anyOf: [X, {"type": "null"}]` for each optional value, and
repeat the same sub-schema wherever a field type recurs. `compact_schema` rewrites a schema smaller: titles go,
nullable scalars become `{"type": [T, "null"]}`, repeated sub-schemas are defined once under `$defs` and
referenced, definitions used once are inlined, a null `default` goes (absent is null). An output schema also
loses its `default`s and `required` lists (a result carries every field, null or not) and, with
``describe=False``, its descriptions (the tool's description says what a model needs of its result).

The instances an input schema accepts do not change; an output schema accepts at least every result the tool
returns (tests validate each tool's result against it).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

Schema = dict[str, Any]

_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")
"""Keys whose value maps names to schemas (the names are data, never schema keywords)."""
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains")
_HOIST_MIN_CHARS = 60
"""A repeated sub-schema smaller than this stays inline (a `$ref` costs ~25 characters each time)."""


def compact_schema(schema: Schema, *, output: bool = False, describe: bool = True, depth: int | None = None) -> Schema:
    """A smaller copy of ``schema`` accepting the same instances (see the module docstring); ``output`` for a
    result's schema: no defaults, no `required` lists and, with ``describe=False``, no descriptions; with ``depth``,
    objects and arrays nested deeper than that many levels of properties are described by their type alone."""
    work = json.loads(json.dumps(schema))  # a deep copy, plain JSON types only
    if depth is not None:
        work = _limit_depth(_inline_all(work), depth)
    defs: dict[str, Schema] = work.pop("$defs", {})
    work = _node(work, output=output, describe=describe)
    defs = {name: _node(d, output=output, describe=describe) for name, d in defs.items()}
    work, defs = _hoist_repeats(work, defs)
    work, defs = _inline_single_use(work, defs)
    if defs:
        work["$defs"] = defs
    return work


def _node(node: Any, *, output: bool, describe: bool) -> Any:
    """One schema node, rewritten bottom-up."""
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key == "title":
            continue
        if key == "default" and (output or value is None):  # an absent optional value is null anyway
            continue
        if output and key == "required" and isinstance(value, list):  # a result carries every field
            continue
        if output and not describe and key == "description":
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _node(v, output=output, describe=describe) for name, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_node(v, output=output, describe=describe) for v in value]
        elif key in _SCHEMA_ONE and isinstance(value, dict):
            out[key] = _node(value, output=output, describe=describe)
        else:
            out[key] = value
    return _nullable(out)


def _inline_all(schema: Schema) -> Schema:
    """``schema`` with every local ``$ref`` replaced by its definition (a definition met again inside itself is
    described by its type alone: no recursion survives)."""
    defs: dict[str, Schema] = schema.get("$defs", {})

    def go(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [go(v, seen) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            body = defs.get(name, {})
            rest = {k: go(v, seen) for k, v in node.items() if k != "$ref"}
            if name in seen:
                return {"type": body.get("type", "object"), **rest}
            return {**go(body, seen | {name}), **rest}
        return {k: go(v, seen) for k, v in node.items() if k != "$defs"}

    return dict(go(schema, frozenset()))


def _limit_depth(node: Any, depth: int) -> Any:
    """``node`` with the objects and arrays below ``depth`` levels of properties described by their type alone."""
    if not isinstance(node, dict):
        return node
    if depth <= 0 and ("properties" in node or "items" in node or isinstance(node.get("additionalProperties"), dict)):
        return {k: v for k, v in node.items() if k in ("type", "description")} or {"type": "object"}
    out: Schema = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: _limit_depth(v, depth - 1) for name, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):  # a list's items: the same level
            out[key] = _limit_depth(value, depth)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_limit_depth(v, depth) for v in value]
        else:
            out[key] = value
    return out


def _nullable(node: Schema) -> Schema:
    """``{"anyOf": [{"type": T, ...}, {"type": "null"}], ...}`` as ``{"type": [T, "null"], ...}`` (an enum
    gains null), when the non-null branch is a plain typed schema."""
    branches = node.get("anyOf")
    if not isinstance(branches, list) or len(branches) != 2 or {"type": "null"} not in branches:
        return node
    other = branches[0] if branches[1] == {"type": "null"} else branches[1]
    kind = other.get("type")
    if not isinstance(kind, str) or "$ref" in other or any(k in node for k in other if k != "type"):
        return node
    merged = {k: v for k, v in node.items() if k != "anyOf"}
    merged.update(other)
    merged["type"] = [kind, "null"]
    if "enum" in merged:
        merged["enum"] = [*merged["enum"], None]
    if "const" in merged:  # a const that may be null: an enum of the two
        merged["enum"] = [merged.pop("const"), None]
    return merged


def _walk(node: Any, visit: Any) -> Any:
    """``node`` with every sub-schema (not ``node`` itself) replaced by ``visit(sub)``, bottom-up."""
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: visit(_walk(v, visit)) for name, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [visit(_walk(v, visit)) for v in value]
        elif key in _SCHEMA_ONE and isinstance(value, dict):
            out[key] = visit(_walk(value, visit))
        else:
            out[key] = value
    return out


def _key(node: Any) -> str:
    return json.dumps(node, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _hoist_repeats(root: Schema, defs: dict[str, Schema]) -> tuple[Schema, dict[str, Schema]]:
    """Define each sub-schema that occurs more than once (and is worth it) once, under `$defs`."""
    counts: Counter[str] = Counter()

    def count(sub: Any) -> Any:
        if isinstance(sub, dict) and "$ref" not in sub:
            counts[_key(sub)] += 1
        return sub

    _walk(root, count)
    for d in defs.values():
        _walk(d, count)
        count(d)
    existing = {_key(d): name for name, d in defs.items()}
    repeated = {k for k, n in counts.items() if n > 1 and len(k) >= _HOIST_MIN_CHARS}
    if not repeated:
        return root, defs
    names: dict[str, str] = {}
    for k in sorted(repeated, key=len, reverse=True):
        names[k] = existing.get(k) or _fresh_name(json.loads(k), defs, names)

    def replace(node: Any) -> Any:
        """``node`` with each child sub-schema that is a repeat replaced by its reference (top-down)."""
        return _map_children(node, lambda sub: {"$ref": f"#/$defs/{names[k]}"} if (k := _key(sub)) in names
                             else replace(sub))

    new_defs: dict[str, Schema] = {name: replace(json.loads(k)) for k, name in names.items()}
    for name, d in defs.items():
        if name not in new_defs:
            new_defs[name] = replace(d)
    return replace(root), new_defs


def _map_children(node: Any, fn: Any) -> Any:
    """``node`` with each direct child sub-schema replaced by ``fn(child)``."""
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: fn(v) if isinstance(v, dict) else v for name, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [fn(v) if isinstance(v, dict) else v for v in value]
        elif key in _SCHEMA_ONE and isinstance(value, dict):
            out[key] = fn(value)
        else:
            out[key] = value
    return out


def _fresh_name(node: Schema, defs: dict[str, Schema], taken: dict[str, str]) -> str:
    used = set(defs) | set(taken.values())
    kind = node.get("type")
    base = "Nullable" if isinstance(kind, list) else str(kind or "Value").capitalize()
    if "enum" in node:
        base = "Choice"
    n = 1
    while f"{base}{n}" in used:
        n += 1
    return f"{base}{n}"


def _refs(node: Any, found: Counter[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found[ref.removeprefix("#/$defs/")] += 1
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _inline_single_use(root: Schema, defs: dict[str, Schema]) -> tuple[Schema, dict[str, Schema]]:
    """Inline every definition referenced exactly once (and not by itself); drop unreferenced ones."""
    while True:
        found: Counter[str] = Counter()
        _refs(root, found)
        for d in defs.values():
            _refs(d, found)
        unused = [n for n in defs if found[n] == 0]
        single = [n for n in defs if found[n] == 1 and not _self_referencing(n, defs)]
        if not unused and not single:
            return root, defs
        for n in unused:
            defs.pop(n)
        if not single:
            continue
        name = single[0]
        body = defs.pop(name)

        def inline(sub: Any, name: str = name, body: Schema = body) -> Any:
            if isinstance(sub, dict) and sub.get("$ref") == f"#/$defs/{name}":
                extra = {k: v for k, v in sub.items() if k != "$ref"}
                return {**body, **extra}
            return sub

        root = inline(_walk(root, inline))
        defs = {n: inline(_walk(d, inline)) for n, d in defs.items()}


def _self_referencing(name: str, defs: dict[str, Schema]) -> bool:
    found: Counter[str] = Counter()
    _refs(defs[name], found)
    return found[name] > 0
