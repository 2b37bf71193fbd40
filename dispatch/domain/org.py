"""The organisation: city → county → township/street → community/village → grid.

Units carry their polygon as GeoJSON-style rings of (long, lat); departments own categories;
grid workers belong to one grid.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from dispatch.domain.errors import InvalidValue


class Level(enum.StrEnum):
    """The four levels a case can live at (四级闭环), lowest first."""

    COMMUNITY = "community"  # 村社
    TOWNSHIP = "township"  # 街镇
    COUNTY = "county"  # 县区
    CITY = "city"  # 市

    def up(self) -> Level | None:
        order = list(Level)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None

    def down(self) -> Level | None:
        order = list(Level)
        i = order.index(self)
        return order[i - 1] if i > 0 else None


class UnitKind(enum.StrEnum):
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"  # 乡镇
    STREET = "street"  # 街道 (a township-level street office)
    COMMUNITY = "community"  # 社区 / 村
    GRID = "grid"  # 网格

    @property
    def depth(self) -> int:
        return {"city": 0, "county": 1, "township": 2, "street": 2, "community": 3, "grid": 4}[
            self.value
        ]


Ring = list[tuple[float, float]]  # (long, lat) pairs, closed or not


@dataclass(frozen=True)
class OrgUnit:
    id: int
    code: str
    name: str
    kind: UnitKind
    parent_id: int | None
    polygon: tuple[Ring, ...] = ()  # outer ring first, holes after

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidValue("an organisation unit needs a name", field="name")
        for ring in self.polygon:
            lons, lats = [p[0] for p in ring], [p[1] for p in ring]
            if ring and not (
                -180 <= min(lons) <= max(lons) <= 180 and -90 <= min(lats) <= max(lats) <= 90
            ):
                raise InvalidValue(
                    f"unit {self.code}: a vertex is not a WGS84 long/lat "
                    f"(long {min(lons)}..{max(lons)}, lat {min(lats)}..{max(lats)})",
                    field="polygon",
                )


@dataclass(frozen=True)
class Department:
    """A functional department (职能部门) that owns some categories (谁主管、谁负责)."""

    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    name_en: str
    department: str
    default_urgency: str = "normal"
    keywords: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class GridWorker:
    id: int
    name: str
    grid_id: int
    phone: str = ""
    on_duty: bool = True
