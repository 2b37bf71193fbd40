"""Sign-in over HTTP: the /login form, sessions and CSRF, device tokens, api keys.

One application per database serves the module (seeding costs seconds); every test makes its
own cases and counts events before and after instead of assuming an empty database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dispatch.adapters.orm import EventRow, UserRow
from dispatch.api import openapi
from dispatch.bootstrap import App
from dispatch.demo.users import DEMO_PASSWORD
from dispatch.service import accounts
from dispatch.service.intake import NewReport, submit_report
from tests.integration.conftest import app_per_database, inside_a_grid
from tests.support import api_client, device_token, signed_in, with_users

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with app_per_database(request, tmp_path_factory, "auth") as built:
        with_users(built)
        yield built


def login_form(client: FlaskClient, path: str = "/login") -> str:
    """Open the sign-in form; returns its CSRF token."""
    page = client.get(path)
    assert page.status_code == 200
    match = CSRF_FIELD.search(page.get_data(as_text=True))
    assert match, "the sign-in form has no CSRF field"
    return match[1]


def sign_in(client: FlaskClient, username: str, password: str = DEMO_PASSWORD, **extra: str) -> Any:
    token = login_form(client)
    form = {"username": username, "password": password, "csrf_token": token, **extra}
    return client.post("/login?lang=en", data=form)


def me(client: FlaskClient) -> dict[str, Any]:
    answer = client.get("/api/me")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.get_json()
    schema = {"$ref": "#/components/schemas/Me", "components": openapi.document()["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)  # as documented
    return body


def event_count(app: App) -> int:
    with app.core.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(EventRow)) or 0)


def new_case(app: App) -> int:
    lat, long = inside_a_grid(app)
    report = NewReport(service_code="garbage", lat=lat, long=long, description="垃圾桶满了")
    return submit_report(app.core, report).case_id


def state_of(app: App, case_id: int) -> str:
    answer = api_client(app).get(f"/api/cases/{case_id}")
    assert answer.status_code == 200
    state: str = answer.get_json()["state"]
    return state


def a_worker(app: App) -> int:
    return min(app.names.workers)


# -- the sign-in form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "role", "home"),
    [
        ("duty", "duty", "/console"),
        ("leader", "leader", "/console"),
        ("admin", "admin", "/console"),
        ("town-t01", "township", "/console"),
        ("dept-police", "department", "/console"),
        ("wall", "kiosk", "/wall"),
    ],
)
def test_the_right_password_signs_in_and_goes_to_the_roles_home(
    app: App, username: str, role: str, home: str
) -> None:
    client = app.flask.test_client()
    assert me(client) == {"signed_in": False}
    answer = sign_in(client, username)
    assert answer.status_code == 302
    assert answer.headers["Location"] == home
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    who = me(client)
    assert (who["signed_in"], who["role"], who["username"]) == (True, role, f"{role}:{username}")
    assert who["csrf_token"]


def test_a_grid_worker_has_no_password_and_the_form_refuses_it(app: App) -> None:
    client = app.flask.test_client()
    answer = sign_in(client, f"worker-{a_worker(app)}")
    assert answer.status_code == 400
    assert "Wrong username or password" in answer.get_data(as_text=True)
    assert me(client) == {"signed_in": False}


def _error_of(page: str, field: str) -> str | None:
    match = re.search(rf'<div class="form-error" id="login-error-{field}">([^<]*)</div>', page)
    return match[1] if match else None


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer_and_no_session(
    app: App,
) -> None:
    answers = []
    for username, password in (("duty", "not-the-password"), ("nobody-here", DEMO_PASSWORD)):
        client = app.flask.test_client()
        answer = sign_in(client, username, password)
        assert answer.status_code == 400
        page = answer.get_data(as_text=True)
        answers.append(page.replace(f'value="{username}"', 'value=""'))
        assert _error_of(page, "password") == "Wrong username or password"
        assert _error_of(page, "username") is None
        assert f'value="{username}"' in page  # the username is kept, the password is not
        [password_input] = re.findall(r'<input id="login-password"[^>]*>', page)
        assert "value=" not in password_input
        assert me(client) == {"signed_in": False}
        with client.session_transaction() as session:
            assert "uid" not in session
    # Nothing tells an existing account from a missing one (the CSRF token aside).
    assert CSRF_FIELD.sub("", answers[0]) == CSRF_FIELD.sub("", answers[1])


def test_an_empty_field_is_marked_required_next_to_it(app: App) -> None:
    page = sign_in(app.flask.test_client(), "", "").get_data(as_text=True)
    assert _error_of(page, "username") == "Required"
    assert _error_of(page, "password") == "Required"


def test_the_form_without_its_csrf_field_is_403_and_signs_nobody_in(app: App) -> None:
    for opened_the_form in (True, False):
        client = app.flask.test_client()
        if opened_the_form:
            login_form(client)
        answer = client.post("/login", data={"username": "duty", "password": DEMO_PASSWORD})
        assert answer.status_code == 403
        assert answer.get_json()["code"] == "csrf_failed"
        assert me(client) == {"signed_in": False}
    client = app.flask.test_client()
    login_form(client)
    form = {"username": "duty", "password": DEMO_PASSWORD, "csrf_token": "forged"}
    assert client.post("/login", data=form).status_code == 403
    assert me(client) == {"signed_in": False}


def test_a_session_gets_a_new_csrf_token_when_it_signs_in(app: App) -> None:
    client = app.flask.test_client()
    before = login_form(client)
    assert sign_in(client, "duty").status_code == 302
    assert me(client)["csrf_token"] != before


# -- CSRF on writes --------------------------------------------------------------------------


def test_a_signed_in_write_without_the_csrf_header_is_refused_and_changes_nothing(
    app: App,
) -> None:
    case_id = new_case(app)
    client = signed_in(app, "duty")
    token = client.environ_base.pop("HTTP_X_CSRFTOKEN")
    before = event_count(app)
    for headers in ({}, {"X-CSRFToken": "not-the-token"}):
        answer = client.post(f"/api/cases/{case_id}/actions/verify", headers=headers)
        assert answer.status_code == 403
        assert answer.get_json()["code"] == "csrf_failed"
        assert answer.get_json()["field"] == "csrf_token"
    assert event_count(app) == before
    assert state_of(app, case_id) == "reported"
    answer = client.post(f"/api/cases/{case_id}/actions/verify", headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    assert [e["type"] for e in answer.get_json()["events"]] == ["case.verified"]
    assert event_count(app) == before + 1


def test_a_form_post_may_carry_the_csrf_token_as_a_field(app: App) -> None:
    case_id = new_case(app)
    client = signed_in(app, "duty")
    token = client.environ_base.pop("HTTP_X_CSRFTOKEN")
    answer = client.post(f"/api/cases/{case_id}/actions/verify", data={"csrf_token": token})
    assert answer.status_code == 200
    assert answer.get_json()["case"]["state"] == "verified"


def test_signing_out_clears_the_session(app: App) -> None:
    client = signed_in(app, "duty")
    assert client.get("/api/cases?limit=1").status_code == 200
    answer = client.post("/logout")
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    assert me(client) == {"signed_in": False}
    refused = client.get("/api/cases?limit=1")
    assert refused.status_code == 401
    assert refused.get_json()["code"] == "unauthorized"
    assert client.get("/console").status_code == 302


# -- pages that need a signed-in person --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "login"),
    [
        ("/console", "/login?next=/console"),
        ("/cases/1", "/login?next=/cases/1"),
        ("/cases/1?tab=photos", "/login?next=/cases/1%3Ftab%3Dphotos"),
    ],
)
def test_signed_in_pages_send_a_signed_out_browser_to_the_form_and_back(
    app: App, path: str, login: str
) -> None:
    client = app.flask.test_client()
    answer = client.get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"] == login
    page = client.get(login).get_data(as_text=True)
    assert f'name="next" value="{path}"' in page
    token = CSRF_FIELD.search(page)
    assert token
    form = {"username": "duty", "password": DEMO_PASSWORD, "csrf_token": token[1], "next": path}
    answer = client.post("/login", data=form)
    assert answer.status_code == 302
    assert answer.headers["Location"] == path


@pytest.mark.parametrize(
    "elsewhere",
    ["https://evil.example/console", "//evil.example/console", "javascript:alert(1)", "console"],
)
def test_a_next_that_points_to_another_site_is_ignored(app: App, elsewhere: str) -> None:
    client = app.flask.test_client()
    assert "evil" not in client.get(f"/login?next={elsewhere}").get_data(as_text=True)
    answer = sign_in(client, "duty", next=elsewhere)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/console"


# -- what is stored --------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes(app: App) -> None:
    user_id = accounts.create_user(
        app.core,
        accounts.NewUser("auth-new-officer", "a long passphrase", "duty", display_name="新值班员"),
    )
    with app.core.db.read() as session:
        rows = {
            r.username: r.password_hash
            for r in session.scalars(select(UserRow).where(UserRow.role != "grid_worker"))
        }
        stored = session.get(UserRow, user_id)
        assert stored is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert "a long passphrase" not in stored.password_hash
    assert rows and all(h.startswith("$argon2id$") for h in rows.values()), rows
    assert (
        sign_in(app.flask.test_client(), "auth-new-officer", "a long passphrase").status_code == 302
    )


# -- device tokens and api keys --------------------------------------------------------------


def device(app: App, token: str) -> FlaskClient:
    client = app.flask.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_a_device_token_signs_a_phone_in_as_its_grid_worker(app: App) -> None:
    worker_id = a_worker(app)
    phone = device(app, device_token(app, worker_id))
    answer = phone.get("/api/field/tasks")
    assert answer.status_code == 200
    assert answer.get_json()["worker"]["id"] == worker_id
    who = me(phone)
    assert (who["role"], who["worker_id"]) == ("grid_worker", worker_id)


def test_a_revoked_device_token_is_refused_saying_so(app: App) -> None:
    worker_id = sorted(app.names.workers)[1]
    token = device_token(app, worker_id)
    assert device(app, token).get("/api/field/tasks").status_code == 200
    user_id = accounts.worker_user(app.core, worker_id)
    assert user_id is not None
    assert accounts.revoke_device_tokens(app.core, user_id) >= 1
    answer = device(app, token).get("/api/field/tasks")
    assert answer.status_code == 403
    error = answer.get_json()
    assert error["code"] == "forbidden" and error["field"] == "token"
    assert "revoked" in error["message"]


@pytest.mark.parametrize("token", ["dev_not-a-token", "garbage", "ch_not-a-key"])
def test_an_unknown_token_is_refused(app: App, token: str) -> None:
    for path in ("/api/field/tasks", "/api/cases?limit=1"):
        answer = device(app, token).get(path)
        assert answer.status_code == 403
        assert answer.get_json()["code"] == "forbidden"


def test_nobody_at_all_is_401_on_the_api(app: App) -> None:
    client = app.flask.test_client()
    for path in ("/api/cases", "/api/queue", "/api/search?q=1", "/api/field/tasks"):
        answer = client.get(path)
        assert answer.status_code == 401, path
        assert answer.get_json()["field"] == "authorization"
    assert client.get("/api/meta").status_code == 200


def test_an_api_key_acts_as_the_system_and_registers_cases_without_csrf(app: App) -> None:
    lat, long = inside_a_grid(app)
    body = {"service_code": "road", "lat": lat, "long": long, "description": "路面塌陷"}
    answer = api_client(app).post("/api/cases", json=body)
    assert answer.status_code == 201
    case_id = answer.get_json()["id"]
    with app.core.db.read() as session:
        actors = set(session.scalars(select(EventRow.actor).where(EventRow.case_id == case_id)))
    assert actors == {"api:test-client"}
    assert me(api_client(app))["role"] == "system"


def test_a_grid_workers_device_may_not_register_cases(app: App) -> None:
    phone = device(app, device_token(app, a_worker(app)))
    lat, long = inside_a_grid(app)
    before = event_count(app)
    answer = phone.post(
        "/api/cases", json={"service_code": "road", "lat": lat, "long": long, "description": "x"}
    )
    assert answer.status_code == 403
    assert answer.get_json()["code"] == "forbidden"
    assert "/api/reports" in answer.get_json()["message"]
    assert event_count(app) == before


def test_a_grid_workers_device_may_not_read_the_console_queue(app: App) -> None:
    phone = device(app, device_token(app, a_worker(app)))
    answer = phone.get("/api/queue")
    assert answer.status_code == 403
    assert "/api/field/tasks" in answer.get_json()["message"]


def test_api_me_with_an_unknown_device_token_answers_json(app: App) -> None:
    answer = device(app, "dev_not-a-token").get("/api/me")
    assert answer.status_code in (200, 403)
    assert answer.is_json


def test_a_server_with_pages_documents_api_me_and_every_other_api_route(app: App) -> None:
    from openapi_spec_validator import validate

    document = app.flask.test_client().get("/api/openapi.json").get_json()
    validate(document)
    routes = {
        (re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.flask.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert ("/api/me", "get") in routes
    assert routes == {(path, method) for path, item in document["paths"].items() for method in item}
    assert set(document["components"]["securitySchemes"]) == {"session", "csrf", "bearerAuth"}
