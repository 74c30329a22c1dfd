"""Reading and writing OPML subscription lists."""

from __future__ import annotations

from datetime import UTC, datetime

import defusedxml.ElementTree as SafeET
import pytest
from newswire_cli.opml import OpmlError, OpmlFeed, read_opml, write_opml

pytestmark = pytest.mark.unit

OPML_2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="News" title="News">
      <outline type="rss" text="World" title="World news"
               xmlUrl="https://news.example/world.xml" htmlUrl="https://news.example/world"/>
      <outline text="Europe">
        <outline type="rss" text="Brussels desk" xmlUrl="https://news.example/eu.xml"/>
      </outline>
    </outline>
    <outline text="A bookmark, not a feed" type="link" url="https://news.example/"/>
    <outline type="rss" text="Top level" xmlUrl="https://other.example/feed"/>
  </body>
</opml>
"""

OPML_1 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<opml version="1.0">
  <head><title>mySubscriptions</title></head>
  <body>
    <outline text="Caf\xe9 feed" description="" htmlUrl="http://cafe.example/"
             language="unknown" title="Caf\xe9 feed" type="rss" version="RSS"
             xmlUrl="http://cafe.example/rss.xml"/>
    <outline text="lower-case attribute names" xmlurl="http://old.example/rss"/>
  </body>
</opml>
"""


def test_opml_2_outlines_with_xml_url_are_feeds_at_any_depth() -> None:
    assert read_opml(OPML_2) == [
        OpmlFeed("https://news.example/world.xml", "World news", "https://news.example/world"),
        OpmlFeed("https://news.example/eu.xml", "Brussels desk"),
        OpmlFeed("https://other.example/feed", "Top level"),
    ]


def test_opml_1_in_latin_1_with_lower_case_attribute_names() -> None:
    assert read_opml(OPML_1) == [
        OpmlFeed("http://cafe.example/rss.xml", "Café feed", "http://cafe.example/"),
        OpmlFeed("http://old.example/rss", "lower-case attribute names"),
    ]


def test_titles_fall_back_to_text_and_blank_or_url_only_titles_are_none() -> None:
    document = b"""<opml version="2.0"><body>
      <outline text="From text" xmlUrl="https://a.example/feed"/>
      <outline title="  " text="" xmlUrl="https://b.example/feed"/>
      <outline xmlUrl="https://c.example/feed"/>
      <outline text="https://d.example/feed" xmlUrl="https://d.example/feed"/>
      <outline title="Title wins" text="Text loses" xmlUrl="https://e.example/feed"/>
    </body></opml>"""
    assert [(feed.url, feed.title) for feed in read_opml(document)] == [
        ("https://a.example/feed", "From text"),
        ("https://b.example/feed", None),
        ("https://c.example/feed", None),
        ("https://d.example/feed", None),
        ("https://e.example/feed", "Title wins"),
    ]


def test_outlines_without_xml_url_are_ignored() -> None:
    document = b"""<opml version="2.0"><head/><body>
      <outline text="Empty category"/>
      <outline text="Category"><outline text="Link" type="link" url="https://x.example/"/></outline>
      <outline text="Blank" xmlUrl="  "/>
    </body></opml>"""
    assert read_opml(document) == []


def test_a_feed_listed_twice_is_read_once_keeping_the_first_place() -> None:
    document = b"""<opml version="2.0"><body>
      <outline text="Tech"><outline xmlUrl="https://a.example/feed"/></outline>
      <outline text="B" xmlUrl="https://b.example/feed"/>
      <outline text="Favourites">
        <outline text="A, titled" xmlUrl="https://A.example/feed/?utm_source=opml"
                 htmlUrl="https://a.example/"/>
        <outline text="B again" xmlUrl="https://b.example/feed"/>
      </outline>
    </body></opml>"""
    assert read_opml(document) == [
        OpmlFeed("https://a.example/feed", "A, titled", "https://a.example/"),
        OpmlFeed("https://b.example/feed", "B"),
    ]


def test_invalid_urls_are_read_as_they_are_for_the_gateway_to_judge() -> None:
    document = b"""<opml version="2.0"><body>
      <outline text="FTP" xmlUrl="ftp://x"/><outline text="FTP twice" xmlUrl="ftp://x"/>
    </body></opml>"""
    assert read_opml(document) == [OpmlFeed("ftp://x", "FTP")]


