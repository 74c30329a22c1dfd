"""The reader's web pages: server-rendered HTML that works without JavaScript.

``/`` (latest stories), ``/articles/{id}``, ``/stories/{id}``, ``/entities/{name}``, plus the
fragments ``static/live.js`` swaps in when the live stream (``/v1/stream``) says something
changed. Every text is escaped by Jinja2's autoescaping; templates never mark text safe.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from newswire_contracts.readmodel import StoredArticle, StoredStory
from newswire_platform import StoreError
from pydantic import ValidationError

from newswire_gateway import articles, comments, stories
from newswire_gateway.deps import Client, State
from newswire_gateway.domain.errors import NotFound, Refused
from newswire_gateway.domain.models import ArticleQuery
from newswire_gateway.fields import HEX_ID_PATTERN, STORY_ID_PATTERN
from newswire_gateway.problems import ProblemError, as_problem
from newswire_gateway.routing import add_routes
from newswire_gateway.schemas import NewComment
from newswire_gateway.state import GatewayState

from .timeago import full_date, iso, paragraphs, snippet, time_ago

__all__ = ["install", "router"]

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"


class _PageRoute(APIRoute):
    """Pages answer in HTML where the API answers with a problem document: a 404 page for
    what does not exist, a 503 page while the store is not answering."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except NotFound as exc:
                return _not_found(exc.what)
            except StoreError:
                return _html(
                    "error.html",
                    503,
                    {"Retry-After": "5"},
                    title="Temporarily unavailable",
                    message="The news store is not answering right now. "
                    "Please try again in a moment.",
                )

        return page


router = APIRouter(include_in_schema=False, route_class=_PageRoute)

_ARTICLE_ID = re.compile(HEX_ID_PATTERN)
_STORY_ID = re.compile(STORY_ID_PATTERN)
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


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals["outlets"] = outlets
templates.filters.update(
    ago=time_ago,
    iso=iso,
    full_date=full_date,
    entity_url=entity_url,
    paragraphs=paragraphs,
    snippet=snippet,
)


def _html(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    context.setdefault("now", datetime.now(UTC))
    body = templates.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers={**_SECURITY_HEADERS, **(headers or {})})


def _not_found(what: str) -> HTMLResponse:
    return _html("error.html", 404, title="Not found", message=f"There is no {what} here.")


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
    same_story: bool | None = None


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
            same_story=r.same_story,
        )
        for r, other in zip(chosen, found, strict=True)
    ]


def _entity_groups(article: StoredArticle) -> list[tuple[str, list[str]]]:
    ranked = sorted(article.entities, key=lambda e: (-e.salience, -e.count, e.name))
    return [
        (label, list(dict.fromkeys(e.name for e in ranked if e.type in types))[:12])
        for label, types in ENTITY_GROUPS
    ]


_EMPTY_FORM = {"comment_error": None, "author": "", "body": ""}


async def _render_article(
    state: GatewayState,
    article: StoredArticle,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **form: Any,
) -> HTMLResponse:
    related, story, shown, original = await asyncio.gather(
        _related(state, article),
        state.stories.get(article.story_id) if article.story_id else _none(),
        comments.listing(state, article.id, COMMENTS_SHOWN),
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
        comments=shown,
        **{**_EMPTY_FORM, **form},
    )


async def _none() -> None:
    return None


def _named(pattern: re.Pattern[str], identifier: str, what: str) -> str:
    """``identifier`` if it has the form of one, else NotFound: it cannot name anything."""
    if not pattern.fullmatch(identifier):
        raise NotFound(what, f"no {what} {identifier}")
    return identifier


# --- pages ---------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def front_page(state: State) -> Response:
    return _html("index.html", stories=(await stories.latest(state, STORIES_SHOWN, None)).items)


@router.get("/stories.html", response_class=HTMLResponse)
async def stories_fragment(state: State) -> Response:
    return _html("_stories.html", stories=(await stories.latest(state, STORIES_SHOWN, None)).items)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
