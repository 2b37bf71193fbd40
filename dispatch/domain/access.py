"""Who may see and do what: roles, jurisdiction and the actions each role may take.

Pure rules; the web layer resolves a `Principal` from a session, an API key or a device token,
and the service layer asks these functions. A case outside a principal's jurisdiction is
reported as missing (the same 404 as a case that does not exist), so a township officer
cannot even learn that another township's case number is taken.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from dispatch.domain.errors import InvalidValue
from dispatch.domain.lifecycle import Action


class Role(enum.StrEnum):
    ADMIN = "admin"  # 系统管理员
    LEADER = "leader"  # 领导
    DUTY = "duty"  # 值班员
    TOWNSHIP = "township"  # 乡镇街道
    DEPARTMENT = "department"  # 职能部门
    GRID_WORKER = "grid_worker"  # 网格员
    KIOSK = "kiosk"  # 大屏
    SYSTEM = "system"  # an integration with an API key (simulator, 12345 platform)


A = Action
# What the office or worker a case is assigned to does with it.
HANDLER_ACTIONS = _HANDLER_ACTIONS = frozenset(
    {A.ACCEPT, A.RETURN, A.START_HANDLING, A.REPORT_HANDLED, A.REQUEST_EXTENSION}
)
_WHISTLE_ACTIONS = frozenset({A.ACKNOWLEDGE, A.REPORT_PART})
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.DUTY: frozenset(Action),
    Role.SYSTEM: frozenset(Action),
    Role.LEADER: frozenset(
        {A.URGE, A.SUPERVISE, A.APPROVE_EXTENSION, A.DENY_EXTENSION, A.ESCALATE, A.SEND_DOWN}
    ),
    # A township office takes cases for its territory and hands them to its grid workers.
    Role.TOWNSHIP: _HANDLER_ACTIONS | _WHISTLE_ACTIONS | {A.DISPATCH},
    Role.DEPARTMENT: _HANDLER_ACTIONS | _WHISTLE_ACTIONS,
    Role.GRID_WORKER: _HANDLER_ACTIONS,
    Role.KIOSK: frozenset(),
}
# Roles that see every case of the deployment.
COUNTY_ROLES = frozenset({Role.ADMIN, Role.LEADER, Role.DUTY, Role.SYSTEM, Role.KIOSK})
# Roles that may read the reporter's name and phone (for the callback and to verify).
PERSONAL_DATA_ROLES = frozenset({Role.ADMIN, Role.DUTY, Role.LEADER})


@dataclass(frozen=True)
class Principal:
    """A signed-in user, a device or an integration, with the jurisdiction it works in."""

    name: str  # shown as the actor of its events, e.g. "duty:zhangwei"
    role: Role
    user_id: int | None = None
    display_name: str = ""
    township_id: int | None = None
    department: str | None = None
    worker_id: int | None = None
    # A kiosk or a county user watching one township only.
    watch_township_id: int | None = None

    def __post_init__(self) -> None:
        if self.role == Role.TOWNSHIP and self.township_id is None:
            raise InvalidValue("a township officer needs a township", field="township_id")
        if self.role == Role.DEPARTMENT and not self.department:
            raise InvalidValue("a department officer needs a department", field="department")
        if self.role == Role.GRID_WORKER and self.worker_id is None:
            raise InvalidValue("a grid worker account needs a worker id", field="worker_id")

    @property
    def scope(self) -> CaseScope:
        return CaseScope.of(self)

    def may(self, action: Action) -> bool:
        return action in ROLE_ACTIONS[self.role]

    @property
    def sees_personal_data(self) -> bool:
        return self.role in PERSONAL_DATA_ROLES


@dataclass(frozen=True)
class CaseView:
    """The facts about a case that decide who may see it."""

    township_id: int | None
    department: str | None
    worker_id: int | None
    whistle_departments: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CaseScope:
    """The cases a principal may see, as one of: everything, a township, a department, a
    grid worker. The read side turns it into a WHERE clause; `allows` is the same rule.
    """

    township_id: int | None = None
    department: str | None = None
    worker_id: int | None = None

    @classmethod
    def of(cls, p: Principal) -> CaseScope:
        if p.role in COUNTY_ROLES:
            return cls(township_id=p.watch_township_id)
        if p.role == Role.TOWNSHIP:
            return cls(township_id=p.township_id)
        if p.role == Role.DEPARTMENT:
            return cls(department=p.department)
        return cls(worker_id=p.worker_id)

    @property
    def everything(self) -> bool:
        return self.township_id is None and self.department is None and self.worker_id is None

    @property
    def room(self) -> str:
        """The realtime room whose events this scope may receive."""
        if self.worker_id is not None:
            return f"worker:{self.worker_id}"
        if self.department is not None:
            return f"department:{self.department}"
        if self.township_id is not None:
            return f"township:{self.township_id}"
        return "all"

    def allows(self, case: CaseView) -> bool:
        if self.worker_id is not None:
            return case.worker_id == self.worker_id
        if self.department is not None:
            return case.department == self.department or (
                self.department in case.whistle_departments
            )
        if self.township_id is not None:
            return case.township_id == self.township_id
        return True


def allowed(principal: Principal, action: Action, case: CaseView) -> bool:
    """May this principal take this action on this case (which it can see)?

    A department called only as a co-handling party (协办) acknowledges and reports its
    part; accepting, returning or reporting the whole case is for the department the case
    is assigned to (the lead)."""
    if not principal.may(action) or not principal.scope.allows(case):
        return False
    if principal.role == Role.DEPARTMENT and action in HANDLER_ACTIONS:
        return case.department == principal.department
    if action in _WHISTLE_ACTIONS:  # only on a whistled case, and a department for itself
        if principal.role == Role.DEPARTMENT:
            return principal.department in case.whistle_departments
        return bool(case.whistle_departments)
    return True


def audience(case: CaseView) -> list[str]:
    """The narrower rooms (beyond 'all') that receive events of this case."""
    rooms = []
    if case.township_id is not None:
        rooms.append(f"township:{case.township_id}")
    departments = set(case.whistle_departments)
    if case.department:
        departments.add(case.department)
    rooms += [f"department:{d}" for d in sorted(departments)]
    if case.worker_id is not None:
        rooms.append(f"worker:{case.worker_id}")
    return rooms
