"""`commandhall demo`: web, realtime, clock and simulator in one process on SQLite."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from werkzeug.serving import make_server

from dispatch.bootstrap import App, Periodic, create_app
from dispatch.config import Settings
from dispatch.demo.county import build_demo_county
from dispatch.demo.seed import seed_demo
from dispatch.demo.users import DEMO_PASSWORD, demo_users, seed_demo_users
from dispatch.service import accounts, actions
from dispatch.service.apikeys import create_api_key
from dispatch.service.core import Core
from realtime.positions import sweep_presence

log = logging.getLogger(__name__)


def simulator_key(core: Core, data_dir: Path) -> str:
    """The simulator's Open311 key, created once and kept in the data dir."""
    path = data_dir / "simulator_api_key"
    if path.exists():
        return path.read_text().strip()
    key = create_api_key(core, "demo-simulator")
    path.write_text(key)
    path.chmod(0o600)
    return key


def run_demo(settings: Settings, *, host: str, port: int) -> int:
    from dispatch.demo.simulator import Simulator
    from dispatch.demo.walkers import Walkers

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    started = time.perf_counter()
    app = create_app(settings)
    app.reload_directory(seed_demo(app.core, settings.data_dir, seed=settings.demo_seed))
    seed_demo_users(app.core, app.names)
    field_link = demo_field_link(app)
    # Bind before announcing the URLs, so that whoever reads them can connect at once.
    server = make_server(host, port, app.flask, threaded=True)
    base = f"http://{_client_host(host)}:{server.server_port}"
    app.background.append(Periodic("sla-clock", 15.0, lambda: actions.tick(app.core)))
    # Presence changes with time alone (online → idle → offline); in production the worker sweeps.
    app.background.append(
        Periodic("presence", 5.0, lambda: sweep_presence(app, app.core.clock.now()))
    )
    key = simulator_key(app.core, settings.data_dir)
    if settings.simulator:
        app.background.append(
            Simulator(
                app,
                build_demo_county(settings.demo_seed),
                base_url=base,
                api_key=key,
                interval=settings.simulator_interval,
            )
        )
        app.background.append(
            Walkers(
                app,
                build_demo_county(settings.demo_seed),
                base_url=base,
                api_key=key,
                speed_factor=settings.simulator_speed,
            )
        )
    app.start()
    print(
        f"\nCommandHall demo is running ({time.perf_counter() - started:.1f}s to start)\n"
        f"  wall screen   {base}/wall\n"
        f"  duty console  {base}/console   (sign in as duty / {DEMO_PASSWORD})\n"
        f"  citizen page  {base}/report\n"
        f"  grid worker   {base}{field_link}\n"
        f"  sign-in       {base}/login\n"
        f"{demo_accounts_text(app)}"
        f"  Open311 API   {base}/open311/v2/discovery.json\n"
        f"  JSON API      {base}/api/openapi.json\n"
        f"  health        {base}/healthz\n"
        f"  data          {settings.data_dir.resolve()}\n"
        f"Press Ctrl+C to stop.\n",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        server.server_close()
        app.stop()
    return 0


def demo_field_link(app: App) -> str:
    """/field signed in as the first grid worker (a fresh device token each start)."""
    worker = min(app.names.workers)
    user_id = accounts.worker_user(app.core, worker)
    if user_id is None:
        return "/field"
    accounts.revoke_device_tokens(app.core, user_id)
    token = accounts.issue_device_token(app.core, user_id, label="demo phone")
    return f"/field?token={token}"


def demo_accounts_text(app: App) -> str:
    """The demo accounts by role, one line each (password for all: DEMO_PASSWORD)."""
    users = demo_users(app.names)
    by_role: dict[str, list[str]] = {}
    for u in users:
        if u.role.value != "grid_worker":
            by_role.setdefault(u.role.value, []).append(u.username)
    lines = [f"  accounts (password {DEMO_PASSWORD}):"]
    lines += [f"    {role:<11} {', '.join(names)}" for role, names in by_role.items()]
    lines.append(
        "    grid_worker worker-<id>: phones sign in with a device token "
        "(commandhall device-token create worker-1)"
    )
    return "\n".join(lines) + "\n"


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