def test_escaped_characters_in_titles_and_urls_are_read_unescaped() -> None:
    document = b"""<opml version="2.0"><body>
      <outline text="Tom &amp; Jerry &lt;b&gt; &quot;quoted&quot; &apos;single&apos;"
               xmlUrl="https://a.example/feed?x=1&amp;y=%3C2%3E"/>
    </body></opml>"""
    assert read_opml(document) == [
        OpmlFeed("https://a.example/feed?x=1&y=%3C2%3E", "Tom & Jerry <b> \"quoted\" 'single'")
    ]


def test_written_opml_is_2_0_with_head_and_rss_outlines() -> None:
    created = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    document = write_opml(
        [
            OpmlFeed("https://a.example/feed", "A", "https://a.example/"),
            OpmlFeed("https://b.example/feed"),
        ],
        created=created,
    )
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<opml version=\"2.0\">")
    root = SafeET.fromstring(document)
    assert root.findtext("head/title") == "Newswire feeds"
    assert root.findtext("head/dateCreated") == "Sun, 01 Nov 2026 12:30:00 GMT"
    assert [outline.attrib for outline in root.findall("body/outline")] == [
        {
            "type": "rss",
            "text": "A",
            "title": "A",
            "xmlUrl": "https://a.example/feed",
            "htmlUrl": "https://a.example/",
        },
        # No title: text (required) is the URL, and there is no title attribute.
        {"type": "rss", "text": "https://b.example/feed", "xmlUrl": "https://b.example/feed"},
    ]


def test_special_characters_are_escaped_when_written() -> None:
    feed = OpmlFeed(
        'https://a.example/feed?x=1&y=<2>&z="3"', "Tom & Jerry <b> \"quoted\" 'single'\nline"
    )
    document = write_opml([feed])
    assert b"Tom &amp; Jerry &lt;b&gt; &quot;quoted&quot; 'single'&#10;line" in document
    assert b"https://a.example/feed?x=1&amp;y=&lt;2&gt;&amp;z=&quot;3&quot;" in document
    assert read_opml(document) == [feed]


def test_characters_xml_cannot_carry_are_dropped_when_written() -> None:
    document = write_opml([OpmlFeed("https://a.example/feed", "Bell\x07 and NUL\x00")])
    assert read_opml(document) == [OpmlFeed("https://a.example/feed", "Bell and NUL")]


def test_round_trip_write_then_read_gives_the_same_feeds() -> None:
    feeds = [
        OpmlFeed("https://a.example/feed", "Ünïcødé — ✓", "https://a.example/"),
        OpmlFeed("https://b.example/feed?p=1&q=2"),
        OpmlFeed("http://c.example:8080/rss.xml", "C & C", None),
    ]
    assert read_opml(write_opml(feeds)) == feeds
    assert read_opml(write_opml([])) == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            b'<opml version="2.0"><body><outline xmlUrl="https://a.example/feed">',
            "not well-formed XML: no element found: line 1, column 67",
        ),
        (
            b'<opml version="2.0"><body><outline xmlUrl="a & b"/></body></opml>',
            "not well-formed XML: not well-formed (invalid token): line 1, column 46",
        ),
        (b"", "not well-formed XML: no element found: line 1, column 0"),
        (b"just text", "not well-formed XML: syntax error: line 1, column 0"),
    ],
)
def test_malformed_xml_is_an_opml_error_saying_where(document: bytes, message: str) -> None:
    with pytest.raises(OpmlError) as raised:
        read_opml(document)
    assert str(raised.value) == message


def test_entity_declarations_are_refused_billion_laughs() -> None:
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<opml version="2.0"><body><outline text="&lol3;" xmlUrl="https://a.example/feed"/></body></opml>
"""
    with pytest.raises(OpmlError, match=r"^refused: the document declares the entity 'lol'"):
        read_opml(laughs)


def test_external_entities_are_refused() -> None:
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&secret;" xmlUrl="https://a.example/feed"/></body></opml>
"""
    with pytest.raises(OpmlError, match=r"^refused: the document declares the entity 'secret'"):
        read_opml(xxe)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            b'<rss version="2.0"><channel><title>T</title></channel></rss>',
            "not an OPML document: the root element is <rss>, not <opml>",
        ),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title></feed>',
            "not an OPML document: the root element is <feed>, not <opml>",
        ),
        (
            b'<opml version="2.0"><head><title>T</title></head></opml>',
            "not an OPML document: <opml> has no <body>",
        ),
    ],
)
def test_other_xml_documents_are_not_opml(document: bytes, message: str) -> None:
    with pytest.raises(OpmlError) as raised:
        read_opml(document)
    assert str(raised.value) == message
