"""Adding a module's routes to the app, their operation ids, and which methods a path answers."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match, Route
from starlette.types import Scope

__all__ = ["add_routes", "allowed_methods", "links", "operation_id"]


def operation_id(route: APIRoute) -> str:
    """A route's OpenAPI operationId: its function's name (get_article, register_feed, ...),
    which is what clients generated from the document call it. Pass it to every APIRouter."""
    return route.name


def links(*operations: str, **parameters: str) -> dict[str, dict[str, object]]:
    """OpenAPI links from a response to ``operations`` (by operation id), each given
    ``parameters`` as runtime expressions, e.g. ``article_id="$response.body#/id"``."""
    return {
        "".join(word.title() for word in operation.split("_")): {
            "operationId": operation,
            "parameters": parameters,
        }
        for operation in operations
    }


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add ``router``'s routes (complete with prefix, tags and dependencies) to the app's own
    list, as ``include_router`` did before FastAPI 0.137.

    Since then ``include_router`` keeps the router as one lazy node that every request is
    matched through twice, after every node before it: in the gateway that was about 40 µs of
    the ~100 µs a cached article read costs the app (measured with the routes added flat).
    The routers here have no include-time options to lose.
    """
    app.router.routes.extend(router.routes)


def allowed_methods(app: FastAPI, scope: Scope) -> str:
    """The ``Allow`` header of a 405 for this request: every method of every route at its path.

    Starlette answers a 405 with the methods of the first route whose path matched, but a path
    such as /v1/articles is several routes (GET and POST), one per method.
    """
    methods: set[str] = set()
    for route in app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                methods |= route.methods
    return ", ".join(sorted(methods))
