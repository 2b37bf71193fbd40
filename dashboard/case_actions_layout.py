"""The case page's actions panel: one button or one short form per action the principal may
take now (`detail["actions"]`), and nothing else.

Ids (dashboard/pages/case.py reads them):
- `{"type": "case-do", "form": f}`: the button that submits form `f`;
- `{"type": "case-field", "form": f, "name": n}`: a value, sent as parameter `n`;
- `{"type": "case-error", "form": f, "name": n}`: where the service's complaint about field
  `n` goes (`_top` for the form as a whole).
A form is named after its action, except `dispatch_custom` (派遣 with a chosen department or
worker) next to the one-click `dispatch`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dash import dcc, html

from dashboard.i18n import EN, t
from dashboard.office_layout import URGENCIES, Choices, Viewer, dropdown_labels

TOP = "_top"
# The next step of the closed loop: shown open at the top of the panel.
PRIMARY = (
    "verify", "register", "dispatch", "accept", "start_handling", "report_handled", "close",
    "review", "acknowledge", "report_part", "approve_extension", "resume",
)  # fmt: skip
# Every form and the parameters it sends; an action missing here is one click.
FIELDS: dict[str, tuple[str, ...]] = {
    "reject": ("reason",),
    "register": ("category", "urgency"),
    "dispatch_custom": ("department", "worker_id"),
    "return": ("reason",),
    "report_handled": ("result",),
    "rework": ("reason",),
    "review": ("rating",),
    "reopen": ("reason",),
    "suspend": ("reason",),
    "request_extension": ("hours", "reason"),
    "deny_extension": ("reason",),
    "escalate": ("reason",),
    "send_down": ("reason",),
    "merge": ("master_id",),
    "cancel": ("reason",),
    "urge": ("message",),
    "supervise": ("message",),
    "whistle": ("lead", "co", "ack_minutes"),
    "acknowledge": ("department",),
    "report_part": ("department", "result"),
}
TEXT_FIELDS = frozenset({"reason", "message", "result"})
DEFAULT_ACK_MINUTES = 30
DEFAULT_EXTENSION_HOURS = 24


def action_of(form: str) -> str:
    return "dispatch" if form == "dispatch_custom" else form


@dataclass(frozen=True)
class FormContext:
    """What the forms are filled from."""

    detail: Mapping[str, Any]
    viewer: Viewer
    choices: Choices
    workers: Sequence[tuple[int, str]]  # the grid workers a dispatch may name
    lang: str

    @property
    def suggestion(self) -> Mapping[str, Any]:
        return self.detail.get("suggestion") or {}

    def is_next_step(self, action: str) -> bool:
        """Shown open: the loop's next step; 报到 and its report only while a party waits."""
        if action == "acknowledge":
            return bool(self.parties("waiting"))
        if action == "report_part":
            return bool(self.parties("acknowledged"))
        if action == "approve_extension":
            return bool(self.detail.get("pending_extension_hours"))
        return action in PRIMARY

    def parties(self, *states: str) -> list[tuple[str, str]]:
        name = "department_name_en" if self.lang == EN else "department_name"
        return [
            (p["department"], p.get(name) or p["department"])
            for p in self.detail.get("whistle") or []
            if p["state"] in states and self.viewer.department in (None, p["department"])
        ]


def fields_of(form: str, viewer: Viewer) -> tuple[str, ...]:
    """A department officer always acts for its own department: it picks none."""
    names = FIELDS.get(form, ())
    if viewer.department and form in ("acknowledge", "report_part"):
        return tuple(n for n in names if n != "department")
    return names


def _id(kind: str, form: str, name: str | None = None) -> dict[str, str]:
    out = {"type": kind, "form": form}
    if name is not None:
        out["name"] = name
    return out


def _dropdown(
    form: str,
    name: str,
    options: Sequence[tuple[Any, str]],
    value: Any,
    lang: str,
    *,
    multi: bool = False,
) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=_id("case-field", form, name),
        options=[{"value": v, "label": label} for v, label in options],
        value=value,
        multi=multi,
        clearable=multi,
        searchable=len(options) > 8,
        placeholder=t("console.form.choose", lang),
        labels=dropdown_labels(lang),
        className="case-dropdown",
    )


def control(form: str, name: str, c: FormContext) -> Any:
    """The input for one parameter, filled with what the officer would most likely send."""
    lang = c.lang
    plan = c.suggestion.get("dispatch") or {}
    register = c.suggestion.get("register") or {}
    if name in TEXT_FIELDS:
        return dcc.Textarea(
            id=_id("case-field", form, name), value="", rows=2, className="case-textarea"
        )
    if name == "category":
        return _dropdown(
            form,
            name,
            c.choices.categories,
            register.get("category") or c.detail["case"].get("category"),
            lang,
        )
    if name == "urgency":
        options = [(u, t(f"console.urgency.{u}", lang)) for u in URGENCIES]
        return _dropdown(
            form, name, options, register.get("urgency") or c.detail["case"].get("urgency"), lang
        )
    if name == "department" and form == "dispatch_custom":
        return _dropdown(form, name, c.choices.departments, plan.get("department"), lang)
    if name == "department":
        states = ("waiting",) if form == "acknowledge" else ("acknowledged",)
        options = c.parties(*states)
        return _dropdown(form, name, options, options[0][0] if len(options) == 1 else None, lang)
    if name == "worker_id":
        return _dropdown(form, name, c.workers, plan.get("worker_id"), lang)
    if name == "lead":
        return _dropdown(
            form,
            name,
            c.choices.departments,
            c.detail["case"].get("department") or plan.get("department"),
            lang,
        )
    if name == "co":
        return _dropdown(form, name, c.choices.departments, [], lang, multi=True)
    if name in ("ack_minutes", "hours", "master_id"):
        value = {"ack_minutes": DEFAULT_ACK_MINUTES, "hours": DEFAULT_EXTENSION_HOURS}.get(name)
        return dcc.Input(
            id=_id("case-field", form, name),
            type="number",
            value=value,
            min=1,
            className="case-number",
        )
    if name == "rating":
        return dcc.RadioItems(
            id=_id("case-field", form, name),
            options=[{"value": n, "label": str(n)} for n in range(1, 6)],
            value=None,
            inline=True,
            className="case-rating",
        )
    raise KeyError(f"no control for parameter {name!r} of form {form!r}")


