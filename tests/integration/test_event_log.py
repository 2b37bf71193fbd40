"""The event log on SQLite and PostgreSQL: stored with the change, gap-free, in commit order."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dispatch.adapters.clock import FixedClock
from dispatch.adapters.db import Database
from dispatch.adapters.orm import CaseRow, EventRow
from dispatch.adapters.repository import to_domain
from dispatch.domain.events import CaseUrged
from dispatch.domain.lifecycle import CaseState
from dispatch.domain.routing import GridIndex
from dispatch.domain.sla import SlaPolicy, Urgency
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from realtime.log import count_events_after, events_after

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def core(db_url: str):
    db = Database(db_url)
    db.migrate()
    yield Core(db=db, clock=FixedClock(T0), grids=GridIndex([]))
    db.dispose()


def new_case(core: Core, *, township_id: int = 10, now: datetime = T0) -> int:
    with core.uow() as uow:
        case = uow.cases.report(
            CaseRow(
                channel="citizen", service_code="garbage", description="垃圾桶满溢",
                lat=25.6, long=103.8, township_id=township_id, state="reported",
                reported_at=now, updated_at=now,
            )
        )  # fmt: skip
        uow.commit(now)
        return case.id


def seqs(core: Core) -> list[int]:
    with core.db.read() as session:
        return list(session.scalars(select(EventRow.seq).order_by(EventRow.seq)))


def test_events_are_stored_with_the_change_and_numbered_from_one(core: Core) -> None:
    case_id = new_case(core)
    with core.uow() as uow:
        case = uow.cases.get(case_id)
        case.verify(now=T0)
        case.register(category="garbage", urgency=Urgency.URGENT, policy=SlaPolicy(), now=T0)
        stored = uow.commit(T0)
    assert [e.seq for e in stored] == [2, 3]
    assert [e.type for e in stored] == ["case.verified", "case.registered"]
    assert seqs(core) == [1, 2, 3]
    with core.db.read() as session:
        row = session.get(CaseRow, case_id)
        assert row is not None and row.state == "registered"
        assert row.deadline == T0 + timedelta(days=3)


def test_a_rolled_back_unit_of_work_stores_nothing_and_leaves_no_gap(core: Core) -> None:
    case_id = new_case(core)
    with pytest.raises(RuntimeError), core.uow() as uow:
        uow.cases.get(case_id).verify(now=T0)
        uow.session.flush()
        raise RuntimeError("the handler failed before commit")
    with core.db.read() as session:
        assert session.get(CaseRow, case_id).state == "reported"  # type: ignore[union-attr]
    new_case(core)
    assert seqs(core) == [1, 2]


def test_concurrent_writers_get_gap_free_contiguous_seqs_in_commit_order(core: Core) -> None:
    ids = [new_case(core, township_id=10 + i) for i in range(4)]
    commits: list[list[int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(case_id: int) -> None:
        try:
            for i in range(15):
                with core.uow() as uow:
                    # Two events per commit: each commit's numbers must be adjacent.
                    uow.record(
                        [CaseUrged(case_id=case_id, at=T0, message=f"{i}a"),
                         CaseUrged(case_id=case_id, at=T0, message=f"{i}b")],
                        township_id=10,
                    )  # fmt: skip
                    stored = uow.commit(T0)
                    # Appended while the counter row lock is gone but before the next
                    # commit of this thread: per thread the order is commit order.
                with lock:
                    commits.append([e.seq for e in stored])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    all_seqs = seqs(core)
    assert len(all_seqs) == 4 + 4 * 15 * 2
    assert all_seqs == list(range(1, len(all_seqs) + 1)), "seq has a gap or a duplicate"
    for commit in commits:
        assert commit == [commit[0], commit[0] + 1], commit
    with core.db.read() as session:
        rows = session.execute(
            select(EventRow.seq, EventRow.payload).where(EventRow.type == "case.urged")
        ).all()
    # Within each commit, the payload order ("…a" before "…b") matches seq order.
    by_seq = dict(rows)
    for first, second in commits:
        assert by_seq[first]["message"].endswith("a") and by_seq[second]["message"].endswith("b")


def test_the_repository_round_trips_a_case_with_a_paused_clock(core: Core) -> None:
    case_id = new_case(core)
    with core.uow() as uow:
        case = uow.cases.get(case_id)
        case.verify(now=T0)
        case.register(category="garbage", urgency=Urgency.NORMAL, policy=SlaPolicy(), now=T0)
        case.dispatch(unit_id=10, department="urbanmgmt", worker_id=None, now=T0)
        case.suspend(reason="等待业主回复", now=T0 + timedelta(hours=5))
        uow.commit(T0 + timedelta(hours=5))
    with core.db.read() as session:
        loaded = to_domain(session.get(CaseRow, case_id))  # type: ignore[arg-type]
    assert loaded.state == CaseState.SUSPENDED
    assert loaded.state_before_suspend == CaseState.DISPATCHED
    assert loaded.sla is not None and loaded.sla.paused
    assert loaded.sla.elapsed(T0 + timedelta(days=2)) == timedelta(hours=5)


def test_replay_after_a_seq_is_ordered_scoped_and_bounded(core: Core) -> None:
    a = new_case(core, township_id=10)
    b = new_case(core, township_id=11)
    for case_id in (a, b):
        with core.uow() as uow:
            uow.cases.get(case_id).verify(now=T0)
            uow.commit(T0)
    with core.uow() as uow:
        uow.cases.get(a).reject(reason="重复上报", now=T0)
        uow.commit(T0)
    names = Directory()
    events, upto = events_after(core, names, 0, limit=100)
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5] and upto == 5
    assert events[0]["case"]["id"] == a and events[0]["type"] == "case.reported"
    assert events[-1]["case"]["state"] == "rejected"
    only_11, upto_11 = events_after(core, names, 0, limit=100, township_id=11)
    assert [e["case_id"] for e in only_11] == [b, b] and upto_11 == 5
    first_two, covered = events_after(core, names, 0, limit=2)
    assert [e["seq"] for e in first_two] == [1, 2] and covered == 2
    after_three, _ = events_after(core, names, 3, limit=100)
    assert [e["seq"] for e in after_three] == [4, 5]
    assert count_events_after(core, 2) == 3
    assert count_events_after(core, 0, township_id=10) == 3
    with core.db.read() as session:
        assert session.scalar(select(func.count()).select_from(EventRow)) == 5
