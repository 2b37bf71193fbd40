"""The demo county: counts, determinism, nested partitions, simple rings, map layers, texts."""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Sequence

import pytest

from dispatch.demo.county import LAYERS, DemoCounty, build_demo_county
from dispatch.demo.texts import (
    ADDRESS_STREETS,
    TEMPLATES,
    CitizenName,
    random_citizen_name,
    report_text,
)
from dispatch.domain.categories import CATEGORIES, DEPARTMENTS
from dispatch.domain.errors import InvalidValue
from dispatch.domain.geometry import bbox, haversine_m, point_in_polygon
from dispatch.domain.org import OrgUnit, UnitKind

Point = tuple[float, float]
MAX_JSON_BYTES = 1_500_000


@pytest.fixture(scope="module")
def county() -> DemoCounty:
    return build_demo_county()


def of_kind(county: DemoCounty, *kinds: UnitKind) -> list[OrgUnit]:
    return [u for u in county.units if u.kind in kinds]


def township_kind(county: DemoCounty, unit_id: int) -> UnitKind | None:
    township = county.township_of(unit_id)
    return township.kind if township else None


class Brute:
    """Which of some units hold a point, by point_in_polygon on each (bounding boxes first)."""

    def __init__(self, units: Sequence[OrgUnit]) -> None:
        self.units = [(u, bbox(u.polygon)) for u in units]

    def holding(self, lon: float, lat: float) -> list[OrgUnit]:
        return [
            u
            for u, (x0, y0, x1, y1) in self.units
            if x0 <= lon <= x1 and y0 <= lat <= y1 and point_in_polygon(lon, lat, u.polygon)
        ]


# -- geometry helpers, written here so the tests do not trust the code under test --------------


