"""Open311 GeoReport v2 at /open311/v2: discovery, services, definitions, requests.

Format: the URL's extension, `.xml` (the spec's required format) or `.json`. A resource asked
for in any other format, or without one, is 404; its error document is XML, the format every
Open311 client reads, unless the URL ends in `.json`.

Errors are the spec's `[{"code", "description"}]` / `<errors><error>` with the HTTP status as
the code, in the URL's format: 403 missing or invalid api_key; 404 unknown resource, format,
service_code, service_request_id or jurisdiction_id; 405 wrong method (with Allow); 422 an
Idempotency-Key reused for a different body; 400 anything else. Each description names the
parameter at fault and what is allowed. A refused request stores nothing.

POST requests: `application/x-www-form-urlencoded` as the spec says (the fields of
`multipart/form-data` are accepted too, files are not), UTF-8 only. The location must be
`lat` and `long`: every report is placed in a grid, so address-only reports are refused with
a 400 saying so. `attribute[channel]` says how the report arrived (default `app`).
The first success answers 201 with a Location header. With an `Idempotency-Key` header
(scoped to the api key) a retry with the same body gets the same status and body again, plus
`Idempotent-Replayed: true`, and creates nothing.

`service_request_id` is the case id (a string in JSON, as ids need not be numbers); the
citizen's ticket number is among the extended attributes.

Personal fields (email, phone, first_name, last_name, device_id, account_id) are stored for
the callback and never returned: the documents are built from case summaries, which do not
carry them, and POST's `account_id` is always empty.

`jurisdiction_id` is optional (one jurisdiction per endpoint); ours or none is accepted.
GET requests and GET a request add `extended_attributes` (state, state_label, urgency, light,
grid, township, ticket, channel, level) only with `extensions=true`, as published GeoReport
v2 extensions do (Chicago's): the spec recommends strict documents without foreign tags so
that every client can read them.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, current_app, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from dispatch.api import open311_format as doc
from dispatch.api import open311_params as params
from dispatch.api import the_app
from dispatch.domain.categories import CATEGORY_BY_CODE
from dispatch.service import apikeys, intake, queries
from dispatch.service.errors import NotFound, ServiceError, ValidationError

open311 = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# A report is a few kB (description ≤ 4,000 characters, at most 36 kB percent-encoded).
MAX_BODY = 256 * 1024


# -- format, errors, jurisdiction ---------------------------------------------------------


def _format(fmt: str) -> str:
    if fmt not in doc.FORMATS:
        raise NotFound(
            f"format {fmt!r} is not offered: end the URL in .xml or .json", field="format"
        )
    return fmt


def _error_format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in doc.FORMATS:
        return str(fmt)
    return "json" if request.path.endswith(".json") else "xml"


@open311.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> ResponseReturnValue:
    return doc.errors(_error_format(), exc.status, exc.message)


@open311.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    headers = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    return doc.errors(_error_format(), exc.code or 400, exc.description or str(exc), headers)


@open311.errorhandler(Exception)
def _internal_error(exc: Exception) -> ResponseReturnValue:
    current_app.log_exception(sys.exc_info())
    return doc.errors(_error_format(), 500, "internal error in the Open311 service; retry later")


def _jurisdiction(value: str | None) -> None:
    ours = the_app().settings.jurisdiction_id
    if value and value.strip() != ours:
        raise NotFound(
            f"jurisdiction_id {value!r} is not served here: this endpoint serves {ours!r} "
            "(or send no jurisdiction_id)",
            field="jurisdiction_id",
        )


# -- discovery and services ---------------------------------------------------------------


@open311.get("/discovery.<fmt>")
def discovery(fmt: str) -> ResponseReturnValue:
    fmt = _format(fmt)
    document = doc.discovery(
        request.root_url.rstrip("/") + (open311.url_prefix or ""),
        contact="社会治理综合指挥中心值班室 (the command centre's duty office)",
        key_service="api_keys are issued by the command centre's administrators "
        "(commandhall apikey create NAME)",
    )
    return doc.respond(fmt, "discovery", document)


@open311.get("/services.<fmt>")
def services(fmt: str) -> ResponseReturnValue:
    fmt = _format(fmt)
    _jurisdiction(request.args.get("jurisdiction_id"))
    return doc.respond(fmt, "services", doc.services())


@open311.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str) -> ResponseReturnValue:
    fmt = _format(fmt)
    _jurisdiction(request.args.get("jurisdiction_id"))
    return doc.respond(fmt, "service_definition", doc.service_definition(params.category(code)))


# -- POST requests -------------------------------------------------------------------------


def _form() -> Mapping[str, Any]:
    """The posted fields, decoded as strict UTF-8; anything else is refused naming why."""
    request.max_content_length = MAX_BODY  # larger bodies are 413 before they are read
    if request.mimetype not in (FORM, MULTIPART):
        got = request.content_type or "no Content-Type"
        raise ValidationError(
            f"Content-Type must be {FORM} (the Open311 POST format; {MULTIPART} fields are "
            f"accepted too), got {got}",
            field="Content-Type",
        )
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ValidationError(f"the body must be UTF-8, got charset={charset}", field="charset")
    if request.mimetype == FORM:
        try:
            text = request.get_data().decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=200)
        except UnicodeDecodeError:
            raise ValidationError(
                "the body is not valid UTF-8 form data (name=value&… percent-encoded)",
                field="body",
            ) from None
        except ValueError as exc:
            raise ValidationError(f"the form body is malformed: {exc}", field="body") from None
        return MultiDict(pairs)
    for name in request.files:
        raise ValidationError(
            f"file uploads are not accepted ({name!r}): publish the photo and send its URL "
            "as media_url",
            field=name,
        )
    for name, value in request.form.items(multi=True):
        if "\ufffd" in name or "\ufffd" in value:
            raise ValidationError(f"field {name!r} is not valid UTF-8", field=name)
    return request.form


@open311.post("/requests.<fmt>")
def create_request(fmt: str) -> ResponseReturnValue:
    fmt = _format(fmt)
    app = the_app()
    form = _form()
    client = apikeys.authenticate(app.core, form.get("api_key"))
    _jurisdiction(form.get("jurisdiction_id"))
    report = params.new_report(form, submitted_by=f"open311:{client.name}")
    key = request.headers.get("Idempotency-Key")
    idempotency = None if key is None else intake.Idempotency(f"apikey:{client.id}", key)
    try:
        done = intake.submit_report(app.core, report, idempotency=idempotency)
    except ServiceError as exc:
        if exc.field == "channel":  # the Open311 name of our channel field
            exc.message = f"attribute[channel]: {exc.message}"
        raise
    # The notice of the answer is the category's, so that a retry gets the same words even
    # after the centre has set the case's own urgency.
    category = CATEGORY_BY_CODE[(report.service_code or "").strip()]
    notice = doc.service_notice(category, None, app.core.policy)
    headers = {"Location": url_for(".get_request", rid=str(done.case_id), fmt=fmt)}
    if done.replayed:
        headers["Idempotent-Replayed"] = "true"
    body = [doc.created(done.case_id, notice)]
    return doc.respond(fmt, "service_requests", body, status=201, headers=headers)


# -- GET requests --------------------------------------------------------------------------


def _render(cases: list[dict[str, Any]], fmt: str) -> ResponseReturnValue:
    app = the_app()
    extensions = params.flag(request.args.get("extensions"), "extensions")
    documents = [
        doc.service_request(
            case,
            CATEGORY_BY_CODE.get(case["service_code"]) or CATEGORY_BY_CODE["other"],
            policy=app.core.policy,
            tz=app.core.timezone,
            extensions=extensions,
        )
        for case in cases
    ]
    return doc.respond(fmt, "service_requests", documents)


@open311.get("/requests.<fmt>")
def list_requests(fmt: str) -> ResponseReturnValue:
    fmt = _format(fmt)
    app = the_app()
    _jurisdiction(request.args.get("jurisdiction_id"))
    query = params.request_filter(request.args, app.core.clock.now())
    return _render(queries.list_cases(app.core, app.names, query), fmt)


@open311.get("/requests/<rid>.<fmt>")
def get_request(rid: str, fmt: str) -> ResponseReturnValue:
    fmt = _format(fmt)
    app = the_app()
    _jurisdiction(request.args.get("jurisdiction_id"))
    missing = NotFound(f"service_request_id {rid!r} does not exist", field="service_request_id")
    case_id = params.case_id(rid)
    if case_id is None:
        raise missing
    try:
        case = queries.get_case(app.core, app.names, case_id)
    except NotFound:
        raise missing from None
    return _render([case], fmt)


# -- everything else under /open311/v2 -----------------------------------------------------

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@open311.route("/", defaults={"rest": ""}, methods=_METHODS)
@open311.route("/<path:rest>", methods=_METHODS)
def unknown(rest: str) -> ResponseReturnValue:
    """404 in the Open311 format, or 405 when the resource exists for other methods."""
    adapter = current_app.create_url_adapter(request)
    allowed = []
    for method in ("GET", "POST"):
        try:
            endpoint, _ = adapter.match(request.path, method=method) if adapter else ("", {})
        except HTTPException:
            continue
        if endpoint != "open311.unknown":
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(
            valid_methods=allowed,
            description=f"{request.method} is not allowed on {request.path}; "
            f"use {' or '.join(allowed)}",
        )
    last = rest.rsplit("/", 1)[-1]
    if rest and "." not in last:
        message = f"{request.path} needs a format: add .xml or .json"
    else:
        message = (
            f"there is no Open311 resource at {request.path}; the resources are discovery, "
            "services, services/<service_code>, requests and requests/<service_request_id>, "
            "each .xml or .json"
        )
    raise NotFound(message, field="path")
