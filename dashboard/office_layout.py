"""The frame the office pages share (duty console, case page), built by pure functions:
the header (who is signed in, the live link, language, sign-out), clocks, badges and notices.

Clocks (`[data-deadline]`, `[data-since]`) tick in the browser (assets/js/console.js), in
the same words as `clock_text` and `age_text` write them here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from dash import dcc, html

import dashboard.console_strings  # noqa: F401  (registers the strings used below)
from dashboard.i18n import EN, bundle, other_lang, t

URGENCIES = ("emergency", "immediate", "urgent", "normal")
DESCRIPTION_CHARS = 60


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as the page shows them (no Principal: builders stay pure)."""

    name: str
    role: str
    jurisdiction: str
    csrf: str
    county: bool  # sees the whole county (may filter by township)
    may: frozenset[str] = field(default_factory=frozenset)  # actions the role may take
    department: str | None = None  # a department officer's own (it acts for no other)


@dataclass(frozen=True)
class Choices:
    """Options of the filters and forms: [(value, label)]."""

    townships: Sequence[tuple[int, str]] = ()
    categories: Sequence[tuple[str, str]] = ()
    channels: Sequence[str] = ()
    states: Sequence[str] = ()
    departments: Sequence[tuple[str, str]] = ()


# -- words and clocks ---------------------------------------------------------------------


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def local_text(value: str | datetime | None, tz: tzinfo, *, date: bool = True) -> str:
    """A time as the county reads it: "11-22 09:28" (or "09:28" without the date)."""
    when = parse_time(value) if isinstance(value, str) or value is None else value
    if when is None:
        return "—"
    local = when.astimezone(tz)
    return f"{local:%m-%d %H:%M}" if date else f"{local:%H:%M}"


def span_text(seconds: float, lang: str) -> str:
    """A length of time in the console's short words: 12分, 3时05分, 2天3时 (12m, 3h05m, 2d3h).
    assets/js/console.js `spanText` writes exactly the same."""
    minutes = int(abs(seconds) // 60)
    d, h, m = (t(f"console.clock.{unit}", lang) for unit in "dhm")
    if minutes < 60:
        return f"{minutes}{m}"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}{h}{minutes:02d}{m}"
    days, hours = divmod(hours, 24)
    return f"{days}{d}{hours}{h}"


def clock_text(deadline: str | None, now: datetime, lang: str) -> str:
    """剩3时05分 before the deadline, 超1天2时 after it."""
    when = parse_time(deadline)
    if when is None:
        return t("console.clock.none", lang)
    left = (when - now).total_seconds()
    key = "console.clock.left" if left >= 0 else "console.clock.over"
    return t(key, lang).format(t=span_text(left, lang))


def age_text(since: str | None, now: datetime, lang: str) -> str:
    when = parse_time(since)
    if when is None:
        return ""
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return t("console.clock.now", lang)
    return t("console.clock.ago", lang).format(t=span_text(seconds, lang))


def countdown(deadline: str | None, now: datetime, lang: str, *, paused: bool = False) -> html.Span:
    """A deadline clock the browser keeps ticking (assets/js/console.js)."""
    if paused or not deadline:
        text = t("console.clock.paused" if paused else "console.clock.none", lang)
        return html.Span(text, className="ch-clock is-idle")
    over = (parse_time(deadline) or now) < now
    return html.Span(
        clock_text(deadline, now, lang),
        className="ch-clock" + (" is-over" if over else ""),
        **{"data-deadline": deadline},
    )


def age(since: str | None, now: datetime, lang: str) -> html.Span:
    return html.Span(age_text(since, now, lang), className="ch-age", **{"data-since": since or ""})


def light_dot(light: str | None, lang: str, *, closed: bool = False) -> html.Span:
    """The SLA light; a closed case's clock has stopped, so it is grey."""
    light = "closed" if closed else light or "green"
    title = t("state.closed" if closed else f"light.{light}", lang)
    return html.Span(className=f"ch-light is-{light}", title=title)


def urgency_badge(urgency: str | None, lang: str) -> html.Span:
    key = urgency if urgency in URGENCIES else "none"
    return html.Span(t(f"console.urgency.{key}", lang), className=f"ch-urgency is-{key}")


def state_badge(state: str, lang: str, *, id: str | None = None) -> html.Span:
    props: dict[str, Any] = {"id": id} if id else {}
    return html.Span(t(f"state.{state}", lang), className=f"ch-state is-{state}", **props)


def category_name(case: Mapping[str, Any], lang: str) -> str:
    name = case.get("category_name_en") if lang == EN else case.get("category_name")
    return str(name or case.get("category") or "")


def place(case: Mapping[str, Any]) -> str:
    return " / ".join(p for p in (case.get("township"), case.get("grid")) if p) or "—"


