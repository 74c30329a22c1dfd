"""Canonical URLs and article ids."""

import pytest
from newswire_contracts import InvalidURLError, article_id, canonicalize_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        # scheme and host case
        ("HTTPS://News.Example.COM/a", "https://news.example.com/a"),
        # default ports go, others stay
        ("http://news.example:80/a", "http://news.example/a"),
        ("https://news.example:443/a", "https://news.example/a"),
        ("https://news.example:8443/a", "https://news.example:8443/a"),
        # fragments
        ("https://news.example/a#comments", "https://news.example/a"),
        # tracking parameters, any case; real parameters stay, sorted
        (
            "https://news.example/a?utm_source=tw&utm_MEDIUM=social&id=7",
            "https://news.example/a?id=7",
        ),
        ("https://news.example/a?fbclid=IwAR0&gclid=Cj0&b=2&a=1", "https://news.example/a?a=1&b=2"),
        ("https://news.example/a?mc_cid=1&mc_eid=2&_ga=3&msclkid=4", "https://news.example/a"),
        ("https://news.example/a?page=2&page=1", "https://news.example/a?page=1&page=2"),
        ("https://news.example/a?q=", "https://news.example/a?q="),
        # trailing slashes, empty path, dot segments
        ("https://news.example/world/", "https://news.example/world"),
        ("https://news.example", "https://news.example/"),
        ("https://news.example/", "https://news.example/"),
        ("https://news.example/a/./b/../c", "https://news.example/a/c"),
        # percent-encoding: unreserved decoded, escapes upper-cased, non-ASCII encoded
        ("https://news.example/%7Euser/%41rticle", "https://news.example/~user/Article"),
        ("https://news.example/a%2fb", "https://news.example/a%2Fb"),
        ("https://news.example/caf\u00e9 au lait", "https://news.example/caf%C3%A9%20au%20lait"),
        ("https://news.example/100%", "https://news.example/100%25"),
        ("https://news.example/s?q=a+b&r=%2B", "https://news.example/s?q=a%20b&r=%2B"),
        # credentials never become part of an id; IDNA hosts; surrounding space
        ("https://user:secret@news.example/a", "https://news.example/a"),
        ("https://b\u00fccher.example/a", "https://xn--bcher-kva.example/a"),
        ("  https://news.example/a  ", "https://news.example/a"),
        ("https://news.example./a", "https://news.example/a"),
        ("http://[2001:db8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
    ],
)
def test_canonical_form(given: str, canonical: str) -> None:
    assert canonicalize_url(given) == canonical


@pytest.mark.parametrize(
    "given",
    [
        "https://news.example/a?utm_campaign=x#top",
        "HTTPS://NEWS.EXAMPLE:443/a/?fbclid=1",
        "https://news.example/%61",
        "http://news.example/a/%2E%2E/b",
        "http://news.example/a/%2e/b/",
        "https://news.example/a/%2F../b",
    ],
)
def test_canonicalisation_is_idempotent(given: str) -> None:
    once = canonicalize_url(given)
    assert canonicalize_url(once) == once


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "news.example/a",
        "ftp://news.example/a",
        "javascript:alert(1)",
        "https://",
        "https://news.example:99999/",
        "https://news.example/\x00",
        "https://" + "a" * 3000,
    ],
)
def test_non_http_urls_are_refused(bad: str) -> None:
    with pytest.raises(InvalidURLError):
        canonicalize_url(bad)


def test_same_article_same_id_whatever_the_tracking() -> None:
    plain = article_id(canonicalize_url("https://news.example/world/lavrov"))
    tracked = article_id(
        canonicalize_url("https://NEWS.example/world/lavrov/?utm_source=x&fbclid=y#top")
    )
    other = article_id(canonicalize_url("https://news.example/world/kim"))
    assert plain == tracked
    assert plain != other
    assert len(plain) == 32
    assert int(plain, 16) >= 0
