"""Every file docs/deploy.md shows lives in docs/deploy/ and is exercised here.

gunicorn.conf.py is loaded through `commandhall web`'s own loader and gunicorn's validators;
the systemd units go through `systemd-analyze verify` when it exists (and a parser always);
commandhall.env must make valid Settings; redis.conf runs a real redis-server; the
PostgreSQL settings must exist on a real server and add up; turnserver.conf must agree with
the ICE servers in commandhall.env. nginx.conf runs for real, in front of two
`commandhall web` processes, with a socket client on wss:// and on long-polling.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import sqlalchemy as sa
import urllib3

from dispatch.config import ConfigError, Settings
from dispatch.processes import gunicorn_file_options, web_options
from tests.cluster import (
    SECRET,
    Proc,
    api_headers,
    cluster_env,
    seed,
    start_web,
    wait_healthy,
    wait_port,
)  # fmt: skip
from tests.conftest import REPO_ROOT, free_port, require_service
from tests.screens import LiveScreen, screen_token

DEPLOY = REPO_ROOT / "docs" / "deploy"
GUIDE = (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
UNITS = {
    "commandhall-web@.service": "web",
    "commandhall-worker.service": "worker",
    "commandhall-media.service": "media",
}
PROD_COMMANDHALL = "/opt/commandhall/app/.venv/bin/commandhall"


def read(name: str) -> str:
    return (DEPLOY / name).read_text(encoding="utf-8")


def documented(key: str) -> bool:
    return f"`{key}`" in GUIDE


def test_every_config_file_the_guide_shows_is_in_docs_deploy() -> None:
    shown = set(re.findall(r"docs/deploy/([\w@.\-]+)", GUIDE))
    assert shown, "docs/deploy.md names no file of docs/deploy/"
    assert {p.name for p in DEPLOY.iterdir()} == shown


# -- gunicorn ----------------------------------------------------------------------------


def test_the_gunicorn_config_loads_and_keeps_one_gthread_worker() -> None:
    from gunicorn.config import Config

    path = DEPLOY / "gunicorn.conf.py"
    assert gunicorn_file_options(path)["threads"] >= 100
    options = web_options(host=None, port=8001, threads=None, config_file=path)
    cfg = Config()
    for key, value in options.items():
        cfg.set(key, value)  # gunicorn's own validators
    assert cfg.workers == 1 and cfg.worker_class_str == "gthread"
    assert cfg.bind == ["127.0.0.1:8001"]
    assert "127.0.0.1" in cfg.forwarded_allow_ips
    assert cfg.max_requests == 0  # recycling the worker would drop every screen on it
    nginx_keepalive = int(re.search(r"keepalive_timeout (\d+)s;", read("nginx.conf"))[1])
    assert cfg.keepalive > nginx_keepalive  # nginx closes idle upstream connections first
    assert cfg.worker_connections > cfg.threads


def test_a_gunicorn_config_asking_for_more_workers_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "gunicorn.conf.py"
    bad.write_text("workers = 4\n")
    with pytest.raises(ConfigError, match=r"workers must be 1.*behind nginx"):
        web_options(host=None, port=None, threads=None, config_file=bad)


# -- systemd -----------------------------------------------------------------------------


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"line {number} outside a section: {raw!r}"
        key, sep, value = line.partition("=")
        assert sep and key.strip(), f"line {number} is not Key=value: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.mark.parametrize("name", sorted(UNITS))
def test_systemd_units_run_the_right_process_with_the_shared_environment(name: str) -> None:
    unit = parse_unit(read(name))
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"][0])
    assert argv[0] == PROD_COMMANDHALL and argv[1] == UNITS[name]
    assert service["EnvironmentFile"] == ["/etc/commandhall/commandhall.env"]
    assert service["Restart"] == ["always"] and service["User"] == ["commandhall"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]
    if UNITS[name] == "web":
        assert argv[argv.index("--port") + 1] == "%i"
        assert argv[argv.index("--gunicorn-config") + 1] == "/etc/commandhall/gunicorn.conf.py"
        assert service["Type"] == ["notify"]  # gunicorn's arbiter calls sd_notify(READY=1)
        graceful = gunicorn_file_options(DEPLOY / "gunicorn.conf.py")["graceful_timeout"]
        assert int(service["TimeoutStopSec"][0]) > graceful


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed; the parser test above still ran")
    paths = []
    for name in UNITS:
        # verify insists that ExecStart's program exists: point it at this checkout's.
        text = read(name).replace(PROD_COMMANDHALL, str(REPO_ROOT / ".venv/bin/commandhall"))
        path = tmp_path / name.replace("@.service", "@8001.service")
        path.write_text(text)
        paths.append(str(path))
    result = subprocess.run(
        [analyze, "verify", *paths], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [line for line in result.stderr.splitlines() if str(tmp_path) in line]
    assert result.returncode == 0 and not complaints, result.stderr


# -- environment, TURN -------------------------------------------------------------------


def parse_env_file(text: str) -> dict[str, str]:
    """KEY=value lines the way systemd's EnvironmentFile= reads them (quotes stripped)."""
    env = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), raw
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    return env