def short(text: str | None, limit: int = DESCRIPTION_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def strings_for_browser(lang: str) -> str:
    """What assets/js/console.js needs: the link status and the clock words."""
    strings = bundle(("conn.", "console.clock."), lang)
    strings["lang"] = lang
    return json.dumps(strings, ensure_ascii=False, separators=(",", ":"))


# -- the frame both office pages share -----------------------------------------------------


def brand(viewer: Viewer, lang: str) -> str:
    """值班工作台 for the centre, 办件工作台 for a township or department office."""
    office = viewer.role in ("township", "department")
    return t("console.brand.office" if office else "console.brand", lang)


def live_anchor(prefix: str, lang: str, seq: int, **data: str) -> html.Div:
    """The element the socket bridge looks for (assets/js/bridge.js); `seq` is the head of
    the log when the page was rendered, so the first sync knows whether it missed anything."""
    return html.Div(
        id=f"{prefix}-live-anchor",
        hidden=True,
        **{
            "data-ch-view": prefix,
            # Signed-in pages connect as their session: a screen token this browser once
            # kept for a wall must not widen (or narrow) what the officer's socket sees.
            "data-ch-auth": "session",
            "data-seq": str(seq),
            "data-strings": strings_for_browser(lang),
            **{f"data-{k}": v for k, v in data.items()},
        },
    )


def sign_out(viewer: Viewer, lang: str, prefix: str) -> html.Form:
    """A plain form POST to /logout with the session's CSRF token."""
    return html.Form(
        action="/logout",
        method="post",
        className="ch-signout",
        children=[
            dcc.Input(type="hidden", name="csrf_token", value=viewer.csrf, id=f"{prefix}-csrf"),
            html.Button(
                t("logout", lang), type="submit", id=f"{prefix}-signout", className="ch-link"
            ),
        ],
    )


def office_header(
    viewer: Viewer, lang: str, *, prefix: str, here: str, title: str, middle: Any = None
) -> html.Header:
    """Brand, the page's middle part (search), who is signed in, live link, language, sign-out.
    `here` is the page's path, for the language switch."""
    switch_to = other_lang(lang)
    join = "&" if "?" in here else "?"
    return html.Header(
        className="ch-header",
        children=[
            html.A(
                className="ch-brand",
                href=f"/console?lang={lang}",
                children=[html.Span("综", className="ch-emblem"), html.Span(title)],
            ),
            html.Div(middle, className="ch-header-middle"),
            html.Div(
                className="ch-who",
                children=[
                    html.Span(
                        t("conn.connecting", lang),
                        id=f"{prefix}-conn",
                        className="ch-conn is-connecting",
                        title=t("console.conn.title", lang),
                    ),
                    html.Span(viewer.name, className="ch-who-name", id=f"{prefix}-who"),
                    html.Span(
                        f"{t(f'console.role.{viewer.role}', lang)} · {viewer.jurisdiction}",
                        className="ch-who-role",
                    ),
                    html.A(
                        t("lang.switch", lang),
                        href=f"{here}{join}lang={switch_to}",
                        id=f"{prefix}-lang-switch",
                        className="ch-link",
                        lang=switch_to,
                    ),
                    sign_out(viewer, lang, prefix),
                ],
            ),
        ],
    )


def notice_page(prefix: str, lang: str, heading: str, body: Any = None) -> html.Div:
    """A whole page saying one thing (sign in first, case missing, redirecting)."""
    return html.Div(
        className="ch-office ch-notice-page",
        lang="en" if lang == EN else "zh-CN",
        id=f"{prefix}-page",
        children=html.Main(
            className="ch-notice",
            children=[html.H1(heading, id=f"{prefix}-notice"), body],
        ),
    )


def sign_in_page(prefix: str, lang: str, next_path: str) -> html.Div:
    link = html.A(
        t("console.signin.link", lang),
        href=f"/login?lang={lang}&next={next_path}",
        className="ch-btn",
    )
    return notice_page(prefix, lang, t("console.signin", lang), link)


def redirect_page(prefix: str, lang: str, href: str) -> html.Div:
    """Somebody whose place is another page (a grid worker's phone, the wall): the page's
    `go_elsewhere` callback sends the browser on (dashboard/office_context.py)."""
    body = [html.A(href, href=href), dcc.Store(id=f"{prefix}-go", data=href)]
    return notice_page(prefix, lang, t("console.redirect", lang), body)


def options(pairs: Iterable[tuple[Any, str]]) -> list[dict[str, Any]]:
    return [{"value": value, "label": label} for value, label in pairs]


def dropdown_labels(lang: str) -> dict[str, str]:
    """The words inside Dash's dropdown (it says them in English otherwise)."""
    return {
        "search": t("console.dropdown.search", lang),
        "no_options_found": t("console.dropdown.none", lang),
        "select_all": t("console.dropdown.select_all", lang),
        "deselect_all": t("console.dropdown.deselect_all", lang),
        "selected_count": t("console.dropdown.selected", lang),
        "clear_search": t("console.dropdown.clear", lang),
        "clear_selection": t("console.dropdown.clear", lang),
    }


def fact(label: str, value: Any, *, id: str | None = None) -> html.Div:
    props: dict[str, Any] = {"id": id} if id else {}
    return html.Div(
        className="case-fact",
        children=[html.Dt(label), html.Dd(value if value not in (None, "") else "—", **props)],
    )
