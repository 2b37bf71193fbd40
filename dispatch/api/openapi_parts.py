"""Small builders every part of the OpenAPI document uses (dispatch/api/openapi*.py)."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

SIGNED_IN: list[Schema] = [{"session": []}, {"bearerAuth": []}]
WRITE: list[Schema] = [{"session": [], "csrf": []}, {"bearerAuth": []}]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error(description: str) -> Schema:
    return json_body(ref("Error"), description)


def reply(name: str) -> Schema:
    """A shared response of components/responses (401, 403)."""
    return {"$ref": f"#/components/responses/{name}"}
