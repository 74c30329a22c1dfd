"""The local stack: configuration and idempotent start-up."""

import uuid
from pathlib import Path

import pytest
from newswire_devstack import components
from newswire_devstack.components import _kafka_properties
from newswire_devstack.config import DevstackSettings
from newswire_devstack.stack import Stack
from newswire_devstack.tools import ensure_kafka

# A UUID whose base64 starts with "-" (its first six bits are 62), as one in 64 random ones do.
_DASH_UUID = uuid.UUID(bytes=bytes([0xF8]) + bytes(15))


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
def test_a_new_cluster_id_never_starts_with_a_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = iter([_DASH_UUID, _DASH_UUID, uuid.UUID(int=7 << 100)])
    monkeypatch.setattr(components.uuid, "uuid4", lambda: next(drawn))
    settings = DevstackSettings(local_dir=tmp_path)
    cluster_id = components._kafka_cluster_id(settings)
    assert len(cluster_id) == 22
    assert not cluster_id.startswith("-")
    assert uuid.UUID(bytes=components.base64.urlsafe_b64decode(cluster_id + "==")).int == 7 << 100
    # Kept with the data: the next start formats nothing and asks for no new id.
    assert components._kafka_cluster_id(settings) == cluster_id


@pytest.mark.integration
def test_storage_is_formatted_with_a_kept_id_that_starts_with_a_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ids kept by earlier versions could start with a dash; Kafka's own tool must still take it.
    home = ensure_kafka(DevstackSettings())
    monkeypatch.setattr(components, "ensure_kafka", lambda settings: home)
    settings = DevstackSettings(local_dir=tmp_path)
    kept = components.base64.urlsafe_b64encode(_DASH_UUID.bytes).decode().rstrip("=")
    assert kept.startswith("-")
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "kafka-cluster-id").write_text(kept)
    components.kafka_spec(settings)
    meta = (settings.data_dir / "kafka" / "meta.properties").read_text()
    assert f"cluster.id={kept}" in meta.splitlines()


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
