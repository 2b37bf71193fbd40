"""The camera registry page's component tree (/admin/cameras), built by pure functions.

Cameras and import reports come from `dispatch.service.cameras` as plain dicts; nothing here
reads a request or the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from dash import dcc, html

import dashboard.cameras_strings  # noqa: F401  (registers the strings used below)
from dashboard.i18n import EN, keys, t
from dashboard.office_layout import Viewer, dropdown_labels, notice_page, office_header

PREFIX = "admin-cameras"
PATH = "/admin/cameras"
FORM_FIELDS = ("name", "code", "lat", "long", "source", "address")
STATUSES = ("online", "offline", "unknown", "disabled")
SHOWN = 500  # rows drawn at most; a county of 32,000 cameras is searched, not scrolled
REPORT_ERRORS = 200  # bad rows listed at most on the page (the API lists all)
TEMPLATE_CSV = (
    "\ufeff编号,名称,纬度,经度,视频源,地址\n"
    ",示例路口东北角,25.6460,103.7652,rtsp://192.168.1.64/Streaming/Channels/101,建设路与人民路口\n"
)


def cid(name: str) -> str:
    """A component id of this page."""
    return f"{PREFIX}-{name}"


# -- the page -----------------------------------------------------------------------------


def denied_page(lang: str) -> html.Div:
    body = html.Div(
        [
            html.P(t("cameras.denied.hint", lang)),
            html.A(t("console.back", lang), href=f"/console?lang={lang}", className="ch-btn"),
        ]
    )
    return notice_page(PREFIX, lang, t("cameras.denied", lang), body)


def cameras_page(
    *, viewer: Viewer, cameras: Sequence[Mapping[str, Any]], total: int, lang: str
) -> html.Div:
    return html.Div(
        className="ch-office ch-admin",
        lang="en" if lang == EN else "zh-CN",
        id=cid("page"),
        children=[
            office_header(viewer, lang, prefix=PREFIX, here=PATH, title=t("cameras.brand", lang)),
            html.Div(id=cid("flash"), className="ch-flash"),
            html.Main(
                className="admin-main",
                children=[
                    html.Section(
                        className="admin-card admin-list",
                        children=[
                            toolbar(lang),
                            html.Div(
                                camera_table(cameras, total, lang),
                                id=cid("table"),
                                className="admin-table-wrap",
                            ),
                        ],
                    ),
                    html.Aside(className="admin-side", children=[form(lang), import_box(lang)]),
                ],
            ),
            dcc.Store(id=cid("lang"), data=lang),
            dcc.Store(id=cid("bump"), data=0),
            dcc.Store(id=cid("editing"), data=None),
            dcc.Store(id=cid("pending"), data=None),
            dcc.ConfirmDialog(id=cid("confirm")),
        ],
    )


def toolbar(lang: str) -> html.Div:
    return html.Div(
        className="admin-toolbar",
        children=[
            html.H1(t("cameras.title", lang), className="admin-title"),
            dcc.Input(
                id=cid("q"),
                type="search",
                debounce=True,
                autoComplete="off",
                placeholder=t("cameras.search.placeholder", lang),
                className="admin-search",
            ),
            dcc.Dropdown(
                id=cid("status"),
                options=[{"value": s, "label": t(f"cameras.status.{s}", lang)} for s in STATUSES],
                value=None,
                placeholder=t("cameras.filter.any", lang),
                clearable=True,
                searchable=False,
                labels=dropdown_labels(lang),
                className="console-dropdown admin-status-filter",
            ),
        ],
    )


# -- the table ----------------------------------------------------------------------------


def status_badge(status: str, lang: str) -> html.Span:
    status = status if status in STATUSES else "unknown"
    return html.Span(
        [html.Span(className="admin-dot"), t(f"cameras.status.{status}", lang)],
        className=f"admin-status is-{status}",
    )


def place(camera: Mapping[str, Any]) -> str:
    return " / ".join(p for p in (camera.get("township"), camera.get("grid")) if p) or "—"


def _button(label: str, kind: str, camera_id: int, *, danger: bool = False) -> html.Button:
    return html.Button(
        label,
        id={"type": cid(kind), "camera": camera_id},
        className="ch-btn is-small" + (" is-danger" if danger else ""),
        n_clicks=0,
    )


def _row(camera: Mapping[str, Any], lang: str) -> html.Tr:
    disabled = camera["status"] == "disabled"
    toggle = "enable" if disabled else "disable"
    kind = camera.get("source_kind") or "file"
    return html.Tr(
        className="admin-row" + (" is-disabled" if disabled else ""),
        **{"data-camera-id": str(camera["id"]), "data-code": camera["code"]},
        children=[
            html.Td(
                [
                    html.Div(camera["name"], className="admin-name"),
                    html.Div(camera.get("address") or "", className="admin-address"),
                ],
                title=camera["name"],
            ),
            html.Td(camera["code"], className="admin-code"),
            html.Td(place(camera), title=place(camera)),
            html.Td(
                html.Span(t(f"cameras.kind.{kind}", lang), className=f"admin-kind is-{kind}"),
                title=camera["source"],
            ),
            html.Td(status_badge(camera["status"], lang)),
            html.Td(
                className="admin-actions",
                children=[
                    _button(t("cameras.edit", lang), "edit", camera["id"]),
                    _button(t(f"cameras.{toggle}", lang), "toggle", camera["id"]),
                    _button(t("cameras.delete", lang), "delete", camera["id"], danger=True),
                ],
            ),
        ],
    )


def camera_table(cameras: Sequence[Mapping[str, Any]], total: int, lang: str) -> list[Any]:
    """The count line and the table (or a line saying nothing matches)."""
    if total > len(cameras):
        count = t("cameras.count.some", lang).format(shown=len(cameras), n=total)
    else:
        count = t("cameras.count", lang).format(n=total)
    head = html.Div(count, className="admin-count", id=cid("count"))
    if not cameras:
        return [head, html.Div(t("cameras.none", lang), className="admin-empty")]
    columns = ("name", "code", "place", "source", "status", "actions")
    return [
        head,
        html.Table(
            className="console-table admin-table",
            children=[
                html.Thead(
                    html.Tr(
                        [html.Th(t(f"cameras.col.{c}", lang), className=f"is-{c}") for c in columns]
                    )
                ),
                html.Tbody([_row(c, lang) for c in cameras]),
            ],
        ),
    ]


# -- the form -----------------------------------------------------------------------------


def _field(name: str, lang: str, *, decimal: bool = False, hint: str | None = None) -> html.Label:
    return html.Label(
        className=f"admin-field is-{name}",
        children=[
            html.Span(t(f"cameras.field.{name}", lang), className="case-field-label"),
            dcc.Input(
                id=cid(f"field-{name}"),
                type="text",
                value="",
                debounce=False,
                autoComplete="off",
                className="admin-input",
                placeholder=hint or "",
                # Text, not a number input: no stepper buttons, and the service says what
                # is wrong with "25,6" instead of the browser quietly sending nothing.
                **({"inputMode": "decimal"} if decimal else {}),
            ),
            html.Div(id=cid(f"error-{name}"), className="ch-error admin-error"),
        ],
    )


def form(lang: str) -> html.Section:
    return html.Section(
        className="admin-card admin-form",
        children=[
            html.H2(t("cameras.form.new", lang), id=cid("form-title")),
            _field("name", lang),
            _field("code", lang, hint=t("cameras.hint.code", lang)),
            html.Div(
                className="admin-pair",
                children=[_field("lat", lang, decimal=True), _field("long", lang, decimal=True)],
            ),
            html.Div(t("cameras.hint.place", lang), className="admin-hint"),
            _field("source", lang, hint="rtsp://…"),
            html.Div(t("cameras.hint.source", lang), className="admin-hint"),
            _field("address", lang),
            html.Div(
                className="admin-buttons",
                children=[
                    html.Button(
                        t("cameras.form.save", lang),
                        id=cid("save"),
                        n_clicks=0,
                        className="ch-btn is-primary",
                    ),
                    html.Button(
                        t("cameras.form.clear", lang), id=cid("new"), n_clicks=0, className="ch-btn"
                    ),
                ],
            ),
        ],
    )


def form_values(camera: Mapping[str, Any] | None) -> list[Any]:
    """What the inputs show for a camera (empty for a new one), in FORM_FIELDS order."""
    if camera is None:
        return ["" for _ in FORM_FIELDS]
    return ["" if camera.get(name) is None else camera[name] for name in FORM_FIELDS]


# -- import -------------------------------------------------------------------------------


def import_box(lang: str) -> html.Section:
    template = "data:text/csv;charset=utf-8," + quote(TEMPLATE_CSV)
    return html.Section(
        className="admin-card admin-import",
        children=[
            html.H2(t("cameras.import.title", lang)),
            dcc.Upload(
                id=cid("upload"),
                accept=".csv,.geojson,.json",
                multiple=False,
                className="admin-upload",
                className_active="admin-upload is-active",
                children=html.Div(t("cameras.import.drop", lang)),
            ),
            html.P(t("cameras.import.help", lang), className="admin-hint"),
            html.A(
                t("cameras.import.template", lang),
                href=template,
                download="cameras-template.csv",
                className="admin-template",
            ),
            dcc.Loading(html.Div(id=cid("report"), className="admin-report"), type="dot"),
        ],
    )


def field_label(name: str | None, lang: str) -> str:
    if not name:
        return "—"
    key = f"cameras.field.{name}"
    return t(key, lang) if key in keys("cameras.field.") else name


def import_report(
    filename: str, lang: str, *, report: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> list[Any]:  # fmt: skip
    """What an import did: the counts, every bad row (nothing stored), or why the file
    could not be read at all."""
    name = filename or "—"
    if error is not None:
        text = t("cameras.import.failed", lang).format(file=name, message=error)
        return [html.Div(text, className="admin-report-head is-error", id=cid("report-head"))]
    assert report is not None
    if report["ok"]:
        text = t("cameras.import.ok", lang).format(
            file=name, created=report["created"], updated=report["updated"]
        )
        return [html.Div(text, className="admin-report-head is-ok", id=cid("report-head"))]
    errors = report["errors"]
    head = t("cameras.import.bad", lang).format(file=name, n=len(errors))
    rows = [
        html.Tr(
            [
                html.Td(str(e["row"]), className="is-row"),
                html.Td(field_label(e["field"], lang), className="is-field"),
                html.Td(e["message"], className="is-message"),
            ],
            className="admin-report-row",
        )
        for e in errors[:REPORT_ERRORS]
    ]
    parts: list[Any] = [
        html.Div(head, className="admin-report-head is-error", id=cid("report-head")),
        html.Table(
            className="admin-report-table",
            children=[
                html.Thead(
                    html.Tr(
                        [
                            html.Th(t(f"cameras.import.{c}", lang))
                            for c in ("row", "field", "message")
                        ]
                    )
                ),
                html.Tbody(rows),
            ],
        ),
    ]
    if len(errors) > REPORT_ERRORS:
        more = t("cameras.import.more", lang).format(n=len(errors) - REPORT_ERRORS)
        parts.append(html.Div(more, className="admin-hint"))
    return parts
