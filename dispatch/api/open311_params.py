"""The parameters of Open311 GeoReport v2: POST fields into a report, GET query into a filter.

Pure parsing: each function takes plain mappings and raises a service error that names the
parameter at fault and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from werkzeug.datastructures import MultiDict

from dispatch.domain.categories import CATEGORY_BY_CODE
from dispatch.domain.org import Category
from dispatch.service.errors import NotFound, ValidationError
from dispatch.service.intake import NewReport
from dispatch.service.queries import CaseFilter

WINDOW = timedelta(days=90)  # the spec's default and largest date range of GET requests
LIMIT = 1000  # the spec's default number of requests returned
MAX_ID = 2**31 - 1  # case ids are 32-bit integers
ATTRIBUTES = ("channel",)  # the attribute codes of every service definition
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]*)\](\[\])?$")
# A w3 datetime with seconds optional and a zone required; a space stands for a `+` that the
# client forgot to percent-encode in the query string (it cannot mean anything else there).
_W3 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+\- ]\d\d:\d\d)$")


def category(code: str) -> Category:
    """The service `code` names; 404 when there is none."""
    found = CATEGORY_BY_CODE.get(code)
    if found is None:
        raise NotFound(
            f"service_code {code!r} is not a service here; GET services lists them",
            field="service_code",
        )
    return found


def case_id(value: str) -> int | None:
    """A service_request_id as a case id, or None when it cannot be one."""
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        return None
    return int(value)


def attributes(form: Mapping[str, Any]) -> dict[str, str]:
    """attribute[code]=value pairs (attribute[code][]=… repeated for a multivaluelist)."""
    found: dict[str, str] = {}
    for key in form:
        if not key.startswith("attribute"):
            continue
        match = _ATTRIBUTE.match(key)
        if match is None:
            raise ValidationError(f"{key!r} is malformed: send attribute[code]=value", field=key)
        code = match.group(1)
        if code not in ATTRIBUTES:
            raise ValidationError(
                f"{key} is not an attribute of these services; allowed: "
                + ", ".join(f"attribute[{a}]" for a in ATTRIBUTES),
                field=key,
            )
        values = form.getlist(key) if isinstance(form, MultiDict) else [form[key]]
        found[code] = ",".join(v for v in values if v)
    return found


def new_report(form: Mapping[str, Any], *, submitted_by: str) -> NewReport:
    """The fields of POST requests as a report for intake (which validates the values)."""

    def get(name: str) -> str:
        return str(form.get(name) or "")

    lat, long = get("lat").strip(), get("long").strip()
    if not lat and not long and (get("address_string").strip() or get("address_id").strip()):
        raise ValidationError(
            "lat and long are required: CommandHall cannot geocode address_string or "
            "address_id alone; send lat and long (WGS84 degrees) and the address with them",
            field="lat",
        )
    extra = attributes(form)
    return NewReport(
        service_code=get("service_code"), lat=lat or None, long=long or None,
        description=get("description"), address=get("address_string"),
        channel=extra.pop("channel", "") or "app", media_url=get("media_url"),
        email=get("email"), phone=get("phone"), first_name=get("first_name"),
        last_name=get("last_name"), device_id=get("device_id"), account_id=get("account_id"),
        submitted_by=submitted_by, attributes=extra,
    )  # fmt: skip


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def w3_datetime(raw: str | None, name: str) -> datetime | None:
    """A w3 datetime with its timezone, or None when not sent; 400 naming `name` otherwise."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    problem = f"{name} must be a w3 datetime with a timezone, e.g. 2010-01-01T00:00:00Z"
    if not _W3.match(value):
        raise ValidationError(f"{problem}, got {raw!r}", field=name)
    if value[-6] == " ":
        value = value[:-6] + "+" + value[-5:]
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{problem}, got {raw!r} (no such date)", field=name) from None


def _window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime | None]:
    """The spec's range: the last 90 days by default, 90 days from the one end given."""
    if start is None and end is None:
        return now - WINDOW, None
    if start is None:
        assert end is not None
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end < start:
        raise ValidationError(
            f"end_date {end.isoformat()} is before start_date {start.isoformat()}",
            field="end_date",
        )
    if end - start > WINDOW:
        raise ValidationError(
            f"start_date to end_date spans {(end - start).days} days or more; at most 90",
            field="end_date",
        )
    return start, end


def request_filter(args: Mapping[str, str], now: datetime) -> CaseFilter:
    """The query of GET requests: service_request_id overrides all other arguments."""
    raw_ids = _csv(args.get("service_request_id"))
    if raw_ids:
        if len(raw_ids) > LIMIT:
            raise ValidationError(
                f"service_request_id lists {len(raw_ids)} ids; at most {LIMIT}",
                field="service_request_id",
            )
        ids = [case_id(i) for i in raw_ids]
        if None in ids:
            bad = raw_ids[ids.index(None)]
            raise ValidationError(
                f"service_request_id must be comma-separated ids like 41,42; got {bad!r}",
                field="service_request_id",
            )
        return CaseFilter(ids=[i for i in ids if i is not None], limit=LIMIT)
    codes = _csv(args.get("service_code"))
    for code in codes:
        category(code)
    statuses = set(_csv(args.get("status")))
    if statuses - {"open", "closed"}:
        raise ValidationError(
            f"status must be open, closed or both comma-separated; got {args.get('status')!r}",
            field="status",
        )
    start, end = _window(
        w3_datetime(args.get("start_date"), "start_date"),
        w3_datetime(args.get("end_date"), "end_date"),
        now,
    )
    status = statuses.pop() if len(statuses) == 1 else None
    return CaseFilter(service_code=codes, status=status, start=start, end=end, limit=LIMIT)


def flag(value: str | None, name: str) -> bool:
    """A boolean parameter: true/1 or false/0/absent."""
    raw = (value or "").strip().lower()
    if raw not in ("", "true", "false", "1", "0"):
        raise ValidationError(f"{name} must be true or false, got {value!r}", field=name)
    return raw in ("true", "1")