def _field(form: str, name: str, c: FormContext) -> html.Div:
    return html.Div(
        className=f"case-field is-{name}",
        children=[
            html.Label(t(f"console.form.{name}", c.lang), className="case-field-label"),
            control(form, name, c),
            html.Div(id=_id("case-error", form, name), className="ch-error"),
        ],
    )


def _button(form: str, label: str, *, primary: bool = True, hint: str | None = None) -> html.Button:
    return html.Button(
        [
            html.Span(label, className="ch-btn-label"),
            html.Span(hint, className="ch-btn-hint") if hint else None,
        ],
        id=_id("case-do", form),
        className="ch-btn" + (" is-primary" if primary else ""),
    )


def _where(plan: Mapping[str, Any], lang: str) -> str:
    worker = plan.get("worker")
    parts = [
        plan.get("unit"),
        plan.get("department_name"),
        f"{t('console.role.grid_worker', lang)} {worker}" if worker else "",
    ]
    return " · ".join(p for p in parts if p)


def form(name: str, c: FormContext) -> html.Div:
    """One action: a button, or its fields and a submit button, with room for errors."""
    lang = c.lang
    label = t(f"console.action.{name}", lang)
    top = html.Div(id=_id("case-error", name, TOP), className="ch-error")
    if name == "dispatch":
        return _dispatch_form(c, top)
    fields = [_field(name, f, c) for f in fields_of(name, c.viewer)]
    if name == "approve_extension" and c.detail.get("pending_extension_hours"):
        label = t("console.approve.label", lang).format(
            hours=f"{c.detail['pending_extension_hours']:g}"
        )
    return html.Div(
        className=f"case-form is-{name}",
        id=f"case-form-{name}",
        children=[top, *fields, _button(name, label, primary=c.is_next_step(name))],
    )


def _dispatch_form(c: FormContext, top: html.Div) -> html.Div:
    """派遣: one click to the suggested unit, department and worker; or change them."""
    lang = c.lang
    plan = c.suggestion.get("dispatch") or {}
    where = _where(plan, lang)
    change = html.Details(
        className="case-change",
        children=[
            html.Summary(t("console.dispatch.change", lang)),
            html.Div(id=_id("case-error", "dispatch_custom", TOP), className="ch-error"),
            *[_field("dispatch_custom", f, c) for f in fields_of("dispatch_custom", c.viewer)],
            _button("dispatch_custom", t("console.dispatch.submit", lang), primary=False),
        ],
    )
    return html.Div(
        className="case-form is-dispatch",
        id="case-form-dispatch",
        children=[
            top,
            _button(
                "dispatch",
                t("console.dispatch.quick", lang),
                hint=t("console.dispatch.to", lang).format(where=where) if where else None,
            ),
            change,
        ],
    )


def actions_panel(c: FormContext) -> list[Any]:
    """The next steps open, everything else folded under 更多操作."""
    allowed = list(c.detail["actions"])
    lang = c.lang
    if not allowed:
        return [
            html.H2(t("console.case.actions", lang)),
            html.Div(t("console.case.actions.none", lang), className="case-empty"),
        ]
    primary = [a for a in allowed if c.is_next_step(a)]
    rest = [a for a in allowed if not c.is_next_step(a)]
    out: list[Any] = [html.H2(t("console.case.actions", lang))]
    out += [form(a, c) for a in primary]
    if rest:
        out.append(html.H3(t("console.case.actions.more", lang), className="case-more-title"))
        out += [
            html.Details(
                className=f"case-fold is-{a}",
                id=f"case-fold-{a}",
                children=[html.Summary(t(f"console.action.{a}", lang)), form(a, c)],
            )
            for a in rest
        ]
    return out


def offered(panel: Any) -> list[str]:
    """The actions a rendered panel offers (its submit buttons), in order; for tests."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if node is None or isinstance(node, str | int | float):
            return
        if isinstance(node, list | tuple):
            for child in node:
                walk(child)
            return
        ident = getattr(node, "id", None)
        if (
            isinstance(ident, dict)
            and ident.get("type") == "case-do"
            and ident["form"] != "dispatch_custom"
        ):
            found.append(ident["form"])
        walk(getattr(node, "children", None))

    walk(panel)
    return found
