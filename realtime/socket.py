"""The `/live` Socket.IO namespace: thin; it parses, scopes and calls the log.

Protocol (see docs/realtime.md): connect with auth `{"last_seq": N, "token": ...}`; the
server answers with an `events` batch of what was missed, or `resync` when the client has no
state or is too far behind; the scope comes from the token, never from the client alone.
`snapshot` and `catchup` are requests answered through the acknowledgement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import Namespace, emit, join_room

from dispatch.domain.access import CaseScope, Principal, Role
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.errors import ServiceError
from dispatch.service.queries import head_seq, snapshot
from realtime.auth import AuthError, ScreenTokens, resolve_scope
from realtime.log import count_events_after, events_after

# Who the connecting browser is signed in as (the web layer reads the session cookie or a
# device token); None for screens that only bring a screen token.
WhoIs = Callable[[dict[str, Any]], Principal | None]


def _filters(scope: CaseScope) -> dict[str, Any]:
    """How the event log is filtered for a scope (see realtime.log)."""
    if scope.worker_id is not None or scope.department is not None:
        return {"audience": scope.room}
    return {"township_id": scope.township_id}


NAMESPACE = "/live"
REPLAY_LIMIT = 5000  # events; further behind than this a fresh snapshot is cheaper
CATCHUP_BATCH = 1000


def current_sid() -> str:
    """The Socket.IO session id Flask-SocketIO puts on the request."""
    return str(request.sid)  # type: ignore[attr-defined]


def admit(who: WhoIs, auth: Any, roles: frozenset[Role], refusal: str) -> Principal | None:
    """Who connects, when their role is one of `roles`; else the connection is told why
    (an `error` event on the token field) and None comes back for the handler to refuse it."""
    try:
        principal = who(auth if isinstance(auth, dict) else {})
    except ServiceError as exc:
        emit("error", {"code": exc.code, "message": exc.message, "field": "token"})
        return None
    if principal is None or principal.role not in roles:
        emit("error", {"code": "forbidden", "message": refusal, "field": "token"})
        return None
    return principal


def _seq(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("last_seq must be a whole number")
    number = int(value)
    if number < 0:
        raise ValueError("last_seq must not be negative")
    return number


class LiveNamespace(Namespace):  # type: ignore[misc]
    def __init__(
        self,
        core: Core,
        names: Directory,
        tokens: ScreenTokens,
        *,
        allow_anonymous: bool,
        who: WhoIs | None = None,
        on_join: Callable[[str], None] | None = None,
        namespace: str = NAMESPACE,
    ) -> None:
        super().__init__(namespace)
        self.core, self.names = core, names
        self.tokens, self.allow_anonymous = tokens, allow_anonymous
        self.who = who
        self.on_join = on_join
        self.scopes: dict[str, CaseScope] = {}  # sid → what that screen may see

    def _scope(self) -> CaseScope:
        return self.scopes.get(current_sid(), CaseScope(township_id=-1))  # unknown sid: nothing

    def on_connect(self, auth: dict[str, Any] | None = None) -> bool:
        auth = auth if isinstance(auth, dict) else {}
        try:
            last_seq = _seq(auth.get("last_seq"))
        except (TypeError, ValueError) as exc:
            emit("error", {"code": "invalid", "message": str(exc), "field": "last_seq"})
            return False
        try:
            principal = self.who(auth) if self.who is not None else None
            scope = resolve_scope(
                auth, self.tokens, allow_anonymous=self.allow_anonymous, principal=principal
            )
        except (AuthError, ValueError, ServiceError) as exc:  # ServiceError: a bad device token
            message, field = getattr(exc, "message", str(exc)), getattr(exc, "field", "token")
            emit("error", {"code": "forbidden", "message": message, "field": field})
            return False
        self.scopes[current_sid()] = scope
        join_room(scope.room)
        if self.on_join is not None:
            self.on_join(scope.room)
        head = head_seq(self.core)
        emit("hello", {"seq": head, "township_id": scope.township_id, "room": scope.room})
        if last_seq is None:
            emit("resync", {"reason": "no state", "seq": head})
        else:
            batch = self._batch(last_seq, "last_seq", limit=REPLAY_LIMIT)
            emit("resync" if batch.get("resync") else "events", batch)
        return True

    def on_disconnect(self, *args: Any) -> None:
        self.scopes.pop(current_sid(), None)

    def _batch(self, after: int, name: str, *, limit: int) -> dict[str, Any]:
        """The events in this screen's scope after `after`, or a resync when that is cheaper."""
        head = head_seq(self.core)
        if after > head:
            return {"resync": True, "reason": f"{name} {after} is ahead of the log ({head})"}
        # seq has no gaps, so head - after bounds the count; count only when it might matter.
        behind = head - after
        scope = self._scope()
        if behind > REPLAY_LIMIT and not scope.everything:
            behind = count_events_after(self.core, after, **_filters(scope))
        if behind > REPLAY_LIMIT:
            return {"resync": True, "reason": f"more than {REPLAY_LIMIT} events behind"}
        events, upto = events_after(self.core, self.names, after, limit=limit, **_filters(scope))
        return {"from": after, "to": upto, "events": events, "head": head}

    def on_catchup(self, data: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            after = _seq((data or {}).get("after"))
        except (TypeError, ValueError) as exc:
            return {"error": {"code": "invalid", "message": str(exc), "field": "after"}}
        if after is None:
            return {"error": {"code": "invalid", "message": "after is required", "field": "after"}}
        return self._batch(after, "after", limit=CATCHUP_BATCH)

    def on_snapshot(self, data: Any = None) -> dict[str, Any]:
        scope = self._scope()
        compact = isinstance(data, dict) and data.get("compact") is True
        return snapshot(
            self.core, self.names, township_id=scope.township_id, scope=scope, compact=compact
        )
