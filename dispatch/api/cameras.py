"""The camera registry over JSON (/api/cameras): admins keep it, the centre and offices read it.

A township office reads only its own township's cameras; grid workers' devices not at all.
Only admins see an RTSP URL's password; everyone else gets it as ***.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from dispatch.api import the_app
from dispatch.api.auth import require_principal
from dispatch.api.rest import error, int_arg, json_body
from dispatch.domain.access import Principal
from dispatch.service import camera_import, cameras
from dispatch.service.errors import ServiceError, ValidationError

camera_api = Blueprint("cameras", __name__, url_prefix="/api/cameras")

# Content types of a raw import body, by the format they carry.
CSV_TYPES = frozenset({"text/csv", "text/plain"})
GEOJSON_TYPES = frozenset({"application/geo+json", "application/json"})


@camera_api.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> ResponseReturnValue:
    return error(exc.code, exc.message, exc.field, exc.status)


@camera_api.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    return error((exc.name or "error").lower().replace(" ", "_"), exc.description or str(exc),
                 None, exc.code or 500)  # fmt: skip


def _reveal(principal: Principal) -> bool:
    return principal.role in cameras.MANAGERS


def _manager() -> Principal:
    principal = require_principal()
    cameras.require_manager(principal)
    return principal


def _fields() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object of camera fields", field="body")
    return body


@camera_api.get("")
def list_cameras() -> ResponseReturnValue:
    """Cameras by code, in the reader's jurisdiction, with the total that match."""
    app = the_app()
    principal = require_principal()
    township = cameras.reader_township(principal, int_arg("township_id"))
    status, q = request.args.get("status") or None, request.args.get("q") or None
    found = cameras.list_cameras(
        app.core, app.names, township_id=township, status=status, q=q,
        limit=int_arg("limit", None, low=1, high=10_000), offset=int_arg("offset", 0) or 0,
        reveal=_reveal(principal),
    )  # fmt: skip
    total = cameras.count_cameras(app.core, township_id=township, status=status, q=q)
    return jsonify({"cameras": found, "total": total})


@camera_api.post("")
def create_camera() -> ResponseReturnValue:
    _manager()
    camera = cameras.save_camera(the_app().core, _fields())
    return jsonify(camera), 201, {"Location": url_for(".get_camera", camera_id=camera["id"])}


@camera_api.get("/<int:camera_id>")
def get_camera(camera_id: int) -> ResponseReturnValue:
    app = the_app()
    principal = require_principal()
    township = cameras.reader_township(principal)
    return jsonify(
        cameras.get_camera(app.core, app.names, camera_id, township_id=township,
                           reveal=_reveal(principal))
    )  # fmt: skip


@camera_api.patch("/<int:camera_id>")
def change_camera(camera_id: int) -> ResponseReturnValue:
    """Change the fields sent; the others keep their values."""
    _manager()
    return jsonify(cameras.save_camera(the_app().core, _fields(), camera_id=camera_id))


@camera_api.delete("/<int:camera_id>")
def delete_camera(camera_id: int) -> ResponseReturnValue:
    _manager()
    cameras.delete_camera(the_app().core, camera_id)
    return "", 204


@camera_api.post("/<int:camera_id>/disable")
def disable_camera(camera_id: int) -> ResponseReturnValue:
    _manager()
    return jsonify(cameras.set_enabled(the_app().core, camera_id, False))


@camera_api.post("/<int:camera_id>/enable")
def enable_camera(camera_id: int) -> ResponseReturnValue:
    _manager()
    return jsonify(cameras.set_enabled(the_app().core, camera_id, True))


def _upload() -> tuple[str, bytes]:
    """(file name, bytes): the multipart `file`, or the raw body named by its type."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationError("send the file as the multipart field `file`", field="file")
        return upload.filename or "", upload.read()
    if request.mimetype in CSV_TYPES:
        return "cameras.csv", request.get_data()
    if request.mimetype in GEOJSON_TYPES:
        return "cameras.geojson", request.get_data()
    raise ValidationError(
        "send a .csv or .geojson file as the multipart field `file`, or the file itself as "
        f"text/csv or application/geo+json (got {request.content_type or 'no Content-Type'})",
        field="file",
    )


@camera_api.post("/import")
def import_cameras() -> ResponseReturnValue:
    """All or nothing: 200 with the counts, or 400 with every bad row and nothing stored."""
    _manager()
    name, data = _upload()
    report = camera_import.import_file(the_app().core, name, data)
    body = report.to_wire()
    if report.ok:
        return jsonify(body)
    message = (
        f"{len(report.errors)} problems in the file (each with its row and field in `errors`); "
        "nothing was stored"
    )
    return jsonify({"code": "invalid_rows", "message": message, "field": "file", **body}), 400
