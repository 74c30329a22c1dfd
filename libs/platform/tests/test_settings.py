"""Shared settings: environment names, aliases, derived names."""

from typing import ClassVar

import pytest
from newswire_platform import CommaList, StoreSettings, create_broker
from pydantic import Field, ValidationError

pytestmark = pytest.mark.unit


class ExampleSettings(StoreSettings):
    service_name: ClassVar[str] = "example"
    example_port: int = 9999
    hosts: CommaList = Field(default_factory=list)


def test_defaults_point_at_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL", "NEWSWIRE_TOPIC_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    settings = ExampleSettings()
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.mongodb_url == "mongodb://127.0.0.1:27017"
    assert settings.topic("articles.related") == "articles.related"
    assert settings.consumer_group == "newswire-example"
    assert settings.event_source == "/newswire/example"


def test_standard_variables_are_read_without_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("MONGODB_URL", "mongodb://db:27017")
    monkeypatch.setenv("NEWSWIRE_EXAMPLE_PORT", "1234")
    settings = ExampleSettings()
    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.mongodb_url == "mongodb://db:27017"
    assert settings.http_port == 1234


def test_a_cluster_is_reached_through_each_of_its_brokers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092, kafka-2:9092,kafka-3:9092")
    settings = ExampleSettings()
    assert settings.kafka_bootstrap_list == ["kafka:9092", "kafka-2:9092", "kafka-3:9092"]
    # FastStream takes a string as one server: the broker must be given the list.
    broker = create_broker(settings)
    assert broker._connection_kwargs["bootstrap_servers"] == settings.kafka_bootstrap_list


def test_topic_prefix_namespaces_topics_and_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWIRE_TOPIC_PREFIX", "staging.")
    settings = ExampleSettings()
    assert settings.topic("articles.ingested") == "staging.articles.ingested"
    assert settings.consumer_group == "staging.newswire-example"


def test_comma_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWIRE_HOSTS", " a.example, b.example:8080 ,,")
    assert ExampleSettings().hosts == ["a.example", "b.example:8080"]


def test_the_service_name_cannot_be_overridden_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSWIRE_SERVICE_NAME", "other")
    assert ExampleSettings().service_name == "example"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEWSWIRE_TOPIC_PARTITIONS", "0"),
        ("NEWSWIRE_LOG_LEVEL", "LOUD"),
        ("KAFKA_BOOTSTRAP_SERVERS", " , "),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        ExampleSettings()


def test_produced_batches_are_compressed(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = create_broker(ExampleSettings())
    assert broker._connection_kwargs["compression_type"] == "lz4"
    monkeypatch.setenv("NEWSWIRE_KAFKA_COMPRESSION", "none")
    assert create_broker(ExampleSettings())._connection_kwargs["compression_type"] is None


async def test_consumers_wait_on_the_broker_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from newswire_platform import clients
    from newswire_platform.kafka import _group_member

    class Model:
        topic = "articles.enriched"

    monkeypatch.setenv("NEWSWIRE_KAFKA_FETCH_MAX_WAIT_MS", "1500")
    settings = ExampleSettings()
    assert _group_member(settings, Model, "reads")["fetch_max_wait_ms"] == 1500
    assert clients.consumer(settings)._fetch_max_wait_ms == 1500
    monkeypatch.delenv("NEWSWIRE_KAFKA_FETCH_MAX_WAIT_MS")
    assert ExampleSettings().kafka_fetch_max_wait_ms == 2000
