"""HTTP for calls: the recording of a call, for the case page's <video> (Range requests, so
the player can seek), under the same jurisdiction rule as the case it belongs to."""

from __future__ import annotations

from flask import Blueprint, send_file
from flask.typing import ResponseReturnValue

from dispatch.api import the_app
from dispatch.api.auth import require_principal
from dispatch.api.rest import error
from dispatch.service import calls
from dispatch.service.errors import ServiceError

calls_api = Blueprint("calls", __name__, url_prefix="/api")


@calls_api.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> ResponseReturnValue:
    return error(exc.code, exc.message, exc.field, exc.status)


@calls_api.get("/calls/<int:call_id>/recording")
def recording(call_id: int) -> ResponseReturnValue:
    app = the_app()
    path, content_type = calls.recording_file(
        app.core, principal=require_principal(), call_id=call_id
    )
    # conditional=True answers Range with 206 Partial Content (and If-None-Match with 304).
    return send_file(path, mimetype=content_type, conditional=True, max_age=3600)
