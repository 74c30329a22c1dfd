"""``python -m tests.newsweb --port P``: serve the simulated web until killed."""

from __future__ import annotations

import argparse
import asyncio
import sys

import uvicorn

from .model import Web, WebSettings
from .server import NewsWebApp, bind_sockets


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.newsweb", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--outlets", type=int, default=WebSettings.outlets)
    parser.add_argument("--seed", type=int, default=WebSettings.seed)
    parser.add_argument("--time-scale", type=float, default=WebSettings.time_scale)
    parser.add_argument("--backlog-hours", type=float, default=WebSettings.backlog_hours)
    args = parser.parse_args()
    web = Web(
        WebSettings(
            seed=args.seed,
            outlets=args.outlets,
            time_scale=args.time_scale,
            backlog_hours=args.backlog_hours,
        ),
        args.port,
    )
    sockets = bind_sockets(web)
    app = NewsWebApp(web)
    server = uvicorn.Server(
        uvicorn.Config(app.app, log_level="warning", access_log=False, lifespan="off")
    )

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=sockets))
        while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, no event)
            await asyncio.sleep(0.05)
        print("newsweb ready", flush=True)
        await task

    asyncio.run(serve())
    sys.exit(0)


if __name__ == "__main__":
    main()
