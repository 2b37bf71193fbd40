"""The console and case pages as the server draws them, for each kind of signed-in user.

The layouts are rendered the way Dash renders them (the page's layout function, inside the
request of a signed-in browser); what they show is compared with the service's answer.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
from dash.development.base_component import Component
from flask.testing import FlaskClient
from PIL import Image

from dashboard.case_actions_layout import offered
from dashboard.i18n import EN, ZH, t, table
from dispatch.bootstrap import App
from dispatch.domain.events import EVENT_TYPES
from dispatch.domain.geometry import centroid
from dispatch.domain.lifecycle import Action
from dispatch.domain.org import UnitKind
from dispatch.service import accounts, actions, casefile, intake, queue
from dispatch.service.photos import CheckedPhoto, Upload, check_photo
from tests.support import build_app, signed_in, with_users


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data_dir: Path = tmp_path_factory.mktemp("console-pages")
    built = with_users(build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}"))
    yield built
    built.stop()
    built.core.db.dispose()


def a_photo() -> CheckedPhoto:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "#6a8f3c").save(out, "JPEG")
    return check_photo(Upload("scene.jpg", out.getvalue()))


def report_in(
    app: App, township_index: int, *, code: str = "garbage", text: str = "", photo: bool = False
) -> int:
    """A new report at the centroid of a grid of the n-th township; its case id."""
    township = app.names.townships()[township_index]
    grids = sorted(
        (u for u in app.names.units.values() if u.kind == UnitKind.GRID),
        key=lambda u: u.id,
    )
    for grid in grids:
        long, lat = centroid(grid.polygon[0])
        where = app.core.grids.locate(long, lat)
        if where.township_id == township.id and where.grid_id == grid.id:
            report = intake.NewReport(
                service_code=code, lat=lat, long=long, channel="hotline",
                description=text or f"{township.name}小区门口垃圾桶满溢，臭味很大",
                phone="13812345678", first_name="秀英", last_name="王",
            )  # fmt: skip
            photos = [a_photo()] if photo else []
            return intake.submit_report(app.core, report, photos=photos).case_id
    raise AssertionError(f"no grid of {township.name} contains its own centroid")


@pytest.fixture(scope="module")
def cases(app: App) -> dict[str, int]:
    """A few cases in two townships, in different states."""
    duty = accounts.sign_in(app.core, "duty", "commandhall")
    reported = report_in(app, 0, photo=True)
    verified = report_in(app, 0, code="noise", text="夜间施工噪音扰民")
    actions.perform(app.core, verified, "verify", {}, principal=duty)
    dispatched = report_in(app, 0, code="road", text="路面塌陷一个大坑")
    for name in ("verify", "register", "dispatch"):
        actions.perform(app.core, dispatched, name, {}, principal=duty)
    elsewhere = report_in(app, 1)
    return {
        "reported": reported,
        "verified": verified,
        "dispatched": dispatched,
        "elsewhere": elsewhere,
    }


def page_layout(path: str) -> Any:
    page = next(
        p for p in dash.page_registry.values() if path in (p["path"], p.get("path_template"))
    )
    return page["layout"]


def render(client: FlaskClient, path: str, **kwargs: Any) -> Component:
    """The page's layout, drawn inside a request of this signed-in client."""
    with client:
        assert client.get("/api/me").get_json()["signed_in"]
        tree = page_layout(path)(**kwargs)
    assert isinstance(tree, Component)
    return tree


def walk(node: Any) -> Iterator[Any]:
    if isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)
    elif isinstance(node, Component):
        yield node
        yield from walk(getattr(node, "children", None))
    elif node is not None:
        yield node


def texts(tree: Component) -> str:
    return " ".join(str(n) for n in walk(tree) if isinstance(n, str | int))


def by_id(tree: Component, ident: Any) -> Component:
    found = [n for n in walk(tree) if isinstance(n, Component) and getattr(n, "id", None) == ident]
    assert len(found) == 1, f"{len(found)} components with id {ident!r}"
    return found[0]


def assert_unique_ids(tree: Component) -> None:
    """Dash finds a callback's inputs by id: two components with one id break the page."""
    seen: list[str] = []
    for node in walk(tree):
        ident = getattr(node, "id", None) if isinstance(node, Component) else None
        if ident is not None:
            seen.append(repr(ident))
    assert sorted(seen) == sorted(set(seen)), [i for i in set(seen) if seen.count(i) > 1]


