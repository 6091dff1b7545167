"""The OpenAPI 3.1 document of the REST API, generated from the operations' pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from engmetrics import __version__
from engmetrics.wire import API_DEFAULT_LIMIT, API_MAX_LIMIT, list_shape, path_params
from engmetrics.operations import Operation

_REF = "#/components/schemas/{model}"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "code", "message"],
            "properties": {
                "type": {"type": "string", "enum": [
                    "api_error", "authentication_error", "invalid_request_error", "rate_limit_error",
                    "permission_error", "idempotency_error",
                ]},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "param": {"type": "string"},
                "retry_after": {"type": "integer", "description": "Seconds (rate_limit_exceeded only)"},
            },
        }
    },
}


def _error_responses() -> dict[str, Any]:
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "400": {"description": "Invalid parameters", **ref},
        "401": {"description": "Missing or invalid API key", **ref},
        "403": {"description": "The key lacks the scope", **ref},
        "404": {"description": "Not found", **ref},
        "422": {"description": "Validation failed (param names the parameter)", **ref},
        "429": {"description": "Rate limit exceeded (Retry-After)", **ref},
        "500": {"description": "Internal error (quote the Request-Id)", **ref},
        "501": {"description": "The engine cannot answer this", **ref},
    }


def openapi_document(ops: list[Operation], api_version: str) -> dict[str, Any]:
    """OpenAPI 3.1 for ``ops`` under /v1, plus /v1/health and /v1/openapi.json."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for op in ops:
        if op.query_model is not None:
            models.append((op.query_model, "validation"))
        models.append((op.result_model, "serialization"))
        shape = list_shape(op)
        if shape is not None:
            models.append((shape.item_model, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(models)), ref_template=_REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA

    paths: dict[str, Any] = {
        "/v1/health": {"get": {"operationId": "health", "summary": "Liveness (no auth)", "security": [],
                               "responses": {"200": {"description": "OK"}}}},
        "/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                     "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    }
    for op in ops:
        shape = list_shape(op)
        in_path = set(path_params(op))
        entry: dict[str, Any] = {"operationId": op.name, "summary": op.summary, "responses": _error_responses()}
        params: list[dict[str, Any]] = []
        if op.query_model is not None:
            qschema = op.query_model.model_json_schema(ref_template=_REF)
            required = set(qschema.get("required", []))
            for name, prop in qschema.get("properties", {}).items():
                if name in in_path:
                    params.append({"name": name, "in": "path", "required": True, "schema": prop})
                elif op.method == "GET" and not (shape and name in ("cursor", "limit")):
                    params.append({"name": name, "in": "query", "required": name in required, "schema": prop,
                                   **({"description": prop["description"]} if "description" in prop else {})})
            if op.method == "POST" or (op.method == "DELETE" and set(op.query_model.model_fields) - in_path):
                entry["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": refs[(op.query_model, "validation")]}}}
                params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                               "schema": {"type": "string", "maxLength": 255}})
        result_ref = refs[(op.result_model, "serialization")]
        if shape is not None:
            params.append({"name": "limit", "in": "query", "schema": {
                "type": "integer", "minimum": 1, "maximum": API_MAX_LIMIT, "default": API_DEFAULT_LIMIT}})
            if shape.item_has_id:
                params += [
                    {"name": "starting_after", "in": "query", "schema": {"type": "string"},
                     "description": "Id of the last item of the previous page (exclusive of ending_before)"},
                    {"name": "ending_before", "in": "query", "schema": {"type": "string"},
                     "description": "Id of the first item of the next page, to page backwards"},
                ]
            else:
                params.append({"name": "cursor", "in": "query", "schema": {"type": "string"},
                               "description": "The next_cursor of the previous page (these items have no id)"})
            rschema = op.result_model.model_json_schema(mode="serialization", ref_template=_REF)
            props = {k: v for k, v in rschema.get("properties", {}).items() if k in shape.extra_fields}
            response_schema: dict[str, Any] = {
                "type": "object",
                "required": ["object", "data", "has_more", "url"],
                "properties": {
                    "object": {"const": "list"},
                    "data": {"type": "array", "items": refs[(shape.item_model, "serialization")]},
                    "has_more": {"type": "boolean"},
                    "url": {"type": "string"},
                    **({} if shape.item_has_id else {"next_cursor": {"type": ["string", "null"]}}),
                    **props,
                },
            }
        else:
            response_schema = result_ref
        entry["responses"] = {"200": {"description": op.result_model.__name__,
                                      "content": {"application/json": {"schema": response_schema}}},
                              **entry["responses"]}
        if params:
            entry["parameters"] = params
        paths.setdefault("/v1" + op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "engmetrics API", "version": __version__,
                 "description": f"Engineering metrics over HTTP. Send Engmetrics-Version: {api_version}."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
