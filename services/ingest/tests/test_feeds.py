"""Feed documents (RSS, RDF, Atom, JSON Feed) turned into normalised entries."""

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from newswire_ingest.domain.feeds import (
    FeedEntry,
    FeedParseError,
    ParsedFeed,
    entry_text,
    html_to_text,
    parse_feed,
)

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures"
FEEDS = FIXTURES / "feeds"
FEED_FILES = sorted(
    path
    for path in FEEDS.rglob("*")
    if path.is_file()
    and path.suffix in {".rss", ".atom", ".rdf", ".xml", ".json"}
    and "output" not in path.parts
)
REFERENCES = sorted((FEEDS / "rss-parser" / "output").glob("*.json"))

# kind, feedparser version, number of entries: counted by hand in the raw files (<item>/<entry>/
# JSON items). NB the extensions lie: DaringFireball.rss is Atom, allthis.atom is RSS 2.0.
EXPECTED = {
    "RSParser/3960.json": ("json", "json1.1", 20),
    "RSParser/DaringFireball.atom": ("atom", "atom10", 48),
    "RSParser/DaringFireball.json": ("json", "json1.0", 48),
    "RSParser/DaringFireball.rss": ("atom", "atom10", 47),
    "RSParser/aktuality.rss": ("rss", "rss20", 30),
    "RSParser/allthis.atom": ("rss", "rss20", 12),
    "RSParser/allthis.json": ("json", "json1.0", 12),
    "RSParser/bio.rdf": ("rss", "rss10", 30),
    "RSParser/inessential.json": ("json", "json1.0", 20),
    "RSParser/kc0011.rss": ("rss", "rss20", 20),
    "RSParser/livemint.xml": ("rss", "rss20", 25),
    "RSParser/macworld.rss": ("rss", "rss20", 30),
    "RSParser/phpxml.rss": ("rss", "rss20", 20),
    "feedjira/HuffPostCanada.xml": ("rss", "rss20", 2),
    "feedjira/TechCrunch.xml": ("rss", "rss20", 20),
    "feedjira/TypePadNews.xml": ("atom", "atom10", 10),
    "feedjira/google_alerts_atom.xml": ("atom", "atom10", 20),
    "feedjira/json_feed_with_escaped_uris.json": ("json", "json1.1", 30),
    "rss-parser/input/encoding.rss": ("rss", "rss20", 40),
    "rss-parser/input/guardian.rss": ("rss", "rss20", 55),
    "rss-parser/input/heise.atom": ("atom", "atom10", 15),
    "rss-parser/input/reddit-atom.rss": ("rss", "rss20", 24),
    "rss-parser/input/reddit.rss": ("rss", "rss20", 24),
    "rss-parser/input/rss-1.rss": ("rss", "rss10", 69),
    "rss-parser/input/uolNoticias.rss": ("rss", "rss", 15),
}
FEED_URL = "https://feeds.example.org/news/feed.xml"


