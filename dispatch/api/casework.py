"""The JSON API of the working pages: the case file, photos, the citizen's report and ticket,
the grid worker's tasks, the console queues. Views parse, authorise and call a service.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from flask import Blueprint, jsonify, request, send_file
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from dispatch.api import MAX_BODY_BYTES, the_app
from dispatch.api.auth import current_principal, require_principal
from dispatch.api.rest import error, int_arg, uploads
from dispatch.domain.access import Role
from dispatch.domain.lifecycle import OPEN, Action
from dispatch.service import actions, casefile, intake, photos, queries
from dispatch.service.errors import Forbidden, NotFound, ServiceError, ValidationError

casework = Blueprint("casework", __name__, url_prefix="/api")

REPORT_FIELDS = ("service_code", "lat", "long", "description", "address", "phone", "name")
# Citizens' pages share one idempotency scope per browser-made key; grid workers their own.
CITIZEN_SCOPE = "page:citizen"
RATING_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@casework.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> ResponseReturnValue:
    return error(exc.code, exc.message, exc.field, exc.status)


@casework.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    """413 for a body over the limit and the like, as JSON like every other error."""
    if exc.code == 413:
        return error(
            "too_large",
            f"the request is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB; send at most "
            "six photos of at most 10 MB each",
            "photos",
            413,
        )
    return error((exc.name or "error").lower().replace(" ", "_"), exc.description or str(exc),
                 None, exc.code or 500)  # fmt: skip


def rating_code(key: str | None) -> str:
    """The citizen's secret for rating later. With an Idempotency-Key it is derived from the
    key (HMAC with the server's secret), so a retry whose first answer was lost gets the same
    code again; only whoever holds the key can ask for it."""
    if not key:
        return "".join(secrets.choice(RATING_CODE_ALPHABET) for _ in range(6))
    secret = the_app().settings.secret_key.encode()
    digest = hmac.new(secret, f"{CITIZEN_SCOPE}:{key}".encode(), hashlib.sha256).digest()
    return "".join(RATING_CODE_ALPHABET[b % len(RATING_CODE_ALPHABET)] for b in digest[:6])


@casework.get("/cases/<int:case_id>/detail")
def case_detail(case_id: int) -> ResponseReturnValue:
    app = the_app()
    return jsonify(casefile.case_detail(app.core, app.names, case_id, require_principal()))


@casework.post("/cases/<int:case_id>/evidence/camera-snapshot")
def camera_snapshot(case_id: int) -> ResponseReturnValue:
    """调取视频截图: a snapshot of a camera kept with the case as evidence. JSON
    {camera_id}; 201 with the photo's urls; 503 when the camera gives no picture now."""
    from dispatch.api.rest import json_body
    from dispatch.service import evidence

    principal = require_principal()
    body: Any = json_body()
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object: {camera_id}", field="body")
    unknown = [k for k in body if k != "camera_id"]
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}; send only camera_id",
                              field=unknown[0])  # fmt: skip
    camera_id = evidence.camera_id_of(body.get("camera_id"))
    app = the_app()
    photo = evidence.save_camera_snapshot(app.core, principal, case_id, camera_id,
                                          media=app.media)  # fmt: skip
    return jsonify(photo), 201


@casework.get("/photos/<int:photo_id>")
@casework.get("/photos/<int:photo_id>/<variant>")
def photo(photo_id: int, variant: str = "") -> ResponseReturnValue:
    if variant not in ("", "thumb"):
        raise NotFound(f"photo variant {variant!r} does not exist; use /thumb", field="variant")
    app = the_app()
    row = casefile.photo_row(app.core, photo_id, require_principal())
    path, content_type = photos.open_photo(app.settings.data_dir, row, thumb=variant == "thumb")
    return send_file(path, mimetype=content_type, max_age=86400)


# -- citizens and grid workers report ---------------------------------------------------------


@casework.post("/reports")
def submit_report() -> ResponseReturnValue:
    """随手拍: a report with photos from the citizen page (no account) or a grid worker's
    phone (device token). Multipart: the fields and up to six `photos`. Answers 201 with the
    ticket; a citizen also gets the rating code its page keeps to rate the result later."""
    app = the_app()
    principal = current_principal()
    if principal is not None and principal.role not in (Role.GRID_WORKER, Role.SYSTEM):
        raise Forbidden(
            "officers register reports in the console (POST /api/cases)", field="authorization"
        )
    form = request.form
    unknown = [k for k in form if k not in REPORT_FIELDS and k != "csrf_token"]
    if unknown:
        raise ValidationError(
            f"unknown field {unknown[0]!r}; allowed: {', '.join(REPORT_FIELDS)}",
            field=unknown[0],
        )
    checked = photos.check_photos(uploads())
    worker = principal is not None and principal.role == Role.GRID_WORKER
    report = intake.NewReport(
        service_code=form.get("service_code"), lat=form.get("lat"), long=form.get("long"),
        description=form.get("description", ""), address=form.get("address", ""),
        channel="grid" if worker else "citizen", phone=form.get("phone", ""),
        first_name=form.get("name", ""),
        submitted_by=principal.name if principal else "page:report",
    )  # fmt: skip
    if not report.description.strip() and not checked:
        raise ValidationError("describe the problem or add a photo", field="description")
    key = request.headers.get("Idempotency-Key")
    scope = f"device:{principal.name}" if principal else CITIZEN_SCOPE
    idem = intake.Idempotency(scope, key) if key else None
    code = None if principal else rating_code(key)
    done = intake.submit_report(app.core, report, idempotency=idem, photos=checked,
                                rating_code=code)  # fmt: skip
    case = queries.get_case(app.core, app.names, done.case_id)
    body: dict[str, Any] = {"id": done.case_id, "ticket": case["ticket"], "state": case["state"],
                            "replayed": done.replayed}  # fmt: skip
    if code:
        body["rating_code"] = code
    return jsonify(body), 201


