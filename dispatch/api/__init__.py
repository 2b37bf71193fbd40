"""HTTP: the internal JSON API under /api, Open311 GeoReport v2 under /open311/v2, /healthz."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

if TYPE_CHECKING:
    from dispatch.bootstrap import App


def the_app() -> App:
    """The wired application behind the current request."""
    app: App = current_app.extensions["commandhall"]
    return app


# Six photos of at most 10 MB and the form around them; larger bodies are refused (413).
MAX_BODY_BYTES = 64 * 1024 * 1024


def register_api(flask: Flask) -> None:
    from dispatch.api import auth
    from dispatch.api.cameras import camera_api
    from dispatch.api.casework import casework
    from dispatch.api.open311 import open311
    from dispatch.api.rest import api

    flask.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    auth.install(flask)
    flask.register_blueprint(api)
    flask.register_blueprint(casework)
    flask.register_blueprint(open311)
    flask.register_blueprint(camera_api)
    flask.add_url_rule("/healthz", "healthz", healthz)


def healthz() -> ResponseReturnValue:
    app = the_app()
    checks: dict[str, Any] = {}
    try:
        app.core.db.ping()
        checks["database"] = {"ok": True, "dialect": app.core.db.dialect}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": str(exc)}
    checks["bus"] = app.bus.health()
    checks["fanout"] = app.fanout.health() if app._started else {"ok": True, "started": False}
    # The worker and media processes are peers, not parts of this one: their absence is
    # reported (`alive: false`) but does not fail this web process (docs/deploy.md).
    for peer in ("worker", "media"):
        checks[peer] = app.bus.alive(peer) if app.settings.redis_url else {
            "ok": True, "kind": "embedded",
        }  # fmt: skip
    ok = all(bool(c.get("ok")) for c in checks.values())
    return jsonify({"ok": ok, **checks}), 200 if ok else 503
