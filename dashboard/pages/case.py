"""The case page (/cases/<case_id>): the whole case file and every action the user may take.

A case outside the user's jurisdiction shows the same "does not exist" page as a missing
one. Actions run as the signed-in principal; the service's complaint is shown next to the
field it names. The page re-reads the case when the socket bridge says it changed
(`case-live`) or after an action here (`case-bump`); the actions panel is re-drawn only when
what it offers changed, so a form being filled in survives other people's updates.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, html, no_update

from dashboard.case_actions_layout import TEXT_FIELDS, TOP, FormContext, action_of, actions_panel
from dashboard.case_calls import call_panel, invite_options
from dashboard.case_layout import (
    PARTS,
    Lookup,
    case_page,
    head,
    missing_page,
    sla,
    timeline,
    whistle,
)
from dashboard.case_side_layout import side
from dashboard.i18n import EN, t
from dashboard.office_context import choices, gate, go_elsewhere, page_lang, viewer_for
from dashboard.office_layout import Viewer
from dispatch.api import the_app
from dispatch.api.auth import current_principal
from dispatch.domain.access import Principal
from dispatch.domain.categories import CATEGORIES
from dispatch.service import actions, casefile
from dispatch.service.errors import NotFound, ServiceError
from dispatch.service.queries import head_seq


def _title(case_id: str | None = None, **_: Any) -> str:
    return f"案件 {case_id} · CommandHall" if case_id else "案件 · CommandHall"


dash.register_page(
    __name__, path_template="/cases/<case_id>", path="/cases/none", title=_title, name="case"
)


def lookup(lang: str) -> Lookup:
    names = the_app().names
    en = lang == EN
    return Lookup(
        units={u.id: u.name for u in names.units.values()},
        departments={d.code: (d.name_en if en else d.name) for d in names.departments.values()},
        workers={w.id: w.name for w in names.workers.values()},
        categories={c.code: (c.name_en if en else c.name) for c in CATEGORIES},
    )


def read_case(case_id: Any, principal: Principal) -> dict[str, Any] | None:
    """The case file as this principal may see it; None when missing or out of scope."""
    try:
        number = int(str(case_id))
    except ValueError:
        return None
    app = the_app()
    try:
        return casefile.case_detail(app.core, app.names, number, principal)
    except NotFound:
        return None


def workers_for(detail: dict[str, Any]) -> list[tuple[int, str]]:
    """Grid workers of the case's township, on duty first, for the dispatch form."""
    names = the_app().names
    township = detail["case"].get("township_id")
    rows = [w for w in names.workers.values() if w.township_id == township] or list(
        names.workers.values()
    )
    rows.sort(key=lambda w: (not w.on_duty, w.grid_id != detail["case"].get("grid_id"), w.id))
    return [(w.id, f"{w.name} · {names.unit_name(w.grid_id)}") for w in rows]


def panel(detail: dict[str, Any], viewer: Viewer, lang: str) -> tuple[list[Any], str]:
    """The actions panel and its signature (what it offers, not the case's other data)."""
    sig_data = [
        detail["actions"], detail.get("suggestion"), lang,
        [(p["department"], p["state"]) for p in detail.get("whistle") or []],
        detail.get("pending_extension_hours"), [d["id"] for d in detail.get("duplicates") or []],
    ]  # fmt: skip
    sig = hashlib.sha1(json.dumps(sig_data, sort_keys=True, default=str).encode()).hexdigest()
    context = FormContext(detail, viewer, choices(lang), workers_for(detail), lang)
    return [calls_part(detail, viewer, lang), *actions_panel(context)], sig


def calls_part(detail: dict[str, Any], viewer: Viewer, lang: str) -> Any:
    """视频通话 / 召开视频会商 on top of the actions (dashboard/case_calls.py)."""
    names = the_app().names
    options = invite_options(
        detail["case"],
        townships={u.id: u.name for u in names.townships()},
        departments={d.code: (d.name_en if lang == EN else d.name)
                     for d in names.departments.values()},
        workers=[(w.id, w.name, w.township_id) for w in names.workers.values()],
        whistle=[p["department"] for p in detail.get("whistle") or []],
    )  # fmt: skip
    return call_panel(detail["case"], options, viewer.role, lang)


go_elsewhere("case")


def layout(case_id: str | None = None, lang: str | None = None, **_query: Any) -> Any:
    lang = page_lang(lang)
    principal, instead = gate("case", lang, f"/cases/{case_id}?lang={lang}")
    if principal is None:
        return instead
    app = the_app()
    viewer = viewer_for(principal, lang)
    seq = head_seq(app.core)
    detail = read_case(case_id, principal)
    if detail is None:
        return missing_page(viewer, str(case_id), lang)
    actions_now, sig = panel(detail, viewer, lang)
    return case_page(
        detail=detail, viewer=viewer, names=lookup(lang), now=app.core.clock.now(),
        tz=app.core.timezone, lang=lang, seq=seq, actions_panel=actions_now, actions_sig=sig,
        tile_url=app.settings.tile_url,
    )  # fmt: skip


