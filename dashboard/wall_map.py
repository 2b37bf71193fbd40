"""The wall's live map: the offline base map, shaded grids, hotspots, cameras, workers, cases.

Static layers come by URL from /api/geo (dash-leaflet GeoJSON). Everything live is moved in
place by the browser, never rebuilt through Dash: grid shading and hotspots by
assets/js/wall_map.js, worker markers by wall_workers.js, case markers by wall_cases.js. Each
live layer is an empty LayerGroup whose "add" event hands it to its script.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import html

from dashboard.i18n import t

LIGHTS = ("green", "yellow", "red", "closed")
PRESENCES = ("online", "idle", "offline")  # realtime/presence.py
# Painted bottom to top; each layer in its own pane, because layers loaded by URL arrive in
# whatever order the network gives and markers must never end up under a township fill.
BASE_LAYERS = (  # (layer, pane z-index, style function, extra GeoJSON props)
    ("townships", 401, "township", {"onEachFeature": "townshipLabel"}),
    ("grids", 402, "grid", {"onEachFeature": "gridAdded"}),
    ("roads", 404, "road", {}),
    ("boundary", 405, "boundary", {}),
)
HOT_PANE_Z = 403  # the hotspots glow over the grid shading, under the roads
CAMERAS_PANE_Z = 420
WORKERS_PANE_Z = 430  # above the base map, under the cases: a case is what the hall acts on
CASES_PANE_Z = 450
Bounds = list[list[float]]  # [[south, west], [north, east]]


def js(name: str) -> dict[str, str]:
    """A reference to a function in assets/js/wall_map.js that dash-leaflet resolves by name."""
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


def _pane(child: Any, name: str, z: int) -> dl.Pane:
    return dl.Pane(child, name=f"wall-{name}-pane", style={"zIndex": z})


def live_layer(name: str, z: int) -> dl.Pane:
    """An empty layer group that the browser fills; its "add" event hands it over."""
    return _pane(
        dl.LayerGroup(
            id=f"wall-{name}",
            eventHandlers={"add": js(f"{name}Added")},
            disableDefaultEventHandlers=True,
        ),
        name,
        z,
    )


def base_layers(tile_url: str = "") -> list[Any]:
    """The offline vector base map from /api/geo, under an optional tile layer."""
    layers: list[Any] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, id="wall-tiles-base", opacity=0.5))
    for name, z, style, extra in BASE_LAYERS:
        props = {key: js(value) for key, value in extra.items()}
        layer = dl.GeoJSON(
            id=f"wall-geo-{name}",
            url=f"/api/geo/{name}.geojson",
            style=js(style),  # which also sets the path's class: wall-<name>
            **props,
        )
        layers.append(_pane(layer, name, z))
    return layers


def camera_layer() -> dl.Pane:
    return _pane(
        dl.GeoJSON(
            id="wall-geo-cameras",
            url="/api/geo/cameras.geojson",
            pointToLayer=js("cameraMarker"),
            onEachFeature=js("cameraAdded"),
        ),
        "cameras",
        CAMERAS_PANE_Z,
    )


def _legend_item(kind: str, mark: str, *children: Any) -> html.Div:
    """One row of a legend: its mark (a `mark`-classed span the stylesheet draws), then text."""
    return html.Div(
        className=f"wall-legend-item is-{kind}",
        children=[html.Span(className=mark), *children],
    )


def legend(lang: str) -> html.Div:
    """Cases by light, and the layers (top left of the map)."""
    dot, mark = "wall-legend-dot", "wall-legend-mark"
    return html.Div(
        className="wall-legend is-cases",
        children=[
            html.Div(t("wall.legend.cases", lang), className="wall-legend-title"),
            *(_legend_item(light, dot, t(f"wall.legend.{light}", lang)) for light in LIGHTS),
            _legend_item("new-red", dot, t("wall.legend.new_red", lang)),
            html.Div(t("wall.legend.layers", lang), className="wall-legend-title is-second"),
            _legend_item("load", mark, html.Span(t("wall.legend.load", lang))),
            _legend_item("hot", mark, html.Span(t("wall.legend.hot", lang))),
            _legend_item("camera", mark, html.Span(t("wall.legend.cameras", lang))),
        ],
    )


def presence_legend(lang: str) -> html.Div:
    """Grid workers by presence, with live counts `wall-presence-<presence>` (bottom left)."""
    return html.Div(
        className="wall-legend is-workers",
        children=[
            html.Div(t("wall.legend.workers", lang), className="wall-legend-title"),
            *(
                _legend_item(
                    presence,
                    "wall-legend-worker",
                    html.Span(t(f"presence.{presence}", lang), className="wall-legend-label"),
                    html.Span("–", id=f"wall-presence-{presence}", className="wall-legend-count"),
                )
                for presence in PRESENCES
            ),
        ],
    )


def case_map(lang: str, bounds: Bounds | None, tile_url: str = "") -> html.Div:
    viewport: dict[str, Any] = (
        {"bounds": bounds, "boundsOptions": {"padding": [16, 16]}}
        if bounds
        else {"center": [25.5, 103.8], "zoom": 10}
    )
    return html.Div(
        className="wall-map-frame",
        children=[
            dl.MapContainer(
                [
                    *base_layers(tile_url),
                    live_layer("hot", HOT_PANE_Z),
                    camera_layer(),
                    live_layer("workers", WORKERS_PANE_Z),
                    live_layer("cases", CASES_PANE_Z),
                ],
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
            call_banner(lang),
        ],
    )


def call_banner(lang: str) -> html.Div:
    """Hidden until a call rings: assets/js/wall_panels.js (CommandHall.wallBanner) fills it."""
    return html.Div(
        id="wall-call-banner",
        className="wall-call-banner",
        hidden=True,
        children=[
            html.Span(t("wall.call.incoming", lang), className="wall-call-label"),
            html.Span(id="wall-call-text", className="wall-call-text"),
        ],
    )
