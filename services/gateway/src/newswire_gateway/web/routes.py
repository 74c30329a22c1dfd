"""The reader's web pages: server-rendered HTML that works without JavaScript.

``/`` (latest stories), ``/articles/{id}``, ``/stories/{id}``, ``/entities/{name}``, plus the
fragments ``static/live.js`` swaps in when the live stream (``/v1/stream``) says something
changed. Every text is escaped by Jinja2's autoescaping; templates never mark text safe.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from newswire_contracts.readmodel import StoredArticle, StoredStory
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from newswire_gateway.comments import Comment
from newswire_gateway.deps import State
from newswire_gateway.problems import ProblemError
from newswire_gateway.routes.comments import NewComment, post_comment
from newswire_gateway.routing import add_routes
from newswire_gateway.state import GatewayState
from newswire_gateway.store import ArticleQuery

from .timeago import paragraphs, snippet, time_ago

__all__ = ["install", "router"]

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

router = APIRouter(include_in_schema=False)

_ARTICLE_ID = re.compile(r"[0-9a-f]{32}")
_STORY_ID = re.compile(r"[0-9a-z_-]{1,64}")
MAX_ENTITY_NAME = 200
RELATED_SHOWN = 8
STORIES_SHOWN = 20
ENTITY_ARTICLES = 30
COMMENTS_SHOWN = 100
MAX_FORM_BYTES = 64 * 1024
FRAGMENT_HEADER = "x-newswire-fragment"
"""Set by live.js when it posts the comment form: answer with the comments fragment."""

_SECURITY_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Scripts only from our own static files: even text that escaped escaping could not run.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'",
}

ENTITY_GROUPS = (("People", ("PERSON",)), ("Places", ("GPE", "LOC")), ("Organisations", ("ORG",)))
_ENTITY_KINDS = {
    "PERSON": "person",
    "GPE": "place",
    "LOC": "place",
    "ORG": "organisation",
    "NORP": "group",
    "EVENT": "event",
}


def install(app: FastAPI) -> None:
    """Serve the pages and their static files from ``app``."""
    add_routes(app, router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def entity_url(name: str) -> str:
    return "/entities/" + quote(name, safe="")


def outlets(story: StoredStory) -> list[str]:
    """The outlets of the story's (listed) articles, first come first."""
    return list(dict.fromkeys(a.source for a in story.articles))


