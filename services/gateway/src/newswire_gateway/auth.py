"""API keys on write endpoints (``Authorization: Bearer <key>``)."""

from __future__ import annotations

import hmac

from .problems import ProblemError

__all__ = ["check_api_key"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="newswire"'}


def check_api_key(authorization: str | None, accepted: list[str]) -> None:
    """Raise a 401 problem unless the header carries one of the accepted keys.

    Keys are compared in constant time. With no keys configured every write is refused:
    the gateway never falls open.
    """
    if not authorization:
        raise ProblemError(
            401, "this endpoint needs an API key: Authorization: Bearer <key>", headers=_CHALLENGE
        )
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ProblemError(
            401, "use the Bearer scheme: Authorization: Bearer <key>", headers=_CHALLENGE
        )
    presented = key.strip().encode()
    # Compare against every key, so timing does not reveal which one nearly matched.
    matched = False
    for candidate in accepted:
        matched |= hmac.compare_digest(presented, candidate.encode())
    if not matched:
        raise ProblemError(401, "the API key is not valid", headers=_CHALLENGE)
