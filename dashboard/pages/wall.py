"""The live wall of the command hall (/wall): map, KPIs, warnings, charts and camera tiles.

`?token=dev_...` signs a kiosk in (the bridge keeps it in localStorage, so the wall survives
restarts), `?tiles=4|9|16` sets the camera tiles, `?lang=en` switches to English.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash

from dashboard.i18n import normalize_lang
from dashboard.wall_layout import Bounds, bounds_of, wall_page
from dashboard.wall_panels import tile_count
from dispatch.api import the_app

dash.register_page(__name__, path="/wall", title="综治中心指挥大屏 · CommandHall", name="wall")


def _county(data_dir: Path) -> tuple[Bounds | None, str]:
    """The county's bounding box and name, from the base map written at seed time."""
    path = data_dir / "basemap" / "boundary.geojson"
    try:
        boundary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, ""  # not seeded yet: the map opens on a default view
    features = boundary.get("features") or [{}]
    return bounds_of(boundary), str((features[0].get("properties") or {}).get("name", ""))


def layout(lang: str | None = None, tiles: str | None = None, **_query: Any) -> Any:
    app = the_app()
    offset = app.core.clock.now().astimezone(app.core.timezone).utcoffset()
    bounds, county = _county(Path(app.settings.data_dir))
    return wall_page(
        lang=normalize_lang(lang, default=app.settings.lang),
        bounds=bounds,
        county=county,
        tz_offset_minutes=int(offset.total_seconds() // 60) if offset else 0,
        tile_url=app.settings.tile_url,
        tiles=tile_count(tiles),
    )
