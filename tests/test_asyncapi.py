"""The topics' AsyncAPI document: committed up to date, complete, and served by the gateway."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from newswire_contracts import ArticleRelated, IngestArticle, IngestFeed, IngestRequest, topics
from newswire_contracts.dead_letters import HEADER_PREFIX as DLQ_HEADER_PREFIX
from newswire_contracts.events import EVENT_TYPES
from newswire_devstack import schemas
from newswire_gateway.config import GatewaySettings
from newswire_gateway.main import create_app
from newswire_platform.asyncapi import merge_specifications, service_specification
from newswire_platform.dead_letter import dead_letter_headers
from newswire_platform.kafka import DEAD_LETTER_MESSAGE
from newswire_relate.refresh import REFRESH_TOPIC, RelateRefresh
from pydantic import BaseModel

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def generated() -> str:
    return schemas.render_asyncapi()


@pytest.fixture(scope="module")
def document(generated: str) -> dict[str, Any]:
    return json.loads(generated)


def committed() -> str:
    return resources.files("newswire_contracts").joinpath("asyncapi.json").read_text("utf-8")


def payload_schema(document: dict[str, Any], topic: str) -> dict[str, Any]:
    (message,) = document["channels"][topic]["messages"].values()
    return resolve(document, resolve(document, message)["payload"])


def resolve(document: dict[str, Any], reference: dict[str, str]) -> Any:
    node: Any = document
    for part in reference["$ref"].removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def references(node: Any) -> list[dict[str, str]]:
    if isinstance(node, dict):
        if "$ref" in node:
            return [node]
        return [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in references(item)]
    return []


def test_the_committed_document_is_what_the_services_generate(generated: str) -> None:
    if committed() != generated:
        pytest.fail("\n".join(schemas.check()), pytrace=False)


def test_generating_twice_gives_the_same_bytes(generated: str) -> None:
    assert schemas.render_asyncapi() == generated
    assert generated.endswith("}\n")
    assert generated.startswith('{\n  "asyncapi": "3.0.0",\n')


def test_every_contract_topic_is_a_channel_with_its_model(document: dict[str, Any]) -> None:
    assert {model.topic for model in EVENT_TYPES.values()} == set(topics.EVENT_TOPICS)
    for model in EVENT_TYPES.values():
        channel = document["channels"][model.topic]
        assert channel["address"] == model.topic
        assert channel["tags"] == [{"name": "contract"}]
        (message,) = (resolve(document, ref) for ref in channel["messages"].values())
        assert message["name"] == model.__name__
        assert message["headers"]["properties"]["ce_type"]["const"] == model.event_type
        assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"} <= set(
            message["headers"]["required"]
        )
        schema = payload_schema(document, model.topic)
        if model is IngestRequest:
            assert schema["discriminator"] == "kind"
            variants = [resolve(document, ref) for ref in schema["oneOf"]]
            for variant, variant_model in zip(variants, (IngestArticle, IngestFeed), strict=True):
                assert set(variant["properties"]) == set(variant_model.model_fields)
        else:
            assert issubclass(model, BaseModel)
            assert set(schema["properties"]) == set(model.model_fields)


def test_the_article_related_schema_carries_the_relations(document: dict[str, Any]) -> None:
    schema = payload_schema(document, ArticleRelated.topic)
    assert {"id", "version", "related", "story_id", "duplicate_of", "updated_at"} <= set(
        schema["properties"]
    )
    items = schema["properties"]["related"]["items"]
    assert set(resolve(document, items)["properties"]) >= {"id", "score", "relation"}


def test_consumers_read_what_the_producers_declare(document: dict[str, Any]) -> None:
    operations = document["operations"]
    sends = {op["channel"]["$ref"] for op in operations.values() if op["action"] == "send"}
    for operation_id, operation in operations.items():
        service, action, topic = operation_id.split(".", 2)
        assert operation["channel"] == {"$ref": f"#/channels/{topic}"}
        assert operation["tags"] == [{"name": service}]
        if action == "receive":
            assert operation["channel"]["$ref"] in sends, operation_id
            assert operation["messages"] == [
                {"$ref": f"#/channels/{topic}/messages/{name}"}
                for name in document["channels"][topic]["messages"]
            ]
    assert "ingest.receive.ingest.requests" in operations
    assert "gateway.send.ingest.requests" in operations
    assert "relate.receive.articles.enriched" in operations


def test_the_refresh_topic_is_documented_as_internal(document: dict[str, Any]) -> None:
    channel = document["channels"][REFRESH_TOPIC]
    assert channel["tags"] == [{"name": "internal"}]
    assert "not a contract" in channel["description"]
    assert {"relate.send.relate.refresh", "relate.receive.relate.refresh"} <= set(
        document["operations"]
    )
    assert set(payload_schema(document, REFRESH_TOPIC)["properties"]) == set(
        RelateRefresh.model_fields
    )
    for address, channel in document["channels"].items():
        if address not in topics.ALL_TOPICS:
            assert channel["tags"] == [{"name": "internal"}], address


def test_every_consumer_documents_its_dead_letters(document: dict[str, Any]) -> None:
    record = ConsumerRecord(
        "articles.ingested", 0, 7, 1, 0, b"key", b"value", None, 3, 5, [("ce_id", b"1")]
    )
    written = [
        name
        for name, _ in dead_letter_headers(record, service="x", error=ValueError(), attempts=1)
        if name.startswith(DLQ_HEADER_PREFIX)
    ]
    consumers = {
        op_id.split(".", 1)[0]
        for op_id, op in document["operations"].items()
        if op["action"] == "receive"
    }
    assert consumers == {"ingest", "enrich", "relate"}
    dead_letter_channels = {
        address
        for address, channel in document["channels"].items()
        if channel["tags"] == [{"name": "dead-letter"}]
    }
    assert dead_letter_channels <= set(topics.DEAD_LETTER_TOPICS)
    for service in consumers:
        topic = f"{service}.dlq"
        assert topic in dead_letter_channels
        assert f"{service}.send.{topic}" in document["operations"]
        (message,) = (
            resolve(document, ref) for ref in document["channels"][topic]["messages"].values()
        )
        assert message["name"] == DEAD_LETTER_MESSAGE
        assert set(message["headers"]["properties"]) == set(written)
        assert message["headers"]["required"] == written


def test_every_reference_resolves_and_names_are_valid(document: dict[str, Any]) -> None:
    for ref in references(document):
        assert resolve(document, ref) is not None, ref
    name = re.compile(r"^[A-Za-z0-9._-]+$")
    for section in (
        document["channels"],
        document["operations"],
        document["components"]["messages"],
        document["components"]["schemas"],
    ):
        assert all(name.match(key) for key in section), list(section)
    assert document["info"]["title"] == "Newswire"
    for header in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"):
        assert f"`{header}`" in document["info"]["description"]


def test_check_reports_a_stale_file_and_write_fixes_it(tmp_path: Path, generated: str) -> None:
    path = tmp_path / "asyncapi.json"
    path.write_text(generated.replace('"title": "Newswire"', '"title": "Old"'), "utf-8")
    problems = schemas.check(path)
    assert "out of date" in problems[0]
    assert '-    "title": "Old",' in problems
    assert schemas.write(path) is True
    assert schemas.check(path) == []
    assert schemas.write(path) is False


def test_a_topic_consumed_but_published_by_no_one_is_an_error() -> None:
    broker = KafkaBroker()

    @broker.subscriber("orphan", title="orphan:x")
    async def handle(body: IngestArticle) -> None: ...

    with pytest.raises(ValueError, match="no service declares publishing it"):
        merge_specifications({"x": service_specification(broker, "x")}, event_types={}, version="0")


async def test_the_gateway_serves_the_committed_document() -> None:
    app = create_app(GatewaySettings())  # the lifespan (Kafka, the store) never runs
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.get("/asyncapi")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == committed()
    assert response.json()["info"]["title"] == "Newswire"
