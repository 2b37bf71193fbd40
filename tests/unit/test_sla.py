"""SLA arithmetic with an injected clock: budgets, lights, suspension, extension."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dispatch.domain.errors import InvalidValue
from dispatch.domain.sla import Light, SlaClock, SlaPolicy, Urgency

T0 = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)
TINY = timedelta(microseconds=1)
H = timedelta(hours=1)

# (urgency, budget, 2/3 of it) written out from DESIGN.md, not computed from the policy.
BUDGETS = [
    (Urgency.EMERGENCY, timedelta(hours=24), timedelta(hours=16)),
    (Urgency.IMMEDIATE, timedelta(hours=24), timedelta(hours=16)),
    (Urgency.URGENT, timedelta(days=3), timedelta(hours=48)),
    (Urgency.NORMAL, timedelta(days=7), timedelta(hours=112)),
]
IDS = [u.value for u, _, _ in BUDGETS]


def clock(urgency: Urgency = Urgency.NORMAL) -> SlaClock:
    return SlaPolicy().start(urgency, T0)


# -- budgets and lights ------------------------------------------------------------------------


@pytest.mark.parametrize(("urgency", "budget", "yellow"), BUDGETS, ids=IDS)
def test_default_budget_per_urgency(urgency: Urgency, budget: timedelta, yellow: timedelta) -> None:
    c = clock(urgency)
    assert c.budget == budget
    assert c.deadline(T0) == T0 + budget
    assert c.remaining(T0) == budget


@pytest.mark.parametrize(("urgency", "budget", "yellow"), BUDGETS, ids=IDS)
def test_light_is_green_until_two_thirds_then_yellow(
    urgency: Urgency, budget: timedelta, yellow: timedelta
) -> None:
    c = clock(urgency)
    assert c.light(T0) == Light.GREEN
    assert c.light(T0 + yellow - TINY) == Light.GREEN
    assert c.light(T0 + yellow) == Light.YELLOW
    assert c.yellow_at(T0) == T0 + yellow


@pytest.mark.parametrize(("urgency", "budget", "yellow"), BUDGETS, ids=IDS)
def test_light_turns_red_exactly_at_the_deadline(
    urgency: Urgency, budget: timedelta, yellow: timedelta
) -> None:
    c = clock(urgency)
    assert c.light(T0 + budget - TINY) == Light.YELLOW
    assert c.light(T0 + budget) == Light.RED
    assert c.light(T0 + budget * 10) == Light.RED


def test_remaining_goes_negative_after_the_deadline() -> None:
    c = clock(Urgency.URGENT)
    assert c.remaining(T0 + timedelta(days=4)) == -timedelta(days=1)
    assert c.elapsed(T0 + timedelta(days=4)) == timedelta(days=4)


def test_deadline_stays_put_while_the_clock_runs() -> None:
    c = clock()
    assert {c.deadline(T0 + k * H) for k in (0, 1, 50, 200)} == {T0 + timedelta(days=7)}


def test_elapsed_before_the_start_is_zero() -> None:
    assert clock().elapsed(T0 - H) == timedelta(0)


def test_custom_yellow_fraction_moves_the_yellow_light() -> None:
    c = SlaPolicy(yellow_fraction=0.5).start(Urgency.IMMEDIATE, T0)
    assert c.light(T0 + 12 * H - TINY) == Light.GREEN
    assert c.light(T0 + 12 * H) == Light.YELLOW


def test_custom_budgets_are_used() -> None:
    budgets = {u: timedelta(hours=n) for u, n in zip(Urgency, (1, 15, 72, 168), strict=True)}
    c = SlaPolicy(budgets=budgets).start(Urgency.IMMEDIATE, T0)
    assert c.deadline(T0) == T0 + 15 * H


# -- suspension --------------------------------------------------------------------------------


def test_elapsed_is_frozen_while_paused() -> None:
    c = clock().pause(T0 + 10 * H)
    assert c.paused
    assert c.elapsed(T0 + 10 * H) == 10 * H
    assert c.elapsed(T0 + 500 * H) == 10 * H
    assert c.light(T0 + timedelta(days=30)) == Light.GREEN


def test_a_pause_moves_the_deadline_by_its_length() -> None:
    c = clock().pause(T0 + 10 * H).resume(T0 + 13 * H)
    assert not c.paused
    assert c.paused_total == 3 * H
    assert c.deadline(T0 + 20 * H) == T0 + timedelta(days=7) + 3 * H
    assert c.yellow_at(T0 + 20 * H) == T0 + 112 * H + 3 * H


def test_the_deadline_slides_forward_during_a_pause() -> None:
    c = clock().pause(T0 + 10 * H)
    assert c.deadline(T0 + 10 * H) == T0 + timedelta(days=7)
    assert c.deadline(T0 + 15 * H) == T0 + timedelta(days=7) + 5 * H


def test_several_pauses_accumulate() -> None:
    c = clock()
    for start, length in ((2, 1), (10, 4), (30, 7)):
        c = c.pause(T0 + start * H).resume(T0 + (start + length) * H)
    assert c.paused_total == 12 * H
    assert c.elapsed(T0 + 50 * H) == 38 * H
    assert c.deadline(T0 + 50 * H) == T0 + timedelta(days=7) + 12 * H
    assert c.light(T0 + (112 + 12) * H - TINY) == Light.GREEN
    assert c.light(T0 + (112 + 12) * H) == Light.YELLOW


def test_pausing_a_paused_clock_is_refused() -> None:
    c = clock().pause(T0 + H)
    with pytest.raises(InvalidValue) as raised:
        c.pause(T0 + 2 * H)
    assert raised.value.field == "sla"
    assert "already paused" in raised.value.message


def test_resuming_a_running_clock_is_refused() -> None:
    with pytest.raises(InvalidValue) as raised:
        clock().resume(T0 + H)
    assert raised.value.field == "sla"
    assert "not paused" in raised.value.message


def test_pause_and_resume_leave_the_original_clock_untouched() -> None:
    original = clock()
    original.pause(T0 + H)
    assert not original.paused
    assert original.paused_total == timedelta(0)


# -- extension ---------------------------------------------------------------------------------


def test_extension_grows_the_budget_and_the_deadline() -> None:
    c = clock(Urgency.URGENT).extend(timedelta(hours=24))
    assert c.budget == timedelta(days=4)
    assert c.deadline(T0) == T0 + timedelta(days=4)


def test_extension_moves_yellow_to_two_thirds_of_the_new_budget() -> None:
    c = clock(Urgency.URGENT).extend(timedelta(days=3))  # 6 days: yellow at 4 days
    assert c.light(T0 + timedelta(days=4) - TINY) == Light.GREEN
    assert c.light(T0 + timedelta(days=4)) == Light.YELLOW
    assert c.light(T0 + timedelta(days=6)) == Light.RED


def test_extension_can_turn_a_red_case_back_to_yellow() -> None:
    now = T0 + timedelta(days=3, hours=1)
    c = clock(Urgency.URGENT)
    assert c.light(now) == Light.RED
    assert c.extend(timedelta(days=1)).light(now) == Light.YELLOW


def test_extension_can_turn_a_red_case_back_to_green() -> None:
    now = T0 + timedelta(days=3, hours=1)
    assert clock(Urgency.URGENT).extend(timedelta(days=3)).light(now) == Light.GREEN


def test_extension_keeps_the_suspensions_already_counted() -> None:
    c = clock().pause(T0 + H).resume(T0 + 3 * H).extend(timedelta(days=1))
    assert c.deadline(T0 + 5 * H) == T0 + timedelta(days=8) + 2 * H


@pytest.mark.parametrize("extra", [timedelta(0), -H])
def test_extension_must_be_positive(extra: timedelta) -> None:
    with pytest.raises(InvalidValue) as raised:
        clock().extend(extra)
    assert raised.value.field == "extra"


# -- timezones ---------------------------------------------------------------------------------

NAIVE = datetime(2024, 5, 6, 9, 0)


@pytest.mark.parametrize(
    "method", ["elapsed", "remaining", "deadline", "yellow_at", "light", "pause"]
)
def test_naive_times_are_refused(method: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        getattr(clock(), method)(NAIVE)
    assert raised.value.field == "now"
    assert "timezone-aware" in raised.value.message


def test_naive_resume_time_is_refused() -> None:
    with pytest.raises(InvalidValue):
        clock().pause(T0 + H).resume(NAIVE)


def test_naive_start_is_refused() -> None:
    with pytest.raises(InvalidValue) as raised:
        SlaPolicy().start(Urgency.NORMAL, NAIVE)
    assert raised.value.field == "started_at"


def test_a_start_in_beijing_time_counts_the_same_instant_as_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    c = SlaPolicy().start(Urgency.NORMAL, T0.astimezone(beijing))
    assert c.elapsed(T0 + 5 * H) == 5 * H
    assert c.deadline(T0) == T0 + timedelta(days=7)


# -- policy validation -------------------------------------------------------------------------


def test_policy_without_a_budget_for_every_urgency_is_refused() -> None:
    budgets: dict[Urgency, timedelta] = {
        u: timedelta(days=1) for u in Urgency if u != Urgency.URGENT
    }
    with pytest.raises(InvalidValue) as raised:
        SlaPolicy(budgets=budgets)
    assert raised.value.field == "budgets"
    assert "urgent" in raised.value.message


@pytest.mark.parametrize("bad", [timedelta(0), -H])
def test_policy_with_a_non_positive_budget_is_refused(bad: timedelta) -> None:
    budgets = {u: timedelta(days=1) for u in Urgency} | {Urgency.NORMAL: bad}
    with pytest.raises(InvalidValue) as raised:
        SlaPolicy(budgets=budgets)
    assert raised.value.field == "budgets"
    assert "normal" in raised.value.message


@pytest.mark.parametrize("fraction", [0, 1, -0.5, 1.5, float("nan")])
def test_policy_with_a_yellow_fraction_outside_0_to_1_is_refused(fraction: float) -> None:
    with pytest.raises(InvalidValue) as raised:
        SlaPolicy(yellow_fraction=fraction)
    assert raised.value.field == "yellow_fraction"


# -- property: working time + suspended time == wall time ---------------------------------------
# hypothesis is not installed in this environment, so the property runs over literal tables
# and a fixed set of seeded random sequences.

PauseTable = list[tuple[float, float]]  # (hours after the previous event, pause length in hours)

TABLES: list[PauseTable] = [
    [],
    [(0, 0)],  # a zero-length pause at the start
    [(0, 5)],
    [(1, 2), (0, 3)],  # resumed and paused again at the same instant
    [(10, 0.5), (20, 48), (1e-6, 1e-6)],
    [(200, 1)],  # a pause after the deadline
]


def seeded(seed: int) -> PauseTable:
    rnd = random.Random(seed)
    return [(rnd.uniform(0, 30), rnd.uniform(0, 30)) for _ in range(rnd.randint(1, 12))]


def check_working_plus_paused_is_wall_time(table: PauseTable, still_paused: bool) -> None:
    c = clock()
    t, paused = T0, timedelta(0)
    for gap, length in table:
        t += timedelta(hours=gap)
        c = c.pause(t)
        t += timedelta(hours=length)
        assert c.elapsed(t) == t - T0 - paused - timedelta(hours=length)
        c = c.resume(t)
        paused += timedelta(hours=length)
        assert c.elapsed(t) + paused == t - T0
    end = t + timedelta(hours=3)
    if still_paused:
        c = c.pause(t)
        paused += end - t
    assert c.paused_total + (end - t if still_paused else timedelta(0)) == paused
    assert c.elapsed(end) + paused == end - T0
    assert c.deadline(end) == T0 + timedelta(days=7) + paused


@pytest.mark.parametrize("still_paused", [False, True])
@pytest.mark.parametrize("table", TABLES)
def test_working_plus_paused_time_is_wall_time_for_tables(
    table: PauseTable, still_paused: bool
) -> None:
    check_working_plus_paused_is_wall_time(table, still_paused)


@pytest.mark.parametrize("seed", range(40))
def test_working_plus_paused_time_is_wall_time_for_random_sequences(seed: int) -> None:
    check_working_plus_paused_is_wall_time(seeded(seed), still_paused=seed % 2 == 1)
