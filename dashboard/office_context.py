"""What the office pages (console, case page) take from the request and the application:
who is signed in, which page they belong on, and the options of filters and forms.

The layout builders stay pure; this is the one place they are fed from.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash
from dash import ClientsideFunction, Input, Output

from dashboard.i18n import EN, normalize_lang, t
from dashboard.office_layout import Choices, Viewer, redirect_page, sign_in_page
from dispatch.api import the_app
from dispatch.api.auth import csrf_token, current_principal
from dispatch.domain.access import COUNTY_ROLES, Principal, Role
from dispatch.domain.categories import CATEGORIES, DEPARTMENTS
from dispatch.domain.lifecycle import Action, CaseState
from dispatch.service.intake import CHANNELS
from dispatch.service.queries import OPEN_STATES

# Roles whose console is their office's work list rather than the centre's.
OFFICE_ROLES = frozenset({Role.TOWNSHIP, Role.DEPARTMENT})
# People whose place is another page.
ELSEWHERE = {Role.GRID_WORKER: "/field", Role.KIOSK: "/wall"}


def page_lang(lang: str | None) -> str:
    return normalize_lang(lang if isinstance(lang, str) else None, default=the_app().settings.lang)


def gate(prefix: str, lang: str, path: str) -> tuple[Principal | None, Any]:
    """The principal, or the page to show instead (sign in first, or go elsewhere)."""
    principal = current_principal()
    if principal is None:
        return None, sign_in_page(prefix, lang, quote(path))
    if principal.role in ELSEWHERE:
        return None, redirect_page(prefix, lang, ELSEWHERE[principal.role])
    return principal, None


def jurisdiction(principal: Principal, lang: str) -> str:
    names = the_app().names
    if principal.role == Role.DEPARTMENT and principal.department:
        dept = names.departments.get(principal.department)
        if dept is not None:
            return dept.name_en if lang == EN else dept.name
        return principal.department
    township = principal.scope.township_id
    if township is not None:
        return names.unit_name(township)
    return t("console.jurisdiction.county", lang)


def viewer_for(principal: Principal, lang: str) -> Viewer:
    return Viewer(
        name=principal.display_name or principal.name,
        role=principal.role.value,
        jurisdiction=jurisdiction(principal, lang),
        csrf=csrf_token(),
        county=principal.role in COUNTY_ROLES and principal.scope.township_id is None,
        may=frozenset(a.value for a in Action if principal.may(a)),
        department=principal.department if principal.role == Role.DEPARTMENT else None,
    )


def choices(lang: str) -> Choices:
    names = the_app().names
    en = lang == EN
    return Choices(
        townships=[(u.id, u.name) for u in names.townships()],
        categories=[(c.code, c.name_en if en else c.name) for c in CATEGORIES],
        channels=CHANNELS,
        states=[s.value for s in CaseState if s.value in OPEN_STATES],
        departments=[(d.code, d.name_en if en else d.name) for d in DEPARTMENTS],
    )


def go_elsewhere(prefix: str) -> None:
    """Register the callback that follows `redirect_page`: leave for the page named there."""
    dash.clientside_callback(
        ClientsideFunction("console", "leave"),
        Output(f"{prefix}-notice", "title"),
        Input(f"{prefix}-go", "data"),
    )


def is_office(principal: Principal) -> bool:
    return principal.role in OFFICE_ROLES
