"""The case page's right-hand column, built by pure functions: the map, the result, photos,
the reporter (masked unless the role may see it), duplicates to merge into, nearby cameras.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard.i18n import bundle, t
from dashboard.office_layout import fact, light_dot, state_badge


def side(detail: Mapping[str, Any], lang: str, *, may_merge: bool) -> list[Any]:
    """Photos, reporter, result and duplicates: the right-hand column under the map. The
    cameras are `camera_tiles`, outside what a refresh re-draws: their video plays on."""
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
                _thumb(p, lang),
                href=p["url"],
                target="_blank",
                rel="noopener",
                className="case-photo",
                **{"data-photo-id": str(p["id"]), "data-kind": str(p.get("kind") or "")},
            )
            for p in photos
        ],
    )


def _thumb(photo: Mapping[str, Any], lang: str) -> Any:
    """The thumbnail; an evidence photo (a camera's snapshot) carries a 证据 mark."""
    image = html.Img(src=photo["thumb_url"], alt=f"#{photo['id']}")
    if photo.get("kind") != "evidence":
        return image
    return [image, html.Span(t("console.case.photo.evidence", lang), className="case-photo-kind")]


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


TILES = 4  # the nearest cameras the case page plays live (2×2)


def _camera_status(status: str | None, lang: str) -> str:
    known = ("online", "offline", "unknown", "disabled")
    return t(f"console.case.camera.{status}", lang) if status in known else str(status or "")


def _tile(n: int, camera: Mapping[str, Any], case_id: int, lang: str, may_save: bool) -> Any:
    """One live tile: the video (assets/js/case_cameras.js plays it), its name and distance,
    a status line the player writes, and the save-as-evidence button with its answer."""
    return html.Figure(
        id=f"case-tile-{n}",
        className=f"case-tile is-{camera.get('status')}",
        **{"data-camera-id": str(camera["id"]), "data-case-id": str(case_id)},
        children=[
            html.Video(
                id=f"case-tile-video-{n}",
                className="case-tile-video",
                autoPlay=True,
                muted=True,
                **{"data-camera-id": str(camera["id"])},
            ),
            html.Figcaption(
                className="case-tile-caption",
                children=[
                    html.Span(camera["name"], className="case-tile-name"),
                    html.Span(f"{camera['distance_m']} m", className="case-tile-distance"),
                    html.Span(
                        _camera_status(camera.get("status"), lang),
                        id=f"case-tile-status-{n}",
                        className="case-tile-status",
                    ),
                ],
            ),
            html.Div(
                className="case-tile-tools",
                children=[
                    html.Button(
                        t("console.snap.save", lang),
                        id=f"case-tile-save-{n}",
                        className="ch-btn is-small case-tile-save",
                        type="button",
                        **{"data-camera-id": str(camera["id"])},
                    )
                    if may_save
                    else None,
                    html.Div(id=f"case-tile-msg-{n}", className="case-tile-msg", role="status"),
                ],
            ),
        ],
    )


def camera_tiles(detail: Mapping[str, Any], lang: str) -> list[Any]:
    """The nearest cameras live, nearest first (at most four, 2×2), or "no camera nearby"."""
    cameras = list(detail.get("cameras") or [])[:TILES]
    title = html.H2(t("console.case.cameras", lang))
    if not cameras:
        return [title, html.Div(t("console.case.cameras.none", lang), className="case-empty",
                                id="case-cameras-none")]  # fmt: skip
    case_id = detail["case"]["id"]
    may_save = bool(detail.get("may_add_evidence"))
    return [
        title,
        html.Div(
            id="case-tiles",
            className=f"case-tiles is-{len(cameras)}",
            **{
                "data-case-id": str(case_id),
                "data-strings": json.dumps(
                    bundle(("camera.player.", "console.snap."), lang),
                    ensure_ascii=False,
                    separators=(",", ":"),
                ),
            },
            children=[_tile(n, c, case_id, lang, may_save) for n, c in enumerate(cameras, 1)],
        ),
    ]


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