async def article_page(article_id: str, state: State) -> Response:
    article = await articles.read(state, _named(_ARTICLE_ID, article_id, "article"))
    if article.id != article_id:  # an alias: show it under its own address
        return RedirectResponse(f"/articles/{article.id}", status_code=308)
    return await _render_article(state, article)


@router.get("/articles/{article_id}/related.html", response_class=HTMLResponse)
async def related_fragment(article_id: str, state: State) -> Response:
    article = await articles.read(state, _named(_ARTICLE_ID, article_id, "article"))
    return _html("_related.html", article=article, related=await _related(state, article))


@router.get("/articles/{article_id}/comments", response_class=HTMLResponse)
async def comments_get(article_id: str) -> Response:
    """Where a reloaded form result lands: back to the article's comments."""
    _named(_ARTICLE_ID, article_id, "article")
    return RedirectResponse(f"/articles/{article_id}#comments", status_code=303)


@router.post("/articles/{article_id}/comments", response_class=HTMLResponse)
async def comments_post(
    article_id: str, state: State, client: Client, request: Request
) -> Response:
    """The comment form: 303 back to the article on success; the page again, with the
    error and what was typed, on failure. With the fragment header (live.js): the comments
    section instead of either."""
    article = await articles.read(state, _named(_ARTICLE_ID, article_id, "article"))
    author = text = ""
    failure = None
    try:
        fields = await _read_form(request)
        author, text = fields.get("author", ""), fields.get("body", "")
        # Posted as the API posts: the same validation, rate limit and event.
        comment = NewComment(author=author, body=text)
        await comments.post(state, article.id, comment.author, comment.body, client=client)
    except ValidationError as exc:
        failure = ProblemError(422, _describe(exc))
    except (ProblemError, Refused) as exc:
        failure = as_problem(exc)
    fragment = request.headers.get(FRAGMENT_HEADER) == "comments"
    if failure is None and not fragment:
        return RedirectResponse(f"/articles/{article.id}#comments", status_code=303)
    status, headers, form = 200, None, _EMPTY_FORM
    if failure is not None:
        status, headers = failure.status, failure.headers
        form = {"comment_error": failure.detail, "author": author, "body": text}
    if not fragment:
        return await _render_article(state, article, status, headers, **form)
    shown = await comments.listing(state, article.id, COMMENTS_SHOWN)
    return _html("_comments.html", status, headers, article=article, comments=shown, **form)


async def _read_form(request: Request) -> dict[str, str]:
    """The fields of an urlencoded form (parsed here: the gateway has no multipart parser);
    a ProblemError when it cannot be read."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise ProblemError(415, "the form must be sent as application/x-www-form-urlencoded")
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise ProblemError(413, "the form is too large")
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise ProblemError(400, "the form could not be read") from None
    return {name: values[0] for name, values in parsed.items() if values}


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
    story = await stories.read(state, _named(_STORY_ID, story_id, "story"))
    if story.id != story_id:  # merged into another story
        return RedirectResponse(f"/stories/{story.id}", status_code=308)
    return _html("story.html", story=story)


@router.get("/stories/{story_id}/articles.html", response_class=HTMLResponse)
async def story_articles_fragment(story_id: str, state: State) -> Response:
    story = await stories.read(state, _named(_STORY_ID, story_id, "story"))
    return _html("_story_articles.html", story=story)


@router.get("/entities/{name:path}", response_class=HTMLResponse)
async def entity_page(name: str, state: State) -> Response:
    name = name.strip()
    if not name or len(name) > MAX_ENTITY_NAME:
        return _not_found("such name")
    query = ArticleQuery(entity=name)
    found = (await articles.listing(state, query, ENTITY_ARTICLES, None)).items
    if not found:
        return _html("error.html", 404, title=name, message="No articles mention this name yet.")
    display, kind = name, None
    for entity in (entity for article in found for entity in article.entities):
        if entity.name.casefold() == name.casefold():
            display, kind = entity.name, _ENTITY_KINDS.get(entity.type)
            break
    return _html("entity.html", name=display, kind=kind, articles=found)
