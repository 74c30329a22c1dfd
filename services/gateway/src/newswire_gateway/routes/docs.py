"""The topics' AsyncAPI document.

The gateway cannot build the other services' FastStream apps (services never import each
other), so ``make schemas`` generates the document from all of them into the contracts
package; the gateway serves that file as it is.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, Response

from newswire_gateway.routing import operation_id

router = APIRouter(tags=["documentation"], generate_unique_id_function=operation_id)


@cache
def asyncapi_document() -> bytes:
    """The committed AsyncAPI document (newswire_contracts/asyncapi.json), read once."""
    return resources.files("newswire_contracts").joinpath("asyncapi.json").read_bytes()


@router.get(
    "/asyncapi",
    response_class=Response,
    responses={
        200: {
            "description": "AsyncAPI 3.0 document of every Newswire topic",
            "content": {"application/json": {}},
        }
    },
)
async def asyncapi() -> Response:
    """The AsyncAPI document of the Kafka topics: channels, messages, payload schemas and
    CloudEvents headers, as the services declare them. Topic names are the contract names,
    without a deployment's topic prefix."""
    return Response(asyncapi_document(), media_type="application/json")
