"""The OpenAPI 3.1 document of the internal JSON API under /api, served at /api/openapi.json.

Written out by hand as plain data so that it reads like documentation; the enumerations
(states, actions, channels, layers, urgencies) come from the code, and a test checks that
every Flask rule under /api has its path here and every path here has its rule.
"""

from __future__ import annotations

import copy
from typing import Any

from dispatch.api import openapi_workers
from dispatch.api.rest import GEO_LAYERS, IDEMPOTENCY_SCOPE
from dispatch.domain.lifecycle import Action, CaseState
from dispatch.domain.org import Level
from dispatch.domain.sla import Light, Urgency
from dispatch.service.intake import CHANNELS, MAX_DESCRIPTION

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> Schema:
    return _json(_ref("Error"), description)


def _query_int(
    name: str, description: str, *, minimum: int = 0, maximum: int | None = None
) -> Schema:
    schema: Schema = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


TOWNSHIP = _query_int("township_id", "only this township's (or street office's) cases")
CASE_ID: Schema = {
    "name": "case_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
TEXT: Schema = {"type": "string"}
TIME: Schema = {"type": "string", "format": "date-time"}
INT: Schema = {"type": "integer"}
NULL_INT = _nullable(INT)

CASE_SUMMARY: Schema = {
    "type": "object",
    "description": "A case as screens see it: no personal data, names resolved, ISO 8601 times.",
    "required": ["id", "ticket", "state", "status", "service_code", "reported_at"],
    "properties": {
        "id": INT,
        "ticket": {"type": "string", "description": "the citizen's number, e.g. 261122-00042"},
        "state": {"type": "string", "enum": [s.value for s in CaseState]},
        "status": {"type": "string", "enum": ["open", "closed"], "description": "Open311 status"},
        "service_code": TEXT,
        "category": TEXT,
        "category_name": TEXT,
        "category_name_en": TEXT,
        "description": TEXT,
        "address": TEXT,
        "lat": {"type": "number"},
        "long": {"type": "number"},
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "township_id": NULL_INT,
        "township": TEXT,
        "grid_id": NULL_INT,
        "grid": TEXT,
        "level": {"type": "string", "enum": [lv.value for lv in Level]},
        "urgency": _nullable({"type": "string", "enum": [u.value for u in Urgency]}),
        "light": {"type": "string", "enum": [li.value for li in Light]},
        "department": _nullable(TEXT),
        "worker_id": NULL_INT,
        "deadline": _nullable(TIME),
        "reported_at": TIME,
        "updated_at": TIME,
        "closed_at": _nullable(TIME),
        "on_time": _nullable({"type": "boolean"}),
        "rating": _nullable({"type": "integer", "minimum": 1, "maximum": 5}),
        "master_id": NULL_INT,
        "media_url": TEXT,
    },
}

NEW_CASE: Schema = {
    "type": "object",
    "description": "A report typed in by a hotline officer or sent by a page. The personal "
    "fields are stored for the callback and never returned.",
    "required": ["service_code", "lat", "long"],
    "additionalProperties": False,
    "properties": {
        "service_code": {"type": "string", "description": "a category code from /api/meta"},
        "lat": {"type": ["number", "string"], "description": "WGS84, inside the county"},
        "long": {"type": ["number", "string"], "description": "WGS84, inside the county"},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
        "address": {"type": "string", "maxLength": 400},
        "channel": {"type": "string", "enum": list(CHANNELS), "default": "hotline"},
        "media_url": {"type": "string", "maxLength": 1000},
        "phone": TEXT,
        "email": TEXT,
        "first_name": TEXT,
        "last_name": TEXT,
    },
}

ACTION_PARAMS: Schema = {
    "type": "object",
    "description": "The parameters the action needs (e.g. reason for reject, department for "
    "dispatch, rating for review); an empty object or no body for the others.",
    "properties": {
        "reason": TEXT,
        "result": TEXT,
        "message": TEXT,
        "category": TEXT,
        "urgency": {"type": "string", "enum": [u.value for u in Urgency]},
        "department": TEXT,
        "unit_id": INT,
        "worker_id": INT,
        "master_id": INT,
        "hours": {"type": "number", "exclusiveMinimum": 0},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
    },
}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["code", "message", "field"],
        "properties": {
            "code": {"type": "string", "description": "stable, e.g. invalid, not_found"},
            "message": {"type": "string", "description": "what was wrong and what is allowed"},
            "field": _nullable({"type": "string", "description": "the offending field"}),
        },
    },
    "CaseSummary": CASE_SUMMARY,
    "NewCase": NEW_CASE,
    "ActionParams": ACTION_PARAMS,
    "StoredEvent": {
        "type": "object",
        "required": ["seq", "type", "case_id", "at", "data"],
        "properties": {
            "seq": {"type": "integer", "description": "gap-free, in commit order"},
            "type": {"type": "string", "description": "e.g. case.dispatched"},
            "case_id": NULL_INT,
            "township_id": NULL_INT,
            "actor": _nullable(TEXT),
            "at": TIME,
            "data": {"type": "object"},
        },
    },
    "Snapshot": {
        "type": "object",
        "required": ["seq", "server_time", "day_start", "cases"],
        "properties": {
            "seq": {"type": "integer", "description": "replay events after this one"},
            "server_time": TIME,
            "day_start": TIME,
            "township_id": NULL_INT,
            "cases": {"type": "array", "items": _ref("CaseSummary")},
            "workers": {"type": "array", "items": _ref("Worker")},
        },
    },
    "Kpis": {
        "type": "object",
        "required": ["reported_today", "open", "closed_today", "overdue", "yellow"],
        "properties": {
            name: {"type": "integer", "minimum": 0}
            for name in ("reported_today", "open", "closed_today", "overdue", "yellow")
        },
    },
    "Meta": {
        "type": "object",
        "required": ["categories", "departments", "townships", "transitions"],
        "properties": {
            "categories": {"type": "array", "items": {"type": "object"}},
            "departments": {"type": "array", "items": {"type": "object"}},
            "townships": {"type": "array", "items": {"type": "object"}},
            "transitions": {
                "type": "object",
                "description": "action → {from: [states], to: state or null}",
                "additionalProperties": {"type": "object"},
            },
        },
    },
}

