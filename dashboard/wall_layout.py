"""The wall's component tree, built by pure functions (no request, no database, no files).

The live parts start empty: the socket bridge (assets/js/bridge.js) fills the `wall-view`
store, and one clientside callback (`dash_clientside.wall.render` in assets/js/wall.js) turns
it into the KPI numbers, the ranked boards, the latest-cases list, the case markers and the
presence counts. Grid workers are the exception: their markers live in a plain Leaflet layer
(`wall-workers`) that assets/js/wall_workers.js moves in place, marker by marker, as frames arrive.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard.i18n import EN, bundle, other_lang, t

CASE_KPIS = ("reported_today", "open", "closed_today", "overdue", "yellow")
KPI_KEYS = (*CASE_KPIS, "workers_online")
BOARDS = ("township", "category")  # the ranked panels left of the map
LIGHTS = ("green", "yellow", "red", "closed")
PRESENCES = ("online", "idle", "offline")  # realtime/presence.py
# Painted bottom to top; each layer in its own pane, because layers loaded by URL arrive in
# whatever order the network gives and markers must never end up under a township fill.
BASE_LAYERS = (  # (layer, pane z-index, style function, extra GeoJSON props)
    ("townships", 401, "township", {"onEachFeature": "townshipLabel"}),
    ("grids", 402, "grid", {}),
    ("roads", 403, "road", {}),
    ("boundary", 404, "boundary", {}),
)
WORKERS_PANE_Z = 430  # above the base map, under the cases: a case is what the hall acts on
CASES_PANE_Z = 450
EMPTY = {"type": "FeatureCollection", "features": []}
Bounds = list[list[float]]  # [[south, west], [north, east]]


def js(name: str) -> dict[str, str]:
    """A reference to a function in assets/js/wall.js that dash-leaflet resolves by name."""
    return {"variable": f"CommandHall.wallMap.{name}"}


def bounds_of(geojson: dict[str, Any]) -> Bounds | None:
    """The [[south, west], [north, east]] box around every coordinate of a FeatureCollection."""
    lats: list[float] = []
    longs: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], int | float):
            longs.append(float(coords[0]))
            lats.append(float(coords[1]))
        else:
            for part in coords or ():
                walk(part)

    for feature in geojson.get("features", ()):
        walk((feature.get("geometry") or {}).get("coordinates"))
    if not lats:
        return None
    return [[min(lats), min(longs)], [max(lats), max(longs)]]


def strings_for_browser(lang: str) -> str:
    """The strings assets/js/wall.js needs, as the JSON of a data attribute."""
    strings = bundle(("conn.", "state.", "week.", "light."), lang)
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
                className=f"wall-kpi is-{key}",
                children=[
                    html.Div(t(f"kpi.{key}", lang), className="wall-kpi-label"),
                    html.Div("–", id=f"wall-kpi-{key}", className="wall-kpi-value"),
                ],
            )
            for key in KPI_KEYS
        ],
    )


def base_layers(tile_url: str = "") -> list[Any]:
    """The offline vector base map from /api/geo, under an optional tile layer."""
    layers: list[Any] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, id="wall-tiles", opacity=0.5))
    for name, z, style, extra in BASE_LAYERS:
        props = {key: js(value) for key, value in extra.items()}
        layers.append(
            dl.Pane(
                dl.GeoJSON(
                    id=f"wall-geo-{name}",
                    url=f"/api/geo/{name}.geojson",
                    style=js(style),  # which also sets the path's class: wall-<name>
                    **props,
                ),
                name=f"wall-{name}-pane",
                style={"zIndex": z},
            )
        )
    return layers


def worker_markers() -> dl.Pane:
    """An empty layer group; assets/js/wall_workers.js adds, moves and restyles its markers."""
    return dl.Pane(
        dl.LayerGroup(
            id="wall-workers",
            eventHandlers={"add": js("workersAdded")},
            disableDefaultEventHandlers=True,
        ),
        name="wall-workers-pane",
        style={"zIndex": WORKERS_PANE_Z},
    )


def case_markers() -> dl.Pane:
    return dl.Pane(
        dl.GeoJSON(id="wall-cases", data=EMPTY, pointToLayer=js("pointToLayer")),
        name="wall-cases-pane",
        style={"zIndex": CASES_PANE_Z},
    )


def legend(lang: str) -> html.Div:
    """The case lights (top left of the map)."""
    return html.Div(
        className="wall-legend is-cases",
        children=[
            html.Div(t("wall.legend.cases", lang), className="wall-legend-title"),
            *(
                html.Div(
                    className=f"wall-legend-item is-{light}",
                    children=[
                        html.Span(className="wall-legend-dot"),
                        t(f"wall.legend.{light}", lang),
                    ],
                )
                for light in LIGHTS
            ),
        ],
    )


def presence_legend(lang: str) -> html.Div:
    """Grid workers by presence, with live counts `wall-presence-<presence>` (bottom left)."""
    return html.Div(
        className="wall-legend is-workers",
        children=[
            html.Div(t("wall.legend.workers", lang), className="wall-legend-title"),
            *(
                html.Div(
                    className=f"wall-legend-item is-{presence}",
                    children=[
                        html.Span(className="wall-legend-worker"),
                        html.Span(t(f"presence.{presence}", lang), className="wall-legend-label"),
                        html.Span(
                            "–", id=f"wall-presence-{presence}", className="wall-legend-count"
                        ),
                    ],
                )
                for presence in PRESENCES
            ),
        ],
    )


def board(name: str, lang: str) -> html.Section:
    """A ranked panel of open and overdue cases per township or category."""
    return html.Section(
        className=f"wall-panel wall-board is-{name}",
        children=[
            html.Div(
                className="wall-board-head",
                children=[
                    html.H2(t(f"wall.by_{name}", lang), className="wall-panel-title"),
                    html.Span(t("kpi.open", lang), className="wall-board-col"),
                    html.Span(t("kpi.overdue", lang), className="wall-board-col is-red"),
                ],
            ),
            html.Ul(id=f"wall-{name}-list", className="wall-board-list", children=[]),
        ],
    )


def left_column(lang: str) -> html.Div:
    return html.Div(className="wall-left", children=[board(name, lang) for name in BOARDS])


def case_map(lang: str, bounds: Bounds | None, tile_url: str = "") -> html.Div:
    viewport: dict[str, Any] = (
        {"bounds": bounds, "boundsOptions": {"padding": [24, 24]}}
        if bounds
        else {"center": [25.5, 103.8], "zoom": 10}
    )
    return html.Div(
        className="wall-map-frame",
        children=[
            dl.MapContainer(
                [*base_layers(tile_url), worker_markers(), case_markers()],
                id="wall-map",
                className="wall-map",
                zoomControl=False,
                attributionControl=bool(tile_url),
                zoomSnap=0.1,
                trackViewport=False,
                style={"width": "100%", "height": "100%"},
                **viewport,
            ),
            legend(lang),
            presence_legend(lang),
        ],
    )


def side_panel(lang: str) -> html.Aside:
    return html.Aside(
        className="wall-panel wall-side",
        children=[
            html.H2(t("wall.latest", lang), className="wall-panel-title"),
            html.Ul(id="wall-latest-list", className="wall-latest", children=[]),
            html.Div(t("wall.latest.empty", lang), id="wall-latest-empty", hidden=True),
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


def view_store() -> dcc.Store:
    """What the bridge pushes: {kpis, workers, latest, township, category, markers}, each
    optional (workers: the presence counts; the worker markers bypass the store)."""
    return dcc.Store(id="wall-view")


def wall_page(
    *,
    lang: str,
    bounds: Bounds | None,
    tz_offset_minutes: int,
    county: str = "",
    tile_url: str = "",
) -> html.Div:
    children: Iterable[Any] = [
        live_anchor(lang, tz_offset_minutes),
        view_store(),
        header(lang, county),
        kpi_strip(lang),
        html.Div(
            className="wall-main",
            children=[left_column(lang), case_map(lang, bounds, tile_url), side_panel(lang)],
        ),
    ]
    return html.Div(
        id="wall-page",
        className="wall" + (" is-en" if lang == EN else ""),
        lang="en" if lang == EN else "zh-CN",
        children=list(children),
    )
