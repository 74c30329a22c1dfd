"""The patterns the OpenAPI document gives are the server's rules, in both directions.

Each pattern is checked three ways: every string drawn from it is accepted by the server's
validation; a string the server accepts matches it; and the JSON Schema engine clients use
(jsonschema-rs, Rust's regex) reads it as Python does. Hypothesis and jsonschema-rs come with
schemathesis, a pinned test dependency.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newswire_contracts import canonicalize_url
from newswire_gateway.domain.errors import Invalid
from newswire_gateway.domain.paging import CURSOR_PATTERN, position_of
from newswire_gateway.fields import (
    COMMENT_TEXT_PATTERN,
    FEED_URL_MAX_LENGTH,
    FEED_URL_PATTERN,
    URL_PATTERN,
)
from newswire_gateway.schemas import CommentVisibility, NewComment, RegisterFeed, SubmitArticle
from pydantic import TypeAdapter, ValidationError

pytestmark = pytest.mark.unit

# Derandomised, without an example database: the same examples on every run and machine.
EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CONTRACT_URL_MAX = 2048  # newswire_contracts' HttpURL


def _ecma(pattern: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator({"type": "string", "pattern": pattern})


def _accepted(model: type, **fields: object) -> bool:
    try:
        TypeAdapter(model).validate_python(fields)
    except ValidationError:
        return False
    return True


# -- URLs ---------------------------------------------------------------------------------


@EXAMPLES
@given(st.from_regex(URL_PATTERN, fullmatch=True).filter(lambda url: len(url) <= 2048))
def test_every_url_of_the_pattern_is_taken(url: str) -> None:
    assert _accepted(SubmitArticle, url=url)
    assert _ecma(URL_PATTERN).is_valid(url)


@EXAMPLES
@given(
    st.from_regex(FEED_URL_PATTERN, fullmatch=True).filter(
        lambda url: len(url) <= FEED_URL_MAX_LENGTH
    )
)
def test_every_feed_url_of_the_pattern_is_taken_and_fits_the_contract(url: str) -> None:
    assert _accepted(RegisterFeed, url=url)
    assert _ecma(FEED_URL_PATTERN).is_valid(url)
    assert len(canonicalize_url(url)) <= CONTRACT_URL_MAX


def test_a_feed_url_at_the_bound_fits_the_contract_even_when_escaping_triples_it() -> None:
    head = "http://a.b/?q="
    worst = head + "+" * (FEED_URL_MAX_LENGTH - len(head))  # each "+" becomes "%20"
    assert _accepted(RegisterFeed, url=worst)
    assert len(canonicalize_url(worst)) <= CONTRACT_URL_MAX
    # Why the bound: the same at the article URLs' 2,048 would not fit once canonical.
    longer = head + "+" * (CONTRACT_URL_MAX - len(head))
    assert len(canonicalize_url(longer)) > CONTRACT_URL_MAX
    assert not _accepted(RegisterFeed, url=longer)


@EXAMPLES
@given(st.text(alphabet=st.sampled_from("hHtTpPsS:/.?#%[]@ -a0é\t\n\x00\x7f"), max_size=40))
def test_a_url_the_server_takes_matches_the_pattern(text: str) -> None:
    url = "http://" + text if text[:1] not in ("h", "H") else text
    taken = _accepted(SubmitArticle, url=url)
    assert taken == bool(re.fullmatch(URL_PATTERN, url))
    assert _ecma(URL_PATTERN).is_valid(url) == bool(re.fullmatch(URL_PATTERN, url))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://news.example/a",
        "news.example/a",
        " https://news.example/a",
        "https://news.example/a\n",
        "https://news.example/a b",
        "https://user:secret@news.example/a",
        "https://[::1]/a",
        "https://bücher.example/a",
        "https://-news.example/a",
        "https://news..example/a",
        "https://news.example:65536/a",
        "https://news.example:/a",
        "https://news.example\\a",
        "https://" + "a" * 64 + ".example/",
    ],
)
def test_urls_outside_the_pattern_are_refused(url: str) -> None:
    assert not re.fullmatch(URL_PATTERN, url)
    assert not _ecma(URL_PATTERN).is_valid(url)
    assert not _accepted(SubmitArticle, url=url)


def test_feed_urls_are_printable_ascii() -> None:
    assert _accepted(SubmitArticle, url="https://de.example/wiki/Bücher")
    assert not _accepted(RegisterFeed, url="https://de.example/wiki/Bücher")
    assert _accepted(RegisterFeed, url="https://de.example/wiki/B%C3%BCcher")


# -- Comment text -------------------------------------------------------------------------

_TRICKY = st.sampled_from(list(" \t\n\r\x0b\x0c\x00\x08\x1c\x1f\x7f\x85\xa0\u2003\u3000\ufeffaé"))


@EXAMPLES
@given(st.text(alphabet=_TRICKY, min_size=1, max_size=12) | st.text(min_size=1, max_size=12))
def test_comment_text_is_taken_exactly_when_it_matches_the_pattern(text: str) -> None:
    matches = bool(re.fullmatch(COMMENT_TEXT_PATTERN, text))
    assert _accepted(NewComment, author=text, body=text) == matches
    assert _ecma(COMMENT_TEXT_PATTERN).is_valid(text) == matches


def test_comment_line_breaks_are_kept_as_newlines() -> None:
    comment = NewComment(author=" Ann ", body="Good read.\r\nThanks!\r\n")
    assert (comment.author, comment.body) == ("Ann", "Good read.\nThanks!")


# -- Cursors ------------------------------------------------------------------------------


@EXAMPLES
@given(st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_every_cursor_of_the_pattern_is_a_position(cursor: str) -> None:
    assert position_of(cursor) is not None
    assert _ecma(CURSOR_PATTERN).is_valid(cursor)


@EXAMPLES
@given(st.text(alphabet=st.sampled_from("0123456789.-_azAZ\n "), max_size=24))
def test_a_cursor_is_taken_exactly_when_it_matches_the_pattern(cursor: str) -> None:
    matches = bool(re.fullmatch(CURSOR_PATTERN, cursor))
    try:
        position_of(cursor)
        taken = True
    except Invalid:
        taken = False
    assert taken == matches
    assert _ecma(CURSOR_PATTERN).is_valid(cursor) == matches


# -- Times --------------------------------------------------------------------------------

_OFFSETS = st.sampled_from(["Z", "z", "+00:00", "-00:00", "+23:59", "-23:59", "+05:30"])


@EXAMPLES
@given(st.datetimes(), st.sampled_from(["", ".1", ".123456"]), _OFFSETS)
def test_every_rfc3339_date_time_is_taken(moment: datetime, fraction: str, offset: str) -> None:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + fraction + offset
    assert _accepted(SubmitArticle, url="https://news.example/a", published_at=text)


@pytest.mark.parametrize(
    "value",
    [
        *(0, 1751965200, "1751965200", "0.5", "2025-07-08", "2025-07-08 09:00:00Z"),
        *("2025-07-08T09:00Z", "2025-07-08T09:00:00", "2025-07-08T09:00:00+0100"),
        "2025-02-30T09:00:00Z",
    ],
)
def test_other_times_are_refused(value: object) -> None:
    assert not _accepted(SubmitArticle, url="https://news.example/a", published_at=value)


def test_times_beyond_utc_are_taken_as_its_bounds() -> None:
    early = TypeAdapter(SubmitArticle).validate_python(
        {"url": "https://news.example/a", "published_at": "0001-01-01T00:00:00+01:00"}
    )
    assert early.published_at == datetime.min.replace(tzinfo=UTC)
    late = TypeAdapter(SubmitArticle).validate_python(
        {"url": "https://news.example/a", "published_at": "9999-12-31T23:59:59-01:00"}
    )
    assert late.published_at == datetime.max.replace(tzinfo=UTC)


# -- JSON types, as the schema has them ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "taken"), [(60, True), (60.0, True), ("60", False), (True, False)]
)
def test_an_integer_is_a_json_number_without_a_fraction(value: object, taken: bool) -> None:
    assert _accepted(RegisterFeed, url="https://news.example/rss", poll_interval_seconds=value) == (
        taken
    )


@pytest.mark.parametrize(
    ("value", "taken"), [(True, True), (False, True), (0, False), ("true", False)]
)
def test_a_boolean_is_true_or_false(value: object, taken: bool) -> None:
    assert _accepted(CommentVisibility, hidden=value) == taken
