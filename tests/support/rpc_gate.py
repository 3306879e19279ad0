"""A JSON-RPC proxy that lets a test decide how far a client may get, whatever the machine's speed.

`RpcGate` forwards every request to a node, but requests that call one of the gated methods (for
the indexer: `eth_getLogs`, one per chunk) pass only while the test has granted them. A request
beyond the grant is held until the gate is closed. So a test can say "this process may read three
chunks" and then wait for a condition instead of a clock: the client has used its grant
(`wait_served`) or is blocked asking for more (`wait_blocked`). On a fast machine and on a slow
one the client stops at the same point; only the moment inside its own processing differs.
"""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit


class RpcGate:
    """A forwarding proxy on a free 127.0.0.1 port that meters the gated JSON-RPC methods."""

    def __init__(self, upstream: str, gated: frozenset[str], grant: int = 0) -> None:
        parts = urlsplit(upstream)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream {upstream!r} needs a host and a port")
        self._upstream = (parts.hostname, parts.port, parts.path or "/")
        self._gated = gated
        self._granted = grant
        self._admitted = 0
        self._served = 0
        self._blocked = 0
        self._closed = False
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where the client should send its requests."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def served(self) -> int:
        """Gated requests answered so far."""
        with self._cond:
            return self._served

    def start(self) -> RpcGate:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stops serving; held requests are dropped without an answer."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RpcGate:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def wait_served(self, count: int, timeout: float) -> bool:
        """True once `count` gated requests have been answered (False on timeout)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._served >= count, timeout)

    def wait_blocked(self, timeout: float) -> bool:
        """True once a gated request is held because the grant is used up (False on timeout)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._blocked > 0, timeout)

    # ------------------------------------------------------------------ serving

    def _is_gated(self, body: bytes) -> bool:
        try:
            payload = json.loads(body)
        except ValueError:
            return False
        calls = payload if isinstance(payload, list) else [payload]
        return any(isinstance(c, dict) and c.get("method") in self._gated for c in calls)

    def _admit(self) -> bool:
        """Waits for the grant; False when the gate closed first."""
        with self._cond:
            if self._admitted >= self._granted and not self._closed:
                self._blocked += 1
                self._cond.notify_all()
                self._cond.wait_for(lambda: self._closed)
            if self._closed:
                return False
            self._admitted += 1
            return True

    def _answered(self) -> None:
        with self._cond:
            self._served += 1
            self._cond.notify_all()

    def _forward(self, body: bytes) -> tuple[int, bytes]:
        host, port, path = self._upstream
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the indexer's client expects

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                gated = gate._is_gated(body)
                if gated and not gate._admit():
                    self.close_connection = True
                    return
                status, content = gate._forward(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                self.wfile.flush()
                if gated:
                    gate._answered()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # quiet: the test reports what matters

        return Handler