def _ticket_case(ticket: str) -> dict[str, Any]:
    """The public view of a case by its ticket: the full ticket must match, not just the id."""
    app = the_app()
    case_id = queries.case_id_from_ticket(ticket)
    try:
        case = queries.get_case(app.core, app.names, case_id)
    except NotFound:
        case = None
    if case is None or case["ticket"] != ticket.strip():
        raise NotFound(f"ticket {ticket} does not exist", field="ticket")
    return case


PUBLIC_EVENTS = frozenset(
    {"case.reported", "case.verified", "case.registered", "case.dispatched", "case.accepted",
     "case.handling_started", "case.handled", "case.closed", "case.reviewed", "case.reopened",
     "case.rejected", "case.merged", "case.cancelled", "whistle.blown"}
)  # fmt: skip


@casework.get("/tickets/<ticket>")
def ticket_status(ticket: str) -> ResponseReturnValue:
    """What a citizen may know about its report: progress, not who handles it."""
    case = _ticket_case(ticket)
    app = the_app()
    with app.core.db.read() as session:
        steps = [
            {"type": e["type"], "at": e["at"]}
            for e in casefile.timeline(session, case["id"])
            if e["type"] in PUBLIC_EVENTS
        ]
    return jsonify(
        {
            "ticket": case["ticket"],
            "state": case["state"],
            "status": case["status"],
            "category_name": case["category_name"],
            "category_name_en": case["category_name_en"],
            "reported_at": case["reported_at"],
            "closed_at": case["closed_at"],
            "rating": case["rating"],
            "can_rate": case["state"] == "closed",
            "steps": steps,
        }
    )


@casework.post("/tickets/<ticket>/rating")
def rate(ticket: str) -> ResponseReturnValue:
    """回访 by the citizen: 1–5 with the rating code; 1–2 reopens the case."""
    case = _ticket_case(ticket)
    body: Any = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(body, dict):
        raise ValidationError("send {rating, code}", field="body")
    code = str(body.get("code") or "").strip()
    if not code:
        raise ValidationError("the rating code given when you reported is required", field="code")
    app = the_app()
    intake.check_rating_code(app.core, case["id"], code)
    raw = body.get("rating")
    try:
        rating = int(raw)
    except (TypeError, ValueError):
        raise ValidationError(
            f"rating must be a whole number 1–5, got {raw!r}", field="rating"
        ) from None
    actions.perform(app.core, case["id"], Action.REVIEW, {"rating": rating}, actor="citizen")
    fresh = queries.get_case(app.core, app.names, case["id"])
    return jsonify({"ticket": fresh["ticket"], "state": fresh["state"], "rating": rating})


# -- the grid worker's phone -------------------------------------------------------------------


@casework.get("/field/tasks")
def field_tasks() -> ResponseReturnValue:
    """The signed-in grid worker's open tasks, newest first, with what it may do on each."""
    principal = require_principal()
    if principal.role != Role.GRID_WORKER:
        raise Forbidden("tasks are for grid workers' devices", field="authorization")
    app = the_app()
    f = queries.CaseFilter(
        states=sorted(s.value for s in OPEN), scope=principal.scope,
        limit=int_arg("limit", 100, low=1, high=500) or 100,
    )  # fmt: skip
    tasks = queries.list_cases(app.core, app.names, f)
    for task in tasks:
        task["actions"] = casefile.actions_for(principal, task["state"])
    worker = app.names.workers.get(principal.worker_id or -1)
    return jsonify(
        {
            "worker": {
                "id": principal.worker_id,
                "name": worker.name if worker else "",
                "grid_id": worker.grid_id if worker else None,
                "grid": app.names.unit_name(worker.grid_id) if worker else "",
            },
            "tasks": tasks,
            "server_time": app.core.clock.now().isoformat(),
        }
    )


# -- the console ---------------------------------------------------------------------------------

OFFICE_ROLES = frozenset({Role.TOWNSHIP, Role.DEPARTMENT})


@casework.get("/queue")
def console_queue() -> ResponseReturnValue:
    """The console's work lists: the duty officer's (verify, dispatch, overdue, returned,
    whistles) or, for a township or department office, its own (incoming, whistles,
    handling, overdue). Filters: township_id, category, channel, state, limit."""
    from dispatch.service import queue

    principal = require_principal()
    app = the_app()
    f = queue.parse_filter(request.args)
    if principal.role in OFFICE_ROLES:
        kind, result = "office", queue.office_queue(app.core, app.names, scope=principal.scope, f=f)
    elif principal.role == Role.GRID_WORKER:
        raise Forbidden(
            "grid workers have their task list at /api/field/tasks", field="authorization"
        )
    else:
        kind, result = "duty", queue.duty_queue(app.core, app.names, scope=principal.scope, f=f)
    server_time = result.pop("server_time", app.core.clock.now().isoformat())
    return jsonify({"kind": kind, "buckets": result, "server_time": server_time})


@casework.get("/search")
def search() -> ResponseReturnValue:
    """Cases in the principal's jurisdiction by ticket, id or words of the text."""
    from dispatch.service import queue

    principal = require_principal()
    app = the_app()
    limit = int_arg("limit", 50, low=1, high=200) or 50
    found = queue.search_cases(
        app.core, app.names, scope=principal.scope, text=request.args.get("q", ""), limit=limit
    )
    return jsonify({"cases": found})
