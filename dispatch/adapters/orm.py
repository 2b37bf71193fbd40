"""SQLAlchemy 2.x typed tables. The domain never imports this module."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which stores no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use UTC-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class OrgUnitRow(Base):
    __tablename__ = "org_units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(Integer, index=True)
    polygon: Mapped[list[Any]] = mapped_column(JSON, default=list)  # rings of [long, lat]
    center_long: Mapped[float] = mapped_column(Float, default=0.0)
    center_lat: Mapped[float] = mapped_column(Float, default=0.0)


class DepartmentRow(Base):
    __tablename__ = "departments"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))


class GridWorkerRow(Base):
    __tablename__ = "grid_workers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(60))
    grid_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(Integer, index=True)
    phone: Mapped[str] = mapped_column(String(30), default="")
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)


class CameraRow(Base):
    __tablename__ = "cameras"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float] = mapped_column(Float)
    long: Mapped[float] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(500))
    # unknown | online | offline (the camera gateway says) | disabled (an admin says)
    status: Mapped[str] = mapped_column(String(20), default="unknown")
    address: Mapped[str] = mapped_column(String(400), default="")
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the last status change
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the last edit


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20), index=True)
    service_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(40), index=True)
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(400), default="")
    lat: Mapped[float] = mapped_column(Float)
    long: Mapped[float] = mapped_column(Float)
    township_id: Mapped[int | None] = mapped_column(Integer, index=True)
    community_id: Mapped[int | None] = mapped_column(Integer)
    grid_id: Mapped[int | None] = mapped_column(Integer, index=True)
    level: Mapped[str] = mapped_column(String(20), default="township")
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_before_suspend: Mapped[str | None] = mapped_column(String(20))
    urgency: Mapped[str | None] = mapped_column(String(20))
    light: Mapped[str] = mapped_column(String(10), default="green", index=True)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    department: Mapped[str | None] = mapped_column(String(40))
    worker_id: Mapped[int | None] = mapped_column(Integer)
    sla_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sla_budget_s: Mapped[float | None] = mapped_column(Float)
    sla_paused_total_s: Mapped[float] = mapped_column(Float, default=0.0)
    sla_paused_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Denormalised from the clock at the last change, so queues and the worker can use indexes.
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    # When the light next changes if nothing else happens (yellow, then red); NULL when the
    # clock is stopped. The SLA clock in the worker reads only rows whose time has come.
    light_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    pending_extension_hours: Mapped[float | None] = mapped_column(Float)
    master_id: Mapped[int | None] = mapped_column(Integer, index=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(Text)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    media_url: Mapped[str] = mapped_column(String(1000), default="")
    # Personal data: stored for the callback, never returned by the public API.
    reporter_first_name: Mapped[str] = mapped_column(String(100), default="")
    reporter_last_name: Mapped[str] = mapped_column(String(100), default="")
    reporter_email: Mapped[str] = mapped_column(String(200), default="")
    reporter_phone: Mapped[str] = mapped_column(String(40), default="")
    reporter_device_id: Mapped[str] = mapped_column(String(200), default="")
    submitted_by: Mapped[str] = mapped_column(String(80), default="")  # api key name or page
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


Index("ix_cases_open_light", CaseRow.state, CaseRow.light)


class EventRow(Base):
    """The event log: one row per domain event, `seq` gap-free in commit order."""

    __tablename__ = "events"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    township_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str | None] = mapped_column(String(80))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The narrower rooms that may see it, space-separated with a space at each end so a
    # scope's replay can match " department:env " (dispatch/domain/access.py audience()).
    audience: Mapped[str] = mapped_column(String(400), default="")


class EventCounterRow(Base):
    """A single row holding the last `seq`; its row lock orders committing writers."""

    __tablename__ = "event_counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class IdempotencyRow(Base):
    """Which case a keyed submission made, so that a retry gets the same answer again."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class PositionRow(Base):
    """Position history of grid workers, appended in batches (realtime/history.py).

    No foreign key to grid_workers: ingest has checked the worker, and this table takes
    thousands of rows a second. No retention yet: rows are kept until someone deletes them.
    """

    __tablename__ = "positions"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    worker_id: Mapped[int] = mapped_column(Integer)
    fixed_at: Mapped[datetime] = mapped_column(UtcDateTime())  # when the phone measured it
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lat: Mapped[float] = mapped_column(Float)
    long: Mapped[float] = mapped_column(Float)
    accuracy: Mapped[float | None] = mapped_column(Float)
    speed: Mapped[float | None] = mapped_column(Float)
    battery: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # an impossible speed


