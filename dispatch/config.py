"""Typed settings, read once from COMMANDHALL_* environment variables."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

PREFIX = "COMMANDHALL_"
LANGS = ("zh-CN", "en")
# Where the camera gateway and the MCU run: in the web process, or in `commandhall media`.
MEDIA_MODES = ("embedded", "remote")


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: a SQLite file in data_dir
    redis_url: str = ""  # empty: the in-process bus
    # Every Redis key and channel starts with this, so deployments (or tests) can share a server.
    redis_prefix: str = "commandhall:"
    # Connections per engine: each process opens up to twice this (pool + overflow).
    db_pool_size: int = 10
    secret_key: str = ""
    ice_servers: tuple[dict[str, Any], ...] = ()
    tile_url: str = ""  # empty: the offline vector base map
    lang: str = "zh-CN"
    # Screens without a token may watch the whole county: fine for the demo, not production.
    anonymous_screens: bool = False
    simulator: bool = True
    simulator_interval: float = 6.0  # mean seconds between simulated citizen reports
    simulator_speed: float = 1.0  # how many times faster than life the demo workers walk
    demo_seed: int = 2024
    jurisdiction_id: str = "yunling.gov.cn"  # Open311 jurisdiction_id this server answers to
    media: str = "embedded"  # "remote": the media process, reached through Redis (media.relay)

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise ConfigError(f"{PREFIX}LANG must be one of {LANGS}, got {self.lang!r}")
        if self.database_url and "://" not in self.database_url:
            raise ConfigError(
                f"{PREFIX}DATABASE_URL must be a SQLAlchemy URL such as "
                f"postgresql+psycopg://user@host/db, got {self.database_url!r}"
            )
        if not self.simulator_interval > 0:
            raise ConfigError(
                f"{PREFIX}SIMULATOR_INTERVAL must be positive, got {self.simulator_interval}"
            )
        if not 0 < self.simulator_speed <= 100:
            raise ConfigError(
                f"{PREFIX}SIMULATOR_SPEED must be a factor above 0 and at most 100, "
                f"got {self.simulator_speed}"
            )
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(
                f"{PREFIX}REDIS_URL must start with redis://, rediss:// or unix://, "
                f"got {self.redis_url!r}"
            )
        if self.media not in MEDIA_MODES:
            raise ConfigError(
                f"{PREFIX}MEDIA must be one of {MEDIA_MODES} (embedded: cameras and calls in "
                f"the web process; remote: in `commandhall media`), got {self.media!r}"
            )
        if self.media == "remote" and not self.redis_url:
            raise ConfigError(
                f"{PREFIX}MEDIA=remote needs {PREFIX}REDIS_URL: the web processes reach the "
                "media process through Redis"
            )
        if not 1 <= self.db_pool_size <= 200:
            raise ConfigError(
                f"{PREFIX}DB_POOL_SIZE must be between 1 and 200, got {self.db_pool_size}"
            )
        if not self.redis_prefix or any(c.isspace() for c in self.redis_prefix):
            raise ConfigError(
                f"{PREFIX}REDIS_PREFIX must be non-empty without spaces, e.g. 'commandhall:', "
                f"got {self.redis_prefix!r}"
            )

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'commandhall.db').resolve()}"

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        get = lambda name, default="": env.get(PREFIX + name, default)  # noqa: E731
        ice_raw = get("ICE_SERVERS")
        try:
            ice = tuple(json.loads(ice_raw)) if ice_raw else ()
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{PREFIX}ICE_SERVERS must be a JSON list like "
                f'[{{"urls": "stun:stun.example.org"}}]: {exc}'
            ) from exc
        values: dict[str, Any] = {
            "data_dir": Path(get("DATA_DIR", "data")),
            "database_url": get("DATABASE_URL"),
            "redis_url": get("REDIS_URL"),
            "redis_prefix": get("REDIS_PREFIX", "commandhall:"),
            "secret_key": get("SECRET_KEY"),
            "ice_servers": ice,
            "tile_url": get("TILE_URL"),
            "lang": get("LANG", "zh-CN"),
            "jurisdiction_id": get("JURISDICTION_ID", "yunling.gov.cn"),
            "media": env.get(PREFIX + "MEDIA", "embedded").strip().lower() or "embedded",
        }
        anonymous = get("ANONYMOUS_SCREENS").strip().lower()
        if anonymous:
            if anonymous not in ("true", "false", "1", "0"):
                raise ConfigError(
                    f"{PREFIX}ANONYMOUS_SCREENS must be true or false, got {anonymous!r}"
                )
            values["anonymous_screens"] = anonymous in ("true", "1")
        pool = get("DB_POOL_SIZE")
        if pool:
            try:
                values["db_pool_size"] = int(pool)
            except ValueError:
                raise ConfigError(
                    f"{PREFIX}DB_POOL_SIZE must be a whole number such as 10, got {pool!r}"
                ) from None
        interval = get("SIMULATOR_INTERVAL")
        if interval:
            try:
                values["simulator_interval"] = float(interval)
            except ValueError:
                raise ConfigError(
                    f"{PREFIX}SIMULATOR_INTERVAL must be seconds as a number, got {interval!r}"
                ) from None
        speed = get("SIMULATOR_SPEED")
        if speed:
            try:
                values["simulator_speed"] = float(speed)
            except ValueError:
                raise ConfigError(
                    f"{PREFIX}SIMULATOR_SPEED must be a number such as 1 or 2.5, got {speed!r}"
                ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        if not settings.secret_key:
            settings = replace(settings, secret_key=_stored_secret(settings.data_dir))
        return settings


def _stored_secret(data_dir: Path) -> str:
    """A per-installation secret kept in the data dir, so sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