def parse_turnserver(text: str) -> list[tuple[str, str]]:
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert re.fullmatch(r"[a-z][a-z0-9\-_]*", key), raw
            pairs.append((key, value))
    return pairs


def test_the_environment_file_makes_valid_settings(tmp_path: Path) -> None:
    env = parse_env_file(read("commandhall.env"))
    env["COMMANDHALL_DATA_DIR"] = str(tmp_path)  # the only change: a directory that exists
    settings = Settings.from_env(env)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.redis_url and settings.redis_prefix == "commandhall:"
    assert settings.anonymous_screens is False
    assert settings.secret_key == env["COMMANDHALL_SECRET_KEY"]  # shared by every process
    assert settings.ice_servers, "COMMANDHALL_ICE_SERVERS is empty"


def test_turnserver_conf_is_documented_and_matches_the_ice_servers() -> None:
    pairs = parse_turnserver(read("turnserver.conf"))
    conf: dict[str, list[str]] = {}
    for key, value in pairs:
        conf.setdefault(key, []).append(value)
    undocumented = sorted(key for key in conf if not documented(key))
    assert not undocumented, (
        f"keys of turnserver.conf not explained in docs/deploy.md: {undocumented}"
    )
    for key in ("listening-port", "tls-listening-port", "external-ip", "realm", "min-port",
                "max-port", "lt-cred-mech", "fingerprint", "user", "cert", "pkey"):  # fmt: skip
        assert key in conf, f"turnserver.conf has no {key}"
    assert int(conf["min-port"][0]) < int(conf["max-port"][0])
    env = parse_env_file(read("commandhall.env"))
    settings = Settings.from_env({**env, "COMMANDHALL_SECRET_KEY": "x"})
    turn = [s for s in settings.ice_servers if "credential" in s]
    assert turn, "no TURN server with credentials in COMMANDHALL_ICE_SERVERS"
    user, _, password = conf["user"][0].partition(":")
    assert (turn[0]["username"], turn[0]["credential"]) == (user, password)
    urls = [
        u
        for s in settings.ice_servers
        for u in ([s["urls"]] if isinstance(s["urls"], str) else s["urls"])
    ]
    ports = {int(m[1]) for u in urls if (m := re.search(r":(\d+)(\?|$)", u))}
    assert ports == {int(conf["listening-port"][0]), int(conf["tls-listening-port"][0])}
    assert all(conf["realm"][0] in u for u in urls)


# -- Redis -------------------------------------------------------------------------------


def parse_redis_conf(text: str) -> dict[str, str]:
    conf = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            conf[key] = value.strip()
    return conf


