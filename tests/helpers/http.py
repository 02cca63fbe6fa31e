"""A tiny HTTP server on 127.0.0.1, run in a thread, that serves scripted answers.

Tests use it to exercise the downloader against real sockets: a normal file, a 503 that goes away,
a transfer that stops before the announced Content-Length, a 404, and so on. Each route is a list
of :class:`Reply` objects served in order (the last one repeats), and every request is counted so
a test can check how many attempts the client made.
"""

from __future__ import annotations

import socket
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Reply:
    """One scripted answer.

    ``truncate_to``: announce ``Content-Length: len(body)`` but send only this many bytes and
    close the connection (an interrupted transfer).
    """

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    truncate_to: int | None = None


Handler = Callable[[str], Reply]


class LocalServer:
    """``with LocalServer() as srv: srv.route('/f.csv', Reply(data)); srv.url('/f.csv')``."""

    def __init__(self) -> None:
        self._routes: dict[str, list[Reply] | Handler] = {}
        self.hits: defaultdict[str, int] = defaultdict(int)
        self.requests: list[str] = []
        self._lock = threading.Lock()
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                reply = outer._answer(self.path)
                body = reply.body
                self.send_response(reply.status)
                headers = {"Content-Type": "application/octet-stream", **reply.headers}
                headers.setdefault("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                sent = body if reply.truncate_to is None else body[: reply.truncate_to]
                try:
                    self.wfile.write(sent)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if reply.truncate_to is not None:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    # -- routes --------------------------------------------------------------------------
    def route(self, path: str, *replies: Reply | Handler) -> None:
        """Serve ``replies`` in order at ``path`` (the path with its query string); a single
        callable ``path -> Reply`` may be given instead."""
        if len(replies) == 1 and callable(replies[0]) and not isinstance(replies[0], Reply):
            self._routes[path] = replies[0]  # type: ignore[assignment]
        else:
            self._routes[path] = list(replies)  # type: ignore[arg-type]

    def fallback(self, handler: Handler) -> None:
        """Answer every path without an explicit route with ``handler(path)``."""
        self._routes["*"] = handler

    def _answer(self, path: str) -> Reply:
        with self._lock:
            self.hits[path] += 1
            self.requests.append(path)
            n = self.hits[path]
            spec = self._routes.get(path, self._routes.get("*"))
        if spec is None:
            return Reply(b"not found", status=404)
        if callable(spec):
            return spec(path)
        return spec[min(n, len(spec)) - 1]

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> "LocalServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def closed_port_url(path: str = "/file.csv") -> str:
    """A URL on 127.0.0.1 at a port nothing listens on (connection refused at once)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}{path}"
