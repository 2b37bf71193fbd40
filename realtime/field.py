"""The `/field` Socket.IO namespace for grid workers' phones: thin, it calls the service.

`positions {"fixes": [...]}` is answered through the acknowledgement with the same result
object as `POST /api/positions`, or `{"error": {code, message, field}}` for a body that is
not a batch. (Signing phones in belongs to the issue that adds sign-in: until then, like the
HTTP endpoint, anyone who can reach the server may send fixes for any worker.)
"""

from __future__ import annotations

from typing import Any

from flask_socketio import Namespace

from dispatch.service.core import Core
from dispatch.service.errors import ServiceError
from realtime.positions import ingest_positions

NAMESPACE = "/field"


class FieldNamespace(Namespace):  # type: ignore[misc]
    def __init__(self, core: Core, namespace: str = NAMESPACE) -> None:
        super().__init__(namespace)
        self.core = core

    def on_connect(self, auth: dict[str, Any] | None = None) -> bool:
        return True

    def on_positions(self, data: Any = None) -> dict[str, Any]:
        try:
            return ingest_positions(self.core, data).to_wire()
        except ServiceError as exc:
            return {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}
