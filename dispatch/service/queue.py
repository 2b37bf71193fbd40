"""The duty console's read side: work queues in buckets, and case search.

Every query goes through `scope_clause`, and every queue query keeps to open cases: at a
million cases the open ones are a few thousand rows that the state index reaches directly,
so a count costs what the open set costs, not what the history costs (bench/bench_console.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, select, true
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from dispatch.adapters.orm import CASE_BIGRAMS, CASE_TEXT, CaseRow, WhistlePartyRow
from dispatch.domain.access import CaseScope
from dispatch.domain.categories import CATEGORY_BY_CODE
from dispatch.domain.lifecycle import CaseState
from dispatch.domain.sla import Light, Urgency
from dispatch.domain.whistle import PartyState
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.errors import ValidationError
from dispatch.service.intake import CHANNELS
from dispatch.service.queries import OPEN_STATES, summary, ticket
from dispatch.service.scope import scope_clause

S = CaseState
MAX_LIMIT = 200
BUCKETS = ("verify", "dispatch", "overdue", "returned", "whistles")  # duty officer
OFFICE_BUCKETS = ("incoming", "whistles", "handling", "overdue")  # township/department office
# Waiting for the centre to dispatch (again).
TO_DISPATCH = (S.VERIFIED, S.REGISTERED, S.REOPENED, S.ESCALATED)

# Red before yellow before green; then the most urgent; then whoever has waited longest.
_LIGHT_RANK = case(
    (CaseRow.light == Light.RED.value, 0), (CaseRow.light == Light.YELLOW.value, 1), else_=2
)
_URGENCY_RANK = case(
    {u.value: rank for rank, u in enumerate(Urgency)}, value=CaseRow.urgency, else_=len(Urgency)
)
QUEUE_ORDER = (_LIGHT_RANK, _URGENCY_RANK, CaseRow.reported_at, CaseRow.id)
_LATE_LIGHTS = (Light.YELLOW.value, Light.RED.value)
_TICKET = re.compile(r"(\d{6})-(\d+)")
_CASE_ID = re.compile(r"\d+")
_MAX_ID = 2**31 - 1  # cases.id is a 32-bit integer; a larger number is no case
_MAX_WORDS = 8


@dataclass(frozen=True)
class QueueFilter:
    """What the console narrows every bucket to; each field None means "any"."""

    township_id: int | None = None
    category: str | None = None
    channel: str | None = None
    state: str | None = None  # one open CaseState value
    limit: int = 50  # per bucket

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in OPEN_STATES:
            known = " (queues hold open cases only)" if self.state in set(S) else ""
            raise ValidationError(
                f"state {self.state!r} is not an open state{known}; "
                f"one of: {', '.join(OPEN_STATES)}",
                field="state",
            )
        if self.category is not None and self.category not in CATEGORY_BY_CODE:
            raise ValidationError(
                f"unknown category {self.category!r}; one of: {', '.join(CATEGORY_BY_CODE)}",
                field="category",
            )
        if self.channel is not None and self.channel not in CHANNELS:
            raise ValidationError(
                f"unknown channel {self.channel!r}; one of: {', '.join(CHANNELS)}",
                field="channel",
            )
        _check_limit(self.limit)

    def clauses(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.township_id is not None:
            out.append(CaseRow.township_id == self.township_id)
        if self.category is not None:
            # What the page shows as the category: a report is not classified until registered.
            out.append(func.coalesce(CaseRow.category, CaseRow.service_code) == self.category)
        if self.channel is not None:
            out.append(CaseRow.channel == self.channel)
        if self.state is not None:
            out.append(CaseRow.state == self.state)
        return out


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be 1 to {MAX_LIMIT}, got {limit}", field="limit")


def _whole_number(args: Mapping[str, str], name: str) -> int | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number, got {value!r}", field=name) from None


def parse_filter(args: Mapping[str, str]) -> QueueFilter:
    """A filter from query-string arguments; empty values mean "any", other keys are ignored."""

    def given(name: str) -> str | None:
        return (args.get(name) or "").strip() or None

    limit = _whole_number(args, "limit")
    return QueueFilter(
        township_id=_whole_number(args, "township_id"),
        category=given("category"),
        channel=given("channel"),
        state=given("state"),
        limit=50 if limit is None else limit,
    )


@contextmanager
def _reading(core: Core) -> Iterator[Session]:
    """A read session whose statements PostgreSQL plans for the values they carry.

    psycopg prepares a statement once it has run five times, and PostgreSQL may then keep one
    generic plan for all values. The right plan here depends on the value: a word in 5 % of
    cases or in none, a township with a sixth of them. A generic search plan once walked all
    million cases of bench/bench_console.py for a rare word (50 s). Planning costs ~0.3 ms.
    """
    with core.db.read() as session:
        if core.db.dialect == "postgresql":
            session.execute(sql("SET LOCAL plan_cache_mode = force_custom_plan"))
        yield session


# -- queues ---------------------------------------------------------------------------------


def _buckets(
    core: Core,
    names: Directory,
    *,
    scope: CaseScope,
    f: QueueFilter,
    buckets: dict[str, ColumnElement[bool]],
    parties: ColumnElement[bool],
) -> dict[str, Any]:
    """Count every bucket in one pass over the open cases, then read each bucket's first page.

    `parties` selects the whistle rows listed with the items of the "whistles" bucket.
    """
    now = core.clock.now()
    where = [CaseRow.state.in_(OPEN_STATES), scope_clause(scope), *f.clauses()]
    counts = select(*(func.count().filter(cond).label(name) for name, cond in buckets.items()))
    with _reading(core) as session:
        totals = session.execute(counts.select_from(CaseRow).where(*where)).one()._asdict()
        out: dict[str, Any] = {"server_time": now.isoformat()}
        for name, cond in buckets.items():
            rows: Sequence[CaseRow] = ()
            if totals[name]:
                q = select(CaseRow).where(*where, cond).order_by(*QUEUE_ORDER).limit(f.limit)
                rows = session.scalars(q).all()
            items = [summary(r, names) for r in rows]
            if name == "whistles" and items:
                _attach_parties(session, items, parties)
            out[name] = {"count": int(totals[name]), "items": items}
    return out


def _attach_parties(
    session: Session, items: list[dict[str, Any]], which: ColumnElement[bool]
) -> None:
    by_case: dict[int, list[dict[str, Any]]] = {item["id"]: [] for item in items}
    rows = session.scalars(
        select(WhistlePartyRow)
        .where(WhistlePartyRow.case_id.in_(list(by_case)), which)
        .order_by(WhistlePartyRow.case_id, WhistlePartyRow.id)
    )
    for p in rows:
        by_case[p.case_id].append(
            {
                "department": p.department,
                "role": p.role,
                "state": (
                    PartyState.WAITING if p.acknowledged_at is None else PartyState.ACKNOWLEDGED
                ).value,
                "ack_deadline": p.ack_deadline.isoformat(),
                "acknowledged_at": p.acknowledged_at.isoformat() if p.acknowledged_at else None,
                "late": p.late,
            }
        )
    for item in items:
        item["parties"] = by_case[item["id"]]


def duty_queue(core: Core, names: Directory, *, scope: CaseScope, f: QueueFilter) -> dict[str, Any]:
    """The duty officer's work: to verify, to dispatch, late, sent back, whistles unanswered."""
    waiting = WhistlePartyRow.acknowledged_at.is_(None)
    buckets: dict[str, ColumnElement[bool]] = {
        "verify": CaseRow.state == S.REPORTED.value,
        "dispatch": CaseRow.state.in_([s.value for s in TO_DISPATCH]),
        "overdue": CaseRow.light.in_(_LATE_LIGHTS),
        "returned": CaseRow.state == S.RETURNED.value,
        "whistles": CaseRow.id.in_(select(WhistlePartyRow.case_id).where(waiting)),
    }
    return _buckets(core, names, scope=scope, f=f, buckets=buckets, parties=waiting)