def read(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def parse(name: str, url: str = FEED_URL, content_type: str | None = None) -> ParsedFeed:
    return parse_feed(read(name), url=url, content_type=content_type)


def is_absolute_http(url: str | None) -> bool:
    if url is None or url != url.strip():
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def rss(items: str, channel: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"'
        ' xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>'
        f"<title>Test</title><link>https://news.example/</link>{channel}{items}</channel></rss>"
    ).encode()


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- every fixture ----------------------------------------------------------------------------


def test_the_fixture_list_is_complete() -> None:
    assert {p.relative_to(FEEDS).as_posix() for p in FEED_FILES} == set(EXPECTED)


@pytest.mark.parametrize("path", FEED_FILES, ids=lambda p: p.relative_to(FEEDS).as_posix())
def test_every_fixture_parses_into_entries_with_absolute_links(path: Path) -> None:
    name = path.relative_to(FEEDS).as_posix()
    kind, version, count = EXPECTED[name]
    feed = parse_feed(path.read_bytes(), url=FEED_URL)
    assert (feed.kind, feed.version, len(feed.entries), feed.skipped) == (kind, version, count, 0)
    assert feed.title
    for entry in feed.entries:
        assert is_absolute_http(entry.link), entry.link
        assert entry.title, entry
        assert entry.image_url is None or is_absolute_http(entry.image_url)
        for moment in (entry.published_at, entry.updated_at):
            assert moment is None or moment.utcoffset() == UTC.utcoffset(None)
        assert "\ufffd" not in entry.title
    # Only the UOL feed (Latin-1 bytes, no declaration) is malformed enough to warn about.
    assert bool(feed.warnings) == name.endswith("uolNoticias.rss"), feed.warnings


@pytest.mark.parametrize("path", FEED_FILES, ids=lambda p: p.relative_to(FEEDS).as_posix())
def test_every_fixture_has_readable_text(path: Path) -> None:
    feed = parse_feed(path.read_bytes(), url=FEED_URL)
    texts = [entry_text(entry) for entry in feed.entries]
    if path.name == "rss-1.rss":  # Science's "this week" RDF: titles and links only
        assert not any(texts)
        return
    assert sum(bool(text) for text in texts) >= len(texts) * 0.7
    for entry, text in zip(feed.entries, texts, strict=True):
        source = entry.content_html or entry.summary_html or ""
        # Empty only when the HTML has no words (phpxml, uol: some items have no description).
        assert bool(text) == bool(re.search(r"\w", re.sub(r"<[^>]*>", "", source))), source
        # Every "<" in the text is one the article writes about, escaped in its HTML
        # (3960.json: "alle <a> in einem <nav>"), never a tag of the HTML itself.
        escaped = sum(source.lower().count(e) for e in ("&lt;", "&#60;", "&#x3c;"))
        assert text.count("<") <= escaped, text
        assert "&amp;" not in text


def reference_items(path: Path) -> list[dict]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # rss-parser's encoding.json is stored as Latin-1
    return json.loads(text)["feed"]["items"]


def original_links(name: str) -> list[str]:
    found = re.findall(rb"<feedburner:origLink>([^<]+)</feedburner:origLink>", read(name))
    return [link.decode().strip() for link in found]


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda p: p.stem)
def test_titles_and_links_equal_rss_parsers_reference(reference: Path) -> None:
    (source,) = (FEEDS / "rss-parser" / "input").glob(f"{reference.stem}.*")
    items = reference_items(reference)
    feed = parse_feed(source.read_bytes(), url=FEED_URL)
    assert len(feed.entries) == len(items)

    expected_titles = [" ".join(item["title"].split()) for item in items]
    titles = [entry.title for entry in feed.entries]
    if reference.stem == "uolNoticias":
        # rss-parser read the Latin-1 bytes as UTF-8: every accented letter became U+FFFD, where
        # we have the real letter (or, for a non-breaking space, a space).
        assert all("\ufffd" in t for t in expected_titles[:2])
        for title, expected in zip(titles, expected_titles, strict=True):
            pattern = "".join("." if c == "\ufffd" else re.escape(c) for c in expected)
            assert title is not None
            assert re.fullmatch(pattern, title), (title, expected)
    else:
        assert titles == expected_titles

    links = [entry.link for entry in feed.entries]
    expected_links = [item["link"].strip() for item in items]
    if reference.stem == "encoding":
        # FeedBurner: rss-parser gives the feeds.jn.pt redirect, we the article's own URL.
        assert all(link.startswith("http://feeds.jn.pt/~r/") for link in expected_links)
        assert links == original_links(source.relative_to(FEEDS).as_posix())
        assert all((link or "").startswith("https://www.jn.pt/") for link in links)
    else:
        assert links == expected_links


# --- the awkward ones -------------------------------------------------------------------------


def test_iso_8859_1_declared_portuguese_accents_are_right() -> None:
    feed = parse("rss-parser/input/encoding.rss", url="http://feeds.jn.pt/JN-ULTIMAS")
    assert feed.title == "Jornal de Notícias - Últimas Notícias"
    assert feed.language == "pt"
    assert feed.entries[0].title == "Mãe de utente é a nova presidente da Raríssimas"
    assert feed.entries[1].title == "Reações dos partidos ao veto de Marcelo"
    assert entry_text(feed.entries[0]).startswith("Sónia Laygue, profissional na área")
    # <pubDate>Wed, 03 Jan 2018 13:47:00 GMT</pubDate>
    assert feed.entries[0].published_at == utc(2018, 1, 3, 13, 47)


def test_undeclared_latin_1_uol_is_read_with_correct_accents() -> None:
    feed = parse("rss-parser/input/uolNoticias.rss", url="http://rss.uol.com.br/feed/noticias.xml")
    assert feed.warnings == ("encoding: document declared as utf-8, but parsed as windows-1252",)
    first = feed.entries[0]
    assert (
        first.title == "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"
    )
    assert "Líder na pesquisa Ibope" in entry_text(first)
    # <pubDate>Seg, 24 Set 2018 19:42:40 -0300</pubDate>: Portuguese names, which feedparser
    # does not read; 19:42:40 at -03:00 is 22:42:40 UTC.
    assert first.published_at == utc(2018, 9, 24, 22, 42, 40)
    assert all(entry.published_at is not None for entry in feed.entries)


