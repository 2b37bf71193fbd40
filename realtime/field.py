"""The `/field` Socket.IO namespace for grid workers' phones: thin, it calls the service.

`positions {"fixes": [...]}` is answered through the acknowledgement with the same result
object as `POST /api/positions`, or `{"error": {code, message, field}}` for a body that is
not a batch. A phone connects with `auth: {"token": "dev_..."}` (its device token) and may
send only its own worker's fixes; integrations may connect with an api key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_socketio import Namespace

from dispatch.domain.access import Principal, Role
from dispatch.service.core import Core
from dispatch.service.errors import ServiceError
from realtime.positions import ingest_positions, own_fixes_only
from realtime.socket import admit, current_sid

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
        message = "positions need a grid worker's device token (auth.token)"
        principal = admit(self.who, auth, SENDERS, message)
        if principal is None:
            return False
        self.phones[current_sid()] = principal
        return True

    def on_disconnect(self, *args: Any) -> None:
        self.phones.pop(current_sid(), None)

    def on_positions(self, data: Any = None) -> dict[str, Any]:
        try:
            principal = self.phones[current_sid()]
            if principal.role == Role.GRID_WORKER:
                data = own_fixes_only(data, principal.worker_id)
            return ingest_positions(self.core, data).to_wire()
        except ServiceError as exc:
            return {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}
