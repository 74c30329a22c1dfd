"""API keys and the request body cap, without servers."""

import httpx
import pytest
from newswire_gateway.auth import check_api_key
from newswire_gateway.limits import BodySizeLimit
from newswire_gateway.problems import ProblemError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "needs an API key"),
        ("Basic abc", "Bearer scheme"),
        ("Bearer ", "Bearer scheme"),
        ("Bearer wrong", "not valid"),
    ],
)
def test_refused_keys(header: str | None, detail: str) -> None:
    with pytest.raises(ProblemError, match=detail) as refused:
        check_api_key(header, ["k1", "k2"])
    assert refused.value.status == 401
    assert refused.value.headers == {"WWW-Authenticate": 'Bearer realm="newswire"'}


def test_accepted_keys() -> None:
    check_api_key("Bearer k2", ["k1", "k2"])
    check_api_key("bearer  k1 ", ["k1"])


def test_no_configured_key_refuses_every_write() -> None:
    with pytest.raises(ProblemError):
        check_api_key("Bearer anything", [])


async def _echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = BodySizeLimit(Starlette(routes=[Route("/", _echo, methods=["POST"])]), max_bytes=1000)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_bodies_within_the_cap_pass(client: httpx.AsyncClient) -> None:
    response = await client.post("/", content=b"x" * 1000)
    assert response.status_code == 200
    assert response.text == "1000"


async def test_declared_oversized_body_is_a_413_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/", content=b"x" * 1001)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "request body exceeds 1000 bytes"


async def test_streamed_oversized_body_is_cut_off(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 100

    response = await client.post("/", content=chunks())
    assert response.status_code == 413
