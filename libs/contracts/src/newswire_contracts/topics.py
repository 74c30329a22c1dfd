"""Kafka topic names: the public surface downstream consumers subscribe to."""

INGEST_REQUESTS = "ingest.requests"
ARTICLES_INGESTED = "articles.ingested"
ARTICLES_ENRICHED = "articles.enriched"
ARTICLES_RELATED = "articles.related"
STORIES_UPDATED = "stories.updated"
COMMENTS_POSTED = "comments.posted"

# Each consuming service owns one dead-letter topic for the messages it could not
# process; the original key, value and headers are kept and the failure is added in
# `x-dlq-*` headers (see newswire_contracts.dead_letters).
INGEST_DLQ = "ingest.dlq"
ENRICH_DLQ = "enrich.dlq"
RELATE_DLQ = "relate.dlq"

EVENT_TOPICS = (
    INGEST_REQUESTS,
    ARTICLES_INGESTED,
    ARTICLES_ENRICHED,
    ARTICLES_RELATED,
    STORIES_UPDATED,
    COMMENTS_POSTED,
)
DEAD_LETTER_TOPICS = (INGEST_DLQ, ENRICH_DLQ, RELATE_DLQ)
ALL_TOPICS = EVENT_TOPICS + DEAD_LETTER_TOPICS
