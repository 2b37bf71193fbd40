"""What the plain-HTML phone pages (/field, /report) share: versioned asset URLs and
configuration handed to their scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def asset_url(name: str) -> str:
    """/assets/<name>?v=<mtime>: a phone never keeps running an old script after an update."""
    path = ASSETS / name
    version = int(path.stat().st_mtime) if path.exists() else 0
    return f"/assets/{name}?v={version}"


def json_for_script(value: Any) -> str:
    """JSON safe inside <script>: no `</script>` or `<!--` can end it early."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