def rows(tree: Component) -> list[Component]:
    return [
        n
        for n in walk(tree)
        if isinstance(n, Component) and "console-row" in (getattr(n, "className", "") or "")
    ]


def test_signed_out_pages_send_you_to_sign_in(app: App) -> None:
    client = app.flask.test_client()
    for path in ("/console", "/cases/1", "/console?lang=en"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/login?next=/"), answer.headers["Location"]


def test_the_duty_console_shows_the_buckets_with_the_services_counts(
    app: App, cases: dict[str, int]
) -> None:
    tree = render(signed_in(app, "duty"), "/console")
    assert_unique_ids(tree)
    duty = accounts.sign_in(app.core, "duty", "commandhall")
    expected = queue.duty_queue(app.core, app.names, scope=duty.scope, f=queue.QueueFilter())
    for bucket in ("verify", "dispatch", "overdue", "returned", "whistles"):
        shown = by_id(tree, {"type": "console-count", "bucket": bucket}).children
        assert shown == str(expected[bucket]["count"]), bucket
    assert expected["verify"]["count"] >= 2
    words = texts(tree)
    assert "值班员 李明" in words and "待核实" in words and "待派遣" in words
    # The first busy bucket is open, with the service's rows in the service's order.
    ids = [int(r.to_plotly_json()["props"]["data-case-id"]) for r in rows(tree)]
    assert ids == [c["id"] for c in expected["verify"]["items"]]
    assert cases["reported"] in ids
    # The duty officer may filter by township; the sign-out form carries the CSRF token.
    assert by_id(tree, {"type": "console-filter", "name": "township"}) is not None
    form = next(n for n in walk(tree) if getattr(n, "className", None) == "ch-signout")
    token = form.children[0]
    assert token.name == "csrf_token" and len(token.value) > 10


def test_a_township_office_sees_only_its_own_cases(app: App, cases: dict[str, int]) -> None:
    tree = render(signed_in(app, "town-t01"), "/console")
    assert_unique_ids(tree)
    township = app.names.townships()[0]
    words = texts(tree)
    assert "待签收" in words and "处置中" in words and "待核实" not in words
    town = accounts.sign_in(app.core, "town-t01", "commandhall")
    expected = queue.office_queue(app.core, app.names, scope=town.scope, f=queue.QueueFilter())
    for bucket in ("incoming", "whistles", "handling", "overdue"):
        shown = by_id(tree, {"type": "console-count", "bucket": bucket}).children
        assert shown == str(expected[bucket]["count"]), bucket
    shown_rows = rows(tree)
    assert shown_rows, "the dispatched case should wait in 待签收"
    for row in shown_rows:
        assert township.name in texts(row)
    assert str(cases["elsewhere"]) not in [
        r.to_plotly_json()["props"]["data-case-id"] for r in shown_rows
    ]
    # No township filter for an office: it has one township.
    filters = [
        n.id["name"]
        for n in walk(tree)
        if isinstance(getattr(n, "id", None), dict) and n.id.get("type") == "console-filter"
    ]
    assert filters == ["category", "channel", "state"]


@pytest.mark.parametrize("which", ["reported", "verified", "dispatched"])
@pytest.mark.parametrize("username", ["duty", "leader", "town-t01", "dept-transport"])
def test_the_case_page_offers_exactly_the_actions_of_the_case_file(
    app: App, cases: dict[str, int], which: str, username: str
) -> None:
    case_id = cases[which]
    principal = accounts.sign_in(app.core, username, "commandhall")
    tree = render(signed_in(app, username), "/cases/<case_id>", case_id=str(case_id))
    assert_unique_ids(tree)
    try:
        detail = casefile.case_detail(app.core, app.names, case_id, principal)
    except Exception:  # outside this user's jurisdiction
        assert "案件不存在" in texts(tree)
        return
    # The next steps come first, the rest folded below: the same actions, each once.
    assert sorted(offered(by_id(tree, "case-actions").children)) == sorted(detail["actions"])
    assert by_id(tree, "case-ticket").children == detail["case"]["ticket"]
    assert by_id(tree, "case-state").children == t(f"state.{detail['case']['state']}")


def test_the_one_click_dispatch_names_where_it_goes(app: App, cases: dict[str, int]) -> None:
    duty = accounts.sign_in(app.core, "duty", "commandhall")
    case_id = report_in(app, 0, text="小区垃圾桶满溢")
    for name in ("verify", "register"):
        actions.perform(app.core, case_id, name, {}, principal=duty)
    tree = render(signed_in(app, "duty"), "/cases/<case_id>", case_id=str(case_id))
    plan = casefile.case_detail(app.core, app.names, case_id, duty)["suggestion"]["dispatch"]
    button = by_id(tree, {"type": "case-do", "form": "dispatch"})
    label = texts(button)
    assert "一键派遣" in label
    for part in (plan["unit"], plan["department_name"], plan["worker"]):
        assert part and part in label, (part, label)


def test_a_case_outside_the_jurisdiction_reads_as_missing(app: App, cases: dict[str, int]) -> None:
    client = signed_in(app, "town-t01")
    for case_id in (str(cases["elsewhere"]), "999999", "abc"):
        tree = render(client, "/cases/<case_id>", case_id=case_id)
        assert by_id(tree, "case-missing").children == "案件不存在", case_id
        assert "case-actions" not in str(tree.to_plotly_json())
    own = render(client, "/cases/<case_id>", case_id=str(cases["reported"]))
    assert "案件不存在" not in texts(own)


def test_the_reporter_is_masked_for_a_township_office(app: App, cases: dict[str, int]) -> None:
    case_id = str(cases["reported"])
    duty = texts(render(signed_in(app, "duty"), "/cases/<case_id>", case_id=case_id))
    town = texts(render(signed_in(app, "town-t01"), "/cases/<case_id>", case_id=case_id))
    assert "13812345678" in duty and "王秀英" in duty
    assert "13812345678" not in town and "王秀英" not in town and "（已脱敏）" in town


def test_the_case_page_shows_the_photos_as_thumbnails_linking_to_full_size(
    app: App, cases: dict[str, int]
) -> None:
    client = signed_in(app, "duty")
    tree = render(client, "/cases/<case_id>", case_id=str(cases["reported"]))
    links = [n for n in walk(tree) if getattr(n, "className", None) == "case-photo"]
    assert len(links) == 1
    full, thumb = links[0].href, links[0].children.src
    assert thumb == f"{full}/thumb" and full.startswith("/api/photos/")
    for url in (full, thumb):
        answer = client.get(url)
        assert answer.status_code == 200 and answer.mimetype == "image/jpeg", url


def test_the_pages_speak_english_when_asked(app: App, cases: dict[str, int]) -> None:
    client = signed_in(app, "duty")
    console = texts(render(client, "/console", lang="en"))
    assert "To verify" in console and "Sign out" in console and "待核实" not in console
    case = texts(render(client, "/cases/<case_id>", case_id=str(cases["verified"]), lang="en"))
    assert "Timeline" in case and "Verified" in case


def test_every_event_type_and_action_has_words_in_both_languages() -> None:
    strings = table()
    wanted = [f"console.event.{name}" for name in EVENT_TYPES]
    wanted += [f"console.action.{a.value}" for a in Action]
    missing = [key for key in wanted if key not in strings]
    assert missing == []
    for key in wanted:
        assert t(key, ZH) and t(key, EN) and t(key, ZH) != t(key, EN), key


def test_the_timeline_names_the_people_who_acted(app: App, cases: dict[str, int]) -> None:
    duty = accounts.sign_in(app.core, "duty", "commandhall")
    case_id = cases["dispatched"]
    events = casefile.case_detail(app.core, app.names, case_id, duty)["timeline"]
    by_type = {e["type"]: (e["actor"], e["actor_name"]) for e in events}
    assert by_type["case.verified"] == ("duty:duty", "值班员 李明")
    assert by_type["case.reported"][1] is None  # a citizen's report: nobody's account
    tree = render(signed_in(app, "duty"), "/cases/<case_id>", case_id=str(case_id))
    shown = [n.children for n in walk(tree) if getattr(n, "className", None) == "case-event-actor"]
    assert shown.count("值班员 李明") == 3  # verified, registered, dispatched
    assert "值班员 duty" not in shown
