"""Who the case page's timeline says acted, for each kind of actor an event can carry."""

from __future__ import annotations

import pytest

from dashboard.case_layout import actor_text


@pytest.mark.parametrize(
    ("actor", "name", "zh", "en"),
    [
        ("duty:duty", "值班员 李明", "值班员 李明", "值班员 李明"),  # an account: its name
        ("duty:gone", None, "值班员 gone", "Duty officer gone"),  # removed since
        ("page:report", None, "群众", "Citizen"),  # the citizen's report page
        ("citizen", None, "群众", "Citizen"),  # a rating
        ("open311:hotline-12345", None, "系统接口 hotline-12345", "Integration hotline-12345"),
        ("api:gridapp", None, "系统接口 gridapp", "Integration gridapp"),
        (None, None, "系统", "System"),  # the clock
        ("simulator", None, "系统", "System"),
        ("robot:7", None, "robot:7", "robot:7"),  # unknown: as stored, not lost
    ],
)
def test_every_kind_of_actor_reads_as_a_person_or_a_source(
    actor: str | None, name: str | None, zh: str, en: str
) -> None:
    assert actor_text(actor, "zh-CN", name) == zh
    assert actor_text(actor, "en", name) == en