def _utc(moment: datetime) -> datetime:
    """Store times are UTC; a naive one (never from this store) is taken as UTC too."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat()


def _full_date(moment: datetime) -> str:
    return _utc(moment).strftime("%d %b %Y, %H:%M UTC")


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals["outlets"] = outlets
templates.filters.update(
    ago=time_ago, iso=_iso, full_date=_full_date, entity_url=entity_url, paragraphs=paragraphs
)


def _html(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    context.setdefault("now", datetime.now(UTC))
    body = templates.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers={**_SECURITY_HEADERS, **(headers or {})})


def _not_found(what: str) -> HTMLResponse:
    return _html("error.html", 404, title="Not found", message=f"There is no {what} here.")


def _unavailable() -> HTMLResponse:
    return _html(
        "error.html",
        503,
        {"Retry-After": "5"},
        title="Temporarily unavailable",
        message="The news store is not answering right now. Please try again in a moment.",
    )


# --- what the templates show ---------------------------------------------------------------


@dataclass(frozen=True)
class RelatedItem:
    id: str
    title: str
    source: str
    published_at: datetime | None
    snippet: str
    duplicate: bool
    shared_entities: Sequence[str]


@dataclass(frozen=True)
class ListedArticle:
    id: str
    title: str
    source: str
    time: datetime | None
    snippet: str


async def _related(state: GatewayState, article: StoredArticle) -> list[RelatedItem]:
    """The first related articles, each with the start of its summary (read concurrently)."""
    chosen = article.related[:RELATED_SHOWN]
    found = await asyncio.gather(*(state.articles.get(r.id) for r in chosen))
    return [
        RelatedItem(
            id=r.id,
            title=r.title or (other.title if other else "") or "(untitled)",
            source=r.source,
            published_at=r.published_at or (other.ingested_at if other else None),
            snippet=snippet(other.summary or other.text) if other else "",
            duplicate=r.relation == "duplicate",
            shared_entities=r.shared_entities[:4],
        )
        for r, other in zip(chosen, found, strict=True)
    ]


def _entity_groups(article: StoredArticle) -> list[tuple[str, list[str]]]:
    groups = []
    ranked = sorted(article.entities, key=lambda e: (-e.salience, -e.count, e.name))
    for label, types in ENTITY_GROUPS:
        names = list(dict.fromkeys(e.name for e in ranked if e.type in types))
        groups.append((label, names[:12]))
    return groups


async def _story(state: GatewayState, story_id: str | None) -> StoredStory | None:
    return await state.stories.get(story_id) if story_id else None


async def _render_article(
    state: GatewayState,
    article: StoredArticle,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    comment_error: str | None = None,
    author: str = "",
    body: str = "",
) -> HTMLResponse:
    related, story, comments, original = await asyncio.gather(
        _related(state, article),
        _story(state, article.story_id),
        state.comments.list(article.id, limit=COMMENTS_SHOWN),
        state.articles.get(article.duplicate_of) if article.duplicate_of else _none(),
    )
    return _html(
        "article.html",
        status,
        headers,
        article=article,
        published=article.published_at or article.ingested_at,
        entity_groups=_entity_groups(article),
        related=related,
        story=story,
        original=original,
        comments=comments,
        comment_error=comment_error,
        author=author,
        body=body,
    )


async def _none() -> None:
    return None


def _comments_fragment(
    article: StoredArticle,
    comments: list[Comment],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    comment_error: str | None = None,
    author: str = "",
    body: str = "",
) -> HTMLResponse:
    return _html(
        "_comments.html",
        status,
        headers,
        article=article,
        comments=comments,
        comment_error=comment_error,
        author=author,
        body=body,
    )


# --- pages ---------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def front_page(state: State) -> Response:
    try:
        stories = await state.stories.latest(STORIES_SHOWN, None)
    except PyMongoError:
        return _unavailable()
    return _html("index.html", stories=stories)


@router.get("/stories.html", response_class=HTMLResponse)
async def stories_fragment(state: State) -> Response:
    try:
        stories = await state.stories.latest(STORIES_SHOWN, None)
    except PyMongoError:
        return _unavailable()
    return _html("_stories.html", stories=stories)


async def _article(state: GatewayState, article_id: str) -> StoredArticle | None:
    if not _ARTICLE_ID.fullmatch(article_id):
        return None
    return await state.articles.get(article_id)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
async def article_page(article_id: str, state: State) -> Response:
    try:
        article = await _article(state, article_id)
        if article is None:
            return _not_found("article")
        if article.id != article_id:  # an alias: show it under its own address
            return RedirectResponse(f"/articles/{article.id}", status_code=308)
        return await _render_article(state, article)
    except PyMongoError:
        return _unavailable()


@router.get("/articles/{article_id}/related.html", response_class=HTMLResponse)
async def related_fragment(article_id: str, state: State) -> Response:
    try:
        article = await _article(state, article_id)
        if article is None:
            return _not_found("article")
        return _html("_related.html", article=article, related=await _related(state, article))
    except PyMongoError:
        return _unavailable()


@router.get("/articles/{article_id}/comments", response_class=HTMLResponse)
async def comments_get(article_id: str) -> Response:
    """Where a reloaded form result lands: back to the article's comments."""
    if not _ARTICLE_ID.fullmatch(article_id):
        return _not_found("article")
    return RedirectResponse(f"/articles/{article_id}#comments", status_code=303)