Index("ix_positions_worker_fixed", PositionRow.worker_id, PositionRow.fixed_at)


class UserRow(Base):
    """People who sign in (and kiosks); `role` and the jurisdiction columns decide scope."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20))
    township_id: Mapped[int | None] = mapped_column(Integer)
    department: Mapped[str | None] = mapped_column(String(40))
    worker_id: Mapped[int | None] = mapped_column(Integer)
    password_hash: Mapped[str] = mapped_column(String(200), default="")  # argon2id; "" = none
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DeviceTokenRow(Base):
    """A long-lived token that signs a device in as a user (a grid worker's phone, a kiosk)."""

    __tablename__ = "device_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WhistlePartyRow(Base):
    """A department called on a case by whistle-and-report (dispatch/domain/whistle.py)."""

    __tablename__ = "whistle_parties"
    __table_args__ = (UniqueConstraint("case_id", "department", name="uq_whistle_case_dept"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(10))
    ack_deadline: Mapped[datetime] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    report: Mapped[str | None] = mapped_column(Text)
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class PhotoRow(Base):
    """A checked image kept under data_dir/photos (dispatch/service/photos.py)."""

    __tablename__ = "photos"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(20))  # report | result | evidence
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(300))  # relative to data_dir
    thumb_path: Mapped[str] = mapped_column(String(300))
    original_name: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


# -- the duty console's read side (dispatch/service/queue.py) -------------------------------


def _concat(left: ColumnElement[Any], right: ColumnElement[Any]) -> ColumnElement[str]:
    return left.op("||", return_type=Text)(right)


# What case search matches words in: (description || ' ') || address, grouped as PostgreSQL
# groups it, so that alembic sees the indexes below as the ones migration 0004 made, and with
# the separator a literal, so that the planner recognises the indexed expression in queries.
CASE_TEXT = _concat(
    _concat(CaseRow.description.expression, literal_column("' '")), CaseRow.address.expression
)
# Every two-character piece of CASE_TEXT, lower-cased (SQL function of migration 0004).
CASE_BIGRAMS = func.text_bigrams(CASE_TEXT)
# PostgreSQL only: pg_trgm answers ILIKE '%word%' for words of three characters or more;
# two-character words, the commonest in Chinese, have no trigram and use the bigrams.
Index(
    "ix_cases_text_trgm",
    CASE_TEXT.label("text"),
    postgresql_using="gin",
    postgresql_ops={"text": "gin_trgm_ops"},
)
Index("ix_cases_text_bigrams", CASE_BIGRAMS, postgresql_using="gin")


# -- video calls and conferences (dispatch/service/calls.py) --------------------------------


class CallRow(Base):
    """A call or conference: its MCU room, the case it is about (none when a grid worker
    calls the centre), how it ended and its recording under data_dir."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(String(60), unique=True)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    township_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(20))  # call | conference
    started_by: Mapped[str] = mapped_column(String(80))  # the party key of the caller
    caller_name: Mapped[str] = mapped_column(String(120), default="")
    callee_name: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    recording_path: Mapped[str | None] = mapped_column(String(300))  # relative to data_dir
    recording_seconds: Mapped[float | None] = mapped_column(Float)
    recording_size: Mapped[int | None] = mapped_column(BigInteger)


class CallPartyRow(Base):
    """Who a call invites (a worker, an office, the centre) and how it answered."""

    __tablename__ = "call_parties"
    __table_args__ = (UniqueConstraint("call_id", "party", name="uq_call_party"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    party: Mapped[str] = mapped_column(String(80))  # "worker:17", "township:3", "centre"
    name: Mapped[str] = mapped_column(String(120), default="")
    answer: Mapped[str | None] = mapped_column(String(20))  # accepted | declined
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the first join
