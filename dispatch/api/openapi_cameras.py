"""The OpenAPI paths and schemas of the camera registry (/api/cameras).

Merged into the document by dispatch/api/openapi.py; limits and forms come from the service.
"""

from __future__ import annotations

from typing import Any

from dispatch.api.openapi_parts import SIGNED_IN, WRITE
from dispatch.api.openapi_parts import error as _error
from dispatch.api.openapi_parts import json_body as _json
from dispatch.api.openapi_parts import ref as _ref
from dispatch.api.openapi_parts import reply as _reply
from dispatch.service.cameras import (
    HEADERS,
    MAX_ADDRESS,
    MAX_CODE,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MAX_NAME,
    MAX_SOURCE,
    SOURCE_FORMS,
    STATUSES,
)

Schema = dict[str, Any]

NULL_INT: Schema = {"type": ["integer", "null"]}
NULL_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}


ADMIN_ONLY = "Admins only; other roles get 403."
DENIED = {"401": _reply("Unauthorized"), "403": _reply("Forbidden")}
CAMERA_ID: Schema = {
    "name": "camera_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
MISSING = _error("no such camera, or (for a township office) not in your township")
CAMERA_RESPONSES = {"200": _json(_ref("Camera"), "the camera"), **DENIED, "404": MISSING}
BAD_FIELD = _error(
    "a field is missing or wrong; `field` names it (lat for a point outside the grids)"
)


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


FIELD_SCHEMAS: dict[str, Schema] = {
    "code": {
        "type": "string",
        "maxLength": MAX_CODE,
        "description": "unique; letters, digits, _ . -; left empty, a new camera gets CAM-<n>",
    },
    "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
    "lat": {
        "type": ["number", "string"],
        "description": "WGS84; the point must fall in a grid, which also gives the township",
    },
    "long": {"type": ["number", "string"], "description": "WGS84"},
    "source": {"type": "string", "maxLength": MAX_SOURCE, "description": SOURCE_FORMS},
    "address": {"type": "string", "maxLength": MAX_ADDRESS},
}

CAMERA: dict[str, Schema] = {
    "id": {"type": "integer"},
    "code": {"type": "string"},
    "name": {"type": "string"},
    "lat": {"type": "number"},
    "long": {"type": "number"},
    "address": {"type": "string"},
    "grid_id": NULL_INT,
    "grid": {"type": "string", "description": "the grid's name"},
    "township_id": NULL_INT,
    "township": {"type": "string"},
    "source": {
        "type": "string",
        "description": "an RTSP URL's password is *** for everyone but admins",
    },
    "source_kind": {"type": "string", "enum": ["rtsp", "file", "mp4", "demo"]},
    "status": {
        "type": "string",
        "enum": list(STATUSES),
        "description": "online / offline come from the camera gateway; disabled from an admin",
    },
    "status_at": NULL_TIME,
    "updated_at": NULL_TIME,
}

SCHEMAS: dict[str, Schema] = {
    "Camera": {"type": "object", "required": list(CAMERA), "properties": CAMERA},
    "NewCamera": {
        "type": "object",
        "required": ["name", "lat", "long", "source"],
        "additionalProperties": False,
        "properties": FIELD_SCHEMAS,
    },
    "CameraChange": {
        "type": "object",
        "description": "the fields to change; the others keep their values",
        "additionalProperties": False,
        "properties": FIELD_SCHEMAS,
    },
    "ImportReport": {
        "type": "object",
        "required": ["ok", "rows", "created", "updated", "errors"],
        "properties": {
            "ok": {"type": "boolean"},
            "rows": {"type": "integer", "description": "data rows (features) read"},
            "created": {"type": "integer"},
            "updated": {"type": "integer", "description": "rows whose code was already known"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["row", "field", "message"],
                    "properties": {
                        "row": {
                            "type": "integer",
                            "description": "CSV line (the header is line 1) or feature (from 1)",
                        },
                        "field": {"type": ["string", "null"]},
                        "message": {"type": "string"},
                    },
                },
            },
            "code": {"type": "string", "enum": ["invalid_rows"]},
            "message": {"type": "string"},
            "field": {"type": "string"},
        },
    },
}

