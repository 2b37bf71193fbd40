"""The start page (/): where each screen of the centre is opened."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard.i18n import normalize_lang, other_lang, t
from dispatch.api import the_app

dash.register_page(__name__, path="/", title="CommandHall · 综治中心", name="home")

# (path, title key, hint key); later pages add themselves here.
SCREENS = (
    ("/wall", "home.wall", "home.wall.hint"),
    ("/console", "home.console", "home.console.hint"),
    ("/report", "home.report", "home.report.hint"),
    ("/field", "home.field", "home.field.hint"),
    ("/admin/cameras", "home.cameras", "home.cameras.hint"),
)


def layout(lang: str | None = None, **_query: Any) -> Any:
    lang = normalize_lang(lang, default=the_app().settings.lang)
    suffix = f"?lang={lang}"
    return html.Main(
        className="home",
        lang=lang,
        children=[
            html.Header(
                className="home-header",
                children=[
                    html.H1(t("home.title", lang), className="home-title"),
                    html.A(
                        t("lang.switch", lang),
                        className="home-lang",
                        href=f"/?lang={other_lang(lang)}",
                    ),
                ],
            ),
            html.Nav(
                className="home-screens",
                children=[
                    html.A(
                        className="home-screen",
                        id=f"home-link-{path.strip('/')}",
                        href=path + suffix,
                        children=[
                            html.Div(t(title, lang), className="home-screen-title"),
                            html.Div(t(hint, lang), className="home-screen-hint"),
                        ],
                    )
                    for path, title, hint in SCREENS
                ],
            ),
        ],
    )