def test_a_charset_from_the_server_is_used_when_the_document_declares_none() -> None:
    feed = parse(
        "rss-parser/input/uolNoticias.rss",
        url="http://rss.uol.com.br/feed/noticias.xml",
        content_type="text/xml; charset=ISO-8859-1",
    )
    assert feed.warnings == ()
    assert feed.entries[1].title == (
        "Promotoria abre inquérito para apurar suspeita de improbidade de Skaf no Sebrae-SP"
    )


def test_the_documents_own_declaration_beats_a_wrong_server_charset() -> None:
    # Declared and encoded as UTF-8, served as Latin-1 (a common server default). The &nbsp;
    # (undefined in XML) sends feedparser to its lenient parser, which would decode by the
    # header: "zvÃ½Å¡ili".
    body = rss("<item><title>zvýšili&nbsp;odhad</title><link>https://n.example/1</link></item>")
    feed = parse_feed(body, url="https://n.example/rss", content_type="text/xml; charset=latin-1")
    assert feed.entries[0].title == "zvýšili odhad"
    assert feed.warnings == ("recovered from malformed XML: <unknown>:2:201: undefined entity",)
    aktuality = parse("RSParser/aktuality.rss", content_type="text/html; charset=ISO-8859-1")
    assert aktuality.warnings == ()
    assert aktuality.entries[0].title == "Analytici Goldman Sachs zvýšili odhad rastu ekonomiky USA"


def test_gb2312_chinese_forum_feed() -> None:
    feed = parse("RSParser/kc0011.rss", url="http://www.kc0011.net/rss.asp")
    assert feed.title == "投资资讯网交易在线--流通纪念币最新20篇论坛主题-全文"
    assert feed.language == "zh"
    first = feed.entries[0]
    assert first.title == "建国35周年纪念，华表，和平鸽"
    assert first.authors == ("大鱼儿",)
    assert first.link == "http://www.kc0011.net/dispbbs.asp?BoardID=10&ID=25164257&Page=1"
    assert entry_text(first).startswith("建国35周年纪念，华表，和平鸽\n\n35周年1套520")
    # <pubDate>2020/1/10 14:33:00</pubDate>, no zone: read as UTC like feedparser does with
    # zone-less dates (feedparser itself turns this one into 2020-11-01 00:00).
    assert first.published_at == utc(2020, 1, 10, 14, 33)


def test_whitespace_before_the_rss_element_and_a_date_with_an_offset() -> None:
    assert read("RSParser/macworld.rss").startswith(b"\n\n\n\n<rss")
    feed = parse("RSParser/macworld.rss", url="https://www.macworld.com/index.rss")
    assert (len(feed.entries), feed.warnings) == (30, ())
    first = feed.entries[0]
    assert first.title == "Best smart lock"
    # <pubDate>Tue, 28 Nov 2017 15:40:00 -0800</pubDate> is 23:40 UTC the same day.
    assert first.published_at == utc(2017, 11, 28, 23, 40)
    assert first.authors == ("Christopher Null",)  # given twice (author and dc:creator)
    assert first.image_url == (
        "https://images.idgesg.net/images/article/2017/08/best-smart-locks-100730768-medium.jpg"
    )


@pytest.mark.parametrize("name", ["feedjira/TechCrunch.xml", "feedjira/TypePadNews.xml"])
def test_whitespace_before_the_xml_declaration_is_not_an_error(name: str) -> None:
    assert read(name).startswith(b"\n<?xml")
    # Given as is, expat rejects it ("XML or text declaration not at start of entity").
    assert feedparser.parse(read(name)).bozo
    feed = parse(name)
    assert feed.warnings == ()
    # FeedBurner: the article's own URL (feedburner:origLink), not the feedproxy redirect.
    assert [entry.link for entry in feed.entries] == original_links(name)


def test_typepad_atom_dates_with_a_negative_offset() -> None:
    first = parse("feedjira/TypePadNews.xml").entries[0]
    # <published>2013-02-22T09:47:09-08:00</published>
    assert first.published_at == utc(2013, 2, 22, 17, 47, 9)
    assert first.authors == ("The Typepad Team",)
    assert first.content_html is not None
    assert first.summary_html is not None