_COLUMNS = ", ".join("/".join(aliases) for aliases in HEADERS.values())
IMPORT_DESCRIPTION = (
    f"A CSV file (UTF-8, with or without BOM; a header row of {_COLUMNS}; address and code "
    "optional) or a GeoJSON FeatureCollection of Points (properties code, name, source, "
    f"address). At most {MAX_IMPORT_ROWS:,} cameras and {MAX_IMPORT_BYTES // 1024 // 1024} MB. "
    "All or nothing: every row is checked first; one bad row stores nothing and the answer "
    f"lists every bad row. A known code updates its camera; a new one or none creates one. "
    f"{ADMIN_ONLY}"
)

PATHS: dict[str, Schema] = {
    "/api/cameras": {
        "get": {
            "summary": "Cameras by code, in your jurisdiction",
            "description": "A township office gets its own township's only; grid workers' "
            "devices 403.",
            "security": SIGNED_IN,
            "parameters": [
                _query("township_id", {"type": "integer", "minimum": 0}, "only this township"),
                _query("status", {"type": "string", "enum": list(STATUSES)}, "only this status"),
                _query("q", {"type": "string"}, "words that must all be in name, code or address"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 10_000}, "at most"),
                _query("offset", {"type": "integer", "minimum": 0}, "skip this many"),
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["cameras", "total"],
                        "properties": {
                            "cameras": {"type": "array", "items": _ref("Camera")},
                            "total": {"type": "integer", "description": "all that match"},
                        },
                    },
                    "the cameras",
                ),
                "400": _error("bad township_id, status, limit or offset"),
                **DENIED,
                "404": _error("township_id is not yours to watch"),
            },
        },
        "post": {
            "summary": "Add a camera",
            "description": ADMIN_ONLY,
            "security": WRITE,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("NewCamera")}},
            },
            "responses": {
                "201": {
                    **_json(_ref("Camera"), "the new camera"),
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "400": BAD_FIELD,
                **DENIED,
                "409": _error("the code is taken (field code)"),
                "415": _error("the body is not application/json"),
            },
        },
    },
    "/api/cameras/{camera_id}": {
        "get": {
            "summary": "One camera",
            "security": SIGNED_IN,
            "parameters": [CAMERA_ID],
            "responses": CAMERA_RESPONSES,
        },
        "patch": {
            "summary": "Change a camera",
            "description": ADMIN_ONLY + " A new source sets the status to unknown until the "
            "gateway has looked.",
            "security": WRITE,
            "parameters": [CAMERA_ID],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("CameraChange")}},
            },
            "responses": {
                **CAMERA_RESPONSES,
                "400": BAD_FIELD,
                "409": _error("the code is taken (field code)"),
                "415": _error("the body is not application/json"),
            },
        },
        "delete": {
            "summary": "Delete a camera",
            "description": ADMIN_ONLY,
            "security": WRITE,
            "parameters": [CAMERA_ID],
            "responses": {"204": {"description": "deleted"}, **DENIED, "404": MISSING},
        },
    },
    "/api/cameras/{camera_id}/disable": {
        "post": {
            "summary": "Disable a camera: the gateway leaves it alone, the status says disabled",
            "description": ADMIN_ONLY,
            "security": WRITE,
            "parameters": [CAMERA_ID],
            "responses": CAMERA_RESPONSES,
        }
    },
    "/api/cameras/{camera_id}/enable": {
        "post": {
            "summary": "Enable a disabled camera again (status unknown until the gateway looks)",
            "description": ADMIN_ONLY,
            "security": WRITE,
            "parameters": [CAMERA_ID],
            "responses": CAMERA_RESPONSES,
        }
    },
    "/api/cameras/import": {
        "post": {
            "summary": "Import cameras from a CSV or GeoJSON file",
            "description": IMPORT_DESCRIPTION,
            "security": WRITE,
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {
                                    "type": "string",
                                    "contentMediaType": "application/octet-stream",
                                    "description": "a .csv, .geojson or .json file",
                                }
                            },
                        }
                    },
                    "text/csv": {"schema": {"type": "string"}},
                    "application/geo+json": {"schema": {"type": "object"}},
                },
            },
            "responses": {
                "200": _json(_ref("ImportReport"), "everything stored: the counts"),
                "400": {
                    "description": "bad rows (an ImportReport with code invalid_rows, nothing "
                    "stored), or a file that is not one (an Error: not UTF-8, not CSV or "
                    "GeoJSON, too large, too many rows, empty)",
                    "content": {
                        "application/json": {
                            "schema": {"anyOf": [_ref("ImportReport"), _ref("Error")]}
                        }
                    },
                },
                **DENIED,
                "409": _error("another change was saved at the same moment; import again"),
            },
        }
    },
}
