"""Names of units, workers and departments, loaded once: the read side's lookup tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from dispatch.adapters.db import Database
from dispatch.adapters.orm import DepartmentRow, GridWorkerRow, OrgUnitRow
from dispatch.domain.org import OrgUnit, UnitKind


@dataclass
class Directory:
    units: dict[int, OrgUnit] = field(default_factory=dict)
    workers: dict[int, GridWorkerRow] = field(default_factory=dict)
    departments: dict[str, DepartmentRow] = field(default_factory=dict)

    @classmethod
    def load(cls, db: Database) -> Directory:
        with db.read() as session:
            units = {
                r.id: OrgUnit(
                    id=r.id, code=r.code, name=r.name, kind=UnitKind(r.kind),
                    parent_id=r.parent_id,
                    polygon=tuple([tuple(p) for p in ring] for ring in r.polygon or ()),
                )
                for r in session.scalars(select(OrgUnitRow))
            }  # fmt: skip
            workers = {w.id: w for w in session.scalars(select(GridWorkerRow))}
            departments = {d.code: d for d in session.scalars(select(DepartmentRow))}
        return cls(units, workers, departments)

    def unit_name(self, unit_id: int | None) -> str:
        unit = self.units.get(unit_id) if unit_id is not None else None
        return unit.name if unit else ""

    def townships(self) -> list[OrgUnit]:
        return sorted(
            (u for u in self.units.values() if u.kind in (UnitKind.TOWNSHIP, UnitKind.STREET)),
            key=lambda u: u.id,
        )

    def workers_in_grid(self, grid_id: int | None) -> list[GridWorkerRow]:
        return [w for w in self.workers.values() if w.grid_id == grid_id and w.on_duty]
