"""A stand-in for Sentry: an HTTP server on 127.0.0.1 that keeps the envelopes a Sentry client
sends it, and a URLconf whose one view fails, for a process of the project to report."""

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from coalition.project import urls as project_urls

FAILURE = "the view failed on purpose"


@csrf_exempt  # posted from a process that fetched no form
def failing_view(request: HttpRequest, token: str) -> HttpResponse:
    raise RuntimeError(FAILURE)


# The project's URLs, and a signer's link whose token (a key in itself, which an error report
# must not carry) leads to the failing view.
urlpatterns = [path("sign/<str:token>/fails/", failing_view), *project_urls.urlpatterns]


class SentryServer:
    """Keeps every envelope posted to it, its body decompressed."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.received = threading.Event()
        kept = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                kept.bodies.append(body)
                kept.received.set()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.server.server_address[1]}/1"

    def events(self, kind: str = "event") -> list[dict[str, Any]]:
        """The items of a kind ("event": errors; "transaction": traces) of every envelope
        received (an envelope: a header line, then each item's header line and its payload, of
        the length its header gives if it gives one)."""
        found = []
        for body in self.bodies:
            position = body.index(b"\n") + 1
            while position < len(body):
                end = body.find(b"\n", position)
                header = json.loads(body[position : end if end != -1 else len(body)])
                position = end + 1
                length = header.get("length")
                if length is None:
                    end = body.find(b"\n", position)
                    length = (end if end != -1 else len(body)) - position
                payload = body[position : position + length]
                position += length + 1
                if header.get("type") == kind:
                    found.append(json.loads(payload))
        return found


@contextmanager
def sentry_server() -> Iterator[SentryServer]:
    sentry = SentryServer()
    thread = threading.Thread(target=sentry.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sentry
    finally:
        sentry.server.shutdown()
        sentry.server.server_close()
