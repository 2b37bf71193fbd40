"""Who is asking: sessions (sign-in form), device tokens, api keys; CSRF on every form post.

- People sign in at /login; the session cookie holds their user id and a CSRF token.
- Every state-changing request that relies on the cookie must echo the CSRF token, as the
  `csrf_token` form field or the `X-CSRFToken` header. The token is also put in the
  `_csrf_token` cookie, which is where dash-renderer and assets/js read it from.
- Phones and kiosks send `Authorization: Bearer dev_...` (a device token); integrations send
  `Authorization: Bearer ch_...` (an api key). Those carry no ambient authority, so they
  need no CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, g, redirect, request, session
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from dispatch.api import the_app
from dispatch.domain.access import Principal, Role
from dispatch.service import accounts, apikeys
from dispatch.service.errors import ServiceError

CSRF_COOKIE = "_csrf_token"
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Open311 authenticates every write with its api_key parameter; cookies play no part there.
CSRF_EXEMPT_PREFIXES = ("/open311/",)
# Pages only signed-in people may open (the JSON API answers 401 instead of redirecting).
SIGNED_IN_PAGES = ("/console", "/cases/", "/admin")
SESSION_HOURS = 12


class Unauthorized(ServiceError):
    code = "unauthorized"
    status = 401


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("X-Device-Token") or None


def header_principal(token: str) -> Principal:
    """The principal of a device token or an api key; Forbidden when it is not valid."""
    core = the_app().core
    if token.startswith(accounts.TOKEN_PREFIX):
        return accounts.device_principal(core, token)
    client = apikeys.authenticate(core, token)
    return Principal(name=f"api:{client.name}", role=Role.SYSTEM, display_name=client.name)


def current_principal() -> Principal | None:
    """Who this request acts as (cached for the request), or None for nobody."""
    if "principal" in g:
        found: Principal | None = g.principal
        return found
    principal = None
    token = _bearer()
    if token:
        principal = header_principal(token)
    elif isinstance(session.get("uid"), int):
        principal = accounts.load_principal(the_app().core, session["uid"])
        if principal is None:
            session.clear()
    g.principal = principal
    return principal


def require_principal() -> Principal:
    principal = current_principal()
    if principal is None:
        raise Unauthorized(
            "sign in first (session), or send Authorization: Bearer with a device token or "
            "an api key",
            field="authorization",
        )
    return principal


def sign_in_session(principal: Principal) -> None:
    session.clear()
    session.permanent = True
    session["uid"] = principal.user_id
    session["csrf"] = secrets.token_urlsafe(24)  # a new token after sign-in
    g.principal = principal


def sign_out_session() -> None:
    session.clear()
    g.principal = None


def home_of(principal: Principal) -> str:
    if principal.role == Role.GRID_WORKER:
        return "/field"
    if principal.role == Role.KIOSK:
        return "/wall"
    return "/console"


def _check_csrf() -> ResponseReturnValue | None:
    if request.method not in UNSAFE or request.path.startswith(CSRF_EXEMPT_PREFIXES):
        return None
    if _bearer():
        return None
    expected = session.get("csrf")
    sent = request.headers.get(CSRF_HEADER) or (
        request.form.get(CSRF_FIELD) if request.mimetype in _FORM_TYPES else None
    )
    if isinstance(expected, str) and sent and hmac.compare_digest(expected, sent):
        return None
    from dispatch.api.rest import error

    return error(
        "csrf_failed",
        "the form is missing its CSRF token or it does not match this session; reload the "
        "page and try again",
        CSRF_FIELD,
        403,
    )


_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _guard_pages() -> ResponseReturnValue | None:
    if request.method != "GET" or not request.path.startswith(SIGNED_IN_PAGES):
        return None
    if current_principal() is None:
        from urllib.parse import quote

        return redirect(f"/login?next={quote(request.full_path.rstrip('?'))}")
    return None


def _set_csrf_cookie(response: Response) -> Response:
    # Pages get a token (forms and Dash callbacks need it); JSON and assets only carry on
    # one the session already has, so API clients do not get sessions they never asked for.
    token = session.get("csrf") or (csrf_token() if response.mimetype == "text/html" else None)
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, samesite="Lax", httponly=False, path="/")
    return response


def install(flask: Flask) -> None:
    """Sessions, CSRF and page guards for the whole application."""
    flask.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )

    @flask.before_request
    def _before() -> Any:
        try:
            return _check_csrf() or _guard_pages()
        except ServiceError as exc:  # an invalid bearer token on a page request
            from dispatch.api.rest import error

            return error(exc.code, exc.message, exc.field, exc.status)

    flask.after_request(_set_csrf_cookie)