def test_redis_conf_is_documented_and_a_real_redis_server_runs_with_it(tmp_path: Path) -> None:
    text = read("redis.conf")
    conf = parse_redis_conf(text)
    undocumented = sorted(key for key in conf if not documented(key))
    assert not undocumented, f"keys of redis.conf not explained in docs/deploy.md: {undocumented}"
    assert conf["maxmemory-policy"] == "noeviction" and conf["timeout"] == "0"
    binary = shutil.which("redis-server")
    if binary is None:
        require_service("redis-server", "not installed (make test installs it)")
    port = free_port()
    local = re.sub(r"(?m)^port \d+$", f"port {port}", text)
    local = re.sub(r"(?m)^bind .*$", "bind 127.0.0.1", local) + f"\ndir {tmp_path}\n"
    assert local.count(f"port {port}") == 1
    (tmp_path / "redis.conf").write_text(local)
    server = Proc("redis", [binary, str(tmp_path / "redis.conf")], tmp_path / "redis.log", {})
    try:
        server.start()
        wait_port(port, 10, server)
        client = redis.Redis(port=port, decode_responses=True)
        for key in ("maxmemory-policy", "timeout", "tcp-keepalive", "appendonly", "save"):
            assert client.config_get(key)[key] == conf[key].strip('"'), key
        assert int(client.config_get("maxmemory")["maxmemory"]) == 256 * 1024 * 1024
        client.close()
    finally:
        server.stop()


# -- PostgreSQL --------------------------------------------------------------------------


def parse_postgresql_conf(text: str) -> dict[str, str]:
    conf = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            key, sep, value = line.partition("=")
            assert sep, raw
            conf[key.strip()] = value.strip()
    return conf


