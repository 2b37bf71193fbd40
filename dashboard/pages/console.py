"""The duty console (/console): work queues in buckets, search, filters and one-click actions.

The duty officer (and leaders, admins) see the centre's buckets; a township or department
office sees its own work. Every callback acts as the signed-in principal and lets the
service scope the answer; nothing the browser sends widens what it sees. The queue is
re-read when the socket bridge says a case in scope changed (`console-live`), after an
action here (`console-bump`), and when the tab or a filter changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, callback, ctx, no_update

from dashboard.console_layout import (
    DUTY_BUCKETS,
    OFFICE_BUCKETS,
    console_page,
    first_busy,
    queue_table,
    search_results,
    tab_class,
)
from dashboard.i18n import EN, t
from dashboard.office_context import choices, gate, go_elsewhere, is_office, page_lang, viewer_for
from dispatch.api import the_app
from dispatch.api.auth import current_principal
from dispatch.domain.access import Principal
from dispatch.service import actions, casefile, queue
from dispatch.service.errors import ServiceError
from dispatch.service.queries import head_seq

dash.register_page(__name__, path="/console", title="值班工作台 · CommandHall", name="console")


def _kind(principal: Principal) -> str:
    return "office" if is_office(principal) else "duty"


def _buckets(kind: str) -> tuple[str, ...]:
    return OFFICE_BUCKETS if kind == "office" else DUTY_BUCKETS


def read_queue(principal: Principal, f: queue.QueueFilter) -> dict[str, Any]:
    """The principal's queue, scoped by the service to what it may see."""
    app = the_app()
    read = queue.office_queue if is_office(principal) else queue.duty_queue
    return read(app.core, app.names, scope=principal.scope, f=f)


