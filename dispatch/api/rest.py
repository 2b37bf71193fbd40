"""The internal JSON API the pages use. Views parse, authorise and call a service; no rules.

Errors are JSON `{code, message, field}` with the HTTP status of the error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, request, send_file, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from dispatch.api import the_app
from dispatch.api.auth import current_principal, require_principal
from dispatch.domain.access import Role
from dispatch.domain.categories import CATEGORIES, DEPARTMENTS
from dispatch.domain.lifecycle import TRANSITIONS, CaseState
from dispatch.service import actions, cameras, casefile, intake, photos, queries
from dispatch.service.errors import Forbidden, NotFound, ServiceError, ValidationError
from realtime import positions

api = Blueprint("api", __name__, url_prefix="/api")

GEO_LAYERS = ("boundary", "townships", "communities", "grids", "roads", "cameras")
# The fields of POST /api/cases (hotline officer, citizen page); all text but lat and long.
NEW_CASE_FIELDS = (
    "service_code", "lat", "long", "description", "address", "channel", "media_url",
    "phone", "email", "first_name", "last_name",
)  # fmt: skip
IDEMPOTENCY_SCOPE = "api:cases"
# Who may register a report typed in or sent by a system (hotline officers, integrations).
INTAKE_ROLES = frozenset({Role.ADMIN, Role.DUTY, Role.SYSTEM})


def error(code: str, message: str, field: str | None, status: int) -> ResponseReturnValue:
    return jsonify({"code": code, "message": message, "field": field}), status


@api.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> ResponseReturnValue:
    return error(exc.code, exc.message, exc.field, exc.status)


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    return error(
        (exc.name or "error").lower().replace(" ", "_"),
        exc.description or str(exc),
        None,
        exc.code or 500,
    )


def int_arg(
    name: str, default: int | None = None, *, low: int = 0, high: int = 10**9
) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number, got {raw!r}", field=name) from None
    if not low <= value <= high:
        raise ValidationError(f"{name} must be between {low} and {high}, got {value}", field=name)
    return value


def screen_township() -> int | None:
    """The township a screen may read: a signed-in office is held to its own; anonymous
    screens only where the deployment allows them."""
    requested = int_arg("township_id")
    principal = current_principal()
    if principal is None:
        if not the_app().settings.anonymous_screens:
            require_principal()
        return requested
    scope = principal.scope
    if scope.township_id is not None:
        if requested not in (None, scope.township_id):
            raise NotFound(f"township {requested} is not yours to watch", field="township_id")
        return scope.township_id
    if not scope.everything:
        raise Forbidden("this account has no county or township view", field="township_id")
    return requested


@api.get("/snapshot")
def get_snapshot() -> ResponseReturnValue:
    app = the_app()
    return jsonify(queries.snapshot(app.core, app.names, township_id=screen_township()))


@api.get("/kpis")
def get_kpis() -> ResponseReturnValue:
    app = the_app()
    return jsonify(queries.kpis(app.core, township_id=screen_township()))


@api.get("/cases")
def list_cases() -> ResponseReturnValue:
    app = the_app()
    states = [s for s in request.args.get("state", "").split(",") if s]
    unknown = [s for s in states if s not in {c.value for c in CaseState}]
    if unknown:
        raise ValidationError(f"unknown state {unknown[0]!r}", field="state")
    f = queries.CaseFilter(
        states=states,
        township_id=int_arg("township_id"),
        scope=require_principal().scope,
        limit=int_arg("limit", 200, low=1, high=1000) or 200,
        offset=int_arg("offset", 0) or 0,
    )
    return jsonify({"cases": queries.list_cases(app.core, app.names, f)})


def json_body() -> Any:
    """The request's JSON body: 415 when it is not JSON, 400 when it does not parse."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"{request.method} {request.path} takes application/json, got "
            + (request.content_type or "no Content-Type")
        )
    try:
        return json.loads(request.get_data())
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise ValidationError(f"the body is not valid UTF-8 JSON: {exc}", field="body") from None


