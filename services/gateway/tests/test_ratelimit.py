"""The comment rate limiter."""

import pytest
from newswire_gateway.domain.ratelimit import RateLimiter

pytestmark = pytest.mark.unit


def test_bursts_then_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_minute=6, burst=3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(10.0), "one token every 10 s"
    assert limiter.take("b") == 0.0, "clients are counted apart"
    now[0] = 10.0
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0


def test_the_number_of_clients_remembered_is_bounded() -> None:
    limiter = RateLimiter(rate_per_minute=1, burst=1, max_clients=2)
    for client in ("a", "b", "c"):
        limiter.take(client)
    assert limiter.take("a") == 0.0, "the oldest client was forgotten"
