"""The OpenAPI paths of the working pages: the case file, photos, the citizen's report and
ticket, the grid worker's tasks, the console's queue and search, and /api/me.

Merged into the document by dispatch/api/openapi.py; the schemas of what these routes read
are in dispatch/api/openapi_cases.py, the limits come from the code.
"""

from __future__ import annotations

from dispatch.api.casework import REPORT_FIELDS
from dispatch.api.openapi_cases import (
    ACTIONS,
    IMAGE_TYPES,
    INT,
    NULL_INT,
    NULL_TEXT,
    NULL_TIME,
    TEXT,
    TIME,
    Schema,
    obj,
    ref,
)
from dispatch.api.openapi_parts import SIGNED_IN
from dispatch.api.openapi_parts import error as _error
from dispatch.api.openapi_parts import json_body as _json
from dispatch.api.openapi_parts import reply as _reply
from dispatch.domain.access import Role
from dispatch.service import queue
from dispatch.service.intake import CHANNELS, MAX_DESCRIPTION
from dispatch.service.photos import MAX_BYTES, MAX_PHOTOS, THUMB_SIZE
from dispatch.service.queries import OPEN_STATES


def _param(name: str, where: str, schema: Schema, description: str = "") -> Schema:
    return {"name": name, "in": where, "required": where == "path", "schema": schema,
            **({"description": description} if description else {})}  # fmt: skip


def _limit(default: int, high: int) -> Schema:
    schema = {"type": "integer", "minimum": 1, "maximum": high, "default": default}
    return _param("limit", "query", schema, f"at most this many (default {default})")


# -- what the phone, the citizen and the header read -----------------------------------------

TASKS = obj(
    ["worker", "tasks", "server_time"],
    {
        "worker": obj(["id", "name", "grid_id", "grid"],
                      {"id": INT, "name": TEXT, "grid_id": NULL_INT, "grid": TEXT}),
        "tasks": {"type": "array", "description": "its open cases, newest first",
                  "items": {"allOf": [ref("CaseSummary")], "required": ["actions"],
                            "properties": {"actions": ACTIONS}}},
        "server_time": TIME,
    },
)  # fmt: skip

TICKET = obj(
    ["ticket", "state", "status", "category_name", "category_name_en", "reported_at",
     "closed_at", "rating", "can_rate", "steps"],
    {
        "ticket": TEXT, "state": TEXT, "status": {"type": "string", "enum": ["open", "closed"]},
        "category_name": TEXT, "category_name_en": TEXT, "reported_at": TIME,
        "closed_at": NULL_TIME, "rating": NULL_INT,
        "can_rate": {"type": "boolean", "description": "the case is closed"},
        "steps": {"type": "array", "description": "public milestones; never who handles it",
                  "items": obj(["type", "at"], {"type": TEXT, "at": TIME})},
    },
    "What a citizen may know about its report.",
)  # fmt: skip

ME = {
    "oneOf": [
        obj(["signed_in"], {"signed_in": {"const": False}}),
        obj(
            ["signed_in", "name", "username", "role", "township_id", "department",
             "worker_id", "csrf_token"],
            {
                "signed_in": {"const": True}, "name": TEXT,
                "username": {"type": "string", "description": "role:username, the actor "
                             "of its events"},
                "role": {"type": "string", "enum": [r.value for r in Role]},
                "township_id": NULL_INT, "department": NULL_TEXT, "worker_id": NULL_INT,
                "csrf_token": {"type": ["string", "null"],
                               "description": "send it as X-CSRFToken on writes; null for "
                               "api keys, which need none (nor do device tokens)"},
            },
        ),
    ]
}  # fmt: skip

_REPORT_FIELD = {
    "service_code": {"type": "string", "description": "a category code of /api/meta"},
    "lat": {"type": "string", "description": "WGS84, inside the county"},
    "long": {"type": "string", "description": "WGS84, inside the county"},
    "description": {"type": "string", "maxLength": MAX_DESCRIPTION,
                    "description": "required when no photo is sent"},
    "address": {"type": "string", "maxLength": 400},
    "phone": {"type": "string", "description": "for the callback; never shown on screens"},
    "name": {"type": "string", "description": "the reporter's name, for the callback"},
}  # fmt: skip
PHOTOS_FIELD: Schema = {
    "type": "array",
    "maxItems": MAX_PHOTOS,
    "items": {"type": "string", "contentMediaType": "application/octet-stream"},
    "description": f"JPEG, PNG or WebP, at most {MAX_BYTES // 2**20} MB each",
}
CSRF_FIELD: Schema = {"type": "string", "description": "instead of the X-CSRFToken header"}
REPORT_FORM = {
    "type": "object",
    "required": ["service_code", "lat", "long"],
    "additionalProperties": False,
    "properties": {
        **{name: _REPORT_FIELD[name] for name in REPORT_FIELDS},  # a new field fails here
        "csrf_token": CSRF_FIELD,
        "photos": PHOTOS_FIELD,
    },
}

