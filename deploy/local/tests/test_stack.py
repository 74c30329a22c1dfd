"""The local stack: configuration and idempotent start-up."""

from pathlib import Path

import pytest
from newswire_devstack import components
from newswire_devstack.components import _kafka_properties
from newswire_devstack.config import DevstackSettings
from newswire_devstack.stack import Stack


@pytest.mark.unit
def test_kafka_properties_come_from_settings(tmp_path: Path) -> None:
    settings = DevstackSettings(
        kafka_bootstrap_servers="127.0.0.1:19092", kafka_controller_port=19093
    )
    properties = dict(
        line.split("=", 1)
        for line in _kafka_properties(settings, tmp_path).splitlines()
        if line and not line.startswith("#")
    )
    assert properties["process.roles"] == "broker,controller"
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert properties["auto.create.topics.enable"] == "false"
    assert properties["log.dirs"] == str(tmp_path)
    assert int(properties["message.max.bytes"]) > settings.kafka_max_message_bytes


@pytest.mark.unit
def test_the_store_runs_with_the_configured_gc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(components, "ensure_ferretdb", lambda settings: tmp_path / "ferretdb")
    settings = DevstackSettings(local_dir=tmp_path, store_gogc=250)
    spec = components.store_spec(settings)
    assert spec.env["GOGC"] == "250"
    assert spec.argv[0] == str(tmp_path / "ferretdb")
    assert DevstackSettings(local_dir=tmp_path).store_gogc == 400


@pytest.mark.unit
def test_external_servers_are_not_managed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.internal:9092")
    stack = Stack(DevstackSettings())
    assert "kafka" not in stack.components()
    assert "store" in stack.components()
    assert [s.describe() for s in stack.status() if s.name == "kafka"] == ["kafka    external"]


@pytest.mark.unit
def test_unknown_components_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown components: zookeeper"):
        Stack(DevstackSettings()).components(["zookeeper"])


@pytest.mark.unit
def test_the_generated_api_key_is_kept(tmp_path: Path) -> None:
    stack = Stack(DevstackSettings(local_dir=tmp_path))
    key = stack.api_key()
    assert key.startswith("nw_")
    assert len(key) > 20
    assert Stack(DevstackSettings(local_dir=tmp_path)).api_key() == key
    assert (tmp_path / "run" / "api-key").stat().st_mode & 0o077 == 0


@pytest.mark.integration
async def test_a_second_up_starts_nothing() -> None:
    # Whatever the session's servers (testcontainers too), this is about the local stack.
    stack = Stack(DevstackSettings())
    async with stack.lease(["kafka", "store"]):
        assert await Stack(DevstackSettings()).up(["kafka", "store"], echo=False) == []
        async with stack.lease(["kafka", "store"]):
            pass
        # Leaving a lease of one's own while holding another (the test session's) stops nothing.
        assert all(s.pid for s in stack.status() if s.name in ("kafka", "store"))
