"""A real third-party Open311 client, PyPI's `georeport`, against CommandHall on a real port.

The client is used as its authors wrote it, in both of its output formats. It has no method
for POST requests (0.3.x reads only), so the request is posted the way its docs and the spec
describe, with `requests` and the client's own root address, api key and jurisdiction; the
answer is then read back through the client.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import xmltodict
from georeport import GeoReport

from tests.integration.conftest import Seeded
from tests.support import LiveServer

JURISDICTION = "yunling.gov.cn"


@pytest.fixture(params=["json", "xml"])
def client(request: pytest.FixtureRequest, seeded: Seeded, live: LiveServer) -> GeoReport:
    return GeoReport(
        f"{live.url}/open311/v2",
        jurisdiction=JURISDICTION,
        api_key=seeded.api_key,
        output_format=request.param,
    )


def as_list(value: Any) -> list[Any]:
    """xmltodict gives one repeated element as a dict and several as a list."""
    return value if isinstance(value, list) else [value]


def post_request(client: GeoReport, seeded: Seeded, **fields: Any) -> dict[str, Any]:
    response = requests.post(
        f"{client.root_address}/requests.{client.output_format}",
        data={
            "api_key": client.api_key,
            "jurisdiction_id": client.jurisdiction,
            "service_code": "road",
            "lat": seeded.lat,
            "long": seeded.long,
            **fields,
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert response.encoding and response.encoding.lower() == "utf-8"
    if client.output_format == "json":
        [created] = response.json()
        return dict(created)
    [created] = as_list(xmltodict.parse(response.content)["service_requests"]["request"])
    return dict(created)


def test_the_client_lists_services(client: GeoReport) -> None:
    services = as_list(client.get_service_list())
    codes = [s["service_code"] for s in services]
    assert len(codes) == 21 and "road" in codes and "garbage" in codes
    road = next(s for s in services if s["service_code"] == "road")
    assert road["service_name"] == "道路设施损坏"
    assert str(road["metadata"]).lower() == "true"


def test_the_client_reads_a_service_definition(client: GeoReport) -> None:
    definition = client.get_service_definition("road")
    assert definition["service_code"] == "road"
    [attribute] = as_list(definition["attributes"]["attribute"] if client.output_format == "xml"
                          else definition["attributes"])  # fmt: skip
    assert attribute["code"] == "channel"
    values = attribute["values"]["value"] if client.output_format == "xml" else attribute["values"]
    assert [v["key"] for v in as_list(values)] == ["citizen", "hotline", "grid", "camera", "app"]


def test_a_request_posted_for_the_client_reads_back_through_it(
    client: GeoReport, seeded: Seeded
) -> None:
    created = post_request(
        client, seeded, description="路灯不亮，路口很黑", address_string="玉屏街道幸福路",
        email="reader@example.cn", **{"attribute[channel]": "app"},
    )  # fmt: skip
    rid = str(created["service_request_id"])
    assert created["service_notice"]
    assert created.get("account_id") in (None, "")

    one = client.get_service_request(rid)
    assert str(one["service_request_id"]) == rid
    assert one["status"] == "open"
    assert one["service_code"] == "road" and one["service_name"] == "道路设施损坏"
    assert one["description"] == "路灯不亮，路口很黑"
    assert one["address"] == "玉屏街道幸福路"
    assert float(one["lat"]) == pytest.approx(seeded.lat)
    assert "reader@example.cn" not in json.dumps(one, ensure_ascii=False)

    listed = as_list(client.get_service_requests(service_request_id=rid))
    assert [str(r["service_request_id"]) for r in listed] == [rid]
    open_roads = as_list(client.get_service_requests(service_code="road", status="open"))
    assert rid in {str(r["service_request_id"]) for r in open_roads}


def test_the_client_sees_an_unknown_service_as_404(client: GeoReport) -> None:
    with pytest.raises(requests.HTTPError) as raised:
        client.get_service_definition("pothole")
    assert raised.value.response is not None
    assert raised.value.response.status_code == 404
