"""The OpenAPI schemas of a case: its summary, a new case, the parameters and result of an
action, the case file, the console queue.

Merged into the document by dispatch/api/openapi.py; the enumerations and limits come from
the code (dispatch/service/queries.py, casefile.py, queue.py, actions.py).
"""

from __future__ import annotations

from typing import Any

from dispatch.domain.access import Role
from dispatch.domain.lifecycle import Action, CaseState
from dispatch.domain.org import Level
from dispatch.domain.sla import Light, Urgency
from dispatch.domain.whistle import PartyRole, PartyState
from dispatch.service import queue
from dispatch.service.intake import CHANNELS, MAX_DESCRIPTION
from dispatch.service.photos import KINDS, MAX_BYTES, MAX_PHOTOS
from dispatch.service.queries import SCREEN_FIELDS

Schema = dict[str, Any]

TEXT: Schema = {"type": "string"}
TIME: Schema = {"type": "string", "format": "date-time"}
NULL_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
NULL_TEXT: Schema = {"type": ["string", "null"]}
INT: Schema = {"type": "integer"}
NULL_INT: Schema = {"type": ["integer", "null"]}
ACTIONS: Schema = {"type": "array", "items": {"type": "string", "enum": [a.value for a in Action]}}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def obj(required: list[str], properties: Schema, description: str = "") -> Schema:
    """An object schema; `required` lists what the code always sends."""
    out: Schema = {"type": "object", "required": required, "properties": properties}
    if description:
        out["description"] = description
    return out


# -- a case and its actions ------------------------------------------------------------------

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
        "department": NULL_TEXT,
        "worker_id": NULL_INT,
        "deadline": NULL_TIME,
        "reported_at": TIME,
        "updated_at": TIME,
        "closed_at": NULL_TIME,
        "on_time": _nullable({"type": "boolean"}),
        "rating": _nullable({"type": "integer", "minimum": 1, "maximum": 5}),
        "master_id": NULL_INT,
        "media_url": TEXT,
    },
}

SCREEN_CASE: Schema = {
    "type": "object",
    "description": "A case as a live screen keeps it (snapshot.cases): the CaseSummary's "
    "fields a wall counts, colours and lists; category names come from the page, the rest "
    "(description, address) from GET /api/cases/{case_id}.",
    "required": ["id", "ticket", "state", "status", "reported_at"],
    "properties": {k: CASE_SUMMARY["properties"][k] for k in SCREEN_FIELDS},
    "additionalProperties": False,
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
    "description": "The parameters the action needs; an empty object or no body for the "
    "others. reject, return, rework, suspend, escalate, send_down, cancel, reopen and "
    "deny_extension: reason. report_handled: result. urge, supervise: message. register: "
    "category, urgency (default: the category's). dispatch: department, unit_id, worker_id, "
    "each filled from the suggestion when left out, so no parameters dispatches to the "
    "suggestion (suggest_worker false sends no worker; a township officer always dispatches "
    "to its own township). whistle: lead, co, ack_minutes. acknowledge: department. "
    "report_part: department, result (a department officer always acts for its own "
    "department, whatever it sends). request_extension: hours, reason. merge: master_id. "
    "review: rating.",
    "properties": {
        "reason": TEXT,
        "result": TEXT,
        "message": TEXT,
        "category": TEXT,
        "urgency": {"type": "string", "enum": [u.value for u in Urgency]},
        "department": {"type": "string", "description": "a department code of /api/meta"},
        "unit_id": INT,
        "worker_id": INT,
        "suggest_worker": {"type": "boolean", "default": True},
        "master_id": INT,
        "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 720},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "lead": {"type": "string", "description": "whistle: the lead department (主办)"},
        "co": {
            "oneOf": [{"type": "array", "items": TEXT}, TEXT],
            "description": "whistle: co-handling departments (协办), a list or comma-separated",
        },
        "ack_minutes": {
            "type": ["number", "string"],
            "description": "whistle: minutes each department has to acknowledge (报到), "
            "1 minute to 3 days, default 30",
        },
    },
}

ACTION_FORM: Schema = {
    "type": "object",
    "description": "The same parameters as form fields (`co` repeated) and result photos "
    "(report_handled and report_part only).",
    "properties": {
        **{name: TEXT for name in ACTION_PARAMS["properties"] if name != "co"},
        "co": {"type": "array", "items": TEXT},
        "csrf_token": {"type": "string", "description": "instead of the X-CSRFToken header"},
        "photos": {
            "type": "array",
            "maxItems": MAX_PHOTOS,
            "items": {"type": "string", "contentMediaType": "application/octet-stream"},
            "description": f"JPEG, PNG or WebP, at most {MAX_BYTES // 2**20} MB each",
        },
    },
}