def _new_case_body() -> dict[str, Any]:
    """The JSON object of POST /api/cases, its fields checked for type (not yet for value)."""
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object of case fields", field="body")
    for name, value in body.items():
        if name not in NEW_CASE_FIELDS:
            raise ValidationError(
                f"unknown field {name!r}; allowed: {', '.join(NEW_CASE_FIELDS)}", field=name
            )
        if name in ("lat", "long"):
            if isinstance(value, bool) or not isinstance(value, int | float | str | None):
                raise ValidationError(f"{name} must be a number, got {value!r}", field=name)
        elif not isinstance(value, str | None):
            raise ValidationError(f"{name} must be a string, got {value!r}", field=name)
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate escape such as "\ud800"
                raise ValidationError(f"{name} is not valid Unicode text", field=name) from None
    return body


@api.post("/cases")
def create_case() -> ResponseReturnValue:
    """Register a report typed in by an officer or sent by a page: 201 and the case summary.

    A retry with the same Idempotency-Key and body answers 201 with the same case (its
    current summary) and `Idempotent-Replayed: true`; the key with another body is 422.
    """
    app = the_app()
    principal = require_principal()
    if principal.role not in INTAKE_ROLES:
        raise Forbidden(
            f"a {principal.role.value} user cannot register reports here; grid workers "
            "report through POST /api/reports",
            field="authorization",
        )
    body = _new_case_body()
    text = {name: body.get(name) or "" for name in NEW_CASE_FIELDS if name not in ("lat", "long")}
    report = intake.NewReport(
        service_code=body.get("service_code"), lat=body.get("lat"), long=body.get("long"),
        description=text["description"], address=text["address"],
        channel=text["channel"] or "hotline", media_url=text["media_url"],
        phone=text["phone"], email=text["email"], first_name=text["first_name"],
        last_name=text["last_name"], submitted_by=principal.name,
    )  # fmt: skip
    key = request.headers.get("Idempotency-Key")
    idempotency = None if key is None else intake.Idempotency(IDEMPOTENCY_SCOPE, key)
    try:
        done = intake.submit_report(app.core, report, idempotency=idempotency)
    except ServiceError as exc:
        if exc.field == "address_string":  # intake speaks Open311; this API says address
            exc.field, exc.message = "address", exc.message.replace("address_string", "address")
        raise
    headers = {"Location": url_for(".get_case", case_id=done.case_id)}
    if done.replayed:
        headers["Idempotent-Replayed"] = "true"
    return jsonify(queries.get_case(app.core, app.names, done.case_id)), 201, headers


@api.get("/cases/<int:case_id>")
def get_case(case_id: int) -> ResponseReturnValue:
    app = the_app()
    return jsonify(casefile.get_case(app.core, app.names, case_id, require_principal()))


def uploads(name: str = "photos") -> list[photos.Upload]:
    """The files of a multipart field (a browser sends an empty part for "no file")."""
    return [
        photos.Upload(f.filename or f"photo-{i + 1}", f.read())
        for i, f in enumerate(request.files.getlist(name))
        if f.filename or f.content_length
    ]


