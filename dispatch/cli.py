"""The `commandhall` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from dispatch.config import PREFIX, ConfigError, Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None)


def cmd_demo(args: argparse.Namespace) -> int:
    from dispatch.demo.runner import run_demo

    settings = _settings(args).with_(simulator=not args.no_simulator)
    if PREFIX + "ANONYMOUS_SCREENS" not in os.environ:
        settings = settings.with_(anonymous_screens=True)  # the demo wall needs no token
    return run_demo(settings, host=args.host, port=args.port)


def cmd_web(args: argparse.Namespace) -> int:
    from dispatch.processes import run_web

    config = Path(args.gunicorn_config) if args.gunicorn_config else None
    return run_web(
        _settings(args), host=args.host, port=args.port, threads=args.threads, config_file=config
    )


def cmd_worker(args: argparse.Namespace) -> int:
    from dispatch.processes import run_worker

    return run_worker(_settings(args))


def cmd_media(args: argparse.Namespace) -> int:
    from dispatch.processes import run_media

    return run_media(_settings(args))


def cmd_migrate(args: argparse.Namespace) -> int:
    from dispatch.adapters.db import Database

    settings = _settings(args)
    Database(settings.effective_database_url).migrate()
    print(f"database is at the newest schema: {settings.effective_database_url}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from dispatch.bootstrap import build_core
    from dispatch.demo.seed import seed_demo

    settings = _settings(args)
    core, _ = build_core(settings)
    names = seed_demo(core, settings.data_dir, seed=settings.demo_seed, history=not args.no_history)
    print(f"demo county seeded: {len(names.units)} units, {len(names.workers)} grid workers")
    return 0


def cmd_apikey_create(args: argparse.Namespace) -> int:
    from dispatch.bootstrap import build_core
    from dispatch.service.apikeys import create_api_key

    core, _ = build_core(_settings(args))
    print(create_api_key(core, args.name))
    return 0


def cmd_screen_token(args: argparse.Namespace) -> int:
    from realtime.auth import AuthError, Scope, ScreenTokens

    settings = _settings(args)
    scope = Scope("township", args.township) if args.township is not None else Scope("county")
    try:
        print(ScreenTokens(settings.secret_key, max_age_days=args.days).issue(scope))
    except AuthError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    import getpass

    from dispatch.bootstrap import build_core
    from dispatch.service.accounts import NewUser, create_user
    from dispatch.service.errors import ServiceError

    core, _ = build_core(_settings(args))
    password = args.password or getpass.getpass(f"password for {args.username}: ")
    new = NewUser(
        username=args.username, password=password, role=args.role,
        display_name=args.name or "", township_id=args.township, department=args.department,
        worker_id=args.worker,
    )  # fmt: skip
    try:
        user_id = create_user(core, new)
    except ServiceError as exc:
        print(f"error: {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    print(f"user {args.username} created (id {user_id})")
    return 0


def cmd_seed_users(args: argparse.Namespace) -> int:
    from dispatch.bootstrap import build_core
    from dispatch.demo.users import DEMO_PASSWORD, seed_demo_users

    core, names = build_core(_settings(args))
    made = seed_demo_users(core, names)
    print(f"{made} demo accounts created (password {DEMO_PASSWORD})")
    return 0


def cmd_device_token(args: argparse.Namespace) -> int:
    from dispatch.bootstrap import build_core
    from dispatch.service import accounts
    from dispatch.service.errors import ServiceError

    core, _ = build_core(_settings(args))
    user_id = accounts.user_id_by_name(core, args.username)
    if user_id is None:
        print(f"error: no user {args.username!r}", file=sys.stderr)
        return 2
    try:
        print(accounts.issue_device_token(core, user_id, label=args.label or ""))
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="commandhall", description="CommandHall command centre")
    p.add_argument("--data-dir", help="where the SQLite file, keys and base map live (./data)")
    sub = p.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run everything in one process with a living demo county")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8050)
    demo.add_argument("--data-dir", dest="data_dir_sub", help="same as the global --data-dir")
    demo.add_argument("--no-simulator", action="store_true", help="no simulated reports")
    demo.set_defaults(fn=cmd_demo)

    web = sub.add_parser("web", help="production: the web app under gunicorn (one of N)")
    web.add_argument("--host", help="address to bind (127.0.0.1; nginx sits in front)")
    web.add_argument("--port", type=int, help="port to bind (8000); one port per web process")
    web.add_argument("--threads", type=int, help="gthread threads: screens + requests (100)")
    web.add_argument("--gunicorn-config", help="a gunicorn.conf.py (docs/deploy/gunicorn.conf.py)")
    web.set_defaults(fn=cmd_web)
    worker = sub.add_parser("worker", help="production: the clock (SLA lights, presence)")
    worker.set_defaults(fn=cmd_worker)
    media = sub.add_parser("media", help="production: cameras and calls (one per deployment)")
    media.set_defaults(fn=cmd_media)

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(fn=cmd_migrate)

    seed = sub.add_parser("seed", help="load the demo county into an empty database")
    seed.add_argument("--no-history", action="store_true", help="organisation only, no cases")
    seed.set_defaults(fn=cmd_seed)

    apikey = sub.add_parser("apikey", help="manage Open311 api keys")
    apikey_sub = apikey.add_subparsers(dest="apikey_command", required=True)
    create = apikey_sub.add_parser("create", help="create a key and print it (shown once)")
    create.add_argument("name", help="who the key is for, e.g. 'city-app'")
    create.set_defaults(fn=cmd_apikey_create)

    screen = sub.add_parser("screen-token", help="tokens for wall screens and office consoles")
    screen_sub = screen.add_subparsers(dest="screen_command", required=True)
    token = screen_sub.add_parser("create", help="print a signed token (county-wide by default)")
    token.add_argument("--township", type=int, help="limit the screen to one township (id)")
    token.add_argument("--days", type=float, default=366, help="how long it is valid (366)")
    token.set_defaults(fn=cmd_screen_token)

    user = sub.add_parser("user", help="manage sign-in accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    ucreate = user_sub.add_parser("create", help="create an account")
    ucreate.add_argument("username")
    ucreate.add_argument(
        "--role", required=True,
        help="admin, leader, duty, township, department, grid_worker or kiosk",
    )  # fmt: skip
    ucreate.add_argument("--password", help="(prompted when left out)")
    ucreate.add_argument("--name", help="display name")
    ucreate.add_argument("--township", type=int, help="township id (township officers)")
    ucreate.add_argument("--department", help="department code (department officers)")
    ucreate.add_argument("--worker", type=int, help="grid worker id (grid worker accounts)")
    ucreate.set_defaults(fn=cmd_user_create)
    udemo = user_sub.add_parser("seed-demo", help="create the demo accounts of every role")
    udemo.set_defaults(fn=cmd_seed_users)

    device = sub.add_parser("device-token", help="sign-in tokens for phones and kiosks")
    device_sub = device.add_subparsers(dest="device_command", required=True)
    dcreate = device_sub.add_parser("create", help="print a new token for a user (shown once)")
    dcreate.add_argument("username", help="a grid_worker or kiosk account, e.g. worker-1")
    dcreate.add_argument("--label", help="which device, e.g. 'phone of 苏健荣'")
    dcreate.set_defaults(fn=cmd_device_token)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = parser().parse_args(argv)
    if getattr(args, "data_dir_sub", None):
        args.data_dir = args.data_dir_sub
    try:
        return int(args.fn(args))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
