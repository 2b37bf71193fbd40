"""The camera registry: where each camera hangs, which grid watches it, where its video comes from.

Admins keep the registry (one at a time, or a whole CSV / GeoJSON file at once); the camera
gateway reports online / offline through `set_status`; everyone else in the centre reads it.
An import is all or nothing: every row is checked first, and one bad row stores nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.adapters.orm import CameraRow
from dispatch.domain.access import Principal, Role
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.errors import Conflict, Forbidden, NotFound, ValidationError

STATUSES = ("unknown", "online", "offline", "disabled")
GATEWAY_STATUSES = ("unknown", "online", "offline")  # what the gateway may say
FIELDS = ("code", "name", "lat", "long", "source", "address")
MAX_NAME, MAX_CODE, MAX_SOURCE, MAX_ADDRESS = 120, 40, 500, 400
MAX_IMPORT_ROWS = 10_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
# Annex-B H.264 the gateway passes through; MP4 it has to remux first (it sends nothing as is).
FILE_SUFFIXES = (".ts", ".h264", ".264", ".mp4")
SOURCE_FORMS = (
    "rtsp://host/path, demo:<name>, or a video file (.ts, .h264, .264, .mp4) given as an "
    "absolute path or a path inside the data directory"
)
CODE_PREFIX = "CAM-"
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_DEMO = re.compile(r"demo:[A-Za-z0-9_.\-]{1,60}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# Who keeps the registry; grid workers' devices may not even read it.
MANAGERS = frozenset({Role.ADMIN})
NOT_READERS = frozenset({Role.GRID_WORKER})
# Serialises registry writes on PostgreSQL, where ids are handed out as max(id) + 1.
_REGISTRY_LOCK = 0x636D_6361_6D73  # 'cmcams'

# CSV headers (and GeoJSON property names) by field; English or Chinese.
HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "编号"),
    "name": ("name", "名称"),
    "lat": ("lat", "latitude", "纬度"),
    "long": ("long", "lng", "lon", "longitude", "经度"),
    "source": ("source", "视频源"),
    "address": ("address", "地址"),
}
_FIELD_OF = {alias: name for name, aliases in HEADERS.items() for alias in aliases}
REQUIRED_COLUMNS = ("name", "lat", "long", "source")


# -- who may do what ------------------------------------------------------------------------


def require_manager(principal: Principal) -> None:
    if principal.role not in MANAGERS:
        raise Forbidden(
            f"a {principal.role.value} user cannot change the camera registry; admins do",
            field="authorization",
        )


def reader_township(principal: Principal, requested: int | None = None) -> int | None:
    """The township whose cameras this principal may list: a township office its own only."""
    if principal.role in NOT_READERS:
        raise Forbidden("the camera registry is for the centre and offices", field="authorization")
    own = principal.scope.township_id
    if own is not None and requested not in (None, own):
        raise NotFound(f"township {requested} is not yours to watch", field="township_id")
    return own if own is not None else requested


# -- what a camera looks like outside ------------------------------------------------------


def source_kind(source: str) -> str:
    """rtsp, demo, mp4 (remuxed by the gateway) or file (MPEG-TS / raw H.264)."""
    low = source.lower()
    if low.startswith(("rtsp://", "rtsps://")):
        return "rtsp"
    if low.startswith("demo:"):
        return "demo"
    return "mp4" if low.endswith(".mp4") else "file"


def mask_source(source: str) -> str:
    """The source without the password an RTSP URL may carry (rtsp://user:***@host/...)."""
    parts = urlsplit(source)
    if source_kind(source) != "rtsp" or parts.password is None:
        return source
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def to_wire(row: CameraRow, names: Directory | None, *, reveal: bool = True) -> dict[str, Any]:
    unit_name = names.unit_name if names is not None else (lambda _id: "")
    return {
        "id": row.id, "code": row.code, "name": row.name, "lat": row.lat, "long": row.long,
        "address": row.address or "", "grid_id": row.grid_id, "grid": unit_name(row.grid_id),
        "township_id": row.township_id, "township": unit_name(row.township_id),
        "source": row.source if reveal else mask_source(row.source),
        "source_kind": source_kind(row.source), "status": row.status or "unknown",
        "status_at": _time(row.status_at), "updated_at": _time(row.updated_at),
    }  # fmt: skip


# -- checking what comes in ---------------------------------------------------------------


def _text(value: Any, name: str, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text, got {value!r}", field=name)
    text = value.strip()
    if required and not text:
        raise ValidationError(f"{name} is required", field=name)
    if len(text) > limit:
        raise ValidationError(f"{name} is {len(text)} characters; at most {limit}", field=name)
    return text


def _coordinate(value: Any, name: str, low: float, high: float) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"{name} is required (WGS84 degrees)", field=name)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(f"{name} must be a number, got {value!r}", field=name)
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(f"{name} must be a number, got {value!r}", field=name) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValidationError(
            f"{name} must be between {low:g} and {high:g}, got {value}", field=name
        )
    return number


def check_source(value: Any) -> str:
    """The source as stored, or an error saying which forms are allowed."""
    source = _text(value, "source", MAX_SOURCE, required=True)
    low = source.lower()
    if any(ch.isspace() for ch in source):
        raise ValidationError(f"source may not contain spaces: {source!r}", field="source")
    if low.startswith(("rtsp://", "rtsps://")):
        if not urlsplit(source).hostname:
            raise ValidationError(f"source {source!r} names no host", field="source")
        return source
    if low.startswith("demo:"):
        if not _DEMO.fullmatch(source):
            raise ValidationError(
                f"source {source!r}: a demo source is demo:<name> of letters, digits, _ . -",
                field="source",
            )
        return source
    scheme = _SCHEME.match(source)
    if scheme:
        raise ValidationError(
            f"source {source!r}: {scheme[1]}: is not a camera source here; use {SOURCE_FORMS}",
            field="source",
        )
    path = PurePosixPath(source)
    if path.suffix.lower() not in FILE_SUFFIXES:
        raise ValidationError(f"source {source!r} is not one of: {SOURCE_FORMS}", field="source")
    if not path.is_absolute() and ".." in path.parts:
        raise ValidationError(
            f"source {source!r}: a relative path must stay inside the data directory",
            field="source",
        )
    return source


def _code(value: Any) -> str:
    code = _text(value, "code", MAX_CODE)
    if code and not _CODE.fullmatch(code):
        raise ValidationError(
            f"code {code!r}: letters, digits, _ . - only, starting with a letter or digit",
            field="code",
        )
    return code


def clean(core: Core, data: Mapping[str, Any]) -> dict[str, Any]:
    """Every field checked; the values for the row (grid and township found from the point)."""
    unknown = [k for k in data if k not in FIELDS]
    if unknown:
        raise ValidationError(
            f"unknown field {unknown[0]!r}; allowed: {', '.join(FIELDS)}", field=unknown[0]
        )
    code = _code(data.get("code"))
    name = _text(data.get("name"), "name", MAX_NAME, required=True)
    lat = _coordinate(data.get("lat"), "lat", -90.0, 90.0)
    long = _coordinate(data.get("long"), "long", -180.0, 180.0)
    where = core.grids.locate(long, lat)
    if where.grid_id is None:
        raise ValidationError(
            f"the point lat={lat}, long={long} is outside this jurisdiction's grids",
            field="lat",
        )
    return {
        "code": code, "name": name, "lat": lat, "long": long,
        "grid_id": where.grid_id, "township_id": where.township_id,
        "source": check_source(data.get("source")),
        "address": _text(data.get("address"), "address", MAX_ADDRESS),
    }  # fmt: skip


# -- reading --------------------------------------------------------------------------------


def _filters(township_id: int | None, status: str | None, q: str | None) -> list[Any]:
    where: list[Any] = []
    if township_id is not None:
        where.append(CameraRow.township_id == township_id)
    if status:
        if status not in STATUSES:
            raise ValidationError(
                f"status must be one of {', '.join(STATUSES)}, got {status!r}", field="status"
            )
        where.append(CameraRow.status == status)
    words = (q or "").split()
    for word in words[:5]:
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        columns = (CameraRow.name, CameraRow.code, CameraRow.address)
        where.append(or_(*(c.ilike(like, escape="\\") for c in columns)))
    return where


def list_cameras(
    core: Core, names: Directory | None, *, township_id: int | None = None,
    status: str | None = None, q: str | None = None, limit: int | None = None, offset: int = 0,
    reveal: bool = True,
) -> list[dict[str, Any]]:  # fmt: skip
    """Cameras by code; `q` matches every word in the name, code or address."""
    query = select(CameraRow).where(*_filters(township_id, status, q)).order_by(CameraRow.code)
    with core.db.read() as session:
        rows = session.scalars(query.offset(offset).limit(limit)).all()
    return [to_wire(r, names, reveal=reveal) for r in rows]


def map_layer(core: Core) -> dict[str, Any]:
    """The cameras as a GeoJSON layer for the maps: every camera an admin has not disabled,
    where it hangs and its state, never its source (which may hold a password)."""
    query = select(CameraRow).where(CameraRow.status != "disabled").order_by(CameraRow.id)
    with core.db.read() as session:
        rows = session.scalars(query).all()
    return {"type": "FeatureCollection", "features": [_feature(r) for r in rows]}


def _feature(row: CameraRow) -> dict[str, Any]:
    properties = {
        "id": row.id, "code": row.code, "name": row.name, "kind": "camera",
        "grid_id": row.grid_id, "township_id": row.township_id, "status": row.status or "unknown",
    }  # fmt: skip
    return {
        "type": "Feature",
        "id": row.id,
        "properties": properties,
        "geometry": {"type": "Point", "coordinates": [row.long, row.lat]},
    }


def count_cameras(
    core: Core, *, township_id: int | None = None, status: str | None = None,
    q: str | None = None,
) -> int:  # fmt: skip
    query = select(func.count()).select_from(CameraRow)
    with core.db.read() as session:
        return int(session.scalar(query.where(*_filters(township_id, status, q))) or 0)


def _row(session: Session, camera_id: int, township_id: int | None = None) -> CameraRow:
    row = session.get(CameraRow, camera_id)
    if row is None or (township_id is not None and row.township_id != township_id):
        raise NotFound(f"camera {camera_id} does not exist", field="camera_id")
    return row


def get_camera(
    core: Core, names: Directory | None, camera_id: int, *, township_id: int | None = None,
    reveal: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """One camera; outside `township_id` it is as missing as one that does not exist."""
    with core.db.read() as session:
        return to_wire(_row(session, camera_id, township_id), names, reveal=reveal)


# -- writing --------------------------------------------------------------------------------


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_REGISTRY_LOCK)))