def signed_area(ring: Sequence[Point]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2


def orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def on_segment(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1, d2, d3, d4 = orient(q1, q2, p1), orient(q1, q2, p2), orient(p1, p2, q1), orient(p1, p2, q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and on_segment(q1, q2, p1))
        or (d2 == 0 and on_segment(q1, q2, p2))
        or (d3 == 0 and on_segment(p1, p2, q1))
        or (d4 == 0 and on_segment(p1, p2, q2))
    )


def self_intersections(ring: Sequence[Point]) -> list[tuple[int, int]]:
    """Pairs of edges of a closed ring that meet, other than neighbours at their shared vertex."""
    edges = list(itertools.pairwise(ring))
    n = len(edges)
    bad = []
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                a, b = edges[i], edges[j]
                shared = a[1] if j == i + 1 else a[0]
                other_a = a[0] if j == i + 1 else a[1]
                other_b = b[1] if j == i + 1 else b[0]
                # neighbours may only touch at the shared vertex: not fold back along each other
                ax, ay = other_a[0] - shared[0], other_a[1] - shared[1]
                bx, by = other_b[0] - shared[0], other_b[1] - shared[1]
                if ax * by - ay * bx == 0 and ax * bx + ay * by > 0:
                    bad.append((i, j))
            elif segments_intersect(*edges[i], *edges[j]):
                bad.append((i, j))
    return bad


def assert_simple_closed_ccw(unit: OrgUnit) -> None:
    assert len(unit.polygon) == 1, f"{unit.code} should be one ring without holes"
    ring = unit.polygon[0]
    assert len(ring) >= 4, f"{unit.code} has a degenerate ring"
    assert ring[0] == ring[-1], f"{unit.code} ring is not closed"
    assert len(set(ring[:-1])) == len(ring) - 1, f"{unit.code} ring repeats a vertex"
    assert signed_area(ring) > 0, f"{unit.code} ring is not counter-clockwise"
    assert self_intersections(ring) == [], f"{unit.code} ring crosses itself"


# -- counts, ids, names -------------------------------------------------------------------------


def test_counts_fall_in_the_ranges_of_a_small_county(county: DemoCounty) -> None:
    kinds = Counter(u.kind for u in county.units)
    assert kinds[UnitKind.CITY] == 1
    assert kinds[UnitKind.COUNTY] == 1
    assert kinds[UnitKind.STREET] == 4
    assert kinds[UnitKind.TOWNSHIP] == 2
    assert 25 <= kinds[UnitKind.COMMUNITY] <= 35
    assert 180 <= kinds[UnitKind.GRID] <= 200
    assert 140 <= len(county.workers) <= 160
    assert 55 <= len(county.cameras) <= 65
    assert county.departments == DEPARTMENTS
    assert 12 <= len(county.departments) <= 14


def test_ids_codes_and_names_follow_the_conventions(county: DemoCounty) -> None:
    assert county.unit(1).kind == UnitKind.CITY and county.unit(1).name.endswith("市")
    assert county.unit(2).kind == UnitKind.COUNTY and county.unit(2).name.endswith("县")
    for t in county.townships():
        assert 10 <= t.id < 100 and re.fullmatch(r"T\d\d", t.code)
        assert t.name.endswith("街道") if t.kind == UnitKind.STREET else t.name[-1] in "乡镇"
    for c in of_kind(county, UnitKind.COMMUNITY):
        street = county.unit(c.parent_id or 0).kind == UnitKind.STREET
        assert 100 <= c.id < 1000 and re.fullmatch(r"T\d\dC\d\d", c.code)
        assert c.code.startswith(county.unit(c.parent_id or 0).code)
        assert c.name.endswith("社区") if street else c.name.endswith("村")
    for g in county.grids():
        community = county.unit(g.parent_id or 0)
        assert g.id >= 1000 and re.fullmatch(r"T\d\dC\d\dG\d\d", g.code)
        assert g.code.startswith(community.code)
        assert re.fullmatch(re.escape(community.name) + r"第\d+网格", g.name)
    codes = [u.code for u in county.units]
    assert len(set(codes)) == len(codes)
    names = [u.name for u in county.units]
    assert len(set(names)) == len(names)


def test_every_grid_reaches_the_county_through_community_and_township(county: DemoCounty) -> None:
    for grid in county.grids():
        chain = [grid.kind]
        unit = grid
        while unit.parent_id is not None:
            unit = county.unit(unit.parent_id)
            chain.append(unit.kind)
        assert chain[:2] == [UnitKind.GRID, UnitKind.COMMUNITY]
        assert chain[2] in (UnitKind.TOWNSHIP, UnitKind.STREET)
        assert chain[3:] == [UnitKind.COUNTY, UnitKind.CITY]


def test_children_grids_and_townships_answer_from_the_units(county: DemoCounty) -> None:
    assert {u.id for u in county.children(2)} == {t.id for t in county.townships()}
    for t in county.townships():
        for c in county.children(t.id):
            assert c.parent_id == t.id and c.kind == UnitKind.COMMUNITY
    assert sum(len(county.children(c.id)) for c in of_kind(county, UnitKind.COMMUNITY)) == len(
        county.grids()
    )
    with pytest.raises(InvalidValue, match="9999"):
        county.unit(9999)


def test_street_grids_are_smaller_than_township_grids(county: DemoCounty) -> None:
    def area(g: OrgUnit) -> float:
        return signed_area(g.polygon[0])

    street = [area(g) for g in county.grids() if township_kind(county, g.id) == UnitKind.STREET]
    rural = [area(g) for g in county.grids() if township_kind(county, g.id) == UnitKind.TOWNSHIP]
    assert len(street) > len(rural)
    assert statistics.median(street) * 4 < statistics.median(rural)


def test_the_county_lies_near_qujing_and_is_30_to_40_km_across(county: DemoCounty) -> None:
    x0, y0, x1, y1 = bbox(county.unit(2).polygon)
    assert abs((x0 + x1) / 2 - 103.8) < 0.1 and abs((y0 + y1) / 2 - 25.6) < 0.1
    width = haversine_m((x0, (y0 + y1) / 2), (x1, (y0 + y1) / 2)) / 1000
    height = haversine_m(((x0 + x1) / 2, y0), ((x0 + x1) / 2, y1)) / 1000
    assert 28 <= width <= 42 and 28 <= height <= 42
    ring = county.unit(2).polygon[0]
    assert len(ring) > 30, "an irregular boundary, not a rectangle"
    assert signed_area(ring) < 0.9 * (x1 - x0) * (y1 - y0)


# -- determinism --------------------------------------------------------------------------------


def test_the_same_seed_builds_an_equal_county_and_another_seed_a_different_one() -> None:
    fresh = build_demo_county.__wrapped__(2024)
    assert fresh == build_demo_county(2024)
    assert build_demo_county(2024) is build_demo_county(2024)
    other = build_demo_county.__wrapped__(7)
    assert other != fresh
    assert other.unit(2).polygon != fresh.unit(2).polygon


# -- partitions and rings -----------------------------------------------------------------------


def test_townships_communities_and_grids_partition_the_county(county: DemoCounty) -> None:
    boundary = county.unit(2).polygon
    towns = Brute(county.townships())
    communities = Brute(of_kind(county, UnitKind.COMMUNITY))
    grids = Brute(county.grids())
    x0, y0, x1, y1 = bbox(boundary)
    rng = random.Random(5)
    inside_count = 0
    for _ in range(5000):
        lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
        t, c, g = towns.holding(lon, lat), communities.holding(lon, lat), grids.holding(lon, lat)
        if point_in_polygon(lon, lat, boundary):
            inside_count += 1
            assert (len(t), len(c), len(g)) == (1, 1, 1), (lon, lat)
            assert g[0].parent_id == c[0].id and c[0].parent_id == t[0].id, (lon, lat)
        else:
            assert (t, c, g) == ([], [], []), (lon, lat)
    assert 2500 < inside_count < 4900


def test_township_and_community_rings_are_closed_simple_and_counter_clockwise(
    county: DemoCounty,
) -> None:
    assert_simple_closed_ccw(county.unit(2))
    for unit in of_kind(county, UnitKind.TOWNSHIP, UnitKind.STREET, UnitKind.COMMUNITY):
        assert_simple_closed_ccw(unit)


def test_grid_rings_are_closed_simple_and_counter_clockwise(county: DemoCounty) -> None:
    for grid in random.Random(3).sample(county.grids(), 60):
        assert_simple_closed_ccw(grid)


def test_the_ring_check_catches_a_bow_tie() -> None:
    bow_tie = [(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]
    assert self_intersections(bow_tie) != []
    assert self_intersections([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]) == []


# -- workers and cameras ------------------------------------------------------------------------


def test_every_worker_sits_in_an_existing_grid_with_a_name_and_a_phone(county: DemoCounty) -> None:
    grid_ids = {g.id for g in county.grids()}
    for w in county.workers:
        assert w.grid_id in grid_ids
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", w.name)
        assert re.fullmatch(r"1[3-9]\d{9}", w.phone)
    assert len({w.id for w in county.workers}) == len(county.workers)
    assert len({w.phone for w in county.workers}) == len(county.workers)
    staffed = {w.grid_id for w in county.workers}
    assert len(staffed) > len(grid_ids) * 0.6, "most grids have a grid worker"


def test_every_camera_lies_inside_its_grid(county: DemoCounty) -> None:
    for cam in county.cameras:
        grid = county.unit(cam.grid_id)
        assert grid.kind == UnitKind.GRID
        assert point_in_polygon(cam.long, cam.lat, grid.polygon), cam.name
        assert cam.source == f"demo:{cam.code}"
        assert "·" in cam.name
    assert len({c.code for c in county.cameras}) == len(county.cameras)
    assert len({c.name for c in county.cameras}) == len(county.cameras)
    in_streets = sum(township_kind(county, c.grid_id) == UnitKind.STREET for c in county.cameras)
    assert in_streets > len(county.cameras) / 2


def test_roads_cross_the_county_and_stay_inside_it(county: DemoCounty) -> None:
    boundary = county.unit(2).polygon
    kinds = Counter(r.kind for r in county.roads)
    assert kinds["expressway"] + kinds["main"] >= 2 and kinds["street"] >= 3
    x0, _, x1, _ = bbox(boundary)
    for road in county.roads:
        assert road.kind in ("expressway", "main", "street")
        assert len(road.coords) >= 2
        assert all(point_in_polygon(x, y, boundary) for x, y in road.coords), road.name
    expressway = next(r for r in county.roads if r.kind == "expressway")
    span = max(x for x, _ in expressway.coords) - min(x for x, _ in expressway.coords)
    assert span > 0.7 * (x1 - x0), "the expressway crosses the county"


# -- GeoJSON ------------------------------------------------------------------------------------


def test_geojson_layers_are_feature_collections_with_the_expected_properties(
    county: DemoCounty,
) -> None:
    expected = {
        "boundary": (1, "Polygon"),
        "townships": (6, "Polygon"),
        "communities": (len(of_kind(county, UnitKind.COMMUNITY)), "Polygon"),
        "grids": (len(county.grids()), "Polygon"),
        "roads": (len(county.roads), "LineString"),
        "cameras": (len(county.cameras), "Point"),
    }
    for layer in LAYERS:
        fc = county.geojson(layer)
        count, geometry = expected[layer]
        assert fc["type"] == "FeatureCollection"
        assert len(fc["features"]) == count, layer
        for f in fc["features"]:
            assert f["type"] == "Feature" and f["geometry"]["type"] == geometry
            assert {"id", "code", "name", "kind", "parent_id"} <= f["properties"].keys()
            if layer in ("townships", "communities", "grids", "cameras"):
                assert isinstance(f["properties"]["township_id"], int), layer
            if geometry == "Polygon":
                ring = f["geometry"]["coordinates"][0]
                assert ring[0] == ring[-1] and signed_area([tuple(p) for p in ring]) > 0
            flat = json.dumps(f["geometry"]["coordinates"])
            assert not re.search(r"\.\d{7,}", flat), f"{layer}: more than 6 decimals"
    with pytest.raises(InvalidValue, match="satellite"):
        county.geojson("satellite")


def test_all_layers_together_stay_small_enough_to_draw_at_once(county: DemoCounty) -> None:
    sizes = {
        layer: len(json.dumps(county.geojson(layer), ensure_ascii=False, separators=(",", ":")))
        for layer in LAYERS
    }
    print("GeoJSON bytes per layer:", sizes)
    assert sum(sizes.values()) < MAX_JSON_BYTES


# -- locate and random points -------------------------------------------------------------------


def test_locate_agrees_with_point_in_polygon_on_the_grids(county: DemoCounty) -> None:
    x0, y0, x1, y1 = bbox(county.unit(2).polygon)
    grids = Brute(county.grids())
    rng = random.Random(11)
    for _ in range(5000):
        lon, lat = rng.uniform(x0 - 0.02, x1 + 0.02), rng.uniform(y0 - 0.02, y1 + 0.02)
        holding = grids.holding(lon, lat)
        grid, township = county.locate(lon, lat)
        if holding:
            assert grid == holding[0], (lon, lat)
            assert township == county.township_of(holding[0].id)
        else:
            assert (grid, township) == (None, None), (lon, lat)


def test_locate_is_fast(county: DemoCounty) -> None:
    x0, y0, x1, y1 = bbox(county.unit(2).polygon)
    rng = random.Random(2)
    points = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(20_000)]
    county.locate(*points[0])  # builds the index
    start = time.perf_counter()
    for lon, lat in points:
        county.locate(lon, lat)
    elapsed = time.perf_counter() - start
    print(f"locate: {len(points) / elapsed:,.0f} calls/s")
    assert elapsed > 0


def test_random_points_fall_inside_the_unit_asked_for(county: DemoCounty) -> None:
    rng = random.Random(4)
    for unit in [county.unit(2), *county.townships(), *rng.sample(county.grids(), 20)]:
        for _ in range(20):
            lon, lat = county.random_point_in(unit.id, rng)
            assert point_in_polygon(lon, lat, unit.polygon), unit.code
    a = county.random_point_in(1000, random.Random(9))
    assert a == county.random_point_in(1000, random.Random(9))
    assert math.isfinite(a[0]) and math.isfinite(a[1])


# -- texts --------------------------------------------------------------------------------------


def test_every_category_has_at_least_four_report_texts_that_name_the_place() -> None:
    rng = random.Random(1)
    for category in CATEGORIES:
        assert len(set(TEMPLATES[category.code])) >= 4, category.code
        seen = {report_text(category.code, "解放路", rng) for _ in range(60)}
        assert len(seen) >= 4, category.code
        for text in seen:
            assert "解放路" in text and "{" not in text and "}" not in text
    with pytest.raises(InvalidValue, match="flood"):
        report_text("flood", "解放路", rng)


def test_address_streets_and_citizen_names_look_real() -> None:
    assert len(ADDRESS_STREETS) >= 20 and len(set(ADDRESS_STREETS)) == len(ADDRESS_STREETS)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]+(路|街|大道|巷)", s) for s in ADDRESS_STREETS)
    rng = random.Random(8)
    for _ in range(200):
        name = random_citizen_name(rng)
        first, last = name
        assert isinstance(name, CitizenName)
        assert len(last) == 1 and 1 <= len(first) <= 2
        assert str(name) == last + first and re.fullmatch(r"[\u4e00-\u9fff]{2,3}", str(name))


def test_town_street_names_are_among_the_address_streets(county: DemoCounty) -> None:
    for road in county.roads:
        if road.kind == "street" and road.name != "环城路":
            assert road.name in ADDRESS_STREETS
