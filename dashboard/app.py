"""The Dash app: pages under dashboard/pages, assets from the top-level assets/ folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dash

if TYPE_CHECKING:
    from dispatch.bootstrap import App

ROOT = Path(__file__).resolve().parents[1]


def create_dash(app: App) -> dash.Dash:
    dash_app = dash.Dash(
        "commandhall",
        server=app.flask,
        use_pages=True,
        pages_folder=str(ROOT / "dashboard" / "pages"),
        assets_folder=str(ROOT / "assets"),
        # Served but not loaded on every Dash page: the phone pages' own scripts and the
        # standalone Leaflet they use (dash-leaflet brings its own).
        assets_path_ignore=["phone", "leaflet"],
        title="CommandHall",
        suppress_callback_exceptions=True,
        update_title=None,
    )
    dash_app.layout = dash.html.Div([dash.page_container])
    from dashboard.field_page import field_page
    from dashboard.login import login
    from dashboard.report_page import report_page

    for blueprint in (login, field_page, report_page):
        app.flask.register_blueprint(blueprint)
    return dash_app
