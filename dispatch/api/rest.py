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
from dispatch.domain.categories import CATEGORIES, DEPARTMENTS
from dispatch.domain.lifecycle import TRANSITIONS, CaseState
from dispatch.service import actions, intake, queries
from dispatch.service.errors import ServiceError, ValidationError
from realtime import positions

api = Blueprint("api", __name__, url_prefix="/api")

GEO_LAYERS = ("boundary", "townships", "communities", "grids", "roads", "cameras")
# The fields of POST /api/cases (hotline officer, citizen page); all text but lat and long.
NEW_CASE_FIELDS = (
    "service_code", "lat", "long", "description", "address", "channel", "media_url",
    "phone", "email", "first_name", "last_name",
)  # fmt: skip
IDEMPOTENCY_SCOPE = "api:cases"


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


@api.get("/snapshot")
def get_snapshot() -> ResponseReturnValue:
    app = the_app()
    return jsonify(queries.snapshot(app.core, app.names, township_id=int_arg("township_id")))


@api.get("/kpis")
def get_kpis() -> ResponseReturnValue:
    app = the_app()
    return jsonify(queries.kpis(app.core, township_id=int_arg("township_id")))


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
    body = _new_case_body()
    text = {name: body.get(name) or "" for name in NEW_CASE_FIELDS if name not in ("lat", "long")}
    report = intake.NewReport(
        service_code=body.get("service_code"), lat=body.get("lat"), long=body.get("long"),
        description=text["description"], address=text["address"],
        channel=text["channel"] or "hotline", media_url=text["media_url"],
        phone=text["phone"], email=text["email"], first_name=text["first_name"],
        last_name=text["last_name"], submitted_by="api",
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
    return jsonify(queries.get_case(app.core, app.names, case_id))


@api.post("/cases/<int:case_id>/actions/<name>")
def case_action(case_id: int, name: str) -> ResponseReturnValue:
    app = the_app()
    params: Any = request.get_json(silent=True) if request.data else {}
    if not isinstance(params, dict):
        raise ValidationError("the body must be a JSON object of parameters", field="body")
    events = actions.perform(app.core, case_id, name, params, actor="api")
    return jsonify(
        {
            "case": queries.get_case(app.core, app.names, case_id),
            "events": [e.to_wire() for e in events],
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
    path = Path(the_app().settings.data_dir) / "basemap" / f"{layer}.geojson"
    if not path.exists():
        return error("not_found", f"map layer {layer} has not been generated", "layer", 404)
    response = send_file(path.resolve(), mimetype="application/geo+json", max_age=3600)
    return response


# -- grid workers: fixes from phones, the live map, dispatch suggestions ----------------------


@api.post("/positions")
def post_positions() -> ResponseReturnValue:
    """A batch `{"fixes": [...]}` from a phone: 200 when anything was kept, else 400."""
    result = positions.ingest_positions(the_app().core, json_body())
    return jsonify(result.to_wire()), result.status


@api.get("/workers")
def list_workers() -> ResponseReturnValue:
    """Every grid worker with its latest position and presence."""
    township_id = int_arg("township_id")
    return jsonify({"workers": positions.current_workers(the_app().core, township_id=township_id)})


@api.get("/workers/nearest")
def nearest_workers() -> ResponseReturnValue:
    """Dispatch suggestions: on-duty, not-offline workers nearest a point, its grid first."""
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
