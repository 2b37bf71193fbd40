"""The command line as a newcomer uses it: `commandhall demo`, `apikey create`, /healthz."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from dispatch.domain.geometry import centroid
from tests.conftest import free_port
from tests.support import build_app

CLI = [sys.executable, "-m", "dispatch.cli"]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDHALL_")}
    env["COMMANDHALL_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def test_apikey_create_prints_a_key_that_open311_accepts(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    seeded = run_cli("seed", "--no-history", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "grid workers" in seeded.stdout
    created = run_cli("apikey", "create", "city-app", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("ch_") and len(key) > 20
    app = build_app(tmp_path / "data", "", with_dashboard=False)
    grid = next(u for u in app.names.units.values() if u.kind.value == "grid")
    lon, lat = centroid(grid.polygon[0])
    client = app.flask.test_client()
    form = {"service_code": "road", "lat": lat, "long": lon, "description": "井盖缺失"}
    ok = client.post("/open311/v2/requests.json", data={**form, "api_key": key})
    assert ok.status_code == 201, ok.get_data(as_text=True)
    bad = client.post("/open311/v2/requests.json", data={**form, "api_key": key + "x"})
    assert bad.status_code == 403


def test_apikey_create_without_a_name_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("apikey", "create", " ", env=clean_env(tmp_path))
    assert result.returncode != 0
    assert "name" in result.stderr


def test_bad_configuration_is_reported_naming_the_variable(tmp_path: Path) -> None:
    env = clean_env(tmp_path, COMMANDHALL_REDIS_URL="localhost:6379")
    result = run_cli("migrate", env=env)
    assert result.returncode == 2
    assert "COMMANDHALL_REDIS_URL" in result.stderr


def test_demo_starts_serves_health_and_the_wall_and_simulates_open311_reports(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = clean_env(tmp_path, COMMANDHALL_SIMULATOR_INTERVAL="0.5")
    proc = subprocess.Popen(
        [*CLI, "demo", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        banner = ""
        deadline = time.monotonic() + 90
        while "Press Ctrl+C" not in banner:
            line = proc.stdout.readline() if proc.stdout else ""
            assert line or proc.poll() is None, f"demo exited early:\n{banner}"
            banner += line
            assert time.monotonic() < deadline, banner
        assert f"{base}/wall" in banner
        assert f"{base}/open311/v2/discovery.json" in banner
        health = requests.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 200
        body = health.json()
        assert body["ok"] and body["database"]["ok"] and body["bus"]["kind"] == "memory"
        assert "media" in body
        wall = requests.get(f"{base}/wall", timeout=10)
        assert wall.status_code == 200 and "<html" in wall.text.lower()
        first = requests.get(f"{base}/api/kpis", timeout=10).json()["reported_today"]
        deadline = time.monotonic() + 30
        while requests.get(f"{base}/api/kpis", timeout=10).json()["reported_today"] < first + 3:
            assert time.monotonic() < deadline, "the simulator submitted nothing"
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def test_healthz_is_503_naming_the_bus_when_redis_is_unreachable(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    app = build_app(
        tmp_path, f"sqlite:///{tmp_path}/h.db", redis_url=f"redis://127.0.0.1:{port}/0",
        with_dashboard=False,
    )  # fmt: skip
    response = app.flask.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["ok"] is False and body["bus"]["ok"] is False and body["database"]["ok"]
    assert "error" in body["bus"]
