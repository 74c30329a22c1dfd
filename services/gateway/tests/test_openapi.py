"""The OpenAPI document lists what the routes answer: problem documents, keys, links, 405s.

The contract ring (tests/test_api_contract.py) checks the running gateway against the
document; these check the document's shape and the answers that need no store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from newswire_gateway.config import GatewaySettings
from newswire_gateway.main import create_app
from newswire_gateway.problems import PROBLEM_JSON, PROBLEM_SCHEMA_REF

pytestmark = pytest.mark.unit

KEY = "unit-key"
WRITES = {
    ("post", "/v1/articles"),
    ("post", "/v1/feeds"),
    ("delete", "/v1/feeds/{feed_id}"),
    ("patch", "/v1/articles/{article_id}/comments/{comment_id}"),
    ("delete", "/v1/articles/{article_id}/comments/{comment_id}"),
}
JSON_BODIES = {(m, p) for m, p in WRITES if m != "delete"} | {
    ("post", "/v1/articles/{article_id}/comments")
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(GatewaySettings()).openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_error_is_a_problem_document_and_nothing_else(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and path != "/readyz":
                assert response["content"] == {
                    PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}
                }, (method, path, status)
    schemas = document["components"]["schemas"]
    assert "Problem" in schemas
    # FastAPI adds its own 422 (application/json) to an operation that lists none.
    assert "HTTPValidationError" not in schemas


def test_operations_list_the_statuses_they_can_answer(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        statuses = set(operation["responses"])
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in statuses, (method, path)
        if (method, path) in JSON_BODIES:
            assert {"400", "413", "415", "422"} <= statuses, (method, path)
        if (method, path) in WRITES:
            assert operation["security"] == [{"apiKey": []}], (method, path)
            assert "401" in statuses, (method, path)
        else:
            assert "security" not in operation, (method, path)
            assert "401" not in statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if path.startswith("/v1/") and path != "/v1/stream":
            assert "503" in statuses, (method, path)
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_schemas_use_only_json_schema_keywords(document: dict[str, Any]) -> None:
    # pydantic writes some constraints it cannot place as "ge", "le", ... which readers ignore.
    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            assert not {"ge", "le", "gt", "lt", "multiple_of"} & set(node), where
            for key, value in node.items():
                if key != "properties":
                    walk(value, f"{where}/{key}")
                else:
                    for name, schema in value.items():
                        walk(schema, f"{where}/properties/{name}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{where}[{n}]")

    walk(document, "")


def test_deletes_answer_204_without_a_body(document: dict[str, Any]) -> None:
    for _, _, operation in [op for op in _operations(document) if op[0] == "delete"]:
        assert "content" not in operation["responses"]["204"]


def test_links_name_operations_and_parameters_that_exist(document: dict[str, Any]) -> None:
    by_id = {operation["operationId"]: operation for _, _, operation in _operations(document)}
    links = [
        link
        for _, _, operation in _operations(document)
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 10
    for link in links:
        target = by_id[link["operationId"]]
        names = {parameter["name"] for parameter in target.get("parameters", [])}
        assert set(link["parameters"]) <= names, link
    # An article is readable once processed, not when accepted: no link from the 202.
    assert "links" not in by_id["submit_article"]["responses"]["202"]


def test_ids_cursors_and_urls_have_documented_patterns(document: dict[str, Any]) -> None:
    for _, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" or parameter["name"] == "cursor":
                schema = parameter["schema"]
                schema = next((s for s in schema.get("anyOf", [schema]) if "pattern" in s), {})
                assert schema.get("pattern", "").startswith("^"), (path, parameter["name"])
    schemas = document["components"]["schemas"]
    for model in ("SubmitArticle", "RegisterFeed"):
        assert schemas[model]["properties"]["url"]["pattern"].startswith("^[Hh][Tt][Tt][Pp]")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(GatewaySettings(api_keys=[KEY]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/v1/articles", "GET, POST"),
        ("PUT", "/v1/articles", "GET, POST"),
        ("DELETE", "/v1/feeds", "GET, POST"),
        ("PUT", "/v1/feeds/" + "0" * 32, "DELETE, GET"),
        ("OPTIONS", "/v1/articles/" + "0" * 32 + "/comments", "GET, POST"),
        ("PUT", "/v1/articles/" + "0" * 32 + "/comments/" + "1" * 32, "DELETE, PATCH"),
        ("POST", "/v1/stories", "GET"),
        ("HEAD", "/v1/stories", "GET"),
    ],
)
async def test_a_405_allows_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_json_is_a_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    if content_type:
        headers["Content-Type"] = content_type
    response = await client.post(
        "/v1/feeds", content=b'{"url": "https://news.example/feed"}', headers=headers
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "application/json" in response.json()["detail"]


async def test_a_body_that_is_not_utf8_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/feeds",
        content=b'{"url": "\xff"}',
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_the_key_is_checked_before_the_content_type(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/feeds", content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 401