@router.post("/articles/{article_id}/comments", response_class=HTMLResponse)
async def comments_post(article_id: str, state: State, request: Request) -> Response:
    """The comment form: 303 back to the article on success; the page again, with the
    error and what was typed, on failure. With the fragment header (live.js): the comments
    section instead of either."""
    fragment = request.headers.get(FRAGMENT_HEADER) == "comments"
    try:
        article = await _article(state, article_id)
        if article is None:
            return _not_found("article")
        fields, failure = await _read_form(request)
        author, text = fields.get("author", ""), fields.get("body", "")
        if failure is None:
            failure = await _post_comment(state, request, article, author, text)
        if failure is None:
            if not fragment:
                return RedirectResponse(f"/articles/{article.id}#comments", status_code=303)
            comments = await state.comments.list(article.id, limit=COMMENTS_SHOWN)
            return _comments_fragment(article, comments)
        if failure.status >= 500:
            return _unavailable()
        if fragment:
            return _comments_fragment(
                article,
                await state.comments.list(article.id, limit=COMMENTS_SHOWN),
                status=failure.status,
                headers=failure.headers,
                comment_error=failure.detail,
                author=author,
                body=text,
            )
        return await _render_article(
            state,
            article,
            status=failure.status,
            headers=failure.headers,
            comment_error=failure.detail,
            author=author,
            body=text,
        )
    except PyMongoError:
        return _unavailable()


async def _post_comment(
    state: GatewayState, request: Request, article: StoredArticle, author: str, text: str
) -> ProblemError | None:
    """Post through the API's own handler (validation, rate limit, event); the problem if any."""
    try:
        comment = NewComment(author=author, body=text)
    except ValidationError as exc:
        return ProblemError(422, _describe(exc))
    try:
        await post_comment(article.id, comment, state, request)
    except ProblemError as exc:
        return exc
    return None


async def _read_form(request: Request) -> tuple[dict[str, str], ProblemError | None]:
    """The fields of an urlencoded form (parsed here: the gateway has no multipart parser),
    or why it could not be read."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}, ProblemError(415, "the form must be sent as application/x-www-form-urlencoded")
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return {}, ProblemError(413, "the form is too large")
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}, ProblemError(400, "the form could not be read")
    return {name: values[0] for name, values in parsed.items() if values}, None


_FIELD_NAMES = {"author": "Name", "body": "Comment"}


def _describe(exc: ValidationError) -> str:
    messages = []
    for error in exc.errors():
        field = _FIELD_NAMES.get(str(error["loc"][0]) if error["loc"] else "", "Form")
        message = error["msg"].removeprefix("Value error, ")
        messages.append(f"{field}: {message[:1].lower()}{message[1:]}")
    return "; ".join(messages)


@router.get("/stories/{story_id}", response_class=HTMLResponse)
async def story_page(story_id: str, state: State) -> Response:
    try:
        story = await state.stories.get(story_id) if _STORY_ID.fullmatch(story_id) else None
    except PyMongoError:
        return _unavailable()
    if story is None:
        return _not_found("story")
    if story.id != story_id:  # merged into another story
        return RedirectResponse(f"/stories/{story.id}", status_code=308)
    return _html("story.html", story=story)


@router.get("/stories/{story_id}/articles.html", response_class=HTMLResponse)
async def story_articles_fragment(story_id: str, state: State) -> Response:
    try:
        story = await state.stories.get(story_id) if _STORY_ID.fullmatch(story_id) else None
    except PyMongoError:
        return _unavailable()
    if story is None:
        return _not_found("story")
    return _html("_story_articles.html", story=story)


@router.get("/entities/{name:path}", response_class=HTMLResponse)
async def entity_page(name: str, state: State) -> Response:
    name = name.strip()
    if not name or len(name) > MAX_ENTITY_NAME:
        return _not_found("such name")
    try:
        documents = await state.articles.list(ArticleQuery(entity=name), ENTITY_ARTICLES, None)
    except PyMongoError:
        return _unavailable()
    if not documents:
        return _html(
            "error.html",
            404,
            title=name,
            message="No articles mention this name yet.",
        )
    display, kind = name, None
    for document in documents:
        for entity in document.get("entities") or ():
            if str(entity.get("name", "")).casefold() == name.casefold():
                display, kind = entity["name"], _ENTITY_KINDS.get(entity.get("type", ""))
                break
        else:
            continue
        break
    articles = [
        ListedArticle(
            id=d["_id"],
            title=d.get("title") or "(untitled)",
            source=d.get("source", ""),
            time=d.get("published_at") or d.get("sort_time"),
            snippet=snippet(d.get("summary") or ""),
        )
        for d in documents
    ]
    return _html("entity.html", name=display, kind=kind, articles=articles)
