"""GitHub's GraphQL API for the stand-in: GitHub's published schema, its query limits, and execution over data.

The schema is the one GitHub publishes through the npm package ``@octokit/graphql-schema`` (its
``schema.graphql``), loaded once per process with ``graphql-core``. A query is answered the way GitHub
answers it:

- **Validation** against that schema (unknown fields, wrong argument types, missing variables…):
  HTTP 200 with ``errors`` and no ``data``, as GitHub does.
- **GitHub's query limits** (its "Node limit" documentation): every connection whose nodes are read
  needs ``first`` or ``last`` (``MISSING_PAGINATION_BOUNDARIES``), within 1–100 (``EXCESSIVE_PAGINATION``), and the nodes a
  query may return (the sum, over connections, of the product of the ``first``/``last`` values on the
  way to it) must not exceed the limit, 500,000 (``MAX_NODE_LIMIT_EXCEEDED``, before execution).
- **Execution** with graphql-core over plain dicts shaped like the schema's objects (a field's value
  under its name; a connection as ``{"nodes": [...], "totalCount": n}`` holding every item, which the
  resolver pages by ``first``/``last``/``after``). Values are serialized by the schema's scalars, so a
  32-bit ``Int`` such as ``databaseId`` cannot carry an id above 2^31 − 1: the field is null and an
  error names its path, with the rest of the data (GraphQL's partial answer). A resolver error raised
  as `field_error` carries GitHub's ``type``.

Where the package is missing, `schema_file` installs it with npm (``npm install --prefix .ci/npm
@octokit/graphql-schema``, what ``.ci/run`` does), or fails saying how to; ``ENGMETRICS_GITHUB_SCHEMA``
may name another ``schema.graphql``.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import graphql
from graphql import GraphQLError, GraphQLResolveInfo

ROOT = Path(__file__).resolve().parent.parent
NPM_PREFIX = ROOT / ".ci" / "npm"
PACKAGE = "@octokit/graphql-schema"
NODE_LIMIT = 500_000
PAGE_LIMIT = 100
DEFAULT_TYPES = {"Actor": "User", "PullRequestTimelineItems": "ReadyForReviewEvent", "Assignee": "User"}
"""The object type of a dict without ``__typename`` where the schema's type is abstract."""


def schema_file() -> Path:
    """The ``schema.graphql`` of ``@octokit/graphql-schema``; installed with npm into ``.ci/npm`` if missing."""
    override = os.environ.get("ENGMETRICS_GITHUB_SCHEMA")
    if override:
        return Path(override)
    path = NPM_PREFIX / "node_modules" / "@octokit" / "graphql-schema" / "schema.graphql"
    if path.exists():
        return path
    import fcntl

    NPM_PREFIX.mkdir(parents=True, exist_ok=True)
    with open(NPM_PREFIX / ".install.lock", "w") as lock:  # pytest-xdist workers install it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            cmd = ["npm", "install", "--prefix", str(NPM_PREFIX), "--no-audit", "--no-fund", PACKAGE]
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise RuntimeError(f"GitHub's GraphQL schema is needed by the GitHub tests; `{' '.join(cmd)}` failed "
                                   f"({exc}). Install Node.js/npm and run it, or set ENGMETRICS_GITHUB_SCHEMA.") from exc
            if done.returncode != 0 or not path.exists():
                raise RuntimeError(f"GitHub's GraphQL schema is needed by the GitHub tests; `{' '.join(cmd)}` failed: "
                                   f"{done.stderr.strip()[-500:]}")
    return path


@functools.cache
def github_schema() -> graphql.GraphQLSchema:
    """GitHub's schema, built once per process.

    GitHub's SDL does not pass graphql-core's own checks of a schema (a field defined twice; deprecated
    fields implementing interface fields that are not), which concern the schema, not queries: it is
    taken as valid, and queries are still validated against it in full.
    """
    return graphql.build_schema(schema_file().read_text(encoding="utf-8"), assume_valid=True, assume_valid_sdl=True)


def schema_version() -> str:
    """The installed ``@octokit/graphql-schema`` version ("" when the schema came from elsewhere)."""
    import json

    pkg = schema_file().parent / "package.json"
    return str(json.loads(pkg.read_text()).get("version", "")) if pkg.exists() else ""


def field_error(message: str, kind: str) -> GraphQLError:
    """An error a resolver raises for one field, answered with GitHub's ``type`` (FORBIDDEN, NOT_FOUND…)."""
    return GraphQLError(message, extensions={"type": kind})


def _error(message: str, kind: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"message": message}
    if kind:
        out["type"] = kind
    return out


def _connection_limit(field: graphql.GraphQLField, args: dict[str, Any]) -> int | None:
    """The page size a connection field is asked for; None when the field is not a connection."""
    named = graphql.get_named_type(field.type)
    if not (named.name.endswith("Connection") and "first" in field.args):
        return None
    return args.get("first") if args.get("first") is not None else args.get("last")