def test_heise_atom_with_a_positive_offset_and_feed_author() -> None:
    feed = parse(
        "rss-parser/input/heise.atom", url="https://www.heise.de/developer/rss/news-atom.xml"
    )
    first = feed.entries[0]
    # <published>2016-02-01T17:22:00+01:00</published>, <updated>2016-02-01T17:54:50+01:00</updated>
    assert first.published_at == utc(2016, 2, 1, 16, 22)
    assert first.updated_at == utc(2016, 2, 1, 16, 54, 50)
    assert first.guid == "http://heise.de/-3088438"
    assert first.authors == ("heise online",)  # the feed's <author>: entries have none


def test_google_alerts_titles_lose_their_markup_and_links_their_redirect() -> None:
    feed = parse("feedjira/google_alerts_atom.xml", url="https://www.google.com/alerts/feeds/1/2")
    first = feed.entries[0]
    assert first.title is not None
    assert first.title.startswith("Report offers Prediction of Automotive Slack Market")
    assert "<b>" not in first.title
    assert first.link == (
        "https://www.aglobalmarketresearch.com/report-offers-prediction-of-automotive-slack-market"
        "-by-top-key-players-like-haldex-meritor-bendix-mei-wabco-accuride-stemco-tbk-febi-aydinsan/"
    )
    assert feed.site_url is None  # the feed's <link> is a tag: URI
    assert first.authors == ()  # <author><name/></author>


def test_rss_media_content_gives_the_largest_image_and_skips_video() -> None:
    guardian = parse("rss-parser/input/guardian.rss").entries[0]
    assert guardian.image_url is not None
    assert "w=460" in guardian.image_url
    huffpost = parse("feedjira/HuffPostCanada.xml").entries
    assert [entry.image_url for entry in huffpost] == [
        "http://o.aolcdn.com/hss/storage/midas/b1726dd5e5cde1fb967d92d963537957/205775479/"
        "Untitled+design+%2857%29.png",  # the next media:content is an .mp4, medium="video"
        "http://o.aolcdn.com/hss/storage/midas/f87b72980c0f8f5b9381aab09c357c1d/205739997/"
        "Adrian.jpg",
    ]
    # media:description (a caption, filed by feedparser as text content) is not the body.
    assert huffpost[0].content_html is None
    assert entry_text(huffpost[0]).startswith("Winnipeg high school student Nusaybah Mohamed")


def test_channel_level_fields() -> None:
    aktuality = parse("RSParser/aktuality.rss")
    assert (aktuality.language, aktuality.ttl_seconds) == ("sk", 3600)  # sy:updatePeriod hourly
    assert aktuality.site_url == "https://www.aktuality.sk"
    assert aktuality.entries[0].title == "Analytici Goldman Sachs zvýšili odhad rastu ekonomiky USA"
    phpxml = parse("RSParser/phpxml.rss")
    assert phpxml.entries[0].title == "Serdar Gözübüyük scheidsrechter bij FC Twente - FC Utrecht"
    assert phpxml.entries[0].authors == ()  # <author>webmaster@fcutrecht.net</author> names no one


# --- JSON Feed --------------------------------------------------------------------------------

JSON_FILES = [p for p in FEED_FILES if p.suffix == ".json"]


@pytest.mark.parametrize("path", JSON_FILES, ids=lambda p: p.name)
def test_json_feeds_follow_the_raw_document(path: Path) -> None:
    raw = json.loads(path.read_bytes())
    feed = parse_feed(path.read_bytes(), url=raw["feed_url"])
    assert feed.kind == "json"
    assert feed.title == raw["title"]
    assert feed.site_url == raw["home_page_url"]
    for entry, item in zip(feed.entries, raw["items"], strict=True):
        assert entry.link == item["url"]
        assert entry.guid == str(item["id"])
        assert entry.title == item["title"]
        assert entry.published_at == datetime.fromisoformat(item["date_published"]).astimezone(UTC)
        assert entry.content_html == item["content_html"].strip()
        assert "\\/" not in (entry.link or "") + (entry.image_url or "")


def test_json_feed_versions_authors_and_language() -> None:
    inessential = parse("RSParser/inessential.json", url="http://inessential.com/feed.json")
    assert inessential.version == "json1.0"
    # JSON Feed 1.0 feed-level "author" applies to items without one.
    assert {entry.authors for entry in inessential.entries} == {("Brent Simmons",)}
    journal = parse("RSParser/3960.json", url="https://journal.3960.org/feed.json")
    assert (journal.version, journal.language) == ("json1.1", "de")
    first = journal.entries[0]
    assert first.guid == "user/posts/2020-02-21-lecker-lecker/index.md"  # not a URL: not a link
    assert first.link == "https://journal.3960.org/posts/2020-02-21-lecker-lecker/"
    assert first.authors == ("Frank Boës",)
    assert first.language == "de"
    # "2020-02-21T18:08:06+01:00"
    assert first.published_at == utc(2020, 2, 21, 17, 8, 6)
    assert (
        first.summary_html
        == "<p>Da ist es zwar nicht ganz billig, dafür schmeckt&#x27;s aber auch nicht.</p>"
    )
    escaped = parse("feedjira/json_feed_with_escaped_uris.json", url="https://lukedorny.com/feed")
    assert escaped.language == "en"
    assert escaped.entries[0].image_url is not None
    assert escaped.entries[0].image_url.startswith("https://lukedorny.com/media/pages/updates/")


