"""Building and serving a real CommandHall for integration and browser tests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import socketio
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

from dispatch.adapters.clock import Clock
from dispatch.bootstrap import App, create_app
from dispatch.config import Settings
from dispatch.demo.seed import seed_demo
from dispatch.service.apikeys import create_api_key


class SocketClient(socketio.Client):
    """python-socketio's client, whose disconnect does not wait three seconds.

    Over websocket, engine.io's disconnect closes websocket-client's socket, which waits up
    to 3 s for the server's close frame; but the client's own read thread takes that frame,
    so every disconnect waited the whole 3 s (12 s for the conference test's eleven sockets).
    """

    def disconnect(self) -> None:
        ws: Any = getattr(self.eio, "ws", None)
        if ws is not None:
            close = ws.close
            ws.close = lambda *args, **kwargs: close(*args, **{**kwargs, "timeout": 0.05})
        super().disconnect()


def build_app(
    data_dir: Path,
    database_url: str,
    *,
    history: bool = False,
    redis_url: str = "",
    clock: Clock | None = None,
    with_dashboard: bool = True,
    anonymous_screens: bool = True,
) -> App:
    """A migrated, seeded application (demo county; history only when asked)."""
    settings = Settings(
        data_dir=data_dir, database_url=database_url, redis_url=redis_url,
        secret_key="test-secret", simulator=False, anonymous_screens=anonymous_screens,
    )  # fmt: skip
    app = create_app(settings, clock=clock, with_dashboard=with_dashboard)
    app.reload_directory(seed_demo(app.core, data_dir, history=history))
    return app


def api_key(app: App, name: str = "test-client") -> str:
    return create_api_key(app.core, name)


def api_client(app: App) -> FlaskClient:
    """A test client that signs every request with a fresh api key (an integration)."""
    client = app.flask.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {api_key(app)}"
    return client


def api_headers(app: App) -> dict[str, str]:
    """Headers that sign a `requests` call as an integration."""
    return {"Authorization": f"Bearer {api_key(app)}"}


class LiveServer:
    """The Flask + Socket.IO app on a real port in this process (threaded Werkzeug)."""

    def __init__(self, app: App, host: str = "127.0.0.1") -> None:
        self.app = app
        self.server: BaseWSGIServer = make_server(host, 0, app.flask, threaded=True)
        self.url = f"http://{host}:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self.app.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.app.stop()


@contextmanager
def serving(app: App) -> Iterator[LiveServer]:
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()


def with_users(app: App) -> App:
    """Add the demo accounts of every role (password DEMO_PASSWORD)."""
    from dispatch.demo.users import seed_demo_users

    seed_demo_users(app.core, app.names)
    return app


def signed_in(app: App, username: str) -> FlaskClient:
    """A test client signed in through the real /login form (CSRF token included);
    it sends the CSRF header on every request, as the pages do."""
    import re

    from dispatch.demo.users import DEMO_PASSWORD

    client = app.flask.test_client()
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the sign-in form has no CSRF field"
    answer = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": match[1]}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    me = client.get("/api/me").get_json()
    client.environ_base["HTTP_X_CSRFTOKEN"] = me["csrf_token"]
    return client


def device_token(app: App, worker_id: int) -> str:
    """A device token for the grid worker's demo account (with_users first)."""
    from dispatch.service import accounts

    user_id = accounts.worker_user(app.core, worker_id)
    assert user_id is not None, f"worker {worker_id} has no account; call with_users(app)"
    return accounts.issue_device_token(app.core, user_id, label="test phone")


def browser_sign_in(driver: object, base_url: str, username: str) -> None:
    """Sign a Selenium browser in through the /login form."""
    from selenium.webdriver.common.by import By

    from dispatch.demo.users import DEMO_PASSWORD

    driver.get(f"{base_url}/login")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "login-username").send_keys(username)  # type: ignore[attr-defined]
    driver.find_element(By.ID, "login-password").send_keys(DEMO_PASSWORD)  # type: ignore[attr-defined]
    driver.find_element(By.ID, "login-submit").click()  # type: ignore[attr-defined]


# -- asyncio scenarios (aiortc peers, the media loop) -----------------------------------------

T = TypeVar("T")


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for `check()` to hold, failing with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.02)


def run_scenario(scenario: Callable[[], Coroutine[Any, Any, T]], timeout: float) -> T:
    """Run an async test scenario on a fresh event loop, failing it after `timeout` s."""
    return asyncio.run(asyncio.wait_for(scenario(), timeout))
