"""The case page's right-hand column, built by pure functions: the map, the result, photos,
the reporter (masked unless the role may see it), duplicates to merge into, nearby cameras.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard.i18n import t
from dashboard.office_layout import fact, light_dot, state_badge


def side(detail: Mapping[str, Any], lang: str, *, may_merge: bool) -> list[Any]:
    """Photos, reporter, result, duplicates and cameras: the right-hand column under the map."""
    return [
        _section(t("console.case.result", lang), _result(detail, lang), "result"),
        _section(
            t("console.case.photos", lang), _photos(detail.get("photos") or [], lang), "photos"
        ),
        _section(t("console.case.reporter", lang), _reporter(detail["reporter"], lang), "reporter"),
        _section(
            t("console.case.duplicates", lang), _duplicates(detail, lang, may_merge), "duplicates"
        )
        if "duplicates" in detail
        else None,
        _section(
            t("console.case.cameras", lang), _cameras(detail.get("cameras") or [], lang), "cameras"
        ),
    ]


def _section(title: str, body: Any, name: str) -> html.Section:
    return html.Section([html.H2(title), body], className=f"case-card is-{name}")


def _result(detail: Mapping[str, Any], lang: str) -> Any:
    rating = detail["case"].get("rating")
    return html.Div(
        [
            html.P(detail.get("result") or t("console.case.result.none", lang), id="case-result"),
            html.Div(t("console.case.rating", lang).format(n=rating), className="case-note")
            if rating
            else None,
        ]
    )


def _photos(photos: Sequence[Mapping[str, Any]], lang: str) -> Any:
    if not photos:
        return html.Div(t("console.case.photos.none", lang), className="case-empty")
    return html.Div(
        className="case-photos",
        children=[
            html.A(
                html.Img(src=p["thumb_url"], alt=f"#{p['id']}"),
                href=p["url"],
                target="_blank",
                rel="noopener",
                className="case-photo",
            )
            for p in photos
        ],
    )


def _reporter(reporter: Mapping[str, Any], lang: str) -> Any:
    masked = t("console.case.reporter.masked", lang) if reporter.get("masked") else ""
    return html.Dl(
        className="case-facts is-compact",
        children=[
            fact(t("console.case.reporter.name", lang), [reporter.get("name") or "—", " ", masked]),
            fact(t("console.case.reporter.phone", lang), reporter.get("phone")),
            fact(t("console.case.reporter.email", lang), reporter.get("email")),
            fact(
                t("console.case.channel", lang),
                t(f"console.channel.{reporter.get('channel')}", lang),
            ),
        ],
    )


def _duplicates(detail: Mapping[str, Any], lang: str, may_merge: bool) -> Any:
    dups = detail.get("duplicates") or []
    if not dups:
        return html.Div(t("console.case.duplicates.none", lang), className="case-empty")
    return html.Ul(
        className="case-dups",
        children=[
            html.Li(
                className="case-dup",
                children=[
                    light_dot(d.get("light"), lang),
                    dcc.Link(
                        d["ticket"],
                        href=f"/cases/{d['id']}?lang={lang}",
                        className="console-ticket",
                    ),
                    state_badge(d["state"], lang),
                    html.Span(
                        t("console.case.duplicates.distance", lang).format(m=d["distance_m"]),
                        className="case-dup-distance",
                    ),
                    html.Div(d.get("description") or "", className="case-dup-desc"),
                    html.Button(
                        t("console.case.duplicates.merge", lang),
                        id={"type": "case-merge", "master": d["id"]},
                        className="ch-btn is-small",
                    )
                    if may_merge
                    else None,
                ],
            )
            for d in dups
        ],
    )


def _cameras(cameras: Sequence[Mapping[str, Any]], lang: str) -> Any:
    if not cameras:
        return html.Div(t("console.case.cameras.none", lang), className="case-empty")
    return html.Ul(
        className="case-cameras",
        children=[
            html.Li(
                className=f"case-camera is-{c.get('status')}",
                children=[
                    html.Span(className="case-camera-dot"),
                    html.Span(c["name"], className="case-camera-name"),
                    html.Span(f"{c['distance_m']} m", className="case-camera-distance"),
                    html.Span(
                        t(f"console.case.camera.{c.get('status')}", lang)
                        if c.get("status") in ("online", "offline")
                        else c.get("status"),
                        className="case-camera-status",
                    ),
                ],
            )
            for c in cameras
        ],
    )


def case_map(case: Mapping[str, Any], tile_url: str = "") -> html.Div:
    """A small map around the case, on the offline base map (tiles when configured)."""
    point = [case["lat"], case["long"]]
    layers: list[Any] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url))
    for name in ("townships", "grids", "roads"):
        layers.append(
            dl.GeoJSON(
                url=f"/api/geo/{name}.geojson", style={"variable": f"CommandHall.caseMap.{name}"}
            )
        )
    layers.append(
        dl.CircleMarker(
            center=point,
            radius=9,
            color="#ffffff",
            weight=3,
            fillColor="#e03131",
            fillOpacity=1,
            id="case-map-point",
        )
    )
    return html.Div(
        className="case-map-frame",
        children=dl.MapContainer(
            layers, center=point, zoom=15, id="case-map", className="case-map",
            attributionControl=bool(tile_url), style={"width": "100%", "height": "100%"},
        ),
    )  # fmt: skip