def test_daring_fireball_atom_and_json_twins_agree() -> None:
    atom = parse("RSParser/DaringFireball.atom", url="https://daringfireball.net/feeds/main")
    as_json = parse("RSParser/DaringFireball.json", url="https://daringfireball.net/feeds/json")
    raw = json.loads(read("RSParser/DaringFireball.json"))["items"]
    atom_entries = {
        m.group(1).decode(): m.group(0).decode()
        for m in re.finditer(
            rb"<entry>.*?<id>([^<]+)</id>.*?</entry>", read("RSParser/DaringFireball.atom"), re.S
        )
    }
    assert len(atom.entries) == len(as_json.entries) == len(raw) == 48
    for a, j, item in zip(atom.entries, as_json.entries, raw, strict=True):
        assert (a.title, a.published_at, a.updated_at, a.authors) == (
            j.title,
            j.published_at,
            j.updated_at,
            j.authors,
        )
        assert entry_text(a) == entry_text(j)
        # Atom <summary> only on 6 entries: elsewhere feedparser's copy of <content> is dropped.
        assert (a.summary_html is None) == ("<summary" not in atom_entries[a.guid or ""])
        # Linked-list posts: Atom's rel=alternate is the linked article (JSON external_url),
        # JSON's url the Daring Fireball permalink (Atom's rel=related).
        assert j.link == item["url"]
        assert a.link == item.get("external_url", item["url"])
    assert sum(a.link == j.link for a, j in zip(atom.entries, as_json.entries, strict=True)) == 6


def test_daring_fireball_rss_is_atom_from_an_older_snapshot() -> None:
    older = parse("RSParser/DaringFireball.rss", url="https://daringfireball.net/feeds/main")
    newer = parse("RSParser/DaringFireball.atom", url="https://daringfireball.net/feeds/main")
    assert (older.kind, older.version, older.title) == ("atom", "atom10", "Daring Fireball")
    # Same site, no entry in common (Feb 2016 vs June 2017): nothing to compare link by link.
    assert max(e.published_at for e in older.entries if e.published_at) < min(
        e.published_at for e in newer.entries if e.published_at
    )
    assert not {e.guid for e in older.entries} & {e.guid for e in newer.entries}


def test_allthis_rss_and_json_twins_give_the_same_links() -> None:
    as_rss = parse("RSParser/allthis.atom", url="http://leancrew.com/all-this/feed/")
    as_json = parse("RSParser/allthis.json", url="http://leancrew.com/all-this/feed.json")
    assert [e.link for e in as_rss.entries] == [e.link for e in as_json.entries]
    assert [e.guid for e in as_rss.entries] == [e.guid for e in as_json.entries]
    assert [e.published_at for e in as_rss.entries] == [e.published_at for e in as_json.entries]
    assert [e.authors for e in as_rss.entries] == [e.authors for e in as_json.entries]


def json_feed(items: list, **feed: object) -> bytes:
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "J", **feed}
    return json.dumps({**document, "items": items}).encode()


def test_json_feed_items_are_read_leniently() -> None:
    feed = parse_feed(
        json_feed(
            [
                {
                    "id": 7,
                    "url": "/posts/7",
                    "title": 123,
                    "content_text": "a < b & c\n\nsecond line\nthird",
                    "date_published": "2024-03-10T01:30:00+05:30",
                    "authors": ["Jane Roe", {"name": " Ann  Other "}, {"url": "x"}],
                    "tags": "not a list",
                },
                {
                    "id": "x2",
                    "external_url": "https://elsewhere.example/a",
                    "date_modified": "nope",
                },
                {"id": "https://json.example/3", "summary": "only an id"},
                {"id": "no-url", "title": "nothing to link"},
                "not an object",
            ],
            language="fr-CA",
            authors=[{"name": "Feed Author"}],
        ),
        url="https://json.example/feed.json",
    )
    assert (feed.version, feed.language, feed.skipped) == ("json1.1", "fr", 2)
    assert feed.warnings == ("1 JSON Feed item(s) were not objects and were skipped",)
    first, second, third = feed.entries
    assert (first.link, first.guid, first.title) == ("https://json.example/posts/7", "7", "123")
    assert first.published_at == utc(2024, 3, 9, 20, 0)
    assert first.authors == ("Jane Roe", "Ann Other")
    assert first.content_html == "<p>a &lt; b &amp; c</p><p>second line<br>third</p>"
    assert entry_text(first) == "a < b & c\n\nsecond line\nthird"
    assert (second.link, second.published_at, second.updated_at) == (
        "https://elsewhere.example/a",
        None,
        None,
    )
    assert second.authors == ("Feed Author",)
    assert third.link == "https://json.example/3"
    assert third.content_html is None
    assert third.summary_html == "<p>only an id</p>"