def _next_id(session: Session) -> int:
    return int(session.scalar(select(func.max(CameraRow.id))) or 0) + 1


def _generated_codes(session: Session) -> set[str]:
    """Codes in use that look like ones this module makes (CAM-<n>)."""
    return set(session.scalars(select(CameraRow.code).where(CameraRow.code.like("CAM-%"))))


def _free_code(start: int, taken: set[str]) -> str:
    """CAM-<n> from n = start on, skipping codes in use (an import may have used CAM-<n>)."""
    n = start
    while f"{CODE_PREFIX}{n}" in taken:
        n += 1
    return f"{CODE_PREFIX}{n}"


def _apply(row: CameraRow, values: Mapping[str, Any], now: datetime) -> None:
    if row.source and values["source"] != row.source and row.status != "disabled":
        row.status, row.status_at = "unknown", now  # a new source: the gateway looks again
    for name, value in values.items():
        if name != "code" or value:
            setattr(row, name, value)
    row.updated_at = now


def save_camera(
    core: Core, data: Mapping[str, Any], *, camera_id: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Create a camera, or change one: fields left out of `data` keep their values. Without a
    code a new camera gets CAM-<n>."""
    now = now or core.clock.now()
    if camera_id is not None:
        current = get_camera(core, None, camera_id)
        data = {k: current[k] for k in FIELDS} | dict(data)
    values = clean(core, data)
    try:
        with core.uow() as uow:
            session = uow.session
            _lock(session)
            code = values["code"]
            if code:
                other = session.scalars(select(CameraRow).where(CameraRow.code == code)).first()
                if other is not None and other.id != camera_id:
                    raise Conflict(
                        f"code {code} is taken by camera {other.id} ({other.name}); choose "
                        f"another, or leave it empty for {CODE_PREFIX}<n>",
                        field="code",
                    )
            if camera_id is None:
                row = CameraRow(id=_next_id(session), status="unknown", status_at=None)
                values["code"] = code or _free_code(row.id, _generated_codes(session))
                session.add(row)
            else:
                row = _row(session, camera_id)
            _apply(row, values, now)
            session.flush()
            saved = to_wire(row, core.names)
            uow.commit(now)
    except IntegrityError:
        raise Conflict(
            "another change to the camera registry was saved at the same moment; try again",
            field="code",
        ) from None
    return saved


def set_status(core: Core, camera_id: int, status: str, *, now: datetime | None = None) -> bool:
    """The gateway's word (unknown / online / offline); a disabled camera stays disabled.
    True when the status changed; False also for a camera deleted meanwhile (the gateway may
    still be watching it)."""
    if status not in GATEWAY_STATUSES:
        raise ValidationError(
            f"status must be one of {', '.join(GATEWAY_STATUSES)}, got {status!r}; admins "
            "disable cameras with set_enabled",
            field="status",
        )
    now = now or core.clock.now()
    with core.uow() as uow:
        row = uow.session.get(CameraRow, camera_id)
        if row is None or row.status in ("disabled", status):
            return False
        row.status, row.status_at = status, now
        uow.commit(now)
    return True


def set_enabled(
    core: Core, camera_id: int, enabled: bool, *, now: datetime | None = None
) -> dict[str, Any]:
    """Disable a camera (the gateway leaves it alone), or enable it again (status unknown
    until the gateway has looked)."""
    now = now or core.clock.now()
    with core.uow() as uow:
        row = _row(uow.session, camera_id)
        wanted = "unknown" if enabled else "disabled"
        if (row.status == "disabled") == enabled:  # a change, not a repeat
            row.status, row.status_at, row.updated_at = wanted, now, now
        saved = to_wire(row, core.names)
        uow.commit(now)
    return saved


def delete_camera(core: Core, camera_id: int) -> None:
    with core.uow() as uow:
        uow.session.delete(_row(uow.session, camera_id))
        uow.commit(core.clock.now())