SCHEMAS: dict[str, Schema] = {
    "FieldTasks": TASKS,
    "Ticket": TICKET,
    "Me": ME,
    "ReportForm": REPORT_FORM,
}

# -- operations ------------------------------------------------------------------------------

PUBLIC: list[Schema] = [{}]
COOKIE_WRITE: list[Schema] = [{"session": [], "csrf": []}, {"bearerAuth": []}]
SIGNED_IN_ERRORS = {"401": _reply("Unauthorized"), "403": _reply("Forbidden")}
TICKET_PARAM = _param(
    "ticket", "path", {"type": "string", "pattern": r"^\d{6}-\d+$"},
    "the citizen's number, e.g. 261122-00042 (all of it must match)",
)  # fmt: skip
IMAGE = {
    "description": "the image (cached for a day)",
    "content": {t: {"schema": {"type": "string", "contentMediaType": t}} for t in IMAGE_TYPES},
}
PHOTO_ID = _param("photo_id", "path", {"type": "integer", "minimum": 0})
PHOTO_RESPONSES = {
    "200": IMAGE,
    **SIGNED_IN_ERRORS,
    "404": _error(
        "no such photo, its case is outside your jurisdiction (the same body), or its file "
        "is missing"
    ),
}

DETAIL = {
    "summary": "The case file: summary, reporter (masked unless the role needs it), "
    "timeline, whistle parties, photos, the actions you may take, suggestions",
    "security": SIGNED_IN,
    "parameters": [_param("case_id", "path", {"type": "integer", "minimum": 0})],
    "responses": {
        "200": _json(ref("CaseDetail"), "the case file"),
        **SIGNED_IN_ERRORS,
        "404": _error("no such case, or outside your jurisdiction: the same body"),
    },
}

IDEMPOTENCY_KEY = _param(
    "Idempotency-Key", "header", {"type": "string", "minLength": 1, "maxLength": 200},
    "a retry with the same key and fields answers with the same case, `replayed: true` and "
    "no new rating code; the key with other fields is 422",
)  # fmt: skip
REPORTED = obj(
    ["id", "ticket", "state", "replayed"],
    {
        "id": INT, "ticket": TEXT, "state": TEXT, "replayed": {"type": "boolean"},
        "rating_code": {"type": "string", "minLength": 6, "maxLength": 6,
                        "description": "citizens, first answer only: the page keeps it to "
                        "rate the result"},
    },
)  # fmt: skip
REPORT = {
    "summary": "随手拍: a report with photos from the citizen page or a grid worker's phone",
    "description": "A citizen needs no account but sends the session cookie its page got, "
    "with the page's CSRF token (X-CSRFToken or the csrf_token field); it gets a rating "
    "code. A grid worker's device token files the report as channel grid. Signed-in "
    "officers are refused: they use POST /api/cases.",
    "security": COOKIE_WRITE,
    "parameters": [IDEMPOTENCY_KEY],
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": ref("ReportForm"),
                "encoding": {"photos": {"contentType": ", ".join(IMAGE_TYPES)}},
            }
        },
    },
    "responses": {
        "201": _json(REPORTED, "the ticket"),
        "400": _error("a field is missing, unknown or wrong, or a photo is not acceptable"),
        "403": _error("csrf_failed; or forbidden: an invalid device token, a signed-in officer"),
        "404": _error("unknown service_code"),
        "413": {"description": "the body is larger than 64 MB"},
        "422": _error("the Idempotency-Key was used for another report"),
    },
}

TICKET_STATUS = {
    "summary": "A citizen follows its report by ticket",
    "security": PUBLIC,
    "parameters": [TICKET_PARAM],
    "responses": {
        "200": _json(ref("Ticket"), "its progress"),
        "400": _error("not a ticket number"),
        "404": _error("no such ticket"),
    },
}

_RATING = obj(
    ["rating", "code"],
    {"rating": {"type": ["integer", "string"], "minimum": 1, "maximum": 5},
     "code": {"type": "string", "description": "the rating code given with the ticket"}},
)  # fmt: skip
RATED = obj(
    ["ticket", "state", "rating"],
    {"ticket": TEXT, "rating": INT, "state": {"type": "string", "enum": ["reviewed", "reopened"]}},
)
RATING = {
    "summary": "回访 by the citizen: 1–5 with the rating code; 1–2 reopens the case",
    "description": "No account: the rating code is the proof. Like every write that comes "
    "with a cookie, it needs the page's CSRF token.",
    "security": COOKIE_WRITE,
    "parameters": [TICKET_PARAM],
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": _RATING}
            for media in ("application/json", "application/x-www-form-urlencoded")
        },
    },
    "responses": {
        "200": _json(RATED, "recorded"),
        "400": _error("rating or code missing, or rating not 1–5"),
        "403": _error("the rating code does not match (forbidden), or csrf_failed"),
        "404": _error("no such ticket"),
        "409": _error("the case is not closed"),
    },
}