@callback(
    [Output(f"case-{part}", "children") for part in PARTS],
    Output("case-actions", "children"),
    Output("case-actions-sig", "data"),
    Input("case-live", "data"),
    Input("case-bump", "data"),
    State("case-id", "data"),
    State("case-lang", "data"),
    State("case-actions-sig", "data"),
    prevent_initial_call=True,
)
def refresh(_live: Any, _bump: Any, case_id: int, lang: str, shown: str | None) -> tuple[Any, ...]:
    """Re-read the case (somebody acted on it) and re-draw what changed."""
    principal = current_principal()
    if principal is None:
        raise dash.exceptions.PreventUpdate
    detail = read_case(case_id, principal)
    if detail is None:  # it left this jurisdiction meanwhile (e.g. a whistle party done)
        gone: list[Any] = [html.H1(t("console.case.missing", lang), id="case-missing")]
        return (*gone, *([] for _ in PARTS[1:]), [], None)
    app = the_app()
    names, now, tz = lookup(lang), app.core.clock.now(), app.core.timezone
    parts = [
        head(detail, names, lang, tz),
        sla(detail, now, lang, tz),
        whistle(detail.get("whistle") or [], now, lang, tz),
        timeline(detail["timeline"], names, lang, tz),
        side(detail, lang, may_merge="merge" in detail["actions"]),
    ]
    actions_now, sig = panel(detail, viewer_for(principal, lang), lang)
    if sig == shown:
        return (*parts, no_update, no_update)
    return (*parts, actions_now, sig)


def _params(form: str, states: list[dict[str, Any]], values: list[Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item, value in zip(states, values, strict=True):
        if item["id"]["form"] == form and value not in (None, "", []):
            params[item["id"]["name"]] = value.strip() if isinstance(value, str) else value
    return params


def _error_text(exc: ServiceError, fields: set[str], params: dict[str, Any], lang: str) -> str:
    """The service's message; in the page's words when it only says a field was left empty."""
    if exc.field in fields and exc.field not in params:
        try:
            label = t(f"console.form.{exc.field}", lang)
        except KeyError:
            return exc.message
        if lang != EN:
            return t("console.form.required", lang).format(label=label)
    return exc.message


@callback(
    Output({"type": "case-error", "form": ALL, "name": ALL}, "children"),
    Output({"type": "case-field", "form": ALL, "name": ALL}, "value"),
    Output("case-flash", "children"),
    Output("case-flash", "className"),
    Output("case-bump", "data"),
    Input({"type": "case-do", "form": ALL}, "n_clicks"),
    Input({"type": "case-merge", "master": ALL}, "n_clicks"),
    State({"type": "case-field", "form": ALL, "name": ALL}, "value"),
    State("case-id", "data"),
    State("case-lang", "data"),
    State("case-bump", "data"),
    prevent_initial_call=True,
)
def act(
    _do: Any, _merge: Any, values: list[Any], case_id: int, lang: str, bump: int | None
) -> tuple[Any, ...]:
    """Perform the clicked action as the signed-in principal."""
    clicked = ctx.triggered_id
    if not clicked or not any(item.get("value") for item in ctx.triggered):
        raise dash.exceptions.PreventUpdate  # the panel was re-drawn; nobody clicked
    principal = current_principal()
    if principal is None:
        raise dash.exceptions.PreventUpdate
    error_ids = [o["id"] for o in ctx.outputs_list[0]]
    field_ids = [o["id"] for o in ctx.outputs_list[1]]
    if clicked["type"] == "case-merge":
        form, params = "merge", {"master_id": clicked["master"]}
    else:
        form = clicked["form"]
        params = _params(form, ctx.states_list[0], values)
    action = action_of(form)
    if action == "dispatch" and form == "dispatch_custom" and "worker_id" not in params:
        params["suggest_worker"] = False
    errors: list[Any] = ["" for _ in error_ids]
    try:
        actions.perform(the_app().core, int(case_id), action, params, principal=principal)
    except ServiceError as exc:
        names = {i["name"] for i in error_ids if i["form"] == form}
        where = exc.field if exc.field in names else TOP
        message = _error_text(exc, names - {TOP}, params, lang)
        for n, ident in enumerate(error_ids):
            if ident["form"] == form and ident["name"] == where:
                errors[n] = message
        # A merge from the duplicates list has no form open: its answer goes on top.
        if clicked["type"] == "case-merge":
            errors = ["" for _ in error_ids]
        flash = "" if any(errors) else message
        kept = [no_update for _ in field_ids]
        return errors, kept, flash, "ch-flash is-error" if flash else "ch-flash", no_update
    cleared = [
        "" if i["form"] == form and i["name"] in TEXT_FIELDS else no_update for i in field_ids
    ]
    done = t("console.case.done", lang).format(action=t(f"console.action.{action}", lang))
    return errors, cleared, done, "ch-flash is-ok", (bump or 0) + 1
