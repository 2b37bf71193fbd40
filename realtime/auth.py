"""Who a screen is and what it may see: signed screen tokens, decided on the server.

A token names a scope: the whole county, or one township. A client may ask for a narrower
scope than its token (a county screen watching one township), never a wider one. Screens
without a token are refused unless the deployment allows anonymous screens (the embedded
demo does; production should not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from dispatch.domain.access import CaseScope, Principal

SALT = "commandhall.screen-token"
SCOPES = ("county", "township")


class AuthError(ValueError):
    """A screen may not connect (or not with what it asked for); says what was wrong."""

    def __init__(self, message: str, *, field: str = "token") -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class Scope:
    """What a connection may see: everything (township_id None) or one township's cases."""

    kind: str
    township_id: int | None = None

    def narrowed_to(self, township_id: int | None) -> Scope:
        if township_id is None or township_id == self.township_id:
            return self
        if self.township_id is not None:
            raise AuthError(
                f"this screen may only watch township {self.township_id}, not {township_id}",
                field="township_id",
            )
        return Scope("township", township_id)


class ScreenTokens:
    def __init__(self, secret: str, *, max_age_days: float = 366) -> None:
        if not secret:
            raise ValueError("screen tokens need a secret key")
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self.max_age_s = int(max_age_days * 86_400)

    def issue(self, scope: Scope) -> str:
        if scope.kind not in SCOPES:
            raise AuthError(f"scope must be one of {SCOPES}, got {scope.kind!r}", field="scope")
        if (scope.kind == "township") != (scope.township_id is not None):
            raise AuthError("a township scope needs a township id, a county scope none")
        return str(self._serializer.dumps({"k": scope.kind, "t": scope.township_id}))

    def verify(self, token: str) -> Scope:
        try:
            data: Any = self._serializer.loads(token, max_age=self.max_age_s)
        except SignatureExpired:
            raise AuthError("the screen token has expired; issue a new one") from None
        except BadSignature:
            raise AuthError("the screen token is not valid (not signed by this server)") from None
        return Scope(str(data["k"]), data["t"])


def _township(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise AuthError(f"township_id must be a whole number, got {value!r}", field="township_id")
    try:
        return int(value)
    except ValueError:
        raise AuthError(
            f"township_id must be a whole number, got {value!r}", field="township_id"
        ) from None


def resolve_scope(
    auth: dict[str, Any],
    tokens: ScreenTokens,
    *,
    allow_anonymous: bool,
    principal: Principal | None = None,
) -> CaseScope:
    """What a connection may see, from its auth payload `{token?, township_id?}` or the
    signed-in user (session cookie or device token) the web layer found."""
    requested = _township(auth.get("township_id"))
    token = auth.get("token")
    if token and not str(token).startswith("dev_"):
        if not isinstance(token, str):
            raise AuthError("token must be a string")
        screen = tokens.verify(token).narrowed_to(requested)
        return CaseScope(township_id=screen.township_id)
    if principal is not None:
        scope = principal.scope
        if requested is None or requested == scope.township_id:
            return scope
        if not scope.everything:
            raise AuthError(f"this account may not watch township {requested}", field="township_id")
        return CaseScope(township_id=requested)
    if token:
        raise AuthError("the device token is not valid")
    if not allow_anonymous:
        raise AuthError("a screen token is required (commandhall screen-token create)")
    return CaseScope(township_id=requested)
