"""Accounts: users with argon2 password hashes, device tokens, and who a request acts as.

A device token signs a phone (grid worker) or a wall kiosk in as its user without a password;
like api keys it is shown once and stored only as a SHA-256 hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from dispatch.adapters.orm import DeviceTokenRow, UserRow
from dispatch.domain.access import Principal, Role
from dispatch.domain.errors import InvalidValue
from dispatch.service.core import Core
from dispatch.service.errors import Forbidden, ValidationError

_hasher = PasswordHasher()
# Verifying against this when the user does not exist costs the same time as a real check,
# so the response time does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("commandhall-no-such-user")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,59}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "dev_"


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str
    role: str
    display_name: str = ""
    township_id: int | None = None
    department: str | None = None
    worker_id: int | None = None


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def principal_of(row: UserRow) -> Principal:
    return Principal(
        name=f"{row.role}:{row.username}", role=Role(row.role), user_id=row.id,
        display_name=row.display_name or row.username, township_id=row.township_id,
        department=row.department, worker_id=row.worker_id,
    )  # fmt: skip


def create_user(core: Core, new: NewUser) -> int:
    """Store a user after checking every field; returns its id."""
    username = (new.username or "").strip().lower()
    if not _USERNAME.match(username):
        raise ValidationError(
            "username must be 2–60 characters of a–z, 0–9, '.', '_' or '-', starting with a "
            f"letter or digit; got {new.username!r}",
            field="username",
        )
    if new.role not in {r.value for r in Role} or new.role == Role.SYSTEM:
        allowed = ", ".join(r.value for r in Role if r != Role.SYSTEM)
        raise ValidationError(f"role must be one of {allowed}, got {new.role!r}", field="role")
    if len(new.password or "") < MIN_PASSWORD:
        raise ValidationError(
            f"password must have at least {MIN_PASSWORD} characters", field="password"
        )
    try:  # the same rule the pages rely on: an office has its jurisdiction
        Principal(
            name=username, role=Role(new.role), township_id=new.township_id,
            department=new.department, worker_id=new.worker_id,
        )  # fmt: skip
    except InvalidValue as exc:
        raise ValidationError(exc.message, field=exc.field) from None
    with core.db.writer() as session:
        if session.scalars(select(UserRow.id).where(UserRow.username == username)).first():
            raise ValidationError(f"username {username!r} is taken", field="username")
        row = UserRow(
            username=username, display_name=new.display_name.strip(), role=new.role,
            township_id=new.township_id, department=new.department, worker_id=new.worker_id,
            password_hash=_hasher.hash(new.password), active=True, created_at=core.clock.now(),
        )  # fmt: skip
        session.add(row)
        session.commit()
        return row.id


def sign_in(core: Core, username: str, password: str) -> Principal:
    """The user with this password, or one Forbidden that does not say which part was wrong."""
    refused = Forbidden("wrong username or password", field="password", code="sign_in_failed")
    username = (username or "").strip().lower()
    with core.db.writer() as session:
        row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
        try:
            _hasher.verify(row.password_hash if row and row.password_hash else _DUMMY_HASH,
                           password or "")  # fmt: skip
        except (VerificationError, InvalidHashError):
            raise refused from None
        if row is None or not row.password_hash or not row.active:
            raise refused
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        row.last_login_at = core.clock.now()
        session.commit()
        return principal_of(row)


def load_principal(core: Core, user_id: int) -> Principal | None:
    """The signed-in user of a session, or None when it has gone or been deactivated."""
    with core.db.read() as session:
        row = session.get(UserRow, user_id)
        return principal_of(row) if row is not None and row.active else None


def issue_device_token(core: Core, user_id: int, label: str = "") -> str:
    """A new device token for a grid worker's phone or a kiosk; shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    with core.db.writer() as session:
        user = session.get(UserRow, user_id)
        if user is None:
            raise ValidationError(f"user {user_id} does not exist", field="user_id")
        if user.role not in (Role.GRID_WORKER, Role.KIOSK):
            raise ValidationError(
                f"device tokens are for grid workers and kiosks, not {user.role}", field="user_id"
            )
        session.add(
            DeviceTokenRow(
                user_id=user_id, token_hash=_sha(token), prefix=token[:10], label=label[:120],
                created_at=core.clock.now(),
            )
        )  # fmt: skip
        session.commit()
    return token


def device_principal(core: Core, token: str) -> Principal:
    """Who a device token signs in, or Forbidden saying why not."""
    if not token.startswith(TOKEN_PREFIX):
        raise Forbidden("the device token is not valid", field="token")
    with core.db.read() as session:
        found = session.execute(
            select(DeviceTokenRow, UserRow)
            .join(UserRow, UserRow.id == DeviceTokenRow.user_id)
            .where(DeviceTokenRow.token_hash == _sha(token))
        ).first()
    if found is None:
        raise Forbidden("the device token is not valid (unknown)", field="token")
    device, user = found
    if device.revoked_at is not None:
        raise Forbidden("the device token has been revoked; ask for a new one", field="token")
    if not user.active:
        raise Forbidden("the account of this device is disabled", field="token")
    return principal_of(user)


def revoke_device_tokens(core: Core, user_id: int) -> int:
    with core.db.writer() as session:
        rows = session.scalars(
            select(DeviceTokenRow).where(
                DeviceTokenRow.user_id == user_id, DeviceTokenRow.revoked_at.is_(None)
            )
        ).all()
        for row in rows:
            row.revoked_at = core.clock.now()
        session.commit()
        return len(rows)


def user_id_by_name(core: Core, username: str) -> int | None:
    with core.db.read() as session:
        return session.scalars(
            select(UserRow.id).where(UserRow.username == username.strip().lower())
        ).first()


def worker_user(core: Core, worker_id: int) -> int | None:
    """The account of a grid worker, if it has one."""
    with core.db.read() as session:
        return session.scalars(
            select(UserRow.id).where(UserRow.worker_id == worker_id, UserRow.role == "grid_worker")
        ).first()
