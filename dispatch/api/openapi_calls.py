"""The OpenAPI path of calls: the recording of a call on a case (dispatch/api/calls.py).

Merged into the document by dispatch/api/openapi.py. Ringing and signalling are Socket.IO
(the /calls namespace, realtime/calls.py), which OpenAPI does not describe.
"""

from __future__ import annotations

from typing import Any

from dispatch.api.openapi_parts import SIGNED_IN
from dispatch.api.openapi_parts import error as _error
from dispatch.api.openapi_parts import reply as _reply

SCHEMAS: dict[str, Any] = {}
VIDEO = {"video/mp4": {"schema": {"type": "string", "contentMediaType": "video/mp4"}}}
CALL_ID = {"name": "call_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1}}  # fmt: skip
RANGE = {"name": "Range", "in": "header", "required": False,
         "schema": {"type": "string", "example": "bytes=0-1048575"}}  # fmt: skip
MISSING = "no such call, no recording, its case outside your jurisdiction (the same body), or "
PATHS: dict[str, Any] = {
    "/api/calls/{call_id}/recording": {
        "get": {
            "summary": "The recording of a call (composite video and mixed audio) on a case "
            "within your jurisdiction; answers Range requests, so a player can seek",
            "security": SIGNED_IN,
            "parameters": [CALL_ID, RANGE],
            "responses": {
                "200": {"description": "the whole file", "content": VIDEO},
                "206": {"description": "the part asked for with Range", "content": VIDEO},
                "401": _reply("Unauthorized"),
                "403": _reply("Forbidden"),
                "404": _error(MISSING + "its file missing"),
            },
        }
    }
}
