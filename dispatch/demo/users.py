"""Demo accounts for every role, so a newcomer can sign in as each kind of user.

All share one password (printed by `make demo`); grid workers have no password and sign in
on their phones with a device token. One argon2 hash serves every demo user: hashing is
deliberately slow, and these accounts are for trying the system, not for production.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select

from dispatch.adapters.orm import UserRow
from dispatch.domain.access import Role
from dispatch.domain.categories import DEPARTMENTS
from dispatch.service.core import Core
from dispatch.service.directory import Directory

DEMO_PASSWORD = "commandhall"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    display_name: str
    township_id: int | None = None
    department: str | None = None
    worker_id: int | None = None


def demo_users(names: Directory) -> list[DemoUser]:
    users = [
        DemoUser("admin", Role.ADMIN, "系统管理员"),
        DemoUser("leader", Role.LEADER, "指挥长 王建国"),
        DemoUser("duty", Role.DUTY, "值班员 李明"),
        DemoUser("duty2", Role.DUTY, "值班员 赵丽"),
        DemoUser("wall", Role.KIOSK, "指挥大厅大屏"),
    ]
    for unit in names.townships():
        users.append(
            DemoUser(f"town-{unit.code.lower()}", Role.TOWNSHIP, f"{unit.name}综治中心",
                     township_id=unit.id)
        )  # fmt: skip
    for dept in DEPARTMENTS:
        users.append(
            DemoUser(f"dept-{dept.code}", Role.DEPARTMENT, dept.name, department=dept.code)
        )
    for worker in sorted(names.workers.values(), key=lambda w: w.id):
        users.append(
            DemoUser(f"worker-{worker.id}", Role.GRID_WORKER, f"网格员 {worker.name}",
                     township_id=worker.township_id, worker_id=worker.id)
        )  # fmt: skip
    return users


def seed_demo_users(core: Core, names: Directory, *, password: str = DEMO_PASSWORD) -> int:
    """Create the demo accounts that do not exist yet; returns how many were made."""
    shared_hash = PasswordHasher().hash(password)
    wanted = demo_users(names)
    with core.db.writer() as session:
        have = set(session.scalars(select(UserRow.username)))
        made = 0
        for u in wanted:
            if u.username in have:
                continue
            session.add(
                UserRow(
                    username=u.username, display_name=u.display_name, role=u.role.value,
                    township_id=u.township_id, department=u.department, worker_id=u.worker_id,
                    password_hash="" if u.role == Role.GRID_WORKER else shared_hash,
                    active=True, created_at=core.clock.now(),
                )
            )  # fmt: skip
            made += 1
        session.commit()
    return made
