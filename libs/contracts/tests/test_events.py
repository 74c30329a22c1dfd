"""Event models: round trips, strict types, tolerance for additive fields, bounds."""

import json
from datetime import UTC, datetime

import pytest
from newswire_contracts import (
    EVENT_TYPES,
    ArticleEnriched,
    ArticleIngested,
    ArticleRelated,
    CommentPosted,
    Entity,
    IngestArticle,
    RelatedArticle,
    StoryUpdated,
    article_id,
    canonicalize_url,
)
from pydantic import ValidationError

pytestmark = pytest.mark.unit

NOW = datetime(2025, 7, 16, 10, 21, tzinfo=UTC)
URL = "https://news.example/seed/lavrov-north-korea-visit"


def ingested(**overrides: object) -> ArticleIngested:
    fields: dict[str, object] = {
        "id": article_id(URL),
        "url": URL,
        "source": "Daily8",
        "title": "Russian foreign minister to visit North Korea",
        "text": "North Korea's official Korean Central News Agency said Lavrov was invited.",
        "published_at": NOW,
        "ingested_at": NOW,
        "content_hash": "0" * 64,
    }
    fields.update(overrides)
    return ArticleIngested(**fields)  # type: ignore[arg-type]


def examples() -> list[object]:
    article = ingested()
    return [
        IngestArticle(url=URL + "?utm_source=x", text="Some text", submitted_at=NOW),
        article,
        ArticleEnriched(
            **article.model_dump(),
            language="en",
            language_confidence=0.99,
            word_count=12,
            reading_time_minutes=1,
            entities=(Entity(name="Sergei Lavrov", type="PERSON", count=3, salience=0.9),),
            keywords=("lavrov", "north korea"),
            summary="Lavrov will visit North Korea.",
            enriched_at=NOW,
        ),
        ArticleRelated(
            id=article.id,
            version=1,
            story_id="s-1",
            related=(
                RelatedArticle(
                    id=article_id("https://news.example/b"),
                    title="B",
                    url="https://news.example/b",
                    source="Sky News",
                    published_at=NOW,
                    score=0.7,
                    shared_entities=("Russia",),
                ),
            ),
            updated_at=NOW,
        ),
        StoryUpdated(
            id="s-1",
            title="Lavrov visits North Korea",
            first_seen=NOW,
            last_seen=NOW,
            article_count=1,
            article_ids=(article.id,),
            updated_at=NOW,
        ),
        CommentPosted(
            id="c1", article_id=article.id, author="Ann", body="Good read", posted_at=NOW
        ),
    ]


@pytest.mark.parametrize("event", examples(), ids=lambda e: type(e).__name__)
def test_json_round_trip_is_lossless(event: object) -> None:
    model = type(event)
    assert model.model_validate_json(event.model_dump_json()) == event  # type: ignore[attr-defined]


def test_every_event_type_is_versioned_and_unique() -> None:
    assert len(EVENT_TYPES) == 6
    for event_type, model in EVENT_TYPES.items():
        assert event_type.startswith("newswire.")
        assert event_type.endswith(".v1")
        assert model.event_type == event_type


def test_unknown_fields_from_a_newer_producer_are_ignored() -> None:
    payload = json.loads(ingested().model_dump_json())
    payload["sentiment"] = 0.3  # added by a future producer, unknown here
    assert ArticleIngested.model_validate_json(json.dumps(payload)) == ingested()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", "2"),  # a number as a string is not coerced
        ("title", 5),  # a number is not a string
        ("published_at", "2025-07-16T10:21:00"),  # no UTC offset
        ("id", "not-an-id"),
        (
            "url",
            "https://news.example/seed/lavrov-north-korea-visit/?utm_source=x",
        ),  # not canonical
        ("text", "x" * 200_001),
    ],
)
def test_strict_validation_rejects(field: str, value: object) -> None:
    payload = json.loads(ingested().model_dump_json())
    payload[field] = value
    with pytest.raises(ValidationError):
        ArticleIngested.model_validate_json(json.dumps(payload))


def test_missing_required_field_is_rejected() -> None:
    payload = json.loads(ingested().model_dump_json())
    del payload["content_hash"]
    with pytest.raises(ValidationError, match="content_hash"):
        ArticleIngested.model_validate_json(json.dumps(payload))


def test_events_are_immutable() -> None:
    with pytest.raises(ValidationError):
        ingested().title = "changed"  # type: ignore[misc]


def test_keys_keep_an_articles_events_in_one_partition() -> None:
    article = ingested()
    command = IngestArticle(url=URL + "/?fbclid=1", submitted_at=NOW)
    assert command.key() == canonicalize_url(URL)
    assert article.key() == article.id
    related = ArticleRelated(id=article.id, version=1, updated_at=NOW)
    assert related.key() == article.id


def test_where_the_text_comes_from_is_optional_and_carried_downstream() -> None:
    """An event from before the fields existed reads as "unknown source, not a summary";
    enrich copies them into what relate stores."""
    old = json.loads(ingested().model_dump_json())
    del old["text_source"], old["summary_only"]
    read = ArticleIngested.model_validate_json(json.dumps(old))
    assert (read.text_source, read.summary_only) == (None, False)
    summary = ingested(text_source="feed", summary_only=True)
    assert ArticleIngested.model_validate_json(summary.model_dump_json()) == summary
    enriched = ArticleEnriched(**summary.model_dump(), enriched_at=NOW)
    assert (enriched.text_source, enriched.summary_only) == ("feed", True)
    with pytest.raises(ValidationError):
        ingested(text_source="rumour")