ACTION_RESULT: Schema = {
    "type": "object",
    "required": ["case", "events", "replayed"],
    "properties": {
        "case": ref("CaseSummary"),
        "events": {"type": "array", "items": ref("StoredEvent")},
        "replayed": {"type": "boolean", "description": "a retry: nothing was done again"},
    },
}

# -- the case file -------------------------------------------------------------------------

WHISTLE_PARTY = obj(
    ["department", "department_name", "department_name_en", "role", "state", "late",
     "ack_deadline", "acknowledged_at", "reported_at", "report"],
    {
        "department": {"type": "string", "description": "a department code of /api/meta"},
        "department_name": TEXT,
        "department_name_en": TEXT,
        "role": {"type": "string", "enum": [r.value for r in PartyRole],
                 "description": "lead 主办 or co-handling 协办"},
        "state": {"type": "string", "enum": [s.value for s in PartyState],
                  "description": "waiting 待报到, acknowledged 已报到, reported 已反馈"},
        "late": {"type": "boolean",
                 "description": "turned red: not acknowledged by ack_deadline (the clock "
                 "marks it and escalates the case)"},
        "ack_deadline": TIME,
        "acknowledged_at": NULL_TIME,
        "reported_at": NULL_TIME,
        "report": {"type": ["string", "null"], "description": "its part, as reported"},
    },
    "A department called by a whistle (吹哨报到) and where it stands.",
)  # fmt: skip

PHOTO = obj(
    ["id", "url", "thumb_url", "width", "height", "content_type", "kind", "created_at"],
    {
        "id": INT,
        "url": {"type": "string", "description": "/api/photos/{id}"},
        "thumb_url": {"type": "string", "description": "/api/photos/{id}/thumb (JPEG)"},
        "width": INT,
        "height": INT,
        "content_type": {"type": "string", "enum": list(IMAGE_TYPES)},
        "kind": {"type": "string", "enum": list(KINDS),
                 "description": "report: sent with the report; result: proof of handling"},
        "created_at": TIME,
    },
)  # fmt: skip

TIMELINE_EVENT = obj(
    ["seq", "type", "at", "actor", "actor_name", "data"],
    {"seq": INT, "type": {"type": "string", "description": "e.g. whistle.acknowledged"},
     "at": TIME, "actor": NULL_TEXT,
     "actor_name": {**NULL_TEXT, "description": "the display name of the account behind "
                    "actor (值班员 李明); null for the clock, citizens and integrations"},
     "data": {"type": "object"}},
)  # fmt: skip

REPORTER = obj(
    ["name", "phone", "email", "masked", "channel", "submitted_by"],
    {
        "name": TEXT,
        "phone": TEXT,
        "email": TEXT,
        "masked": {"type": "boolean",
                   "description": "name and phone are masked (王*, 138****5678): for every "
                   "role but admin, leader and duty, who need them to verify and call back"},
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "submitted_by": {"type": "string", "description": "the account, device or page"},
    },
)  # fmt: skip

DISPATCH_PLAN = obj(
    ["unit_id", "unit", "department", "department_name", "worker_id", "worker",
     "worker_source"],
    {
        "unit_id": NULL_INT, "unit": TEXT, "department": NULL_TEXT, "department_name": TEXT,
        "worker_id": NULL_INT, "worker": TEXT,
        "worker_source": {"type": ["string", "null"], "enum": ["nearest", "grid", None],
                          "description": "nearest on-duty phone, or the grid's roster"},
    },
    "What one click on 派遣 (dispatch with no parameters) does.",
)  # fmt: skip

