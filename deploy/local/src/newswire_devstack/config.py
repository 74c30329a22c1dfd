"""Settings of the local stack (``NEWSWIRE_`` environment variables, like the services')."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from newswire_platform import CommaList, StoreSettings
from pydantic import Field

__all__ = ["DevstackSettings", "repo_root"]


def repo_root() -> Path:
    """The checkout this package lives in (deploy/local/src/newswire_devstack/..)."""
    return Path(__file__).resolve().parents[4]


class DevstackSettings(StoreSettings):
    """Where the local stack lives, which versions it runs, and on which ports."""

    service_name: ClassVar[str] = "devstack"

    local_dir: Path = Field(
        default_factory=lambda: repo_root() / ".local",
        description="Tools, data, logs and pid files of the local stack.",
    )
    kafka_version: str = Field(
        default="4.4.0", description="Apache Kafka broker version (Maven Central)."
    )
    kafka_controller_port: int = Field(default=9093, description="KRaft controller listener port.")
    kafka_heap: str = Field(default="1g", description="Broker JVM heap (-Xms half of it).")
    ferretdb_version: str = Field(
        default="v1.24.2", description="FerretDB version (Go module proxy)."
    )
    store_debug_port: int = Field(default=8088, description="FerretDB's debug/metrics HTTP port.")
    store_gogc: int = Field(
        default=400,
        ge=50,
        description="Go's GOGC for FerretDB: how far its heap grows between collections. The "
        "Go default (100) spent a quarter of the store's CPU on our article documents.",
    )
    compose_version: str = Field(
        default="v5.6.0",
        description="Docker Compose plugin built from its Go module when the machine has none.",
    )
    buildx_version: str = Field(
        default="v0.38.2", description="buildx plugin built when the machine has none (or < 0.17)."
    )
    docker_config: Path = Field(
        default_factory=lambda: Path.home() / ".docker",
        validation_alias="DOCKER_CONFIG",
        description="The docker CLI's configuration directory; built plugins go in its cli-plugins/.",
    )
    debian_mirror: str = Field(
        default="http://deb.debian.org/debian",
        description="Debian mirror debootstrap makes the stand-in images' base from.",
    )
    standins: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Local stand-in images (deploy/images/): where official ones cannot be pulled, always, or never.",
    )
    gateway_port: int = 8080
    ingest_port: int = 8081
    enrich_port: int = 8082
    relate_port: int = 8083
    api_keys: CommaList = Field(
        default_factory=list, description="Gateway API keys; generated if empty."
    )
    start_timeout_seconds: float = Field(
        default=180.0, description="How long one component may take to start."
    )

    @property
    def http_port(self) -> int:
        return self.gateway_port

    @property
    def kafka_is_external(self) -> bool:
        """True when KAFKA_BOOTSTRAP_SERVERS was given: use it, start no broker."""
        return "kafka_bootstrap_servers" in self.model_fields_set

    @property
    def store_is_external(self) -> bool:
        """True when MONGODB_URL was given: use it, start no store."""
        return "mongodb_url" in self.model_fields_set

    @property
    def kafka_port(self) -> int:
        first = self.kafka_bootstrap_servers.split(",")[0].strip()
        return int(first.rsplit(":", 1)[1]) if ":" in first else 9092

    @property
    def kafka_host(self) -> str:
        first = self.kafka_bootstrap_servers.split(",")[0].strip()
        return first.rsplit(":", 1)[0] if ":" in first else first

    @property
    def store_address(self) -> tuple[str, int]:
        parts = urlsplit(self.mongodb_url)
        return parts.hostname or "127.0.0.1", parts.port or 27017

    @property
    def tools_dir(self) -> Path:
        return self.local_dir / "tools"

    @property
    def data_dir(self) -> Path:
        return self.local_dir / "data"

    @property
    def logs_dir(self) -> Path:
        return self.local_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.local_dir / "run"
