"""The wall's panels around the map: warnings, latest reports, charts and camera tiles.

Each is a frame with a title and an empty body that the browser fills and updates in place
(assets/js/wall_panels.js, wall_charts.js, wall_tiles.js), so Dash never re-renders them:
their bodies have no children here, and no callback writes them. The latest-reports list is
the exception: the clientside render callback patches it (assets/js/wall.js).
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.i18n import t

CHARTS = ("trend", "channels", "townships", "categories")
TILE_COUNTS = (4, 9, 16)


def panel(name: str, title: str, body: Any, *, extra: Any = None, note: str = "") -> html.Section:
    head = [html.H2(title, className="wall-panel-title")]
    if note:
        head.append(html.Span(note, className="wall-panel-note"))
    if extra is not None:
        head.append(extra)
    return html.Section(
        className=f"wall-panel is-{name}",
        children=[html.Div(className="wall-panel-head", children=head), body],
    )


def warnings_panel(lang: str) -> html.Section:
    counts = html.Div(
        id="wall-warn-counts",
        className="wall-warn-counts",
        children=[
            html.Span(
                className=f"wall-warn-count is-{level}",
                children=[
                    t(f"wall.warnings.{level}", lang),
                    html.B(id=f"wall-warn-count-{level}"),
                ],
            )
            for level in ("red", "yellow", "whistle")
        ],
    )
    return panel(
        "warnings",
        t("wall.warnings", lang),
        html.Div(
            className="wall-panel-body",
            children=[
                html.Ol(id="wall-warnings", className="wall-warnings"),
                html.Div(
                    t("wall.warnings.empty", lang),
                    id="wall-warnings-empty",
                    className="wall-empty",
                    hidden=True,
                ),
            ],
        ),
        extra=counts,
    )


def latest_panel(lang: str) -> html.Section:
    return panel(
        "latest",
        t("wall.latest.title", lang),
        html.Div(
            className="wall-panel-body",
            children=[html.Ul(id="wall-latest-list", className="wall-latest", children=[])],
        ),
    )


def chart_panel(name: str, lang: str) -> html.Section:
    return panel(
        name,
        t(f"wall.chart.{name}", lang),
        html.Div(id=f"wall-chart-{name}", className=f"wall-chart is-{name}"),
        note=t("wall.chart.window", lang),
    )


def tiles_panel(lang: str, tiles: int | None) -> html.Section:
    """Room for 4, 9 or 16 camera tiles; `tiles` None lets the screen choose (4 at 1080
    lines, 9 at 4K). assets/js/wall_tiles.js builds the tiles, each with an empty <video>
    `wall-tile-<n>` whose data-camera-id says which camera it should play."""
    return panel(
        "tiles",
        t("wall.tiles", lang),
        html.Div(
            id="wall-tiles",
            className="wall-tiles",
            **{"data-tiles": str(tiles) if tiles in TILE_COUNTS else "auto"},
        ),
        extra=html.Span(id="wall-tiles-mode", className="wall-tiles-mode"),
    )


def tile_count(value: Any) -> int | None:
    """The `?tiles=` of the URL: 4, 9 or 16, else None (the screen chooses)."""
    try:
        count = int(str(value))
    except (TypeError, ValueError):
        return None
    return count if count in TILE_COUNTS else None


def alert_overlay(lang: str) -> html.Div:
    """Covers the wall when the server refuses it (a bad or revoked device token)."""
    return html.Div(
        id="wall-alert",
        className="wall-alert",
        hidden=True,
        children=html.Div(
            className="wall-alert-box",
            children=[
                html.Div("!", className="wall-alert-icon"),
                html.H2(t("wall.auth.title", lang), className="wall-alert-title"),
                html.P(id="wall-alert-message", className="wall-alert-message"),
                html.P(id="wall-alert-detail", className="wall-alert-detail"),
                html.P(t("wall.auth.hint", lang), className="wall-alert-hint"),
                html.P(t("wall.auth.retry", lang), className="wall-alert-retry"),
            ],
        ),
    )
