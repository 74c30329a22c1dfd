"""Gateway settings (``NEWSWIRE_`` environment variables)."""

from typing import ClassVar

from newswire_platform import CommaList, StoreSettings
from pydantic import Field


class GatewaySettings(StoreSettings):
    """What the gateway reads from the environment."""

    service_name: ClassVar[str] = "gateway"

    gateway_port: int = Field(default=8080, description="Port of the HTTP API.")
    api_keys: CommaList = Field(
        default_factory=list,
        description="Keys accepted on write endpoints (comma-separated). None set: writes are refused.",
    )
    cors_origins: CommaList = Field(
        default_factory=list, description="Origins allowed to call the API from a browser."
    )
    max_request_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    comment_rate_per_minute: float = Field(
        default=6.0, gt=0, description="Comments a client may post a minute."
    )
    comment_burst: int = Field(default=3, ge=1, description="Comments a client may post at once.")
    trust_forwarded_for: bool = Field(
        default=False,
        description="Identify clients by X-Forwarded-For (only behind a proxy that sets it).",
    )

    article_cache_size: int = Field(
        default=10_000,
        ge=0,
        description="Articles kept in memory for reads by id (0: none). Each is dropped when "
        "relate announces a change to it on articles.related.",
    )
    article_cache_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Longest an article is served from memory: bounds staleness should the "
        "live feed fall behind.",
    )