def office_queue(
    core: Core, names: Directory, *, scope: CaseScope, f: QueueFilter
) -> dict[str, Any]:
    """A township or department office's work, within its own scope.

    A department handles the cases dispatched to it; cases where it is only called by a whistle
    show in "whistles" (until it has reported its part), not in "incoming" or "handling". A
    township office is never a whistle party, so its "whistles" is empty.
    """
    department = scope.department
    handler: ColumnElement[bool] = true()
    own_party: ColumnElement[bool] = false()  # its whistle parties not yet reported
    called: ColumnElement[bool] = false()
    if department is not None:
        handler = CaseRow.department == department
        own_party = (WhistlePartyRow.department == department) & (
            WhistlePartyRow.reported_at.is_(None)
        )
        called = CaseRow.id.in_(select(WhistlePartyRow.case_id).where(own_party))
    buckets: dict[str, ColumnElement[bool]] = {
        "incoming": (CaseRow.state == S.DISPATCHED.value) & handler,
        "whistles": called,
        "handling": CaseRow.state.in_([S.ACCEPTED.value, S.HANDLING.value]) & handler,
        "overdue": CaseRow.light.in_(_LATE_LIGHTS),
    }
    return _buckets(core, names, scope=scope, f=f, buckets=buckets, parties=own_party)


