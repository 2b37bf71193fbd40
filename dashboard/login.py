"""The sign-in form (/login) and sign-out (/logout): plain HTML forms with a CSRF field.

Kept outside Dash on purpose: it must work before any script has loaded, and a failed
sign-in answers with the form again and the error next to the field.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from dashboard.i18n import normalize_lang, other_lang, register, t
from dispatch.api import the_app
from dispatch.api.auth import (
    CSRF_FIELD,
    csrf_token,
    current_principal,
    home_of,
    sign_in_session,
    sign_out_session,
)
from dispatch.service import accounts
from dispatch.service.errors import ServiceError

register(
    {
        "login.title": ("登录 · 综治中心", "Sign in · CommandHall"),
        "login.heading": ("综治中心指挥平台", "CommandHall"),
        "login.username": ("用户名", "Username"),
        "login.password": ("密码", "Password"),
        "login.submit": ("登录", "Sign in"),
        "login.failed": ("用户名或密码错误", "Wrong username or password"),
        "login.required": ("请填写此项", "Required"),
        "login.field_hint": (
            "网格员请用手机打开“网格员”页面并使用设备令牌登录",
            "Grid workers sign in on their phone with a device token",
        ),
        "logout": ("退出", "Sign out"),
    }
)

login = Blueprint("login", __name__)


def _safe_next(value: str | None) -> str | None:
    """Only a path on this site: never an absolute URL somebody planted in the link."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return None
    return value


def _page(lang: str, *, username: str = "", errors: dict[str, str], next_: str | None) -> str:
    def field_error(name: str) -> str:
        if name not in errors:
            return ""
        return f'<div class="form-error" id="login-error-{name}">{escape(errors[name])}</div>'

    hidden_next = f'<input type="hidden" name="next" value="{escape(next_)}">' if next_ else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t("login.title", lang)}</title>
<link rel="stylesheet" href="/assets/login.css"></head>
<body class="login-body"><main class="login">
<h1>{t("login.heading", lang)}</h1>
<form method="post" action="/login?lang={lang}" id="login-form" novalidate>
<input type="hidden" name="{CSRF_FIELD}" value="{csrf_token()}">{hidden_next}
<label for="login-username">{t("login.username", lang)}</label>
<input id="login-username" name="username" autocomplete="username" value="{escape(username)}"
 aria-invalid="{"true" if "username" in errors else "false"}">
{field_error("username")}
<label for="login-password">{t("login.password", lang)}</label>
<input id="login-password" name="password" type="password" autocomplete="current-password"
 aria-invalid="{"true" if "password" in errors else "false"}">
{field_error("password")}
<button type="submit" id="login-submit">{t("login.submit", lang)}</button>
</form>
<p class="login-hint">{t("login.field_hint", lang)}</p>
<a class="login-lang" href="/login?lang={other_lang(lang)}">{t("lang.switch", lang)}</a>
</main></body></html>"""


@login.get("/login")
def login_form() -> ResponseReturnValue:
    lang = normalize_lang(request.args.get("lang"), default=the_app().settings.lang)
    next_ = _safe_next(request.args.get("next"))
    return _page(lang, errors={}, next_=next_)


@login.post("/login")
def login_submit() -> ResponseReturnValue:
    lang = normalize_lang(request.args.get("lang"), default=the_app().settings.lang)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    next_ = _safe_next(request.form.get("next"))
    errors = {}
    if not username:
        errors["username"] = t("login.required", lang)
    if not password:
        errors["password"] = t("login.required", lang)
    if not errors:
        try:
            principal = accounts.sign_in(the_app().core, username, password)
        except ServiceError:
            errors["password"] = t("login.failed", lang)
        else:
            sign_in_session(principal)
            return redirect(next_ or home_of(principal))
    return _page(lang, username=username, errors=errors, next_=next_), 400


@login.post("/logout")
def logout() -> ResponseReturnValue:
    sign_out_session()
    return redirect("/login")


@login.get("/api/me")
def me() -> ResponseReturnValue:
    """Who the browser is signed in as (pages use it for the header)."""
    try:
        principal = current_principal()
    except ServiceError as exc:  # an unknown or revoked device token
        return {"code": exc.code, "message": exc.message, "field": exc.field}, exc.status
    if principal is None:
        return {"signed_in": False}
    return {
        "signed_in": True,
        "name": principal.display_name,
        "username": principal.name,
        "role": principal.role.value,
        "township_id": principal.township_id,
        "department": principal.department,
        "worker_id": principal.worker_id,
        "csrf_token": csrf_token() if principal.user_id is not None else None,
    }