def _action_params() -> tuple[dict[str, Any], list[photos.Upload]]:
    """Parameters as a JSON object, or as form fields with `photos` files (multipart)."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = request.form
        params: dict[str, Any] = {
            k: (form.getlist(k) if k == "co" else form.get(k)) for k in form if k != "csrf_token"
        }
        return params, uploads()
    body: Any = json_body() if request.data else {}
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object of parameters", field="body")
    return body, []


@api.post("/cases/<int:case_id>/actions/<name>")
def case_action(case_id: int, name: str) -> ResponseReturnValue:
    """One transition of the table. Multipart bodies may carry result photos; a retry with
    the same Idempotency-Key answers 200 with `replayed: true` and changes nothing."""
    app = the_app()
    principal = require_principal()
    params, uploads = _action_params()
    checked = photos.check_photos(uploads) if uploads else []
    key = request.headers.get("Idempotency-Key")
    events = actions.perform(
        app.core, case_id, name, params, principal=principal, photos=checked,
        idempotency_key=key,
    )  # fmt: skip
    try:
        case = casefile.get_case(app.core, app.names, case_id, principal)
    except NotFound:  # the action took the case out of this principal's hands (回退)
        case = queries.get_case(app.core, app.names, case_id)
    return jsonify(
        {
            "case": case,
            "events": [e.to_wire() for e in events],
            "replayed": key is not None and not events,
        }
    )


@api.get("/meta")
def meta() -> ResponseReturnValue:
    """Categories, departments, townships and the transition table, for the pages."""
    app = the_app()
    return jsonify(
        {
            "categories": [
                {"code": c.code, "name": c.name, "name_en": c.name_en, "department": c.department}
                for c in CATEGORIES
            ],
            "departments": [
                {"code": d.code, "name": d.name, "name_en": d.name_en} for d in DEPARTMENTS
            ],
            "townships": [{"id": u.id, "name": u.name} for u in app.names.townships()],
            "transitions": {
                a.value: {
                    "from": sorted(s.value for s in t.sources),
                    "to": t.target.value if t.target else None,
                }
                for a, t in TRANSITIONS.items()
            },
        }
    )


@api.get("/geo/<layer>.geojson")
def geo(layer: str) -> ResponseReturnValue:
    if layer not in GEO_LAYERS:
        raise ValidationError(
            f"unknown map layer {layer!r}; one of {', '.join(GEO_LAYERS)}", field="layer"
        )
    if layer == "cameras":  # the registry, as it is now: admins add and disable cameras
        response = jsonify(cameras.map_layer(the_app().core))
        response.mimetype = "application/geo+json"
        response.cache_control.max_age = 60
        return response
    path = Path(the_app().settings.data_dir) / "basemap" / f"{layer}.geojson"
    if not path.exists():
        return error("not_found", f"map layer {layer} has not been generated", "layer", 404)
    response = send_file(path.resolve(), mimetype="application/geo+json", max_age=3600)
    return response


# -- grid workers: fixes from phones, the live map, dispatch suggestions ----------------------


@api.post("/positions")
def post_positions() -> ResponseReturnValue:
    """A batch `{"fixes": [...]}` from a phone: 200 when anything was kept, else 400.

    A grid worker's device may only send its own positions; integrations any worker's."""
    principal = require_principal()
    body = json_body()
    if principal.role == Role.GRID_WORKER:
        body = positions.own_fixes_only(body, principal.worker_id)
    elif principal.role not in (Role.SYSTEM, Role.ADMIN):
        raise Forbidden("positions come from grid workers' devices", field="authorization")
    result = positions.ingest_positions(the_app().core, body)
    return jsonify(result.to_wire()), result.status


@api.get("/workers")
def list_workers() -> ResponseReturnValue:
    """Every grid worker with its latest position and presence."""
    if require_principal().role == Role.GRID_WORKER:
        raise Forbidden(
            "the live map of workers is for the centre and offices", field="authorization"
        )
    township_id = int_arg("township_id")
    return jsonify({"workers": positions.current_workers(the_app().core, township_id=township_id)})


@api.get("/workers/nearest")
def nearest_workers() -> ResponseReturnValue:
    """Dispatch suggestions: on-duty, not-offline workers nearest a point, its grid first."""
    require_principal()
    for name in ("lat", "long"):
        if request.args.get(name, "") == "":
            raise ValidationError(f"{name} is required", field=name)
    limit = int_arg("limit", 5, low=1, high=positions.MAX_NEAREST) or 5
    found = positions.nearest_workers(
        the_app().core, request.args["lat"], request.args["long"], limit=limit
    )
    return jsonify({"workers": found})


@api.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of every route under /api."""
    from dispatch.api.openapi import document  # it reads this module's constants

    return jsonify(document())