def test_postgresql_settings_exist_and_connections_add_up(postgres_url: str) -> None:
    conf = parse_postgresql_conf(read("postgresql.conf"))
    engine = sa.create_engine(postgres_url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        known = set(conn.scalars(sa.text("SELECT name FROM pg_settings")))
    engine.dispose()
    assert not set(conf) - known, f"not PostgreSQL settings: {sorted(set(conf) - known)}"
    webs = len(re.findall(r"(?m)^\s*server 127\.0\.0\.1:\d+", read("nginx.conf")))
    pool = int(parse_env_file(read("commandhall.env"))["COMMANDHALL_DB_POOL_SIZE"])
    needed = (webs + 1) * 2 * pool  # web processes and the worker: pool + overflow each
    needed += int(conf["superuser_reserved_connections"]) + 10  # psql, backups, migrations
    assert int(conf["max_connections"]) >= needed


# -- nginx, for real ---------------------------------------------------------------------


def render_nginx(prefix: Path, *, https: int, http: int, webs: list[int]) -> str:
    """The project's nginx.conf with only ports, paths and the certificate changed."""
    text = read("nginx.conf")
    servers = re.findall(r"(?m)^\s*server 127\.0\.0\.1:\d+.*;\n", text)
    assert len(servers) >= 2
    text = text.replace("".join(servers), "".join(
        f"        server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;\n" for port in webs
    ))  # fmt: skip
    swaps = {
        "user www-data;\n": "",
        "pid /run/nginx.pid;": f"pid {prefix}/nginx.pid;",
        "/var/log/nginx/": f"{prefix}/",
        "    listen 80;\n": f"    listen 127.0.0.1:{http};\n",
        "    listen [::]:80;\n": "",
        "    listen 443 ssl http2;\n": f"    listen 127.0.0.1:{https} ssl http2;\n",
        "    listen [::]:443 ssl http2;\n": "",
        "/etc/ssl/commandhall/fullchain.pem": f"{prefix}/cert.pem",
        "/etc/ssl/commandhall/privkey.pem": f"{prefix}/key.pem",
        "/opt/commandhall/app/assets/": f"{REPO_ROOT}/assets/",
        # Temporary files under the prefix, not in /var/lib/nginx.
        "http {\n": "http {\n" + "".join(
            f"    {kind}_temp_path {prefix}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ),
    }  # fmt: skip
    for old, new in swaps.items():
        assert old in text, f"nginx.conf changed: {old!r} is gone; update this test"
        text = text.replace(old, new)
    return text


@pytest.fixture
def nginx_binary() -> str:
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        require_service("nginx", "not installed (make test installs it: scripts/ensure-tools.sh)")
    if shutil.which("openssl") is None:
        require_service("openssl", "not installed")
    return binary


@pytest.fixture
def two_webs(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> Iterator[tuple[list[Any], tuple[float, float, int]]]:
    """Two `commandhall web` processes with the deploy gunicorn.conf.py, one SQLite file,
    and a point inside a grid to report at."""
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'commandhall.db'}"
    point = seed(url, data)[0]
    _AUTH.update(api_headers(url))
    env = cluster_env(database_url=url, redis_url=redis_url, prefix=redis_prefix, data_dir=data)
    config = ("--gunicorn-config", str(DEPLOY / "gunicorn.conf.py"))
    webs = [start_web(env, tmp_path, args=config) for _ in range(2)]
    try:
        for web in webs:
            wait_healthy(web, 90)
        yield webs, point
    finally:
        for web in webs:
            web.proc.stop()


def test_nginx_conf_proxies_websockets_and_long_polling_to_two_web_processes(
    tmp_path: Path, nginx_binary: str, two_webs: tuple[list[Any], tuple[float, float, int]]
) -> None:
    webs, point = two_webs
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(prefix / "key.pem"), "-out", str(prefix / "cert.pem"),
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    https, http = free_port(), free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(render_nginx(prefix, https=https, http=http, webs=[w.port for w in webs]))
    argv = [nginx_binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
    checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    nginx = Proc("nginx", [*argv, "-g", "daemon off;"], prefix / "stdout.log", {}).start()
    base = f"https://127.0.0.1:{https}"
    screens: list[LiveScreen] = []
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    try:
        wait_port(https, 10, nginx)
        health = requests.get(f"{base}/healthz", verify=False, timeout=10)
        assert health.status_code == 200 and health.json()["bus"]["kind"] == "redis"
        plain = requests.get(f"http://127.0.0.1:{http}/wall", allow_redirects=False, timeout=10)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        css = requests.get(f"{base}/assets/commandhall.css", verify=False, timeout=10)
        assert css.status_code == 200 and "max-age=3600" in css.headers["Cache-Control"]

        token = screen_token(SECRET)
        for transport in ("websocket", "polling"):
            # requests lets REQUESTS_CA_BUNDLE override a session's verify=False unless
            # the session ignores the environment (psf/requests#3829).
            http = requests.Session()
            http.verify, http.trust_env = False, False
            screen = LiveScreen(token).connect(
                base, transport=transport, ssl_verify=False, http_session=http
            )
            screens.append(screen)
            assert screen.synced.wait(20), (
                f"{transport}: no resync within 20 s; errors {screen.errors}; "
                + "; ".join(f"web {w.port}: {w.proc.tail(15)}" for w in webs)
                + f"; nginx: {(prefix / 'error.log').read_text(errors='replace')[-2000:]}"
            )
            assert screen.sio is not None and screen.sio.transport() == transport
        # One case through nginx, one straight into each web process: whichever process
        # the screens landed on, all three arrive, over wss:// and over long-polling.
        ids = [post_case(base, point)] + [post_case(web.url, point) for web in webs]
        for screen in screens:
            screen.wait_for(lambda s: set(ids) <= set(s.cases), 10, "the three cases")
    finally:
        for screen in screens:
            screen.disconnect()
        nginx.stop()
    assert "[emerg]" not in (prefix / "error.log").read_text()


_AUTH: dict[str, str] = {}  # the api key of the deployment under test (two_webs sets it)


def post_case(base: str, point: tuple[float, float, int]) -> int:
    body = {"service_code": "garbage", "lat": point[0], "long": point[1], "description": "经nginx"}
    response = requests.post(
        f"{base}/api/cases", json=body, headers=_AUTH, verify=False, timeout=30
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_stopping_a_process_stops_its_whole_group(tmp_path: Path) -> None:
    """What every test here relies on to leave nothing behind (nginx forks its workers)."""
    proc = Proc("sleeper", ["sh", "-c", "sleep 60 & sleep 60"], tmp_path / "s.log", {}).start()
    time.sleep(0.2)
    assert len(living_in_group(proc.pid)) == 3
    proc.stop(grace=1)
    deadline = time.monotonic() + 5
    while living_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert living_in_group(proc.pid) == []


def living_in_group(pgid: int) -> list[int]:
    """Processes of group `pgid` that are not zombies (an orphan waits for init to reap it)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found
