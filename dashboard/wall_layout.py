"""The wall's component tree, built by pure functions (no request, no database, no files).

The live parts start empty. The socket bridge (assets/js/bridge.js) keeps the state and calls
the wall's view (assets/js/wall.js) at most once a second; the view writes everything live in
place, outside Dash: the clock, the KPI strip, the latest reports, the presence counts, the
map's live layers (dashboard/wall_map.py), the warnings, charts and camera tiles
(dashboard/wall_panels.py). Dash renders this tree once and never again.

The grid of the page fills the screen exactly, and every size is in rem, which follows the
screen (assets/commandhall.css): a 4K wall is the 1080 one drawn twice as large.
"""

from __future__ import annotations

import json
from typing import Any

from dash import html

import dashboard.wall_strings  # noqa: F401  (registers the wall's strings)
from dashboard.i18n import EN, bundle, other_lang, t
from dashboard.wall_map import PRESENCES, Bounds, bounds_of, case_map
from dashboard.wall_panels import (
    alert_overlay,
    chart_panel,
    latest_panel,
    tiles_panel,
    warnings_panel,
)
from dispatch.domain.categories import CATEGORIES, DEPARTMENTS

__all__ = ["KPI_KEYS", "PRESENCES", "Bounds", "bounds_of", "strings_for_browser", "wall_page"]

# The KPI strip, in order: (key, label, kind). The first five are the server's kpis().
KPIS = (
    ("reported_today", "kpi.reported_today", "count"),
    ("registered_today", "wall.kpi.registered_today", "count"),
    ("closed_today", "kpi.closed_today", "count"),
    ("open", "kpi.open", "count"),
    ("closure_rate", "wall.kpi.closure_rate", "rate"),
    ("on_time_rate", "wall.kpi.on_time_rate", "rate"),
    ("satisfaction", "wall.kpi.satisfaction", "rate"),
    ("yellow", "kpi.yellow", "count"),
    ("overdue", "kpi.overdue", "count"),
    ("workers_online", "kpi.workers_online", "count"),
    ("calls", "wall.kpi.calls", "count"),
)
KPI_KEYS = tuple(key for key, _, _ in KPIS)


def strings_for_browser(lang: str) -> str:
    """The strings the wall's scripts need, as the JSON of a data attribute: states, lights,
    the wall's own, and the names of categories and departments."""
    strings = bundle(("conn.", "state.", "week.", "light.", "wall.", "camera.player."), lang)
    en = lang == EN
    for c in CATEGORIES:
        strings[f"cat.{c.code}"] = c.name_en if en else c.name
    for d in DEPARTMENTS:
        strings[f"dept.{d.code}"] = d.name_en if en else d.name
    strings["lang"] = lang
    return json.dumps(strings, ensure_ascii=False, separators=(",", ":"))


def header(lang: str, county: str = "") -> html.Header:
    switch_to = other_lang(lang)
    return html.Header(
        className="wall-header",
        children=[
            html.Div(
                className="wall-brand",
                children=[
                    html.Div(className="wall-emblem", children=html.Span("综")),
                    html.Div(
                        [
                            html.H1(t("wall.title", lang), className="wall-title"),
                            html.Div(
                                [
                                    html.Span(county, className="wall-county") if county else None,
                                    t("wall.subtitle", lang),
                                ],
                                className="wall-subtitle",
                            ),
                        ]
                    ),
                ],
            ),
            html.Div(
                className="wall-clockbox",
                children=[
                    html.Div("--:--:--", id="wall-clock", className="wall-clock"),
                    html.Div("", id="wall-date", className="wall-date"),
                ],
            ),
            html.Div(
                className="wall-status",
                children=[
                    html.Span(
                        t("conn.connecting", lang),
                        id="wall-conn",
                        className="wall-conn is-connecting",
                    ),
                    html.A(
                        t("lang.switch", lang),
                        id="wall-lang",
                        className="wall-lang",
                        href=f"/wall?lang={switch_to}",
                        lang=switch_to,
                    ),
                ],
            ),
        ],
    )


def kpi_strip(lang: str) -> html.Section:
    return html.Section(
        className="wall-kpis",
        children=[
            html.Div(
                className=f"wall-kpi is-{key} is-{kind}",
                children=[
                    html.Div(
                        [
                            html.Span(t(label, lang), className="wall-kpi-name"),
                            html.Span(t("wall.kpi.window", lang), className="wall-kpi-window")
                            if kind == "rate"
                            else None,
                        ],
                        className="wall-kpi-label",
                    ),
                    html.Div("–", id=f"wall-kpi-{key}", className="wall-kpi-value"),
                ],
            )
            for key, label, kind in KPIS
        ],
    )


def live_anchor(lang: str, tz_offset_minutes: int, township_id: int | None = None) -> html.Div:
    """The element the socket bridge looks for; it carries the page's strings and scope."""
    return html.Div(
        id="wall-live",
        className="wall-live",
        hidden=True,
        **{
            "data-ch-view": "wall",
            "data-township": "" if township_id is None else str(township_id),
            "data-tz-offset": str(tz_offset_minutes),
            "data-strings": strings_for_browser(lang),
        },
    )


def wall_page(
    *,
    lang: str,
    bounds: Bounds | None,
    tz_offset_minutes: int,
    county: str = "",
    tile_url: str = "",
    tiles: int | None = None,
) -> html.Div:
    main = html.Div(
        className="wall-main",
        children=[
            html.Div(
                className="wall-col is-left",
                children=[
                    warnings_panel(lang),
                    latest_panel(lang),
                ],
            ),
            html.Div(
                className="wall-col is-centre",
                children=[
                    case_map(lang, bounds, tile_url),
                    html.Div(
                        className="wall-charts-row",
                        children=[
                            chart_panel("trend", lang),
                            chart_panel("channels", lang),
                        ],
                    ),
                ],
            ),
            html.Div(
                className="wall-col is-right",
                children=[
                    tiles_panel(lang, tiles),
                    chart_panel("townships", lang),
                    chart_panel("categories", lang),
                ],
            ),
        ],
    )
    children: list[Any] = [
        live_anchor(lang, tz_offset_minutes),
        header(lang, county),
        kpi_strip(lang),
        main,
        alert_overlay(lang),
    ]
    return html.Div(
        id="wall-page",
        className="wall" + (" is-en" if lang == EN else ""),
        lang="en" if lang == EN else "zh-CN",
        children=children,
    )