TASKS_GET = {
    "summary": "A grid worker's open tasks, newest first, with what it may do on each",
    "security": [{"bearerAuth": []}],
    "parameters": [_limit(100, 500)],
    "responses": {
        "200": _json(ref("FieldTasks"), "the tasks"),
        "400": _error("bad limit"),
        "401": _reply("Unauthorized"),
        "403": _error(
            "not a grid worker's device, or its token is unknown or revoked (the message "
            "says which)"
        ),
    },
}

QUEUE_GET = {
    "summary": "The console's work lists in buckets, within your jurisdiction",
    "description": "Township and department officers get their office's buckets, everyone "
    "else the duty officer's. Open cases only; each bucket is counted whole.",
    "security": SIGNED_IN,
    "parameters": [
        _param("township_id", "query", {"type": "integer"}, "only this township's cases"),
        _param("category", "query", TEXT, "a category code of /api/meta"),
        _param("channel", "query", {"type": "string", "enum": list(CHANNELS)}),
        _param("state", "query", {"type": "string", "enum": list(OPEN_STATES)}),
        _limit(50, queue.MAX_LIMIT),
    ],
    "responses": {
        "200": _json(ref("Queue"), "every bucket's count and first items"),
        "400": _error("an unknown category, channel or state, or a bad number"),
        "401": _reply("Unauthorized"),
        "403": _error("a grid worker's device (its list is /api/field/tasks), or a bad token"),
    },
}

SEARCH = {
    "summary": "Cases within your jurisdiction by ticket, id or words, newest first",
    "security": SIGNED_IN,
    "parameters": [
        {
            **_param("q", "query", TEXT),
            "required": True,
            "description": "a ticket (261122-00042), a case id, or up to 8 words that all "
            "occur in the description or address (any case); open and closed cases",
        },
        _limit(50, queue.MAX_LIMIT),
    ],
    "responses": {
        "200": _json(obj(["cases"], {"cases": {"type": "array", "items": ref("CaseSummary")}}),
                     "the cases"),
        "400": _error("q is empty, has too many words, or only one-character words"),
        **SIGNED_IN_ERRORS,
    },
}  # fmt: skip

SNAPSHOT = {
    "summary": "调取视频截图: a camera's picture now, kept with the case as evidence",
    "description": "The camera's last keyframe (or, when nobody watches it, the first one "
    "after opening it) as a JPEG naming the camera and the time in its EXIF, stored as a "
    "photo of kind evidence; the timeline gets case.evidence_added. The centre (duty, "
    "leader, admin) may, and a township office on its own cases.",
    "security": COOKIE_WRITE,
    "parameters": [_param("case_id", "path", {"type": "integer", "minimum": 0})],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": obj(
            ["camera_id"], {"camera_id": {"type": "integer", "minimum": 1,
                                          "description": "a registered, enabled camera"}},
        )}},
    },
    "responses": {
        "201": _json({"allOf": [ref("Photo")], "properties": {
            "camera_id": INT, "camera": {"type": "string", "description": "its name"}}},
            "the evidence photo"),
        "400": _error("camera_id missing, not a whole number, or not a registered camera "
                      "(unknown_camera); an unknown field"),
        "401": _reply("Unauthorized"),
        "403": _error("your role may not add evidence (forbidden), or csrf_failed"),
        "404": _error("no such case, or outside your jurisdiction: the same body"),
        "409": _error("the camera is disabled in the registry (camera_disabled)"),
        "415": _error("the body is not application/json"),
        "503": _error("the camera gives no picture now: offline, or no keyframe in time "
                      "(camera_unavailable; the message says which)"),
    },
}  # fmt: skip

ME_GET = {
    "summary": "Who the browser is signed in as, and its CSRF token",
    "description": "Served with the pages, beside the sign-in form (/login).",
    "security": [{}, {"session": []}, {"bearerAuth": []}],
    "responses": {"200": _json(ref("Me"), "signed in or not")},
}

PATHS: dict[str, Schema] = {
    "/api/cases/{case_id}/detail": {"get": DETAIL},
    "/api/cases/{case_id}/evidence/camera-snapshot": {"post": SNAPSHOT},
    "/api/photos/{photo_id}": {
        "get": {
            "summary": "A photo of a case within your jurisdiction",
            "security": SIGNED_IN,
            "parameters": [PHOTO_ID],
            "responses": PHOTO_RESPONSES,
        }
    },
    "/api/photos/{photo_id}/{variant}": {
        "get": {
            "summary": f"The thumbnail of a photo (JPEG, longest side {THUMB_SIZE} px)",
            "security": SIGNED_IN,
            "parameters": [
                PHOTO_ID,
                _param("variant", "path", {"type": "string", "enum": ["thumb"]}),
            ],
            "responses": PHOTO_RESPONSES,
        }
    },
    "/api/reports": {"post": REPORT},
    "/api/tickets/{ticket}": {"get": TICKET_STATUS},
    "/api/tickets/{ticket}/rating": {"post": RATING},
    "/api/field/tasks": {"get": TASKS_GET},
    "/api/queue": {"get": QUEUE_GET},
    "/api/search": {"get": SEARCH},
    "/api/me": {"get": ME_GET},
}
