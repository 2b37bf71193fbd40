"""The duty console's component tree (/console), built by pure functions.

The queue rows come from `dispatch.service.queue` as plain dicts; nothing here reads a
request or the database. `console-live` is set by the socket bridge (assets/js/console.js)
when a case in the viewer's scope changed; the page's callbacks re-query and hand the rows
back here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dash import dcc, html

from dashboard.case_calls import row_call_button
from dashboard.i18n import EN, t
from dashboard.office_layout import (
    Choices,
    Viewer,
    age,
    brand,
    category_name,
    countdown,
    dropdown_labels,
    light_dot,
    live_anchor,
    office_header,
    options,
    place,
    short,
    state_badge,
    urgency_badge,
)

DUTY_BUCKETS = ("verify", "dispatch", "overdue", "returned", "whistles")
OFFICE_BUCKETS = ("incoming", "whistles", "handling", "overdue")
# An office's overdue and whistle tabs read differently from the duty officer's.
_OFFICE_LABELS = {"overdue": "office_overdue", "whistles": "office_whistles"}


# -- the console ---------------------------------------------------------------------------


def bucket_label(bucket: str, kind: str, lang: str) -> str:
    key = _OFFICE_LABELS.get(bucket, bucket) if kind == "office" else bucket
    return t(f"console.bucket.{key}", lang)


def first_busy(buckets: Sequence[str], data: Mapping[str, Any]) -> str:
    """The tab to open on: the first bucket with something in it."""
    return next((b for b in buckets if data.get(b, {}).get("count")), buckets[0])


def filters(viewer: Viewer, choices: Choices, lang: str) -> html.Div:
    """Township (county roles only), category, channel, state: empty means any."""
    named: list[tuple[str, list[dict[str, Any]]]] = []
    if viewer.county:
        named.append(("township", options(choices.townships)))
    named += [
        ("category", options(choices.categories)),
        ("channel", options((c, t(f"console.channel.{c}", lang)) for c in choices.channels)),
        ("state", options((s, t(f"state.{s}", lang)) for s in choices.states)),
    ]
    return html.Div(
        className="console-filters",
        children=[
            html.Label(
                className="console-filter",
                children=[
                    html.Span(t(f"console.filter.{name}", lang), className="console-filter-label"),
                    dcc.Dropdown(
                        id={"type": "console-filter", "name": name},
                        options=options,
                        value=None,
                        placeholder=t("console.filter.any", lang),
                        clearable=True,
                        searchable=len(options) > 8,
                        maxHeight=360,
                        labels=dropdown_labels(lang),
                        className="console-dropdown",
                    ),
                ],
            )
            for name, options in named
        ],
    )


def search_box(lang: str) -> html.Div:
    return html.Div(
        className="console-search",
        children=[
            dcc.Input(
                id="console-search-q",
                type="search",
                placeholder=t("console.search.placeholder", lang),
                debounce=True,
                className="console-search-input",
                autoComplete="off",
            ),
            html.Button(t("console.search.go", lang), id="console-search-go", className="ch-btn"),
        ],
    )


def search_results(
    cases: Sequence[Mapping[str, Any]] | None, lang: str, *, error: str | None = None
) -> list[Any]:
    """The search answer: a count line and one link per case (or the service's message)."""
    if error:
        return [html.Div(error, className="ch-error", id="console-search-error")]
    if not cases:
        return [html.Div(t("console.search.none", lang), className="console-search-none")]
    return [
        html.Div(
            t("console.search.count", lang).format(n=len(cases)), className="console-search-count"
        ),
        html.Ul(
            className="console-search-list",
            children=[
                html.Li(
                    dcc.Link(
                        href=f"/cases/{c['id']}?lang={lang}",
                        className="console-search-hit",
                        children=[
                            light_dot(c.get("light"), lang, closed=c.get("status") == "closed"),
                            html.Span(c["ticket"], className="console-ticket"),
                            state_badge(c["state"], lang),
                            html.Span(category_name(c, lang), className="console-cat"),
                            html.Span(place(c), className="console-place"),
                            html.Span(short(c.get("description"), 40), className="console-desc"),
                        ],
                    )
                )
                for c in cases
            ],
        ),
    ]


def tabs(
    buckets: Sequence[str], kind: str, data: Mapping[str, Any], active: str, lang: str
) -> html.Nav:
    return html.Nav(
        className="console-tabs",
        children=[
            html.Button(
                id={"type": "console-tab", "bucket": b},
                className=tab_class(b, active),
                children=[
                    html.Span(bucket_label(b, kind, lang), className="console-tab-label"),
                    html.Span(
                        str(data.get(b, {}).get("count", 0)),
                        id={"type": "console-count", "bucket": b},
                        className="console-tab-count",
                    ),
                ],
            )
            for b in buckets
        ],
    )


def tab_class(bucket: str, active: str) -> str:
    return f"console-tab is-{bucket}" + (" is-active" if bucket == active else "")


def quick_action(item: Mapping[str, Any], bucket: str, kind: str, viewer: Viewer) -> str | None:
    """The one-click action a row offers, if any (the case page has the rest)."""
    state = item["state"]
    if kind == "duty":
        wanted = {"reported": "verify", "registered": "dispatch", "returned": "dispatch",
                  "reopened": "dispatch", "escalated": "dispatch"}.get(state)  # fmt: skip
    elif bucket == "whistles":
        waiting = any(p.get("state") == "waiting" for p in item.get("parties", ()))
        wanted = "acknowledge" if waiting else None
    else:
        wanted = "accept" if state == "dispatched" and bucket == "incoming" else None
    return wanted if wanted in viewer.may else None


def parties_line(
    item: Mapping[str, Any], now: datetime, lang: str, departments: Mapping[str, str]
) -> Any:
    parties = item.get("parties") or []
    if not parties:
        return None
    return html.Div(
        className="console-parties",
        children=[
            html.Span(
                className="console-party" + (" is-late" if p.get("late") else ""),
                children=[
                    html.B(departments.get(p["department"], p["department"])),
                    f" {t('console.party.' + p['role'], lang)} ",
                    countdown(p.get("ack_deadline"), now, lang)
                    if p.get("state") == "waiting"
                    else t(f"console.party.{p.get('state')}", lang),
                ],
            )
            for p in parties
        ],
    )


def queue_row(
    item: Mapping[str, Any],
    bucket: str,
    kind: str,
    viewer: Viewer,
    now: datetime,
    lang: str,
    departments: Mapping[str, str],
) -> html.Tr:
    href = f"/cases/{item['id']}?lang={lang}"
    action = quick_action(item, bucket, kind, viewer)
    button = (
        html.Button(
            t(f"console.action.{action}", lang),
            id={"type": "console-quick", "bucket": bucket, "case": item["id"], "action": action},
            className="ch-btn is-small is-primary",
        )
        if action
        else None
    )
    return html.Tr(
        className=f"console-row is-{item.get('light') or 'green'}",
        **{"data-case-id": str(item["id"])},
        children=[
            html.Td(
                [
                    light_dot(item.get("light"), lang),
                    dcc.Link(item["ticket"], href=href, className="console-ticket"),
                ]
            ),
            html.Td(urgency_badge(item.get("urgency"), lang)),
            html.Td(category_name(item, lang), className="console-cat"),
            html.Td(place(item), className="console-place"),
            html.Td(
                [
                    html.Div(
                        short(item.get("description")),
                        className="console-desc",
                        title=item.get("description") or "",
                    ),
                    parties_line(item, now, lang, departments),
                ]
            ),
            html.Td(state_badge(item["state"], lang)),
            html.Td(
                className="console-time",
                children=[
                    age(item.get("reported_at"), now, lang),
                    countdown(item.get("deadline"), now, lang, paused=item["state"] == "suspended"),
                ],
            ),
            html.Td(
                className="console-act",
                children=[
                    button,
                    row_call_button(item, viewer.role, lang),
                    dcc.Link(t("console.open_case", lang), href=href, className="ch-link"),
                ],
            ),
        ],
    )


COLUMNS = ("ticket", "urgency", "category", "place", "description", "state", "time", "action")


def queue_table(
    bucket: str,
    kind: str,
    data: Mapping[str, Any],
    viewer: Viewer,
    now: datetime,
    lang: str,
    departments: Mapping[str, str],
) -> html.Div:
    """One bucket's rows in the order the service gave them (light, urgency, age)."""
    part = data.get(bucket) or {"count": 0, "items": []}
    items = part["items"]
    if not items:
        body: Any = html.Div(t("console.bucket.empty", lang), className="console-empty")
    else:
        body = html.Table(
            className="console-table",
            children=[
                html.Thead(
                    html.Tr(
                        [html.Th(t(f"console.col.{c}", lang), className=f"is-{c}") for c in COLUMNS]
                    )
                ),
                html.Tbody(
                    [queue_row(i, bucket, kind, viewer, now, lang, departments) for i in items]
                ),
            ],
        )
    more = None
    if part["count"] > len(items):
        more = html.Div(
            t("console.bucket.more", lang).format(shown=len(items), count=part["count"]),
            className="console-more",
        )
    return html.Div(
        className=f"console-panel is-{bucket}", id="console-panel", children=[body, more]
    )


def console_page(
    *,
    viewer: Viewer,
    kind: str,
    data: Mapping[str, Any],
    active: str,
    choices: Choices,
    now: datetime,
    seq: int,
    lang: str,
    signature: str,
) -> html.Div:
    buckets = DUTY_BUCKETS if kind == "duty" else OFFICE_BUCKETS
    departments = dict(choices.departments)
    return html.Div(
        id="console-page",
        className=f"ch-office console is-{kind}",
        lang="en" if lang == EN else "zh-CN",
        children=[
            live_anchor("console", lang, seq),
            dcc.Store(id="console-live"),
            dcc.Store(id="console-bump", data=0),
            dcc.Store(id="console-tab", data=active),
            dcc.Store(id="console-sig", data=signature),
            dcc.Store(id="console-lang", data=lang),
            office_header(
                viewer,
                lang,
                prefix="console",
                here="/console",
                title=brand(viewer, lang),
                middle=search_box(lang),
            ),
            html.Div(
                className="console-search-panel is-empty",
                id="console-search-panel",
                children=[
                    html.Button(
                        "×",
                        id="console-search-close",
                        className="console-search-close",
                        title=t("console.search.close", lang),
                    ),
                    html.Div(id="console-search-results"),
                ],
            ),
            html.Div(className="console-toolbar", children=[filters(viewer, choices, lang)]),
            html.Div(id="console-flash", className="ch-flash", role="status"),
            tabs(buckets, kind, data, active, lang),
            html.Div(
                id="console-queue",
                className="console-queue",
                children=queue_table(active, kind, data, viewer, now, lang, departments),
            ),
        ],
    )
