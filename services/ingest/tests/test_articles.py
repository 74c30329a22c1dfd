"""Building ingested articles from submissions."""

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from newswire_contracts import IngestArticle, article_id, canonicalize_url
from newswire_ingest.domain.articles import (
    ArticleRejected,
    article_from_submission,
    choose_canonical,
    clean_text,
    content_hash,
    source_from_url,
)
from newswire_ingest.domain.extract import canonical_link, extract_page

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FIXTURES = Path(__file__).parent / "fixtures"
PAGE_URL = (
    "https://www.9news.com.au/world/usa-jeffrey-epstein-documents-released-but-some-questions-remain-unanswered/"
    "141e61e9-8a07-42e4-a527-2f03f45e7ef0"
)


def submission(**fields: object) -> IngestArticle:
    return IngestArticle(submitted_at=NOW, **fields)  # type: ignore[arg-type]


def test_inline_text_is_taken_as_is_with_a_canonical_url_and_id() -> None:
    article = article_from_submission(
        submission(
            url="https://WWW.News.example/a/?utm_source=x",
            title=" Title ",
            text="First.\n\n\n  Second  para.",
        ),
        now=NOW,
    )
    assert article.url == "https://www.news.example/a"
    assert article.id == article_id("https://www.news.example/a")
    assert article.title == "Title"
    assert article.text == "First.\n\nSecond para."
    assert article.source == "news.example"
    assert article.ingested_at == NOW
    assert article.version == 1
    assert article.content_hash == content_hash("Title", "First.\n\nSecond para.")


def test_html_is_extracted_like_a_reader_sees_it() -> None:
    html = gzip.decompress((FIXTURES / "NineNews_2024_05_02.html.gz").read_bytes()).decode("utf-8")
    expected = json.loads((FIXTURES / "NineNews.expected.json").read_text())["V1"]
    article = article_from_submission(submission(url=PAGE_URL, html=html), now=NOW)
    assert article.title == expected["title"]
    assert article.authors == tuple(expected["authors"])
    first_paragraph = expected["body"]["sections"][0]["paragraphs"][0]
    assert article.text.startswith(first_paragraph)
    assert "Advertisement" not in article.text[:500]
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == "2024-01-07"
    assert article.image_url is not None
    assert article.image_url.startswith("https://")


def test_submitter_fields_win_over_the_page() -> None:
    html = gzip.decompress((FIXTURES / "NineNews_2024_05_02.html.gz").read_bytes()).decode("utf-8")
    article = article_from_submission(
        submission(url=PAGE_URL, html=html, title="My title", source="Nine", published_at=NOW),
        now=NOW,
    )
    assert (article.title, article.source, article.published_at) == ("My title", "Nine", NOW)


def test_oversized_text_is_cut_and_flagged() -> None:
    article = article_from_submission(
        submission(url="https://news.example/long", text="word " * 50_000), now=NOW
    )
    assert article.text_truncated
    assert len(article.text) == 200_000


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"html": "<html><body><nav>Home</nav></body></html>"},
            "no article text could be extracted",
        ),
        ({}, "neither text nor html"),
        ({"text": "   \n\n  "}, "neither text nor html"),
    ],
)
def test_no_text_is_a_permanent_error(fields: dict[str, str], reason: str) -> None:
    with pytest.raises(ArticleRejected, match=reason):
        article_from_submission(submission(url="https://news.example/empty", **fields), now=NOW)


def test_helpers() -> None:
    assert clean_text("a\u00a0 b\r\n\r\n\r\nc") == "a b\n\nc"
    assert source_from_url("https://www.reuters.com/x") == "reuters.com"


@pytest.mark.parametrize(
    ("fetched", "declared", "chosen"),
    [
        ("https://www.news.example/a?utm_source=x", None, "https://www.news.example/a"),
        (
            "https://www.news.example/a",
            "https://www.news.example/2026/a",
            "https://www.news.example/2026/a",
        ),
        ("https://m.news.example/a", "https://www.news.example/a", "https://www.news.example/a"),
        ("https://news.example/a", "/canonical/a", "https://news.example/canonical/a"),
        ("https://news.example/a", "https://evil.example/a", "https://news.example/a"),
        ("https://news.example/a", "javascript:alert(1)", "https://news.example/a"),
        ("https://edition.news.example/a", "https://news.example/a", "https://news.example/a"),
    ],
)
def test_the_canonical_link_wins_only_for_the_same_site(
    fetched: str, declared: str | None, chosen: str
) -> None:
    assert choose_canonical(fetched, declared) == chosen


def test_a_fetched_page_with_another_canonical_url_keeps_the_submitted_id_as_alias() -> None:
    html = gzip.decompress((FIXTURES / "NineNews_2024_05_02.html.gz").read_bytes()).decode("utf-8")
    submitted = "https://www.9news.com.au/amp/epstein?utm_source=x"
    article = article_from_submission(
        submission(url=submitted),
        now=NOW,
        page=extract_page(html, submitted),
        fetched_url=submitted,
    )
    assert article.url == canonicalize_url(PAGE_URL)
    assert article.aliases == (article_id(canonicalize_url(submitted)),)


@pytest.mark.parametrize(
    ("html", "href"),
    [
        (
            '<head><link rel="stylesheet" href="a.css"><LINK REL="Canonical" HREF="https://x.example/a?b=1&amp;c=2"></head>',
            "https://x.example/a?b=1&c=2",
        ),
        ("<head><link href='/relative' rel='alternate canonical'></head>", "/relative"),
        ("<head><meta property='og:url' content='https://x.example/og'></head>", None),
        ("<head></head><body><link rel=canonical href=/in-body></body>", None),
    ],
)
def test_canonical_link_is_read_from_the_head(html: str, href: str | None) -> None:
    assert canonical_link(html) == href