def signature(bucket: str, data: dict[str, Any], lang: str) -> str:
    """What the visible table shows; an unchanged signature leaves the table alone."""
    part = data.get(bucket) or {}
    blob = json.dumps([bucket, lang, part], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(blob.encode()).hexdigest()


go_elsewhere("console")


def layout(lang: str | None = None, **_query: Any) -> Any:
    lang = page_lang(lang)
    principal, instead = gate("console", lang, f"/console?lang={lang}")
    if principal is None:
        return instead
    app = the_app()
    kind = _kind(principal)
    seq = head_seq(app.core)  # before the read: anything later reaches us through the socket
    data = read_queue(principal, queue.QueueFilter())
    active = first_busy(_buckets(kind), data)
    return console_page(
        viewer=viewer_for(principal, lang),
        kind=kind,
        data=data,
        active=active,
        choices=choices(lang),
        now=app.core.clock.now(),
        seq=seq,
        lang=lang,
        signature=signature(active, data, lang),
    )


def _filter_from(values: list[Any]) -> queue.QueueFilter:
    """The filter dropdowns, by name (the township one exists for county roles only)."""
    by_name = {
        item["id"]["name"]: value for item, value in zip(ctx.inputs_list[3], values, strict=True)
    }
    township = by_name.get("township")
    return queue.QueueFilter(
        township_id=int(township) if township not in (None, "") else None,
        category=by_name.get("category") or None,
        channel=by_name.get("channel") or None,
        state=by_name.get("state") or None,
    )


@callback(
    Output("console-queue", "children"),
    Output({"type": "console-count", "bucket": ALL}, "children"),
    Output({"type": "console-tab", "bucket": ALL}, "className"),
    Output("console-sig", "data"),
    Input("console-live", "data"),
    Input("console-bump", "data"),
    Input("console-tab", "data"),
    Input({"type": "console-filter", "name": ALL}, "value"),
    State("console-sig", "data"),
    State("console-lang", "data"),
    prevent_initial_call=True,
)
def refresh(
    _live: Any, _bump: Any, active: str, values: list[Any], shown: str | None, lang: str
) -> tuple[Any, ...]:
    """Re-read the queue (a case changed, an action here, another tab or filter)."""
    principal = current_principal()
    if principal is None:
        raise dash.exceptions.PreventUpdate
    kind = _kind(principal)
    buckets = [o["id"]["bucket"] for o in ctx.outputs_list[1]]
    active = active if active in buckets else buckets[0]
    try:
        f = _filter_from(values)
    except (ServiceError, ValueError):  # not a value the dropdowns offer
        raise dash.exceptions.PreventUpdate from None
    data = read_queue(principal, f)
    counts = [str(data.get(b, {}).get("count", 0)) for b in buckets]
    classes = [tab_class(b, active) for b in buckets]
    sig = signature(active, data, lang)
    if sig == shown:
        return no_update, counts, classes, no_update
    app = the_app()
    table = queue_table(
        active, kind, data, viewer_for(principal, lang), app.core.clock.now(), lang,
        dict(choices(lang).departments),
    )  # fmt: skip
    return table, counts, classes, sig


# Tab clicks only pick the bucket (in the browser); `refresh` draws it.
dash.clientside_callback(
    ClientsideFunction("console", "pickTab"),
    Output("console-tab", "data"),
    Input({"type": "console-tab", "bucket": ALL}, "n_clicks"),
    State("console-tab", "data"),
    prevent_initial_call=True,
)


def _where(events: list[Any], lang: str) -> str:
    """Where a dispatch sent the case: township · department · grid worker."""
    names = the_app().names
    for e in events:
        if e.type == "case.dispatched":
            data = e.payload
            dept = names.departments.get(data.get("department") or "")
            worker = names.workers.get(data.get("worker_id") or -1)
            parts = [
                names.unit_name(data.get("unit_id")),
                (dept.name_en if lang == EN else dept.name) if dept else "",
                f"{t('console.role.grid_worker', lang)} {worker.name}" if worker else "",
            ]
            return " · ".join(p for p in parts if p)
    return ""


@callback(
    Output("console-flash", "children"),
    Output("console-flash", "className"),
    Output("console-bump", "data"),
    Input({"type": "console-quick", "bucket": ALL, "case": ALL, "action": ALL}, "n_clicks"),
    State("console-bump", "data"),
    State("console-lang", "data"),
    prevent_initial_call=True,
)
def quick(_clicks: list[Any], bump: int | None, lang: str) -> tuple[Any, ...]:
    """A row's one-click action, as the signed-in principal."""
    clicked = ctx.triggered_id
    if not clicked or not any(item.get("value") for item in ctx.triggered):
        raise dash.exceptions.PreventUpdate  # a row was redrawn, nobody clicked
    principal = current_principal()
    if principal is None:
        raise dash.exceptions.PreventUpdate
    app = the_app()
    case_id, action = int(clicked["case"]), str(clicked["action"])
    ticket = f"#{case_id}"
    try:
        ticket = casefile.get_case(app.core, app.names, case_id, principal)["ticket"]
        events = actions.perform(app.core, case_id, action, {}, principal=principal)
    except ServiceError as exc:
        text = t("console.quick.failed", lang).format(ticket=ticket, message=exc.message)
        return text, "ch-flash is-error", (bump or 0) + 1
    label = t(f"console.action.{action}", lang)
    if action == "dispatch":
        text = t("console.quick.dispatched", lang).format(ticket=ticket, where=_where(events, lang))
    else:
        text = t("console.quick.done", lang).format(action=label, ticket=ticket)
    return text, "ch-flash is-ok", (bump or 0) + 1


@callback(
    Output("console-search-results", "children"),
    Output("console-search-panel", "className"),
    Input("console-search-go", "n_clicks"),
    Input("console-search-q", "n_submit"),
    Input("console-search-close", "n_clicks"),
    State("console-search-q", "value"),
    State("console-lang", "data"),
    prevent_initial_call=True,
)
def search(_go: Any, _submit: Any, _close: Any, text: str | None, lang: str) -> tuple[Any, str]:
    if ctx.triggered_id == "console-search-close" or not (text or "").strip():
        return [], "console-search-panel is-empty"
    principal = current_principal()
    if principal is None:
        raise dash.exceptions.PreventUpdate
    app = the_app()
    try:
        found = queue.search_cases(app.core, app.names, scope=principal.scope, text=text or "")
    except ServiceError as exc:
        return search_results(None, lang, error=exc.message), "console-search-panel"
    return search_results(found, lang), "console-search-panel"
