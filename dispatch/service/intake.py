"""Intake: every channel (citizen page, Open311, hotline, grid worker) submits through here.

Validation happens before anything is written, so a refused report stores nothing. An
Idempotency-Key makes a retried submission return the first answer instead of a second case.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch.adapters.orm import CaseRow, IdempotencyRow
from dispatch.domain.categories import CATEGORY_BY_CODE
from dispatch.service.core import Core
from dispatch.service.errors import Forbidden, IdempotencyMismatch, NotFound, ValidationError

if TYPE_CHECKING:
    from dispatch.service.photos import CheckedPhoto

CHANNELS = ("citizen", "hotline", "grid", "camera", "app")
MAX_DESCRIPTION = 4000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")


@dataclass(frozen=True)
class NewReport:
    """A report as it arrives, before validation (strings straight from the request)."""

    service_code: str | None
    lat: str | float | None
    long: str | float | None
    description: str = ""
    address: str = ""
    channel: str = "app"
    media_url: str = ""
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    device_id: str = ""
    account_id: str = ""
    submitted_by: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Idempotency:
    scope: str  # whose keys these are: an api key id, or the page that submitted
    key: str


@dataclass(frozen=True)
class Submitted:
    case_id: int
    replayed: bool  # True when this answer is the stored first answer to a retry


def _coordinate(value: str | float | None, name: str, low: float, high: float) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(
            f"{name} is required: CommandHall places every report on the map "
            "(send lat and long in WGS84 degrees)",
            field=name,
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number, got {value!r}", field=name) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValidationError(
            f"{name} must be between {low:g} and {high:g}, got {value}", field=name
        )
    return number


def _limit(value: str, name: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError(f"{name} is {len(value)} characters; at most {limit}", field=name)
    return value


def validate(report: NewReport, core: Core, *, has_photos: bool = False) -> dict[str, Any]:
    """Check every field; return the clean values for the row, or raise naming the field."""
    code = (report.service_code or "").strip()
    if not code:
        raise ValidationError("service_code is required", field="service_code")
    if code not in CATEGORY_BY_CODE:
        raise NotFound(
            f"service_code {code!r} is not a service here; GET services lists them",
            field="service_code",
        )
    lat = _coordinate(report.lat, "lat", -90.0, 90.0)
    long = _coordinate(report.long, "long", -180.0, 180.0)
    where = core.grids.locate(long, lat)
    if where.grid_id is None:
        raise ValidationError(
            f"the point lat={lat}, long={long} is outside this jurisdiction's grids",
            field="lat",
        )
    description = _limit(report.description, "description", MAX_DESCRIPTION)
    media_url = _limit(report.media_url, "media_url", 1000)
    if media_url and not media_url.startswith(("http://", "https://", "/")):
        raise ValidationError(
            f"media_url must be an http(s) URL, got {media_url[:60]!r}", field="media_url"
        )
    if not description and not media_url and not has_photos:
        raise ValidationError(
            "describe the problem (description) or attach a photo (media_url)",
            field="description",
        )
    if report.channel not in CHANNELS:
        raise ValidationError(
            f"channel must be one of {', '.join(CHANNELS)}, got {report.channel!r}",
            field="channel",
        )
    email = _limit(report.email, "email", 200)
    if email and not _EMAIL.match(email):
        raise ValidationError(f"email {email!r} is not an e-mail address", field="email")
    phone = _limit(report.phone, "phone", 40)
    if phone and not _PHONE.match(phone):
        raise ValidationError(
            f"phone {phone!r} is not a phone number (digits, spaces, dashes, leading +)",
            field="phone",
        )
    attributes = {}
    for key, value in report.attributes.items():
        if key.startswith("_"):  # reserved for the server (e.g. the citizen's rating code)
            raise ValidationError(
                f"attribute names may not start with '_': {key!r}", field="attribute"
            )
        attributes[_limit(key, "attribute", 60)] = _limit(value, f"attribute[{key}]", 500)
    return {
        "service_code": code,
        "lat": lat,
        "long": long,
        "description": description,
        "address": _limit(report.address, "address_string", 400),
        "media_url": media_url,
        "channel": report.channel,
        "grid_id": where.grid_id,
        "community_id": where.community_id,
        "township_id": where.township_id,
        "reporter_email": email,
        "reporter_phone": phone,
        "reporter_first_name": _limit(report.first_name, "first_name", 100),
        "reporter_last_name": _limit(report.last_name, "last_name", 100),
        "reporter_device_id": _limit(report.device_id, "device_id", 200),
        "submitted_by": report.submitted_by[:80],
        "attributes": attributes | ({"account_id": report.account_id} if report.account_id else {}),
    }


def fingerprint(report: NewReport) -> str:
    """What makes two submissions 'the same request' for an Idempotency-Key."""
    data = asdict(report)
    data.pop("submitted_by", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _replay(core: Core, idem: Idempotency, request_hash: str) -> Submitted | None:
    with core.db.read() as session:
        row = session.scalars(
            select(IdempotencyRow).where(
                IdempotencyRow.scope == idem.scope, IdempotencyRow.key == idem.key
            )
        ).first()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise IdempotencyMismatch(
            f"Idempotency-Key {idem.key!r} was first used for a different request; "
            "use a new key for a new report",
            field="Idempotency-Key",
        )
    assert row.case_id is not None
    return Submitted(case_id=row.case_id, replayed=True)


def submit_report(
    core: Core,
    report: NewReport,
    *,
    idempotency: Idempotency | None = None,
    photos: Sequence[CheckedPhoto] = (),
    rating_code: str | None = None,
    now: datetime | None = None,
) -> Submitted:
    """Store a new report (with its checked photos) unless a retry of one already stored.

    `rating_code` is a secret the citizen's page keeps; only its hash is stored, and
    rating the result later needs it (the ticket number alone is guessable).
    """
    now = now or core.clock.now()
    request_hash = fingerprint(report)
    if idempotency is not None:
        if not 1 <= len(idempotency.key) <= 200:
            raise ValidationError(
                "Idempotency-Key must be 1–200 characters", field="Idempotency-Key"
            )
        earlier = _replay(core, idempotency, request_hash)
        if earlier is not None:
            return earlier
    values = validate(report, core, has_photos=bool(photos))
    if rating_code:
        values["attributes"] = values["attributes"] | {RATING_CODE_KEY: code_hash(rating_code)}
    saved: list[Any] = []
    try:
        with core.uow() as uow:
            row = CaseRow(state="reported", reported_at=now, updated_at=now, **values)
            uow.cases.report(row, actor=report.submitted_by or None)
            if photos:
                from dispatch.service.photos import save_photos

                saved = save_photos(
                    uow.session, core.data_dir, photos, case_id=row.id, kind="report",
                    uploaded_by=report.submitted_by, now=now,
                )  # fmt: skip
                if not row.media_url:
                    row.media_url = f"/api/photos/{saved[0].id}"
            if idempotency is not None:
                uow.session.add(
                    IdempotencyRow(
                        scope=idempotency.scope, key=idempotency.key, request_hash=request_hash,
                        case_id=row.id, created_at=now,
                    )
                )  # fmt: skip
            uow.commit(now)
            saved = []  # committed: the files belong to the case now
            return Submitted(case_id=row.id, replayed=False)
    except IntegrityError:
        # A concurrent retry with the same key committed first: answer as it did.
        if idempotency is not None:
            earlier = _replay(core, idempotency, request_hash)
            if earlier is not None:
                return earlier
        raise
    finally:
        if saved:
            from dispatch.service.photos import discard

            discard(core.data_dir, saved)


RATING_CODE_KEY = "_rating_code"


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def check_rating_code(core: Core, case_id: int, code: str) -> None:
    """Forbidden unless `code` is the secret given to whoever reported the case."""
    with core.db.read() as session:
        row = session.get(CaseRow, case_id)
        stored = (row.attributes or {}).get(RATING_CODE_KEY) if row else None
    if not stored or stored != code_hash(code):
        raise Forbidden("the rating code does not match this ticket", field="code")
