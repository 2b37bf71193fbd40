"""The OpenAPI 3.1 document of the internal JSON API under /api, served at /api/openapi.json.

Written out by hand as plain data so that it reads like documentation; the enumerations
(states, actions, channels, layers, urgencies) come from the code, and a test checks that
every Flask rule under /api has its path here and every path here has its rule.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import current_app, has_app_context

from dispatch.api import (
    openapi_calls,
    openapi_cameras,
    openapi_cases,
    openapi_casework,
    openapi_workers,
)
from dispatch.api.auth import CSRF_HEADER, SESSION_HOURS
from dispatch.api.openapi_parts import SIGNED_IN, WRITE
from dispatch.api.openapi_parts import error as _error
from dispatch.api.openapi_parts import json_body as _json
from dispatch.api.openapi_parts import ref as _ref
from dispatch.api.openapi_parts import reply as _reply
from dispatch.api.rest import GEO_LAYERS, IDEMPOTENCY_SCOPE, INTAKE_ROLES
from dispatch.domain.lifecycle import Action
from dispatch.service.accounts import TOKEN_PREFIX

Schema = dict[str, Any]


def _nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


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
            "cases": {"type": "array", "items": _ref("ScreenCase")},
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

# -- who is asking ---------------------------------------------------------------------------

SECURITY_SCHEMES: Schema = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": f"People sign in with the form at /login; the session lasts "
        f"{SESSION_HOURS} h. A write that relies on it also needs `csrf`.",
    },
    "csrf": {
        "type": "apiKey",
        "in": "header",
        "name": CSRF_HEADER,
        "description": "The session's CSRF token (GET /api/me, or the _csrf_token cookie), "
        "on every POST that comes with the session cookie; without it 403 csrf_failed. A "
        "form may send it as the csrf_token field instead.",
    },
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": f"A device token ({TOKEN_PREFIX}…: a grid worker's phone, a wall "
        "kiosk; X-Device-Token works too) or an api key (ch_…: an integration, which acts "
        "as the system and sees everything). Needs no CSRF token.",
    },
}
RESPONSES: Schema = {
    "Unauthorized": _error(
        "nobody is signed in and no token was sent (code unauthorized, field authorization)"
    ),
    "Forbidden": _error(
        "forbidden: the token is unknown or revoked, or your role may not do this (the "
        "message names the role); csrf_failed: a write with the session cookie but without "
        "its CSRF token"
    ),
}
PUBLIC: list[Schema] = [{}]
SCREEN: list[Schema] = [{}, *SIGNED_IN]
DENIED = {"401": _reply("Unauthorized"), "403": _reply("Forbidden")}
SCREEN_READ = {
    "description": "Anonymous only where the deployment allows anonymous screens "
    "(COMMANDHALL_ANONYMOUS_SCREENS); a township officer always gets its own township.",
    "security": SCREEN,
    "parameters": [TOWNSHIP],
}
SCREEN_ERRORS = {
    "400": _error("bad township_id"),
    "401": _reply("Unauthorized"),
    "403": _error("an account with no county or township view (departments, grid workers)"),
    "404": _error("township_id is not yours to watch"),
}
NOT_YOURS = "no such case, or outside your jurisdiction: the same body as a missing case"

IDEMPOTENCY_KEY: Schema = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": f"1–200 characters, scope {IDEMPOTENCY_SCOPE}: a retry with the same key "
    "and body answers with the same case and `Idempotent-Replayed: true`; the same key with "
    "another body is 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
ACTION_KEY: Schema = {
    **IDEMPOTENCY_KEY,
    "description": "1–200 characters, per signed-in actor: a retry of an action already done "
    "answers 200 with `replayed: true`, no events, and changes nothing (a phone that lost the "
    "answer sends it again); the same key with other parameters is 422.",
}
ACTION_FORM_CONTENT: Schema = {
    "schema": _ref("ActionForm"),
    "encoding": {"photos": {"contentType": ", ".join(openapi_cases.IMAGE_TYPES)}},
}

PATHS: dict[str, Schema] = {
    "/api/snapshot": {
        "get": {
            **SCREEN_READ,
            "summary": "What a screen starts from: the head seq, open cases and today's others",
            "responses": {"200": _json(_ref("Snapshot"), "the snapshot"), **SCREEN_ERRORS},
        }
    },
    "/api/kpis": {
        "get": {
            **SCREEN_READ,
            "summary": "The wall's KPI strip",
            "responses": {"200": _json(_ref("Kpis"), "the counts"), **SCREEN_ERRORS},
        }
    },
    "/api/cases": {
        "get": {
            "summary": "Cases within your jurisdiction, newest first",
            "security": SIGNED_IN,
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
                **DENIED,
            },
        },
        "post": {
            "summary": "Register a report (hotline officers, integrations)",
            "description": f"For {', '.join(sorted(r.value for r in INTAKE_ROLES))}; grid "
            "workers and citizens report through POST /api/reports.",
            "security": WRITE,
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
                **DENIED,
                "404": _error("unknown service_code"),
                "415": _error("the body is not application/json"),
                "422": _error("the Idempotency-Key was used for another body"),
            },
        },
    },
    "/api/cases/{case_id}": {
        "get": {
            "summary": "One case",
            "security": SIGNED_IN,
            "parameters": [CASE_ID],
            "responses": {
                "200": _json(_ref("CaseSummary"), "the case"),
                **DENIED,
                "404": _error(NOT_YOURS),
            },
        }
    },
    "/api/cases/{case_id}/actions/{name}": {
        "post": {
            "summary": "Move a case through its lifecycle (one action of the transition table)",
            "description": "The case must be within your jurisdiction and the action one your "
            "role may take. Parameters as a JSON object, or as form fields with result "
            "`photos` (multipart).",
            "security": WRITE,
            "parameters": [
                CASE_ID,
                {
                    "name": "name",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": [a.value for a in Action]},
                },
                ACTION_KEY,
            ],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {"schema": _ref("ActionParams")},
                    "multipart/form-data": ACTION_FORM_CONTENT,
                    "application/x-www-form-urlencoded": {"schema": _ref("ActionForm")},
                },
            },
            "responses": {
                "200": _json(
                    _ref("ActionResult"), "the case after the action and the events it produced"
                ),
                "400": _error(
                    "unknown action, a parameter missing or wrong, a photo not acceptable, "
                    "or a rule of the case (e.g. close before every called department has "
                    "reported: field whistle, the message names them)"
                ),
                **DENIED,
                "404": _error(NOT_YOURS),
                "409": _error(
                    "the action is not allowed in the case's state (the message names it)"
                ),
                "413": {"description": "the body is larger than 64 MB"},
                "415": _error("the body is neither JSON nor a form"),
                "422": _error("the Idempotency-Key was used for other parameters"),
            },
        }
    },
    "/api/meta": {
        "get": {
            "summary": "Categories, departments, townships and the transition table",
            "security": PUBLIC,
            "responses": {"200": _json(_ref("Meta"), "the lookup tables")},
        }
    },
    "/api/geo/{layer}.geojson": {
        "get": {
            "summary": "A layer of the offline base map",
            "security": PUBLIC,
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
            "security": PUBLIC,
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
        }
    },
}

SCHEMAS.update(openapi_cases.SCHEMAS)
for part in (openapi_workers, openapi_casework, openapi_cameras, openapi_calls):
    PATHS.update(part.PATHS)
    SCHEMAS.update(part.SCHEMAS)

# The paths the sign-in pages serve (dashboard/login.py), by the blueprint that serves them:
# a server started without the pages (API-only tests) does not have them.
PAGE_PATHS = {"/api/me": "login"}


def _served(path: str) -> bool:
    blueprint = PAGE_PATHS.get(path)
    return blueprint is None or not has_app_context() or blueprint in current_app.blueprints


def document() -> dict[str, Any]:
    """A fresh copy each time (the parts above are shared between paths), of the paths this
    server serves."""
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "CommandHall internal API",
                "version": "1",
                "description": "The JSON API of the pages and the hotline desk. Errors are "
                "`{code, message, field}`. Every route needs a signed-in session, a device "
                "token or an api key unless it says otherwise; a case outside your "
                "jurisdiction answers 404 exactly as a missing one. Third-party apps use "
                "Open311 GeoReport v2 at /open311/v2 instead (discovery.xml).",
            },
            "servers": [{"url": "/"}],
            "security": SIGNED_IN,
            "paths": {path: item for path, item in PATHS.items() if _served(path)},
            "components": {
                "schemas": SCHEMAS,
                "responses": RESPONSES,
                "securitySchemes": SECURITY_SCHEMES,
            },
        }
    )
