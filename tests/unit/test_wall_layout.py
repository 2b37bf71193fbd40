"""The wall's pure builders and strings: ids the scripts need, labels, map bounds, tiles."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard import i18n
from dashboard.wall_layout import (
    KPI_KEYS,
    PRESENCES,
    bounds_of,
    strings_for_browser,
    wall_page,
)
from dashboard.wall_panels import CHARTS, tile_count
from dispatch.domain.categories import CATEGORIES, DEPARTMENTS
from dispatch.domain.lifecycle import CaseState

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


def test_the_page_has_every_id_the_scripts_write() -> None:
    page = wall_page(lang="zh-CN", bounds=None, tz_offset_minutes=480)
    wanted = {f"wall-kpi-{k}" for k in KPI_KEYS} | {f"wall-chart-{c}" for c in CHARTS}
    wanted |= {"wall-latest-list", "wall-live"}
    wanted |= {"wall-clock", "wall-date", "wall-conn", "wall-lang"}
    wanted |= {"wall-workers", "wall-cases", "wall-hot", "wall-geo-cameras", "wall-geo-grids"}
    wanted |= {f"wall-presence-{p}" for p in PRESENCES}
    wanted |= {"wall-warnings", "wall-warnings-empty", "wall-tiles", "wall-tiles-mode"}
    wanted |= {f"wall-warn-count-{level}" for level in ("red", "yellow", "whistle")}
    wanted |= {"wall-call-banner", "wall-call-text", "wall-alert", "wall-alert-message"}
    assert wanted <= ids(page)


def test_the_parts_the_browser_fills_start_empty_and_hidden_ones_hidden() -> None:
    page = wall_page(lang="zh-CN", bounds=None, tz_offset_minutes=480)
    by_id = {c.id: c for c in walk(page) if getattr(c, "id", None)}
    # Dash must never own children the scripts put there (it would fight them on a render).
    for name in ("wall-warnings", "wall-tiles", *(f"wall-chart-{c}" for c in CHARTS)):
        assert getattr(by_id[name], "children", None) is None, name
    assert by_id["wall-call-banner"].hidden and by_id["wall-alert"].hidden


def test_the_wall_script_writes_every_kpi_and_presence_the_layout_has() -> None:
    """assets/js/wall.js writes the KPI strip and the presence counts into the layout's
    elements by id (wall-kpi-<key>, wall-presence-<p>): its lists must be the layout's."""
    source = WALL_JS.read_text(encoding="utf-8")

    def js_list(name: str) -> list[str]:
        found = re.search(rf"var {name} = \[(.*?)\];", source, re.S)
        assert found, f"{name} not found in {WALL_JS.name}"
        return re.findall(r'"([a-z_]+)"', found.group(1))

    assert js_list("KPI_KEYS") == list(KPI_KEYS)
    assert js_list("PRESENCES") == list(PRESENCES)


@pytest.mark.parametrize(("raw", "count"), [("4", 4), ("9", 9), ("16", 16), ("5", None),
                                            ("x", None), (None, None)])  # fmt: skip
def test_the_tiles_are_4_9_or_16_else_the_screen_chooses(
    raw: str | None, count: int | None
) -> None:
    assert tile_count(raw) == count
    page = wall_page(lang="zh-CN", bounds=None, tz_offset_minutes=480, tiles=count)
    tiles = next(c for c in walk(page) if getattr(c, "id", None) == "wall-tiles")
    assert getattr(tiles, "data-tiles") == (str(count) if count else "auto")


def test_the_english_page_switches_back_to_chinese() -> None:
    page = wall_page(lang="en", bounds=None, tz_offset_minutes=480)
    switch = next(c for c in walk(page) if getattr(c, "id", None) == "wall-lang")
    assert switch.href == "/wall?lang=zh-CN" and switch.children == "中文"
    assert "is-en" in page.className


def test_the_browser_gets_state_labels_in_the_page_language() -> None:
    strings = json.loads(strings_for_browser("en"))
    assert strings["state.handling"] == "Handling" and strings["lang"] == "en"
    assert json.loads(strings_for_browser("zh-CN"))["conn.connected"] == "已连接"


def test_the_browser_gets_the_walls_strings_and_every_category_and_department_name() -> None:
    zh = json.loads(strings_for_browser("zh-CN"))
    en = json.loads(strings_for_browser("en"))
    assert zh["wall.warnings"] == "超期预警" and en["wall.warnings"] == "Overdue warnings"
    assert {f"cat.{c.code}" for c in CATEGORIES} <= zh.keys()
    assert {f"dept.{d.code}" for d in DEPARTMENTS} <= en.keys()
    assert zh["cat.firerisk"] == "消防隐患"


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


def test_the_map_paints_base_then_hotspots_cameras_workers_and_cases_on_top() -> None:
    page = wall_page(lang="zh-CN", bounds=None, tz_offset_minutes=480)
    z = {c.name: c.style["zIndex"] for c in walk(page) if type(c).__name__ == "Pane"}
    live = [z.pop(f"wall-{name}-pane") for name in ("cameras", "workers", "cases")]
    assert max(z.values()) < live[0] < live[1] < live[2], z
    assert z["wall-grids-pane"] < z["wall-hot-pane"] < z["wall-roads-pane"], z
