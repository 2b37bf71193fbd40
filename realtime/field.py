"""The `/field` Socket.IO namespace for grid workers' phones: thin, it calls the service.

`positions {"fixes": [...]}` is answered through the acknowledgement with the same result
object as `POST /api/positions`, or `{"error": {code, message, field}}` for a body that is
not a batch. A phone connects with `auth: {"token": "dev_..."}` (its device token) and may
send only its own worker's fixes; integrations may connect with an api key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import Namespace, emit

from dispatch.domain.access import Principal, Role
from dispatch.service.core import Core
from dispatch.service.errors import ServiceError
from realtime.positions import ingest_positions, own_fixes_only

# Who a phone is, from its connection's auth payload (the web layer checks the token).
DeviceOf = Callable[[dict[str, Any]], Principal | None]
SENDERS = frozenset({Role.GRID_WORKER, Role.SYSTEM, Role.ADMIN})

NAMESPACE = "/field"


class FieldNamespace(Namespace):  # type: ignore[misc]
    def __init__(self, core: Core, who: DeviceOf, namespace: str = NAMESPACE) -> None:
        super().__init__(namespace)
        self.core, self.who = core, who
        self.phones: dict[str, Principal] = {}  # sid → who sends

    def on_connect(self, auth: dict[str, Any] | None = None) -> bool:
        try:
            principal = self.who(auth if isinstance(auth, dict) else {})
        except ServiceError as exc:
            emit("error", {"code": exc.code, "message": exc.message, "field": "token"})
            return False
        if principal is None or principal.role not in SENDERS:
            message = "positions need a grid worker's device token (auth.token)"
            emit("error", {"code": "forbidden", "message": message, "field": "token"})
            return False
        self.phones[str(request.sid)] = principal  # type: ignore[attr-defined]
        return True

    def on_disconnect(self, *args: Any) -> None:
        self.phones.pop(str(request.sid), None)  # type: ignore[attr-defined]

    def on_positions(self, data: Any = None) -> dict[str, Any]:
        try:
            principal = self.phones[str(request.sid)]  # type: ignore[attr-defined]
            if principal.role == Role.GRID_WORKER:
                data = own_fixes_only(data, principal.worker_id)
            return ingest_positions(self.core, data).to_wire()
        except ServiceError as exc:
            return {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}