def count_nodes(document: graphql.DocumentNode, variables: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """(the nodes GitHub counts for a query, its pagination errors): a connection read without ``first``/``last``
    (``MISSING_PAGINATION_BOUNDARIES``; asking only its ``totalCount`` needs neither) or with one outside 1–100 (``EXCESSIVE_PAGINATION``)."""
    schema = github_schema()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, graphql.FragmentDefinitionNode)}
    errors: list[dict[str, Any]] = []

    def walk(selection_set: graphql.SelectionSetNode, parent: graphql.GraphQLNamedType, multiplier: int) -> int:
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, graphql.FieldNode):
                field = getattr(parent, "fields", {}).get(sel.name.value)
                if field is None:
                    continue  # __typename and the like
                args = {
                    a.name.value: graphql.value_from_ast(a.value, field.args[a.name.value].type, variables)
                    for a in sel.arguments or () if a.name.value in field.args
                }
                child = multiplier
                limit = _connection_limit(field, args)
                lists = sel.selection_set is not None and any(
                    isinstance(s, graphql.FieldNode) and s.name.value in ("nodes", "edges") for s in sel.selection_set.selections
                )  # GitHub answers a bare `totalCount` without `first`
                if limit is None and lists and _connection_limit(field, {"first": 0}) is not None:
                    errors.append(_error(f"You must provide a `first` or `last` value to properly paginate the "
                                         f"`{sel.name.value}` connection.", "MISSING_PAGINATION_BOUNDARIES"))
                elif limit is not None:
                    if not 1 <= limit <= PAGE_LIMIT:
                        which = "first" if args.get("first") is not None else "last"
                        errors.append(_error(f"Requesting {limit} records on the `{sel.name.value}` connection exceeds "
                                             f"the `{which}` limit of {PAGE_LIMIT} records.", "EXCESSIVE_PAGINATION"))
                    child = multiplier * max(limit, 1)
                    total += child
                if sel.selection_set is not None:
                    total += walk(sel.selection_set, graphql.get_named_type(field.type), child)
            elif isinstance(sel, graphql.InlineFragmentNode):
                inner = schema.type_map[sel.type_condition.name.value] if sel.type_condition else parent
                total += walk(sel.selection_set, inner, multiplier)
            elif isinstance(sel, graphql.FragmentSpreadNode):
                frag = fragments[sel.name.value]
                total += walk(frag.selection_set, schema.type_map[frag.type_condition.name.value], multiplier)
        return total

    nodes = 0
    for op in document.definitions:
        if isinstance(op, graphql.OperationDefinitionNode):
            root = schema.query_type if op.operation == graphql.OperationType.QUERY else schema.mutation_type
            nodes += walk(op.selection_set, root, 1)
    return nodes, errors


def query_limits(document: graphql.DocumentNode, variables: dict[str, Any], node_limit: int = NODE_LIMIT) -> list[dict[str, Any]]:
    """GitHub's pagination rules and node limit for a valid query: the errors GitHub would answer ([] if none)."""
    nodes, errors = count_nodes(document, variables)
    if not errors and nodes > node_limit:
        errors.append(_error(f"This query requests up to {nodes:,} possible nodes which exceeds the maximum "
                             f"limit of {node_limit:,}.", "MAX_NODE_LIMIT_EXCEEDED"))
    return errors


def _page(conn: Mapping[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """One page of a connection dict (``nodes`` holding every item) by ``first``/``last``/``after``."""
    items = list(conn.get("nodes") or [])
    total = conn.get("totalCount", len(items))
    start = int(args["after"]) if args.get("after") else 0
    if args.get("first") is not None:
        chunk, end = items[start: start + args["first"]], min(start + args["first"], len(items))
    else:
        last = args.get("last") or len(items)
        chunk, start, end = items[max(start, len(items) - last):], max(start, len(items) - last), len(items)
    return {**conn, "totalCount": total, "nodes": chunk,
            "pageInfo": {"hasNextPage": end < len(items), "hasPreviousPage": start > 0,
                         "startCursor": str(start) if chunk else None, "endCursor": str(end) if chunk else None}}


def _resolve(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    value = source.get(info.field_name) if isinstance(source, Mapping) else getattr(source, info.field_name, None)
    if callable(value):
        value = value(info, **args)
    if isinstance(value, BaseException):
        raise value
    if isinstance(value, Mapping) and "nodes" in value and ("first" in args or "last" in args):
        return _page(value, args)
    return value


def _resolve_type(value: Any, info: GraphQLResolveInfo, abstract_type: Any) -> str | None:
    if isinstance(value, Mapping) and value.get("__typename"):
        return str(value["__typename"])
    return DEFAULT_TYPES.get(abstract_type.name)


@functools.lru_cache(maxsize=64)
def _parse(query: str) -> tuple[graphql.DocumentNode | None, tuple[dict[str, Any], ...]]:
    try:
        document = graphql.parse(query)
    except GraphQLError as exc:
        return None, (exc.formatted,)
    return document, tuple(e.formatted for e in graphql.validate(github_schema(), document))


def answer(query: str, variables: dict[str, Any] | None, root: Mapping[str, Any], *,
           node_limit: int = NODE_LIMIT) -> dict[str, Any]:
    """GitHub's answer to a query over ``root`` (the Query type's fields: values, or callables
    ``(info, **args)``): ``{"errors": [...]}`` for a query GitHub refuses, else ``{"data": ..., "errors"?: ...}``.
    ``node_limit``: lower than GitHub's to make a query exceed it."""
    document, invalid = _parse(query)
    if document is None or invalid:
        return {"errors": [dict(e) for e in invalid]}
    variables = dict(variables or {})
    limits = query_limits(document, variables, node_limit)
    if limits:
        return {"errors": limits}
    result = graphql.execute(github_schema(), document, root_value=root, variable_values=variables,
                             field_resolver=_resolve, type_resolver=_resolve_type)
    assert isinstance(result, graphql.ExecutionResult)  # the resolvers are synchronous
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        errors = []
        for e in result.errors:
            item = dict(e.formatted)
            kind = (item.pop("extensions", None) or {}).get("type")
            if kind:
                item["type"] = kind
            errors.append(item)
        out["errors"] = errors
    return out


def deprecated_fields(query: str) -> list[str]:
    """``Type.field`` for every deprecated field the query asks for (GitHub answers them, but will remove them)."""
    from graphql.validation import NoDeprecatedCustomRule

    document = graphql.parse(query)
    return [e.message for e in graphql.validate(github_schema(), document, [NoDeprecatedCustomRule])]