IDEMPOTENCY_KEY: Schema = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": f"1–200 characters, scope {IDEMPOTENCY_SCOPE}: a retry with the same key "
    "and body answers with the same case and `Idempotent-Replayed: true`; the same key with "
    "another body is 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}

PATHS: dict[str, Schema] = {
    "/api/snapshot": {
        "get": {
            "summary": "What a screen starts from: the head seq, open cases and today's others",
            "parameters": [TOWNSHIP],
            "responses": {
                "200": _json(_ref("Snapshot"), "the snapshot"),
                "400": _error("bad township_id"),
            },
        }
    },
    "/api/kpis": {
        "get": {
            "summary": "The wall's KPI strip",
            "parameters": [TOWNSHIP],
            "responses": {
                "200": _json(_ref("Kpis"), "the counts"),
                "400": _error("bad township_id"),
            },
        }
    },
    "/api/cases": {
        "get": {
            "summary": "Cases, newest first",
            "parameters": [
                {
                    "name": "state",
                    "in": "query",
                    "required": False,
                    "description": "comma-separated states",
                    "schema": {"type": "string"},
                    "style": "form",
                    "explode": False,
                },
                TOWNSHIP,
                _query_int("limit", "at most this many (default 200)", minimum=1, maximum=1000),
                _query_int("offset", "skip this many"),
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["cases"],
                        "properties": {"cases": {"type": "array", "items": _ref("CaseSummary")}},
                    },
                    "the cases",
                ),
                "400": _error("unknown state or bad number"),
            },
        },
        "post": {
            "summary": "Register a report (hotline officer, pages)",
            "parameters": [IDEMPOTENCY_KEY],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("NewCase")}},
            },
            "responses": {
                "201": {
                    **_json(_ref("CaseSummary"), "the new case (or, on a retry, the same case)"),
                    "headers": {
                        "Location": {"schema": {"type": "string"}},
                        "Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}},
                    },
                },
                "400": _error("a field is missing or wrong; `field` names it"),
                "404": _error("unknown service_code"),
                "415": _error("the body is not application/json"),
                "422": _error("the Idempotency-Key was used for another body"),
            },
        },
    },
    "/api/cases/{case_id}": {
        "get": {
            "summary": "One case",
            "parameters": [CASE_ID],
            "responses": {
                "200": _json(_ref("CaseSummary"), "the case"),
                "404": _error("no such case"),
            },
        }
    },
    "/api/cases/{case_id}/actions/{name}": {
        "post": {
            "summary": "Move a case through its lifecycle (one action of the transition table)",
            "parameters": [
                CASE_ID,
                {
                    "name": "name",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": [a.value for a in Action]},
                },
            ],
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": _ref("ActionParams")}},
            },
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["case", "events"],
                        "properties": {
                            "case": _ref("CaseSummary"),
                            "events": {"type": "array", "items": _ref("StoredEvent")},
                        },
                    },
                    "the case after the action and the events it produced",
                ),
                "400": _error("unknown action or a parameter is missing or wrong"),
                "404": _error("no such case"),
                "409": _error(
                    "the action is not allowed in the case's state (the message names it)"
                ),
            },
        }
    },
    "/api/meta": {
        "get": {
            "summary": "Categories, departments, townships and the transition table",
            "responses": {"200": _json(_ref("Meta"), "the lookup tables")},
        }
    },
    "/api/geo/{layer}.geojson": {
        "get": {
            "summary": "A layer of the offline base map",
            "parameters": [
                {
                    "name": "layer",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": list(GEO_LAYERS)},
                }
            ],
            "responses": {
                "200": {
                    "description": "a GeoJSON FeatureCollection",
                    "content": {"application/geo+json": {"schema": {"type": "object"}}},
                },
                "400": _error("unknown layer"),
                "404": _error("the layer has not been generated"),
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
        }
    },
}

PATHS.update(openapi_workers.PATHS)
SCHEMAS.update(openapi_workers.SCHEMAS)


def document() -> dict[str, Any]:
    """A fresh copy each time: the parts above are shared between paths."""
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "CommandHall internal API",
                "version": "1",
                "description": "The JSON API of the pages and the hotline desk. Errors are "
                "`{code, message, field}`. Third-party apps use Open311 GeoReport v2 at "
                "/open311/v2 instead (discovery.xml).",
            },
            "servers": [{"url": "/"}],
            "paths": PATHS,
            "components": {"schemas": SCHEMAS},
        }
    )