PLANNERS = ", ".join(r.value for r in (Role.ADMIN, Role.DUTY, Role.SYSTEM))
CASE_DETAIL = obj(
    ["case", "reporter", "timeline", "whistle", "photos", "merged_ids", "actions", "result",
     "reopen_count", "pending_extension_hours", "cameras", "may_add_evidence"],
    {
        "case": ref("CaseSummary"),
        "reporter": ref("Reporter"),
        "timeline": {"type": "array", "items": ref("TimelineEvent"),
                     "description": "every event of the case, oldest first"},
        "whistle": {"type": "array", "items": ref("WhistleParty"),
                    "description": "lead first; empty unless a whistle was blown"},
        "photos": {"type": "array", "items": ref("Photo")},
        "merged_ids": {"type": "array", "items": INT,
                       "description": "duplicates merged into this case"},
        "actions": {**ACTIONS,
                    "description": "what this principal may do now (its role and the state)"},
        "result": NULL_TEXT,
        "reopen_count": INT,
        "pending_extension_hours": {"type": ["number", "null"]},
        "suggestion": {
            "description": f"only for {PLANNERS}",
            **obj(["register", "dispatch"], {
                "register": obj(["category", "urgency"], {
                    "category": TEXT,
                    "urgency": {"type": "string", "enum": [u.value for u in Urgency]},
                }),
                "dispatch": {"oneOf": [ref("DispatchPlan"), {"type": "null"}],
                             "description": "null unless dispatch is one of `actions`"},
            }),
        },
        "duplicates": {
            "type": "array",
            "description": f"only for {PLANNERS}: open cases of the same category within "
            "300 m and 3 days, nearest first (CaseSummary with distance_m)",
            "items": {"allOf": [ref("CaseSummary")],
                      "properties": {"distance_m": INT}, "required": ["distance_m"]},
        },
        "cameras": {
            "type": "array",
            "description": "the nearest cameras, nearest first",
            "items": obj(["id", "code", "name", "status", "distance_m"], {
                "id": INT, "code": TEXT, "name": TEXT, "status": TEXT, "distance_m": INT,
            }),
        },
        "may_add_evidence": {"type": "boolean", "description": "whether you may save a "
                             "camera's snapshot as evidence (POST .../evidence/camera-snapshot)"},
    },
    "The whole case file as the principal may see it.",
)  # fmt: skip

# -- the console queue ----------------------------------------------------------------------

QUEUE_PARTY = obj(
    ["department", "role", "state", "ack_deadline", "acknowledged_at", "late"],
    {
        "department": TEXT,
        "role": {"type": "string", "enum": [r.value for r in PartyRole]},
        "state": {"type": "string",
                  "enum": [PartyState.WAITING.value, PartyState.ACKNOWLEDGED.value]},
        "ack_deadline": TIME, "acknowledged_at": NULL_TIME, "late": {"type": "boolean"},
    },
)  # fmt: skip


def _bucket(description: str) -> Schema:
    return obj(
        ["count", "items"],
        {
            "count": {"type": "integer", "minimum": 0, "description": "all of the bucket"},
            "items": {
                "type": "array",
                "description": "the first `limit`: red, then yellow, then the most urgent, "
                "then the longest waiting",
                "items": {"allOf": [ref("CaseSummary")], "properties": {
                    "parties": {"type": "array", "items": ref("QueueParty"),
                                "description": "whistles bucket only"}}},
            },
        },
        description,
    )  # fmt: skip


# Keyed by the service's own bucket names: a bucket added there fails here until described.
_BUCKET_TEXT = {
    "verify": "reported, to verify",
    "dispatch": "verified, registered, reopened or escalated: to dispatch",
    "overdue": "yellow or red",
    "returned": "sent back by the unit",
    "whistles": "a called department has not acknowledged; `parties` lists those",
    "incoming": "dispatched to this office, to accept",
    "handling": "accepted or handling by this office",
}
_OFFICE_TEXT = {
    "whistles": "departments: cases that call it and wait for its part; `parties` is its own",
    "overdue": "yellow or red, in its jurisdiction",
}
DUTY_BUCKETS = {name: _BUCKET_TEXT[name] for name in queue.BUCKETS}
OFFICE_BUCKETS = {name: _OFFICE_TEXT.get(name) or _BUCKET_TEXT[name]
                  for name in queue.OFFICE_BUCKETS}  # fmt: skip

QUEUE = {
    "type": "object",
    "required": ["kind", "buckets", "server_time"],
    "properties": {
        "kind": {"type": "string", "enum": ["duty", "office"],
                 "description": "office for township and department officers"},
        "buckets": {"oneOf": [
            {**obj(list(DUTY_BUCKETS), {k: _bucket(v) for k, v in DUTY_BUCKETS.items()}),
             "title": "duty"},
            {**obj(list(OFFICE_BUCKETS), {k: _bucket(v) for k, v in OFFICE_BUCKETS.items()}),
             "title": "office"},
        ]},
        "server_time": TIME,
    },
}  # fmt: skip

SCHEMAS: dict[str, Schema] = {
    "CaseSummary": CASE_SUMMARY,
    "ScreenCase": SCREEN_CASE,
    "NewCase": NEW_CASE,
    "ActionParams": ACTION_PARAMS,
    "ActionForm": ACTION_FORM,
    "ActionResult": ACTION_RESULT,
    "CaseDetail": CASE_DETAIL,
    "WhistleParty": WHISTLE_PARTY,
    "Photo": PHOTO,
    "TimelineEvent": TIMELINE_EVENT,
    "Reporter": REPORTER,
    "DispatchPlan": DISPATCH_PLAN,
    "QueueParty": QUEUE_PARTY,
    "Queue": QUEUE,
}