# -- search ---------------------------------------------------------------------------------

# Word search reads this many of the newest cases directly before it asks the word indexes
# (_find_words). Step 1 reads up to NEWEST cases (~1.5 us each); step 2 fetches up to
# limit/NEWEST of all cases (~2.3 us each). At a million cases and 50 a page, the two balance
# near 10,000, each then at most ~20 ms (bench/bench_console.py).
NEWEST = 10_000


def search_cases(
    core: Core, names: Directory, *, scope: CaseScope, text: str, limit: int = 50
) -> list[dict[str, Any]]:
    """Cases in scope, newest first, found by ticket (261122-00042), case id, or words that all
    occur in the description or address (any case; open and closed alike)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(
            "q is empty: give a ticket like 261122-00042, a case id, or words of the "
            "description or address",
            field="q",
        )
    _check_limit(limit)
    where = [scope_clause(scope)]
    date = None
    if m := _TICKET.fullmatch(text):
        date, number = m.groups()
    elif _CASE_ID.fullmatch(text):
        date, number = None, text
    else:
        with _reading(core) as session:
            rows = _find_words(session, where, _words(text), limit, core.db.dialect)
            return [summary(r, names) for r in rows]
    if int(number) > _MAX_ID:  # no case; and comparing as numeric would scan the table
        return []
    with _reading(core) as session:
        row = session.scalars(select(CaseRow).where(*where, CaseRow.id == int(number))).first()
        # The date of a ticket must be the case's own: 251122-00042 is not 261122-00042.
        if row is None or (date is not None and ticket(row.id, row.reported_at)[:6] != date):
            return []
        return [summary(row, names)]


def _words(text: str) -> list[str]:
    words = text.split()
    if len(words) > _MAX_WORDS:
        raise ValidationError(
            f"q has {len(words)} words; search with at most {_MAX_WORDS}", field="q"
        )
    if all(len(w) < 2 for w in words):
        # Neither index can narrow a single character down: it would read every case.
        raise ValidationError(
            f"q {text!r} has no word of two characters or more; search with a longer word",
            field="q",
        )
    return words


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _occurs(word: str) -> ColumnElement[bool]:
    """CASE_TEXT contains `word`, any case; about a microsecond a case."""
    return CASE_TEXT.ilike(f"%{_escape_like(word)}%", escape="\\")


def _indexed(word: str, dialect: str) -> ColumnElement[bool]:
    """The same as `_occurs`, in the form an index of migration 0004 answers.

    Trigrams answer ILIKE for words of three characters or more. A two-character word has no
    trigram, and its bigram is exactly the word, so the bigram index answers it alone; row by
    row that test costs ~50 us, so it must only ever be used through the index.
    """
    if dialect == "postgresql" and len(word) == 2:
        return CASE_BIGRAMS.bool_op("@>")(func.text_bigrams(word))
    return _occurs(word)


def _find_words(
    session: Session, where: list[ColumnElement[bool]], words: list[str], limit: int, dialect: str
) -> Sequence[CaseRow]:
    """The newest `limit` cases holding every word, in two steps, so that neither a common word
    nor a rare one reads the whole table, whether or not the planner guesses right how common
    the word is (from 101 sampled texts it mostly cannot).

    1. The newest NEWEST cases, newest first, each checked with ILIKE: a word in more than
       limit/NEWEST of the cases (0.5 %) usually fills the page within a few thousand.
    2. Otherwise the word is rarer, and the word indexes list every case that holds it: at
       most ~0.5 % of the table, sorted by date, the newest `limit` taken.
    """
    newest_first = (CaseRow.reported_at.desc(), CaseRow.id.desc())
    since = session.scalar(
        select(CaseRow.reported_at).order_by(CaseRow.reported_at.desc()).offset(NEWEST - 1).limit(1)
    )
    if since is not None:
        recent = select(CaseRow).where(*where, *map(_occurs, words), CaseRow.reported_at >= since)
        rows = session.scalars(recent.order_by(*newest_first).limit(limit)).all()
        if len(rows) == limit:
            return rows
    # Materialised, so that it is planned without the LIMIT: as a list from the indexes, never
    # as a walk through the newest cases testing each (step 1 has shown that would be long).
    found = (
        select(CaseRow.id, CaseRow.reported_at)
        .where(*where, *(_indexed(w, dialect) for w in words))
        .cte("found")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    page = (
        select(found.c.id).order_by(found.c.reported_at.desc(), found.c.id.desc()).limit(limit)
    ).subquery()
    q = select(CaseRow).join(page, page.c.id == CaseRow.id).order_by(*newest_first)
    return session.scalars(q).all()
