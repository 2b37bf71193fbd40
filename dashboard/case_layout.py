"""The case page's component tree (/cases/<id>), built by pure functions from `case_detail`.

The parts that change while the page is open (header, clock, whistle parties, timeline, side
panels) are separate containers, so a push re-draws them and leaves the map and the forms
of the actions panel (dashboard/case_actions_layout.py) alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from dash import dcc, html

from dashboard.case_calls import call_details
from dashboard.case_side_layout import camera_tiles, case_map, side
from dashboard.i18n import EN, t
from dashboard.office_layout import (
    Viewer,
    brand,
    category_name,
    countdown,
    fact,
    light_dot,
    live_anchor,
    local_text,
    office_header,
    state_badge,
    urgency_badge,
)

# The parts a refresh re-draws, in the order the page callback returns them.
PARTS = ("head", "sla", "whistle", "timeline", "side")
SYSTEM_ACTORS = frozenset({"", "system", "clock", "seed", "simulator", "worker"})
# Event data worth showing in the timeline, in this order (the rest is in the log).
DETAIL_KEYS = (
    "reason", "message", "result", "rating", "category", "urgency", "deadline", "unit_id",
    "department", "worker_id", "level", "hours", "master_id", "lead", "co", "ack_deadline",
    "channel", "late", "on_time", "automatic", "camera",
)  # fmt: skip
_BOOLEAN_KEYS = frozenset({"late", "on_time", "automatic"})


@dataclass(frozen=True)
class Lookup:
    """Names for the ids a case and its events carry."""

    units: Mapping[int, str] = field(default_factory=dict)
    departments: Mapping[str, str] = field(default_factory=dict)
    workers: Mapping[int, str] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)


def actor_text(actor: str | None, lang: str, name: str | None = None) -> str:
    """The account's display name when known (值班员 李明); else "duty:duty" → 值班员 duty;
    nobody (the clock) → 系统."""
    if name:
        return name
    if not actor or actor in SYSTEM_ACTORS:
        return t("console.actor.system", lang)
    if actor == "citizen" or actor.startswith("page:"):  # page:report, the citizen's page
        return t("console.actor.citizen", lang)
    role, _, who = actor.partition(":")
    if role in ("api", "open311"):  # an integration, by its api key's name
        role = "system"
    try:
        return f"{t(f'console.role.{role}', lang)} {who}".strip()
    except KeyError:
        return actor


def value_text(key: str, value: Any, names: Lookup, lang: str, tz: tzinfo) -> str:
    if value is None or value == "" or value == []:
        return ""
    if key in _BOOLEAN_KEYS:
        return t("console.data.yes" if value else "console.data.no", lang)
    if key in ("deadline", "ack_deadline"):
        return local_text(str(value), tz)
    if key == "unit_id":
        return names.units.get(int(value), str(value))
    if key in ("department", "lead"):
        return names.departments.get(str(value), str(value))
    if key == "co":
        return "、".join(names.departments.get(d, d) for d in value)
    if key == "worker_id":
        return names.workers.get(int(value), str(value))
    if key == "category":
        return names.categories.get(str(value), str(value))
    if key == "urgency":
        return t(f"console.urgency.{value}", lang)
    if key == "level":
        return t(f"console.level.{value}", lang)
    if key == "channel":
        return t(f"console.channel.{value}", lang)
    if key == "master_id":
        return f"#{value}"
    return str(value)


def head(detail: Mapping[str, Any], names: Lookup, lang: str, tz: tzinfo) -> list[Any]:
    case = detail["case"]
    dept = names.departments.get(case.get("department") or "", case.get("department") or "")
    worker = names.workers.get(case.get("worker_id") or -1, "")
    title = html.Div(
        className="case-title",
        children=[
            light_dot(case.get("light"), lang),
            html.H1(case["ticket"], className="case-ticket", id="case-ticket"),
            state_badge(case["state"], lang, id="case-state"),
            urgency_badge(case.get("urgency"), lang),
            html.Span(
                t(f"light.{case.get('light') or 'green'}", lang), className="case-light-label"
            ),
        ],
    )
    facts = html.Dl(
        className="case-facts",
        children=[
            fact(t("console.case.category", lang), category_name(case, lang)),
            fact(
                t("console.case.level", lang),
                t(f"console.level.{case.get('level') or 'township'}", lang),
            ),
            fact(
                t("console.case.place", lang),
                " / ".join(p for p in (case.get("township"), case.get("grid")) if p),
            ),
            fact(t("console.case.department", lang), dept, id="case-department"),
            fact(t("console.case.worker", lang), worker, id="case-worker"),
            fact(
                t("console.case.channel", lang), t(f"console.channel.{case.get('channel')}", lang)
            ),
            fact(t("console.case.reported_at", lang), local_text(case.get("reported_at"), tz)),
            fact(t("console.case.address", lang), case.get("address")),
        ],
    )
    description = html.P(case.get("description") or "—", className="case-description")
    master = None
    if case.get("master_id"):
        master = html.Div(
            dcc.Link(
                t("console.case.master", lang).format(ticket=f"#{case['master_id']}"),
                href=f"/cases/{case['master_id']}?lang={lang}",
            ),
            className="case-note",
        )
    merged = None
    if detail.get("merged_ids"):
        merged = html.Div(
            [
                t("console.case.merged", lang).format(ids=""),
                *_case_links(detail["merged_ids"], lang),
            ],
            className="case-note",
        )
    return [title, facts, description, master, merged]


def _case_links(ids: Sequence[int], lang: str) -> list[Any]:
    return [dcc.Link(f"#{i}", href=f"/cases/{i}?lang={lang}", className="case-chip") for i in ids]


def sla(detail: Mapping[str, Any], now: datetime, lang: str, tz: tzinfo) -> list[Any]:
    case = detail["case"]
    light = case.get("light") or "green"
    closed = case.get("status") == "closed"
    clock = (
        None
        if closed
        else countdown(case.get("deadline"), now, lang, paused=case["state"] == "suspended")
    )
    notes = []
    if detail.get("pending_extension_hours"):
        hours = f"{detail['pending_extension_hours']:g}"
        notes.append(
            html.Div(
                t("console.case.sla.pending", lang).format(hours=hours),
                className="case-note is-warn",
            )
        )
    if detail.get("reopen_count"):
        notes.append(
            html.Div(
                t("console.case.sla.reopened", lang).format(n=detail["reopen_count"]),
                className="case-note",
            )
        )
    return [
        html.H2(t("console.case.sla", lang)),
        html.Div(
            className=f"case-sla is-{light}",
            children=[
                light_dot(light, lang),
                html.Span(t(f"light.{light}", lang), className="case-sla-light"),
                html.Span(clock, className="case-sla-clock", id="case-clock"),
                html.Span(
                    [
                        t("console.case.sla.deadline", lang),
                        " ",
                        local_text(case.get("deadline"), tz),
                    ],
                    className="case-sla-deadline",
                ),
            ],
        ),
        *notes,
    ]


def whistle(
    parties: Sequence[Mapping[str, Any]], now: datetime, lang: str, tz: tzinfo
) -> list[Any]:
    if not parties:
        return [
            html.H2(t("console.case.whistle", lang)),
            html.Div(t("console.case.whistle.none", lang), className="case-empty"),
        ]
    rows = []
    for p in parties:
        name = p.get("department_name_en") if lang == EN else p.get("department_name")
        waiting = p["state"] == "waiting"
        rows.append(
            html.Li(
                className=f"case-party is-{p['state']}" + (" is-late" if p.get("late") else ""),
                **{"data-department": p["department"]},
                children=[
                    html.Span(name or p["department"], className="case-party-name"),
                    html.Span(
                        t(f"console.party.{p['role']}", lang),
                        className=f"case-party-role is-{p['role']}",
                    ),
                    html.Span(t(f"console.party.{p['state']}", lang), className="case-party-state"),
                    html.Span(t("console.party.late", lang), className="ch-badge is-red")
                    if p.get("late")
                    else None,
                    countdown(p.get("ack_deadline"), now, lang)
                    if waiting
                    else html.Span(
                        local_text(p.get("acknowledged_at"), tz), className="case-party-time"
                    ),
                    html.Div(p["report"], className="case-party-report")
                    if p.get("report")
                    else None,
                ],
            )
        )
    return [html.H2(t("console.case.whistle", lang)), html.Ul(rows, className="case-parties")]


def _details(data: Mapping[str, Any], names: Lookup, lang: str, tz: tzinfo) -> list[Any]:
    out = []
    for key in DETAIL_KEYS:
        if key not in data:
            continue
        text = value_text(key, data[key], names, lang, tz)
        if text:
            out.append(
                html.Span(
                    [html.B(t(f"console.data.{key}", lang)), " ", text],
                    className=f"case-detail is-{key}",
                )
            )
    return out


def timeline(
    events: Sequence[Mapping[str, Any]], names: Lookup, lang: str, tz: tzinfo
) -> list[Any]:
    """Every event, newest first."""
    items = []
    for e in reversed(events):
        try:
            label = t(f"console.event.{e['type']}", lang)
        except KeyError:
            label = e["type"]
        items.append(
            html.Li(
                className=f"case-event is-{e['type'].replace('.', '-')}",
                **{"data-seq": str(e["seq"])},
                children=[
                    html.Span(local_text(e["at"], tz), className="case-event-time"),
                    html.Span(label, className="case-event-type"),
                    html.Span(
                        actor_text(e.get("actor"), lang, e.get("actor_name")),
                        className="case-event-actor",
                    ),
                    html.Div(
                        _details(e.get("data") or {}, names, lang, tz), className="case-event-data"
                    ),
                    call_details(e["type"], e.get("data") or {}, lang),
                ],
            )
        )
    count = html.Span(str(len(events)), className="ch-count", id="case-timeline-count")
    return [
        html.H2([t("console.case.timeline", lang), count]),
        html.Ol(items, className="case-timeline", id="case-timeline-list"),
    ]


def case_page(
    *,
    detail: Mapping[str, Any],
    viewer: Viewer,
    names: Lookup,
    now: datetime,
    tz: tzinfo,
    lang: str,
    seq: int,
    actions_panel: Any,
    actions_sig: str,
    tile_url: str = "",
) -> html.Div:
    case = detail["case"]
    here = f"/cases/{case['id']}"
    back = dcc.Link(
        t("console.back", lang), href=f"/console?lang={lang}", className="ch-link case-back"
    )
    may_merge = "merge" in detail["actions"]
    return html.Div(
        id="case-page",
        className="ch-office case-page",
        lang="en" if lang == EN else "zh-CN",
        children=[
            live_anchor("case", lang, seq, **{"case-id": str(case["id"])}),
            dcc.Store(id="case-live"),
            dcc.Store(id="case-bump", data=0),
            dcc.Store(id="case-id", data=case["id"]),
            dcc.Store(id="case-lang", data=lang),
            dcc.Store(id="case-actions-sig", data=actions_sig),
            office_header(
                viewer, lang, prefix="case", here=here, title=brand(viewer, lang), middle=back
            ),
            html.Div(id="case-flash", className="ch-flash", role="status"),
            html.Main(
                className="case-grid",
                children=[
                    html.Div(
                        className="case-main",
                        children=[
                            html.Section(
                                head(detail, names, lang, tz),
                                id="case-head",
                                className="case-card is-head",
                            ),
                            html.Section(
                                sla(detail, now, lang, tz),
                                id="case-sla",
                                className="case-card is-sla",
                            ),
                            html.Section(
                                whistle(detail.get("whistle") or [], now, lang, tz),
                                id="case-whistle",
                                className="case-card is-whistle",
                            ),
                            html.Section(
                                timeline(detail["timeline"], names, lang, tz),
                                id="case-timeline",
                                className="case-card is-timeline",
                            ),
                        ],
                    ),
                    html.Div(
                        className="case-aside",
                        children=[
                            case_map(case, tile_url),
                            html.Section(
                                camera_tiles(detail, lang),
                                id="case-cameras",
                                className="case-card is-cameras",
                            ),
                            html.Div(side(detail, lang, may_merge=may_merge), id="case-side"),
                        ],
                    ),
                    html.Aside(actions_panel, id="case-actions", className="case-actions"),
                ],
            ),
        ],
    )


def missing_page(viewer: Viewer, case_id: str, lang: str) -> html.Div:
    """The same page for a case that does not exist and one outside the jurisdiction."""
    back = dcc.Link(
        t("console.back", lang), href=f"/console?lang={lang}", className="ch-link case-back"
    )
    return html.Div(
        id="case-page",
        className="ch-office case-page is-missing",
        lang="en" if lang == EN else "zh-CN",
        children=[
            office_header(
                viewer,
                lang,
                prefix="case",
                here=f"/cases/{case_id}",
                title=brand(viewer, lang),
                middle=back,
            ),
            html.Main(
                className="ch-notice",
                children=[
                    html.H1(t("console.case.missing", lang), id="case-missing"),
                    html.P(t("console.case.missing.hint", lang).format(id=case_id)),
                ],
            ),
        ],
    )
