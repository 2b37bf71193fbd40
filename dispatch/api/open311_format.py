"""Open311 GeoReport v2 documents and their XML and JSON renderings.

Pure functions: the views pass in case summaries (which hold no personal data) and get back
plain dicts; `respond` turns a dict or a list of dicts into either format. The JSON follows
the Spark convention of the spec (a collection is a bare array, a single document an object);
the XML is schemaless, without a namespace, preceded by the XML declaration.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response

from dispatch.domain.categories import CATEGORIES, DEPARTMENT_BY_CODE
from dispatch.domain.org import Category
from dispatch.domain.sla import SlaPolicy, Urgency

FORMATS = ("xml", "json")
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Bump when the service list or a service definition changes: clients re-read them then.
CHANGESET = "2026-11-20T00:00:00+08:00"

# How a report reached the centre: the values of the `channel` attribute.
CHANNELS: dict[str, str] = {
    "citizen": "群众随手拍 (citizen snap-and-report page)",
    "hotline": "12345热线 (hotline officer)",
    "grid": "网格员上报 (grid worker)",
    "camera": "视频监控发现 (camera analytics)",
    "app": "第三方应用 (third-party app)",
}
STATE_LABELS: dict[str, str] = {
    "reported": "上报", "verified": "核实", "registered": "立案", "dispatched": "派遣",
    "accepted": "签收", "handling": "处置中", "handled": "已处置", "closed": "结案",
    "reviewed": "已回访", "rejected": "不予受理", "returned": "回退", "suspended": "挂起",
    "escalated": "上报上级", "reopened": "重办", "merged": "合并", "cancelled": "撤销",
}  # fmt: skip
URGENCY_LABELS = {
    "emergency": "紧急件",
    "immediate": "即办件",
    "urgent": "急件",
    "normal": "一般件",
}

# XML element of one member of each collection element.
_ITEM_TAG = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


# Characters XML 1.0 cannot carry at all, not even escaped; a report typed into another
# channel may contain them, and one such character would make the whole document unreadable.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list | tuple):
        for child in value:
            _fill(ET.SubElement(element, _ITEM_TAG[element.tag]), child)
    else:
        element.text = _text(value)


def to_xml(root: str, document: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> str:
    """`document` under the element `root`: a list becomes repeated item elements."""
    element = ET.Element(root)
    _fill(element, document)
    ET.indent(element)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode") + "\n"


def respond(
    fmt: str,
    root: str,
    document: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """One response in `fmt` (xml or json), UTF-8 with the charset in the content type."""
    if fmt == "json":
        body = json.dumps(document, ensure_ascii=False, indent=1)
    else:
        body = to_xml(root, document)
    return Response(
        body.encode("utf-8"), status=status, headers=dict(headers or {}),
        content_type=CONTENT_TYPES[fmt],
    )  # fmt: skip


def errors(
    fmt: str, status: int, description: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The spec's error document; the code in the body is the HTTP status."""
    return respond(
        fmt, "errors", [{"code": status, "description": description}], status=status,
        headers=headers,
    )  # fmt: skip


def discovery(endpoint_url: str, *, contact: str, key_service: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service(category: Category) -> dict[str, Any]:
    department = DEPARTMENT_BY_CODE[category.department]
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.name_en}. 责任单位：{department.name}",
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(category.keywords),
        "group": department.name,
    }


def services() -> list[dict[str, Any]]:
    return [service(c) for c in CATEGORIES]


def service_definition(category: Category) -> dict[str, Any]:
    """The one attribute every service has: how the report arrived (optional, default app)."""
    channel = {
        "variable": True,
        "code": "channel",
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": "one of the keys below; app when not sent",
        "order": 1,
        "description": "报告渠道 How the report reached the command centre",
        "values": [{"key": key, "name": name} for key, name in CHANNELS.items()],
    }
    return {"service_code": category.code, "attributes": [channel]}


def _duration(budget: timedelta) -> str:
    hours = budget.total_seconds() / 3600
    return f"{hours:g}小时" if hours <= 48 else f"{hours / 24:g}天"


def service_notice(category: Category, urgency: str | None, policy: SlaPolicy) -> str:
    """What happens next: who handles it and within how long (the SLA of its urgency)."""
    level = Urgency(urgency or category.default_urgency)
    department = DEPARTMENT_BY_CODE[category.department].name
    notice = f"由{department}负责办理，按{URGENCY_LABELS[level.value]}处理，"
    if level is Urgency.EMERGENCY:
        notice += f"{_duration(policy.on_scene)}内到场，"
    return notice + f"{_duration(policy.budgets[level])}内办结。"


def w3(value: str | None, tz: ZoneInfo) -> str | None:
    """An ISO timestamp as a w3 datetime in local time, whole seconds, with its offset."""
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(tz).replace(microsecond=0).isoformat()


def service_request(
    case: Mapping[str, Any],
    category: Category,
    *,
    policy: SlaPolicy,
    tz: ZoneInfo,
    extensions: bool,
) -> dict[str, Any]:
    """One `request` of GET requests from a case summary (which holds no personal data)."""
    label = STATE_LABELS.get(case["state"], case["state"])
    notes = label if case["master_id"] is None else f"{label}：并入 {case['master_id']}"
    department = DEPARTMENT_BY_CODE.get(case["department"] or category.department)
    document = {
        "service_request_id": str(case["id"]),
        "status": case["status"],
        "status_notes": notes,
        "service_name": category.name,
        "service_code": case["service_code"],
        "description": case["description"] or None,
        "agency_responsible": department.name if department else None,
        "service_notice": service_notice(category, case["urgency"], policy),
        "requested_datetime": w3(case["reported_at"], tz),
        "updated_datetime": w3(case["updated_at"], tz),
        "expected_datetime": w3(case["deadline"], tz),
        "address": case["address"] or None,
        "lat": case["lat"],
        "long": case["long"],
        "media_url": case["media_url"] or None,
    }
    if extensions:
        extended = ("urgency", "light", "grid", "grid_id", "township", "township_id", "ticket")
        document["extended_attributes"] = {"state": case["state"], "state_label": label} | {
            key: case[key] for key in (*extended, "channel", "level")
        }
    return document


def created(case_id: int, notice: str) -> dict[str, Any]:
    """The answer to POST requests. account_id is personal data: never echoed back."""
    return {"service_request_id": str(case_id), "service_notice": notice, "account_id": None}
