"""Serves the fixture pages gzip-compressed, from its own process (``python -m bench.pageserver PORT``).

A separate process, so the benchmark's figures contain Newswire's work and not the server's.
"""

from __future__ import annotations

import gzip
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGES = Path(__file__).parents[1] / "services" / "ingest" / "tests" / "fixtures" / "pages"
BODIES = {
    f"/{p.parent.name}/{p.name.removesuffix('.gz')}": gzip.compress(gzip.decompress(p.read_bytes()))
    for p in sorted(PAGES.glob("*/*.html.gz"))
}


class PageHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle and the
    # client's delayed ACK add tens of milliseconds to every keep-alive response.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        body = BODIES.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), PageHandler)
    print("ready", flush=True)
    server.serve_forever()
