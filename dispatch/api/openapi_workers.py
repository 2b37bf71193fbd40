"""The OpenAPI paths and schemas of grid workers: positions from phones, the live map, nearest.

Merged into the document by dispatch/api/openapi.py; the limits come from the code.
"""

from __future__ import annotations

from typing import Any

from dispatch.api.openapi_parts import SIGNED_IN
from dispatch.api.openapi_parts import error as _error
from dispatch.api.openapi_parts import json_body as _json
from dispatch.api.openapi_parts import ref as _ref
from dispatch.api.openapi_parts import reply as _reply
from realtime.fixes import (
    FUTURE_SKEW_MS,
    MAX_ACCURACY,
    MAX_BATCH,
    MAX_LAT,
    MAX_REPORTED_SPEED,
    MAX_SPEED,
)
from realtime.positions import MAX_NEAREST
from realtime.presence import Presence

Schema = dict[str, Any]

NUMBER: Schema = {"type": "number"}
NULL_NUMBER: Schema = {"type": ["number", "null"]}
NULL_INT: Schema = {"type": ["integer", "null"]}


UNAUTHORIZED = {"401": _reply("Unauthorized")}


def _query(name: str, schema: Schema, description: str, *, required: bool) -> Schema:
    return {
        "name": name, "in": "query", "required": required, "description": description,
        "schema": schema,
    }  # fmt: skip


FIX: Schema = {
    "type": "object",
    "description": "One measurement of a phone. Other fields are ignored.",
    "required": ["worker_id", "time", "lat", "long"],
    "properties": {
        "worker_id": {"type": "integer", "description": "a grid worker of /api/workers"},
        "time": {
            "oneOf": [
                {"type": "string", "format": "date-time", "description": "ISO 8601 with zone"},
                {"type": "number", "description": "epoch milliseconds"},
            ],
            "description": f"when it was measured: at most {FUTURE_SKEW_MS // 1000} s ahead "
            "of the server, at most 24 h ago",
        },
        "lat": {"type": "number", "minimum": -MAX_LAT, "maximum": MAX_LAT},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "accuracy": {"type": ["number", "null"], "minimum": 0, "maximum": MAX_ACCURACY},
        "speed": {
            "type": ["number", "null"],
            "minimum": 0,
            "maximum": MAX_REPORTED_SPEED,
            "description": f"m/s; above {MAX_SPEED:g} the fix is kept but flagged",
        },
        "battery": {"type": ["number", "null"], "minimum": 0, "maximum": 100},
    },
}

INGEST_RESULT: Schema = {
    "type": "object",
    "required": ["accepted", "duplicates", "flagged", "rejected", "live"],
    "properties": {
        "accepted": {"type": "integer", "description": "fixes stored, flagged ones included"},
        "duplicates": {"type": "integer", "description": "fixes already known, dropped"},
        "flagged": {
            "type": "array",
            "description": "stored, but an impossible speed: they do not move the map",
            "items": {
                "type": "object",
                "required": ["index", "reason"],
                "properties": {"index": {"type": "integer"}, "reason": {"type": "string"}},
            },
        },
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "field", "message"],
                "properties": {
                    "index": {"type": "integer", "description": "place in `fixes`"},
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                },
            },
        },
        "live": {
            "type": "boolean",
            "description": "false: the live map could not be updated (the fixes are stored)",
        },
        "warning": {"type": "string"},
    },
}

WORKER: Schema = {
    "type": "object",
    "description": "A grid worker as screens see it; position fields are null until its "
    "first fix. Also the items of the `positions` frame on /live and of snapshot.workers.",
    "required": ["id", "name", "grid_id", "township_id", "lat", "long", "at", "presence"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "grid_id": {"type": "integer"},
        "township_id": NULL_INT,
        "lat": NULL_NUMBER,
        "long": NULL_NUMBER,
        "at": {"type": ["string", "null"], "format": "date-time", "description": "fix time"},
        "presence": {
            "type": "string",
            "enum": [p.value for p in Presence],
            "description": "offline: no fix for 2 min; idle: not moved 20 m for 5 min",
        },
        "speed": NULL_NUMBER,
        "battery": NULL_NUMBER,
        "on_duty": {"type": "boolean"},
        "in_grid": {"type": "boolean", "description": "nearest only: in the point's grid"},
        "distance_m": {"type": "number", "description": "nearest only: metres to the point"},
    },
}


def _workers(description: str) -> Schema:
    return _json(
        {
            "type": "object",
            "required": ["workers"],
            "properties": {"workers": {"type": "array", "items": _ref("Worker")}},
        },
        description,
    )


PATHS: dict[str, Schema] = {
    "/api/positions": {
        "post": {
            "summary": "A batch of position fixes from a grid worker's phone",
            "description": "Valid fixes are kept even when others are refused. Duplicates "
            "(same worker and time) are dropped, so a batch may be resent. The same call is "
            "the `positions` event of the /field Socket.IO namespace. A grid worker's device "
            "sends its own fixes (worker_id may be left out); integrations and admins any "
            "worker's.",
            "security": [{"session": [], "csrf": []}, {"bearerAuth": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["fixes"],
                            "properties": {
                                "fixes": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": MAX_BATCH,
                                    "items": _ref("Fix"),
                                }
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _json(_ref("IngestResult"), "something was stored or all was known"),
                "400": {
                    "description": "every fix was refused (an IngestResult), or the body is "
                    "not a batch (an Error)",
                    "content": {
                        "application/json": {
                            "schema": {"oneOf": [_ref("IngestResult"), _ref("Error")]}
                        }
                    },
                },
                **UNAUTHORIZED,
                "403": _error(
                    "a fix of another worker from a grid worker's device, a role that does "
                    "not send positions, an invalid token, or csrf_failed"
                ),
                "415": _error("the body is not application/json"),
                "503": _error("the history writer is behind; send the batch again later"),
            },
        }
    },
    "/api/workers": {
        "get": {
            "summary": "Every grid worker with its latest position and presence",
            "security": SIGNED_IN,
            "parameters": [
                _query(
                    "township_id",
                    {"type": "integer", "minimum": 0},
                    "only this township's workers",
                    required=False,
                )
            ],
            "responses": {
                "200": _workers("the workers, by id"),
                "400": _error("bad township_id"),
                **UNAUTHORIZED,
                "403": _reply("Forbidden"),
                "503": _error("the live map (Redis) cannot be reached"),
            },
        }
    },
    "/api/workers/nearest": {
        "get": {
            "summary": "Dispatch suggestions: on-duty, not-offline workers nearest a point",
            "description": "The workers of the point's own grid first (by distance), then "
            "the others by distance.",
            "security": SIGNED_IN,
            "parameters": [
                _query("lat", {"type": "number"}, "WGS84 latitude", required=True),
                _query("long", {"type": "number"}, "WGS84 longitude", required=True),
                _query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": MAX_NEAREST},
                    "at most this many (default 5)",
                    required=False,
                ),
            ],
            "responses": {
                "200": _workers("nearest first within each group"),
                "400": _error("lat, long or limit missing or out of range"),
                **UNAUTHORIZED,
                "403": _reply("Forbidden"),
                "503": _error("the live map (Redis) cannot be reached"),
            },
        }
    },
}

SCHEMAS: dict[str, Schema] = {"Fix": FIX, "IngestResult": INGEST_RESULT, "Worker": WORKER}
