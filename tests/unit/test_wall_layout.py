"""The wall's pure builders and strings: ids the callback needs, labels, map bounds."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard import i18n
from dashboard.wall_layout import (
    BOARDS,
    KPI_KEYS,
    PRESENCES,
    bounds_of,
    strings_for_browser,
    wall_page,
)
from dispatch.domain.lifecycle import CaseState
from tests.conftest import require_service

WALL_JS = Path(__file__).resolve().parents[2] / "assets" / "js" / "wall.js"
DESIGN_LABELS = (
    "上报 核实 立案 派遣 签收 处置中 已处置 结案 已回访 不予受理 回退 挂起 上报上级 重办 合并 撤销"
)


def walk(component: Any) -> Iterator[Any]:
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from walk(child)


def ids(page: Any) -> set[str]:
    return {c.id for c in walk(page) if getattr(c, "id", None)}


def test_every_case_state_has_its_design_label_and_an_english_one() -> None:
    zh = [i18n.t(f"state.{s.value}", i18n.ZH) for s in CaseState]
    en = [i18n.t(f"state.{s.value}", i18n.EN) for s in CaseState]
    assert " ".join(zh) == DESIGN_LABELS
    assert all(label.isascii() and label for label in en)


def test_every_string_has_both_languages() -> None:
    for key, (zh, en) in i18n.table().items():
        assert zh and en, key


def test_an_unknown_string_names_itself() -> None:
    with pytest.raises(KeyError, match=r"wall\.nope"):
        i18n.t("wall.nope")


@pytest.mark.parametrize(
    ("raw", "lang"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("en-US", "en"),
        ("zh", "zh-CN"),
        ("fr", "zh-CN"),
    ],
)
def test_the_language_is_read_leniently(raw: str | None, lang: str) -> None:
    assert i18n.normalize_lang(raw) == lang


def test_the_page_has_every_id_the_render_callback_writes() -> None:
    page = wall_page(lang="zh-CN", bounds=None, tz_offset_minutes=480)
    wanted = {f"wall-kpi-{k}" for k in KPI_KEYS} | {f"wall-{b}-list" for b in BOARDS}
    wanted |= {"wall-view", "wall-latest-list", "wall-latest-empty", "wall-cases", "wall-live"}
    wanted |= {"wall-clock", "wall-date", "wall-conn", "wall-lang", "wall-workers"}
    wanted |= {f"wall-presence-{p}" for p in PRESENCES}
    assert wanted <= ids(page)


def test_the_render_callback_returns_one_value_per_output() -> None:
    node = shutil.which("node")
    if node is None:
        require_service("Node.js", "`node` is not on PATH (Debian: apt-get install nodejs)")
    script = (
        "global.window = {dash_clientside: {no_update: 'NO'}};"
        f"require({json.dumps(str(WALL_JS))});"
        "process.stdout.write(JSON.stringify(window.dash_clientside.wall.render({})));"
    )
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    assert len(json.loads(out.stdout)) == len(KPI_KEYS) + 1 + len(BOARDS) + 1 + len(PRESENCES)


def test_the_english_page_switches_back_to_chinese() -> None:
    page = wall_page(lang="en", bounds=None, tz_offset_minutes=480)
    switch = next(c for c in walk(page) if getattr(c, "id", None) == "wall-lang")
    assert switch.href == "/wall?lang=zh-CN" and switch.children == "中文"
    assert "is-en" in page.className


def test_the_browser_gets_state_labels_in_the_page_language() -> None:
    strings = json.loads(strings_for_browser("en"))
    assert strings["state.handling"] == "Handling" and strings["lang"] == "en"
    assert json.loads(strings_for_browser("zh-CN"))["conn.connected"] == "已连接"


def test_bounds_cover_every_ring_of_every_feature() -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"geometry": {"type": "Polygon", "coordinates": [[[103.1, 25.2], [103.5, 25.9]]]}},
            {"geometry": {"type": "LineString", "coordinates": [[102.9, 25.4], [103.2, 26.0]]}},
            {"geometry": None},
        ],
    }
    assert bounds_of(collection) == [[25.2, 102.9], [26.0, 103.5]]
    assert bounds_of({"features": []}) is None


def test_the_workers_kpi_and_the_presence_legend_speak_both_languages() -> None:
    assert i18n.t("kpi.workers_online") == "网格员在线"
    assert i18n.t("kpi.workers_online", i18n.EN) == "Workers online"
    for lang in i18n.LANGS:
        page = wall_page(lang=lang, bounds=None, tz_offset_minutes=480)
        texts = {c.children for c in walk(page) if isinstance(getattr(c, "children", None), str)}
        assert {i18n.t(f"presence.{p}", lang) for p in PRESENCES} <= texts


def test_workers_are_drawn_above_the_base_map_and_under_the_cases() -> None:
    page = wall_page(lang="zh-CN", bounds=None, tz_offset_minutes=480)
    z = {c.name: c.style["zIndex"] for c in walk(page) if type(c).__name__ == "Pane"}
    workers, cases = z.pop("wall-workers-pane"), z.pop("wall-cases-pane")
    assert max(z.values()) < workers < cases, z
