"""The internal JSON API the pages use. Views parse, authorise and call a service; no rules.

Errors are JSON `{code, message, field}` with the HTTP status of the error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, request, send_file
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from dispatch.api import the_app
from dispatch.domain.categories import CATEGORIES, DEPARTMENTS
from dispatch.domain.lifecycle import TRANSITIONS, CaseState
from dispatch.service import actions, queries
from dispatch.service.errors import ServiceError, ValidationError

api = Blueprint("api", __name__, url_prefix="/api")

GEO_LAYERS = ("boundary", "townships", "communities", "grids", "roads", "cameras")


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