def test_json_feed_is_recognised_by_content_type_or_by_body() -> None:
    body = json_feed([{"id": "1", "url": "https://j.example/1"}])
    for content_type in (None, "application/feed+json", "application/json; charset=utf-8"):
        assert parse_feed(body, url="https://j.example/f", content_type=content_type).kind == "json"
    assert parse_feed(b"\xef\xbb\xbf  \n" + body, url="https://j.example/f").kind == "json"
    # A JSON content type on an XML body (misconfigured server): the body decides.
    guardian = parse("rss-parser/input/guardian.rss", content_type="application/json")
    assert (guardian.kind, len(guardian.entries)) == ("rss", 55)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"title": "not a feed"}', "not a feed: JSON without a JSON Feed version"),
        (b'{"version": "https://example.org/v1", "items": []}', "not a feed: JSON without"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": [', "malformed JSON and no"),
    ],
)
def test_json_that_is_not_a_json_feed(body: bytes, reason: str) -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(body, url="https://j.example/f", content_type="application/json")
    assert caught.value.reason.startswith(reason)


# --- links, guids, dates, limits ----------------------------------------------------------------


def test_links_guids_and_skipped_entries() -> None:
    feed = parse_feed(
        rss(
            "<item><title>relative</title><link>/news/1?x=1&amp;y=2</link></item>"
            "<item><title>spaced</title><link>\n   https://news.example/2  \n</link></item>"
            "<item><title>permalink guid</title><guid>https://news.example/3</guid></item>"
            '<item><title>opaque guid</title><guid isPermaLink="false">abc-4</guid></item>'
            '<item><title>url guid, not permalink</title><guid isPermaLink="false">'
            "https://news.example/?p=5</guid></item>"
            "<item><title>nothing at all</title></item>"
            "<item><title>javascript</title><link>javascript:alert(1)</link></item>"
        ),
        url="https://news.example/feeds/all.xml",
    )
    assert [(e.title, e.link, e.guid) for e in feed.entries] == [
        ("relative", "https://news.example/news/1?x=1&y=2", None),
        ("spaced", "https://news.example/2", None),
        ("permalink guid", "https://news.example/3", "https://news.example/3"),
    ]
    assert feed.skipped == 4


def test_dates_offsets_and_absent_dates() -> None:
    feed = parse_feed(
        rss(
            "<item><link>https://n.example/1</link><pubDate>Sun, 10 Mar 2024 01:30:00 +0530"
            "</pubDate></item>"
            "<item><link>https://n.example/2</link></item>"
            "<item><link>https://n.example/3</link><pubDate>not a date</pubDate></item>"
            '<item xmlns:dc="http://purl.org/dc/elements/1.1/"><link>https://n.example/4</link>'
            "<dc:date>2024-03-10T08:00:00-05:00</dc:date></item>"
        ),
        url="https://n.example/rss",
    )
    first, undated, unreadable, dc_date = feed.entries
    assert first.published_at == utc(2024, 3, 9, 20, 0)
    assert first.updated_at is None  # no <atom:updated>: nothing is invented
    assert (undated.published_at, undated.updated_at) == (None, None)
    assert (unreadable.published_at, unreadable.updated_at) == (None, None)
    # dc:date is an update date for feedparser; published falls back to it.
    assert dc_date.published_at == dc_date.updated_at == utc(2024, 3, 10, 13, 0)


