"""The camera registry (/admin/cameras): list, search, add, edit, disable, delete, import.

Admins only: anyone else signed in sees "no permission"; the signed-out are sent to /login
(dispatch/api/auth.py SIGNED_IN_PAGES). Every callback checks the principal again, as the
browser can call a callback without the page. The service's complaint goes next to the
field it names; an import shows its report, and a bad file stores nothing.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, no_update

from dashboard.cameras_layout import (
    FORM_FIELDS,
    PATH,
    PREFIX,
    SHOWN,
    camera_table,
    cameras_page,
    cid,
    denied_page,
    form_values,
    import_report,
)
from dashboard.i18n import t
from dashboard.office_context import page_lang, viewer_for
from dashboard.office_layout import sign_in_page
from dispatch.api import the_app
from dispatch.api.auth import current_principal
from dispatch.domain.access import Principal
from dispatch.service import camera_import, cameras
from dispatch.service.errors import ServiceError

dash.register_page(__name__, path=PATH, title="摄像头管理 · CommandHall", name="admin-cameras")


def _admin() -> Principal:
    """The signed-in admin, or no update at all for anyone else."""
    principal = current_principal()
    if principal is None or principal.role not in cameras.MANAGERS:
        raise dash.exceptions.PreventUpdate
    return principal


def _read(q: str | None = None, status: str | None = None) -> tuple[list[Any], int]:
    app = the_app()
    found = cameras.list_cameras(app.core, app.names, status=status, q=q, limit=SHOWN)
    return found, cameras.count_cameras(app.core, status=status, q=q)


def layout(lang: str | None = None, **_query: Any) -> Any:
    lang = page_lang(lang)
    principal = current_principal()
    if principal is None:
        return sign_in_page(PREFIX, lang, f"{PATH}?lang={lang}")
    if principal.role not in cameras.MANAGERS:
        return denied_page(lang)
    found, total = _read()
    return cameras_page(viewer=viewer_for(principal, lang), cameras=found, total=total, lang=lang)


def _clicked() -> dict[str, Any] | None:
    """The id of the row button that was clicked; None when a redraw only re-created it."""
    if not any(item.get("value") for item in ctx.triggered):
        return None
    found = ctx.triggered_id
    return found if isinstance(found, dict) else None


def _flash(text: str, ok: bool = True) -> tuple[str, str]:
    return text, "ch-flash is-ok" if ok else "ch-flash is-error"


@callback(
    Output(cid("table"), "children"),
    Input(cid("q"), "value"),
    Input(cid("status"), "value"),
    Input(cid("bump"), "data"),
    State(cid("lang"), "data"),
    prevent_initial_call=True,
)
def refresh(q: str | None, status: str | None, _bump: Any, lang: str) -> list[Any]:
    _admin()
    found, total = _read(q, status or None)
    return camera_table(found, total, lang)


FIELD_INPUTS = [Output(cid(f"field-{name}"), "value") for name in FORM_FIELDS]
FIELD_ERRORS = [Output(cid(f"error-{name}"), "children") for name in FORM_FIELDS]


@callback(
    *FIELD_INPUTS,
    *FIELD_ERRORS,
    Output(cid("editing"), "data"),
    Output(cid("form-title"), "children"),
    Output(cid("flash"), "children"),
    Output(cid("flash"), "className"),
    Output(cid("bump"), "data"),
    Input({"type": cid("edit"), "camera": ALL}, "n_clicks"),
    Input(cid("new"), "n_clicks"),
    Input(cid("save"), "n_clicks"),
    *[State(cid(f"field-{name}"), "value") for name in FORM_FIELDS],
    State(cid("editing"), "data"),
    State(cid("bump"), "data"),
    State(cid("lang"), "data"),
    prevent_initial_call=True,
)
def form(_edit: Any, _new: Any, _save: Any, *state: Any) -> tuple[Any, ...]:
    """Open a camera in the form, clear it for a new one, or save it."""
    *values, editing, bump, lang = state
    _admin()
    app = the_app()
    quiet = [no_update, no_update, no_update]  # flash text, flash class, bump
    no_errors = ["" for _ in FORM_FIELDS]
    if ctx.triggered_id == cid("new"):
        return (*form_values(None), *no_errors, None, t("cameras.form.new", lang), *quiet)
    if ctx.triggered_id != cid("save"):
        clicked = _clicked()
        if clicked is None:
            raise dash.exceptions.PreventUpdate
        try:
            camera = cameras.get_camera(app.core, app.names, int(clicked["camera"]))
        except ServiceError as exc:
            return (*[no_update] * 12, no_update, no_update, *_flash(exc.message, False), bump)
        title = t("cameras.form.edit", lang).format(code=camera["code"])
        return (*form_values(camera), *no_errors, camera["id"], title, *quiet)
    data = {name: "" if v is None else v for name, v in zip(FORM_FIELDS, values, strict=True)}
    try:
        saved = cameras.save_camera(app.core, data, camera_id=editing)
    except ServiceError as exc:
        errors = [exc.message if exc.field == name else "" for name in FORM_FIELDS]
        flash = ("", "ch-flash") if exc.field in FORM_FIELDS else _flash(exc.message, False)
        return (*[no_update] * 6, *errors, no_update, no_update, *flash, no_update)
    key = "cameras.saved.edit" if editing else "cameras.saved.new"
    text = t(key, lang).format(code=saved["code"], name=saved["name"])
    return (
        *form_values(None), *no_errors, None, t("cameras.form.new", lang), *_flash(text),
        (bump or 0) + 1,
    )  # fmt: skip


@callback(
    Output(cid("flash"), "children", allow_duplicate=True),
    Output(cid("flash"), "className", allow_duplicate=True),
    Output(cid("bump"), "data", allow_duplicate=True),
    Input({"type": cid("toggle"), "camera": ALL}, "n_clicks"),
    State(cid("bump"), "data"),
    State(cid("lang"), "data"),
    prevent_initial_call=True,
)
def toggle(_clicks: Any, bump: int | None, lang: str) -> tuple[Any, ...]:
    """Disable an enabled camera, enable a disabled one."""
    clicked = _clicked()
    if clicked is None:
        raise dash.exceptions.PreventUpdate
    _admin()
    app = the_app()
    camera_id = int(clicked["camera"])
    try:
        camera = cameras.get_camera(app.core, app.names, camera_id)
        enable = camera["status"] == "disabled"
        cameras.set_enabled(app.core, camera_id, enable)
    except ServiceError as exc:
        return (*_flash(t("cameras.failed", lang).format(message=exc.message), False), bump)
    key = "cameras.saved.enabled" if enable else "cameras.saved.disabled"
    return (*_flash(t(key, lang).format(code=camera["code"])), (bump or 0) + 1)


@callback(
    Output(cid("confirm"), "displayed"),
    Output(cid("confirm"), "message"),
    Output(cid("pending"), "data"),
    Input({"type": cid("delete"), "camera": ALL}, "n_clicks"),
    State(cid("lang"), "data"),
    prevent_initial_call=True,
)
def ask_delete(_clicks: Any, lang: str) -> tuple[Any, ...]:
    clicked = _clicked()
    if clicked is None:
        raise dash.exceptions.PreventUpdate
    _admin()
    app = the_app()
    try:
        camera = cameras.get_camera(app.core, app.names, int(clicked["camera"]))
    except ServiceError:
        raise dash.exceptions.PreventUpdate from None
    message = t("cameras.delete.confirm", lang).format(code=camera["code"], name=camera["name"])
    return True, message, {"id": camera["id"], "code": camera["code"]}


@callback(
    Output(cid("flash"), "children", allow_duplicate=True),
    Output(cid("flash"), "className", allow_duplicate=True),
    Output(cid("bump"), "data", allow_duplicate=True),
    Input(cid("confirm"), "submit_n_clicks"),
    State(cid("pending"), "data"),
    State(cid("bump"), "data"),
    State(cid("lang"), "data"),
    prevent_initial_call=True,
)
def delete(_submit: Any, pending: dict[str, Any] | None, bump: int | None, lang: str) -> Any:
    if not pending:
        raise dash.exceptions.PreventUpdate
    _admin()
    try:
        cameras.delete_camera(the_app().core, int(pending["id"]))
    except ServiceError as exc:
        return (*_flash(t("cameras.failed", lang).format(message=exc.message), False), bump)
    return (*_flash(t("cameras.saved.deleted", lang).format(code=pending["code"])), (bump or 0) + 1)


@callback(
    Output(cid("report"), "children"),
    Output(cid("bump"), "data", allow_duplicate=True),
    Output(cid("upload"), "contents"),  # emptied, so that the same file may come again
    Input(cid("upload"), "contents"),
    State(cid("upload"), "filename"),
    State(cid("bump"), "data"),
    State(cid("lang"), "data"),
    prevent_initial_call=True,
)
def upload(contents: str | None, filename: str | None, bump: int | None, lang: str) -> Any:
    """Import the file dropped in the box; the report says what happened."""
    if not contents:
        raise dash.exceptions.PreventUpdate
    _admin()
    name = filename or ""
    try:
        data = base64.b64decode(contents.partition(",")[2], validate=True)
        report = camera_import.import_file(the_app().core, name, data)
    except binascii.Error:
        return import_report(name, lang, error="the upload arrived damaged; try again"), bump, None
    except ServiceError as exc:
        return import_report(name, lang, error=exc.message), bump, None
    shown = import_report(name, lang, report=report.to_wire())
    return shown, ((bump or 0) + 1) if report.ok else bump, None
