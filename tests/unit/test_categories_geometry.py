"""The 21 categories and their departments; point in polygon, distances, centroids."""

from __future__ import annotations

import math

import pytest

from dispatch.domain.categories import (
    CATEGORIES,
    CATEGORY_BY_CODE,
    DEPARTMENT_BY_CODE,
    DEPARTMENTS,
    suggest_category,
)
from dispatch.domain.geometry import (
    bbox,
    centroid,
    haversine_m,
    point_in_polygon,
    point_in_ring,
)
from dispatch.domain.org import Category
from dispatch.domain.sla import Urgency

# The 21 categories, in DESIGN.md's order.
DESIGN_NAMES = [
    "物业管理", "安全隐患", "邻里纠纷", "征地拆迁", "环境污染", "道路设施损坏", "垃圾满溢",
    "乱停乱放", "市容市貌", "违章建筑", "消防隐患", "劳资纠纷", "婚恋家庭", "噪音扰民", "水电暖",
    "市场监管", "社会救助", "治安", "交通", "公共服务", "其他",
]  # fmt: skip


# -- categories --------------------------------------------------------------------------------


def test_there_are_the_21_categories_of_the_design_in_order() -> None:
    assert len(CATEGORIES) == 21
    assert [c.name for c in CATEGORIES] == DESIGN_NAMES


def test_category_codes_are_unique() -> None:
    codes = [c.code for c in CATEGORIES]
    assert len(set(codes)) == len(codes)
    assert set(CATEGORY_BY_CODE) == set(codes)


def test_department_codes_are_unique() -> None:
    codes = [d.code for d in DEPARTMENTS]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("category", CATEGORIES, ids=lambda c: c.code)
def test_every_category_has_an_existing_department_and_a_valid_urgency(category: Category) -> None:
    assert category.department in DEPARTMENT_BY_CODE
    assert category.default_urgency in {u.value for u in Urgency}


def test_every_department_is_responsible_for_some_category() -> None:
    assert {c.department for c in CATEGORIES} == set(DEPARTMENT_BY_CODE)


def test_only_other_has_no_keywords() -> None:
    assert [c.code for c in CATEGORIES if not c.keywords] == ["other"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("小区门口垃圾桶满溢了", "garbage"),  # 小区 hints property, three garbage words win
        ("路灯不亮", "road"),
        ("有人在楼下乱停车", "parking"),
        ("工资被拖欠三个月", "wages"),
        ("晚上广场舞噪音太大", "noise"),
        ("楼道里堆满杂物，消防通道被堵", "firerisk"),
        ("今天天气很好", "other"),
        ("", "other"),
    ],
)
def test_suggest_category_from_chinese_text(text: str, code: str) -> None:
    assert suggest_category(text).code == code


# -- point in polygon ---------------------------------------------------------------------------

SQUARE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
# A "U": the notch between x 0.4–0.6 above y 0.5 is outside.
U_SHAPE = [
    (0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.6, 1.0), (0.6, 0.5), (0.4, 0.5), (0.4, 1.0), (0.0, 1.0),
]  # fmt: skip
OUTER = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
HOLE = [(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0)]


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (0.5, 0.5, True),
        (0.01, 0.99, True),
        (1.5, 0.5, False),
        (-0.1, 0.5, False),
        (0.5, 1.01, False),
        (0.5, -3.0, False),
    ],
)
def test_point_in_square(lon: float, lat: float, expected: bool) -> None:
    assert point_in_polygon(lon, lat, [SQUARE]) is expected


def test_a_closed_ring_counts_the_same_as_an_open_one() -> None:
    closed = [*SQUARE, SQUARE[0]]
    assert point_in_ring(0.5, 0.5, closed)
    assert not point_in_ring(1.5, 0.5, closed)


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (0.2, 0.8, True),  # left arm
        (0.8, 0.8, True),  # right arm
        (0.5, 0.2, True),  # the base below the notch
        (0.5, 0.8, False),  # inside the notch
        (0.5, 0.5001, False),  # just above the notch floor
    ],
)
def test_point_in_concave_polygon(lon: float, lat: float, expected: bool) -> None:
    assert point_in_polygon(lon, lat, [U_SHAPE]) is expected


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [(2.0, 2.0, True), (5.0, 5.0, False), (4.5, 8.0, True), (11.0, 5.0, False)],
)
def test_point_in_polygon_with_a_hole(lon: float, lat: float, expected: bool) -> None:
    assert point_in_polygon(lon, lat, [OUTER, HOLE]) is expected


def test_empty_polygon_contains_nothing() -> None:
    assert point_in_polygon(0.0, 0.0, []) is False


def test_bbox_of_a_polygon_is_its_outer_ring_extent() -> None:
    assert bbox([U_SHAPE]) == (0.0, 0.0, 1.0, 1.0)


# -- distances and centroids -----------------------------------------------------------------


def test_one_degree_of_latitude_is_about_111_2_km() -> None:
    assert haversine_m((103.8, 25.0), (103.8, 26.0)) == pytest.approx(111_195, abs=5)


def test_one_degree_of_longitude_shrinks_with_latitude() -> None:
    at_equator = haversine_m((0.0, 0.0), (1.0, 0.0))
    at_60 = haversine_m((0.0, 60.0), (1.0, 60.0))
    assert at_equator == pytest.approx(111_195, abs=5)
    assert at_60 == pytest.approx(at_equator * math.cos(math.radians(60)), rel=1e-3)


def test_distance_is_symmetric_and_zero_to_itself() -> None:
    a, b = (103.79, 25.49), (103.81, 25.52)
    assert haversine_m(a, a) == 0
    assert haversine_m(a, b) == pytest.approx(haversine_m(b, a))
    assert 3_000 < haversine_m(a, b) < 4_500


@pytest.mark.parametrize("ring", [SQUARE, SQUARE[::-1], [*SQUARE, SQUARE[0]]])
def test_centroid_of_a_square_is_its_middle_whatever_the_winding(
    ring: list[tuple[float, float]],
) -> None:
    x, y = centroid(ring)
    assert x == pytest.approx(0.5)
    assert y == pytest.approx(0.5)


def test_centroid_of_a_concave_shape_is_the_area_centroid_not_the_vertex_mean() -> None:
    # An L of two unit squares side by side plus one on top of the left: area 3.
    ell = [(0.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0), (1.0, 2.0), (0.0, 2.0)]
    x, y = centroid(ell)
    assert x == pytest.approx(5 / 6)
    assert y == pytest.approx(5 / 6)


def test_centroid_of_a_degenerate_ring_falls_back_to_the_vertex_mean() -> None:
    assert centroid([(0.0, 0.0), (2.0, 2.0), (4.0, 4.0)]) == pytest.approx((2.0, 2.0))