def test_atom_titles_authors_limits_and_inherited_author() -> None:
    authors = "".join(f"<author><name>Author {i} {'x' * 300}</name></author>" for i in range(60))
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"'
        ' xml:lang="en-GB"><title>A</title><id>urn:a</id><updated>2024-01-01T00:00:00Z</updated>'
        '<link href="https://atom.example/"/><author><name>Feed Person</name></author>'
        '<entry><id>urn:1</id><link href="/a/1"/>'
        '<title type="html">&lt;b&gt;Bold&lt;/b&gt; &amp;amp; \n   spaced</title>'
        f"{authors}<updated>2024-01-01T12:00:00+02:00</updated></entry>"
        f'<entry><id>urn:2</id><link rel="alternate" href="https://atom.example/a/2"/>'
        f"<title>{'T' * 5000}</title></entry></feed>"
    ).encode()
    feed = parse_feed(body, url="https://atom.example/feed.atom")
    assert (feed.kind, feed.language, feed.site_url) == ("atom", "en", "https://atom.example/")
    first, second = feed.entries
    assert first.link == "https://atom.example/a/1"
    assert first.title == "Bold & spaced"
    assert len(first.authors) == 50
    assert all(len(name) == 200 for name in first.authors)
    assert first.published_at == first.updated_at == utc(2024, 1, 1, 10, 0)
    assert first.language == "en"
    assert second.title == "T" * 1000
    assert second.authors == ("Feed Person",)


def test_ttl_and_images_in_rss() -> None:
    feed = parse_feed(
        rss(
            "<item><link>https://n.example/1</link>"
            '<media:content url="https://img.example/small.jpg" medium="image" width="100"/>'
            '<media:content url="https://img.example/clip.mp4" medium="video" width="1920"/>'
            '<media:content url="https://img.example/big.jpg" medium="image" width="800"/>'
            "</item>"
            "<item><link>https://n.example/2</link>"
            '<enclosure url="/media/pic.png" type="image/png" length="0"/></item>'
            "<item><link>https://n.example/3</link>"
            '<enclosure url="https://n.example/a.mp3" type="audio/mpeg" length="1"/></item>',
            channel="<ttl>15</ttl><language>de-DE</language>",
        ),
        url="https://n.example/rss",
    )
    assert (feed.ttl_seconds, feed.language) == (900, "de")
    assert [e.image_url for e in feed.entries] == [
        "https://img.example/big.jpg",
        "https://n.example/media/pic.png",
        None,
    ]
    assert [e.language for e in feed.entries] == ["de", "de", "de"]


def test_sy_update_period_when_there_is_no_ttl() -> None:
    body = rss(
        "",
        channel="<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4"
        "</sy:updateFrequency>",
    )
    assert parse_feed(body, url="https://n.example/rss").ttl_seconds == 6 * 3600


# --- not a feed ---------------------------------------------------------------------------------


def test_an_html_page_is_not_a_feed() -> None:
    page = gzip.decompress((FIXTURES / "NineNews_2024_05_02.html.gz").read_bytes())
    for content_type in (None, "application/rss+xml", "text/html; charset=utf-8"):
        with pytest.raises(FeedParseError) as caught:
            parse_feed(page, url="https://www.9news.com.au/rss", content_type=content_type)
        assert caught.value.reason == "not a feed: looks like an HTML page"
        assert str(caught.value) == caught.value.reason
        assert isinstance(caught.value, ValueError)
    with pytest.raises(FeedParseError, match="looks like an HTML page"):
        parse_feed(b"<div><p>Sorry, this page moved</p></div>", url="https://x.example/rss")


@pytest.mark.parametrize("body", [b"", b"   \r\n\t ", b"\xef\xbb\xbf\n"])
def test_an_empty_body_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(body, url="https://x.example/rss")
    assert caught.value.reason == "not a feed: empty body"


@pytest.mark.parametrize(
    "body",
    [
        bytes(range(256)) * 10,
        bytes(range(128, 256)) * 10,
        gzip.compress((FEEDS / "rss-parser/input/guardian.rss").read_bytes()),
    ],
    ids=["all-bytes", "high-bytes", "still-gzipped"],
)
def test_binary_content_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(body, url="https://x.example/rss")
    assert caught.value.reason == "not a feed: binary content"


