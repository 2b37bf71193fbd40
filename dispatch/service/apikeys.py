"""Open311 api_keys: shown once at creation, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from dispatch.adapters.orm import ApiKeyRow
from dispatch.service.core import Core
from dispatch.service.errors import Forbidden, ValidationError


@dataclass(frozen=True)
class ApiClient:
    id: int
    name: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(core: Core, name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationError("an api key needs a name of 1–80 characters", field="name")
    key = "ch_" + secrets.token_urlsafe(24)
    with core.db.writer() as session:
        session.add(
            ApiKeyRow(name=name, key_hash=_hash(key), prefix=key[:8], created_at=core.clock.now())
        )
        session.commit()
    return key


def authenticate(core: Core, key: str | None) -> ApiClient:
    """The client that owns `key`, or Forbidden naming what was wrong."""
    if not key:
        raise Forbidden("api_key is required to submit a request", field="api_key")
    with core.db.read() as session:
        row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == _hash(key))).first()
    if row is None or row.revoked_at is not None:
        raise Forbidden("api_key is not valid (unknown or revoked)", field="api_key")
    return ApiClient(id=row.id, name=row.name)
