"""Building ingested articles from submissions, feed entries and pages that came later."""

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from newswire_contracts import IngestArticle, article_id, canonicalize_url
from newswire_ingest.domain.articles import (
    ArticleRejected,
    article_from_entry,
    article_from_page,
    article_from_submission,
    choose_canonical,
    clean_text,
    content_hash,
    page_has_article,
    source_from_url,
)
from newswire_ingest.domain.extract import ExtractedPage, canonical_link, extract_page
from newswire_ingest.domain.feeds import FeedEntry, ParsedFeed
from newswire_ingest.domain.page_retries import PendingPage

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


def test_a_submission_is_taken_in_when_the_gateway_accepted_it() -> None:
    # Relate orders stories by it: the order clients submitted in, not ingest's consumption.
    accepted = NOW - timedelta(seconds=3)
    command = IngestArticle(url="https://news.example/a", text="Text.", submitted_at=accepted)
    article = article_from_submission(command, now=NOW)
    assert (article.ingested_at, article.first_ingested_at) == (NOW, accepted)


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


def entry(**fields: object) -> FeedEntry:
    base: dict[str, object] = {
        "link": "https://news.example/2026/story?utm_source=rss",
        "guid": None,
        "title": "Ministers meet",
        "published_at": NOW,
        "updated_at": None,
        "authors": ("Ann Reporter",),
        "content_html": None,
        "summary_html": "<p>Ministers met.</p>",
        "image_url": None,
        "language": None,
    }
    return FeedEntry(**(base | fields))  # type: ignore[arg-type]


FEED = ParsedFeed(
    kind="rss",
    version="rss20",
    title="Wire",
    site_url=None,
    language="en",
    ttl_seconds=None,
    entries=(),
    warnings=(),
    skipped=0,
)


def test_an_entry_without_its_page_is_published_with_the_feeds_text_and_says_so() -> None:
    article = article_from_entry(
        entry(), FEED, text="Ministers met.", source="Wire", feed_id="f" * 32, now=NOW,
        summary_only=True,
    )  # fmt: skip
    assert article.url == "https://news.example/2026/story"
    assert (article.text, article.title, article.authors) == (
        "Ministers met.",
        "Ministers meet",
        ("Ann Reporter",),
    )
    assert (article.text_source, article.summary_only) == ("feed", True)
    assert article.language_hint == "en"


def test_a_headline_without_text_is_still_an_article_when_summary_only() -> None:
    article = article_from_entry(
        entry(summary_html=None), FEED, text="", source="Wire", feed_id="f" * 32, now=NOW,
        summary_only=True,
    )  # fmt: skip
    assert (article.title, article.text, article.summary_only) == ("Ministers meet", "", True)
    with pytest.raises(ArticleRejected, match="neither a title nor text"):
        article_from_entry(
            entry(title=None, summary_html=None), FEED, text="", source="Wire",
            feed_id="f" * 32, now=NOW, summary_only=True,
        )  # fmt: skip


def test_a_full_text_in_the_feed_is_no_summary() -> None:
    article = article_from_entry(
        entry(), FEED, text="Long text. " * 80, source="Wire", feed_id="f" * 32, now=NOW
    )
    assert (article.text_source, article.summary_only) == ("feed", False)


def test_the_page_text_and_the_kept_url_of_an_earlier_version() -> None:
    page = ExtractedPage(text="The page. " * 40, title="Page title", canonical_url="/canonical")
    fetched = "https://news.example/2026/story"
    chosen = article_from_entry(
        entry(), FEED, text="Ministers met.", source="Wire", feed_id="f" * 32, now=NOW,
        page=page, fetched_url=fetched, summary_only=True,
    )  # fmt: skip
    assert (chosen.url, chosen.text_source, chosen.summary_only) == (
        "https://news.example/canonical", "page", False,
    )  # fmt: skip
    kept = article_from_entry(
        entry(), FEED, text="Ministers met.", source="Wire", feed_id="f" * 32, now=NOW,
        page=page, fetched_url=fetched, url="https://news.example/2026/story",
    )  # fmt: skip
    assert kept.url == "https://news.example/2026/story"
    assert page_has_article(page, "Ministers met.")
    assert not page_has_article(ExtractedPage(text="Subscribe to continue reading."), "")


def test_a_page_that_came_later_is_the_next_version_of_the_same_article() -> None:
    pending = PendingPage(
        link="https://news.example/2026/story",
        entry_id=article_id("https://news.example/2026/story"),
        article_id=article_id("https://news.example/2026/story"),
        article_url="https://news.example/2026/story",
        basis_version=1,
        next_at=NOW,
        title="Ministers meet",
        authors=["Ann Reporter"],
        source="Wire",
    )
    page = ExtractedPage(text="The page. " * 40, canonical_url="https://news.example/elsewhere")
    article = article_from_page(
        pending, page, fetched_url="https://news.example/2026/story", feed_id="f" * 32, now=NOW
    )
    assert article.id == pending.article_id, "the summary's article, not the page's canonical"
    assert (article.title, article.source, article.authors) == (
        "Ministers meet",
        "Wire",
        ("Ann Reporter",),
    )
    assert (article.text_source, article.summary_only) == ("page", False)
    with pytest.raises(ArticleRejected, match="no article"):
        article_from_page(
            pending, ExtractedPage(text="Sign in"), fetched_url=pending.link, feed_id="f" * 32,
            now=NOW,
        )  # fmt: skip


def test_a_submission_says_where_its_text_comes_from() -> None:
    inline = article_from_submission(submission(url=PAGE_URL, text="Some text."), now=NOW)
    assert inline.text_source == "submission"
    html = gzip.decompress((FIXTURES / "NineNews_2024_05_02.html.gz").read_bytes()).decode("utf-8")
    assert (
        article_from_submission(submission(url=PAGE_URL, html=html), now=NOW).text_source == "page"
    )
