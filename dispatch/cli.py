"""The `commandhall` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dispatch.config import ConfigError, Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None)


def cmd_demo(args: argparse.Namespace) -> int:
    from dispatch.demo.runner import run_demo

    settings = _settings(args).with_(simulator=not args.no_simulator)
    return run_demo(settings, host=args.host, port=args.port)


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