def test_a_feed_cut_in_half_keeps_the_entries_before_the_cut_with_a_warning() -> None:
    whole = read("rss-parser/input/guardian.rss")
    complete = parse_feed(whole, url=FEED_URL).entries
    cut = parse_feed(whole[: len(whole) // 2], url=FEED_URL)
    assert cut.warnings == ("recovered from malformed XML: <unknown>:553:1896: no element found",)
    # 27 entries: 26 complete ones and the one the cut went through (title and link intact).
    assert len(cut.entries) == 27
    assert cut.entries[:26] == complete[:26]
    assert [(e.title, e.link) for e in cut.entries] == [(e.title, e.link) for e in complete[:27]]


def test_a_feed_cut_before_its_first_entry_is_an_error() -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(read("rss-parser/input/guardian.rss")[:300], url=FEED_URL)
    assert caught.value.reason == (
        "malformed XML and no entries could be read: <unknown>:6:61: no element found"
    )


def test_a_valid_feed_without_items_is_not_an_error() -> None:
    feed = parse_feed(rss("", channel="<ttl>30</ttl>"), url="https://news.example/rss")
    assert feed == ParsedFeed(
        kind="rss",
        version="rss20",
        title="Test",
        site_url="https://news.example/",
        language=None,
        ttl_seconds=1800,
        entries=(),
        warnings=(),
        skipped=0,
    )
    assert parse_feed(json_feed([]), url="https://j.example/f").entries == ()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"Service temporarily unavailable", "not a feed: plain text, not XML or JSON"),
        (
            b'<?xml version="1.0"?><opml version="2.0"><body/></opml>',
            "not a feed: XML document with root element <opml>, not RSS, RDF or Atom",
        ),
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>x</title></chan',
            "malformed XML and no entries could be read: ",
        ),
    ],
)
def test_other_documents_that_are_not_feeds(body: bytes, reason: str) -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(body, url="https://x.example/rss")
    assert caught.value.reason.startswith(reason)


def test_a_body_that_names_a_local_file_is_not_read_from_disk() -> None:
    # feedparser.parse(bytes) would open() a path; we hand it a stream.
    target = FEEDS / "rss-parser/input/guardian.rss"
    with pytest.raises(FeedParseError, match="plain text"):
        parse_feed(str(target).encode(), url="https://x.example/rss")


# --- entry_text ---------------------------------------------------------------------------------


def entry_with(content_html: str | None = None, summary_html: str | None = None) -> FeedEntry:
    return FeedEntry(
        link="https://n.example/1",
        guid=None,
        title=None,
        published_at=None,
        updated_at=None,
        authors=(),
        content_html=content_html,
        summary_html=summary_html,
        image_url=None,
        language=None,
    )


def test_entry_text_separates_paragraphs_and_drops_scripts_and_styles() -> None:
    markup = (
        "<style>p { color: red }</style><h2>Heading</h2>"
        "<p>First  paragraph,\n  with <a href='/x'>a link</a> &amp; an&nbsp;entity &#8212; done.</p>"
        "<script>alert('no');</script><div>Second<br>line two</div>"
        "<!-- a comment --><ul><li>one</li><li>two</li></ul>"
        "<table><tr><td>cell a</td><td>cell b</td></tr></table>tail text"
    )
    assert entry_text(entry_with(markup)) == (
        "Heading\n\nFirst paragraph, with a link & an entity — done.\n\nSecond\nline two"
        "\n\none\n\ntwo\n\ncell a cell b\n\ntail text"
    )


def test_entry_text_falls_back_to_the_summary_and_copes_with_nothing() -> None:
    assert entry_text(entry_with(None, "<p>Summary &lt;only&gt;</p>")) == "Summary <only>"
    assert entry_text(entry_with(None, None)) == ""
    assert entry_text(entry_with("  ")) == ""
    assert html_to_text("plain words, no tags") == "plain words, no tags"
    assert html_to_text("<html><head><title>T</title></head><body><p>B</p></body></html>") == "B"


def test_entry_text_of_a_real_entry() -> None:
    entry = parse("RSParser/DaringFireball.rss").entries[0]
    text = entry_text(entry)
    assert text.startswith(
        "Kara Swisher, writing at Recode, broke the news:\n\nAttention Apple nerds, investors,"
    )
    assert "needs to know when Tim Cook\u2019s next product event" in text  # no hard line breaks
    assert "the <title> tag on her story" in text  # escaped once in the HTML: text, kept
    assert "<p>" not in text


def test_entry_text_reads_html_the_publisher_escaped_twice() -> None:
    # reddit's 2016 feed: <description>&amp;lt;!-- SC_OFF --&amp;gt;&amp;lt;div ...
    feed = parse("rss-parser/input/reddit-atom.rss", url="https://www.reddit.com/.rss")
    (ama,) = [e for e in feed.entries if e.title and e.title.startswith("I am the guy who dragged")]
    assert "&lt;p&gt;Hey Reddit!" in (ama.summary_html or "")
    text = entry_text(ama)
    assert text.startswith("Hey Reddit! Benjamin Von Wong here")
    assert "\n\nProof: Twitter, Facebook\nMy site: http://vonwong.com" in text
    assert "<" not in text
