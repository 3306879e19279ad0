"""A lean JSON-RPC client for the indexer's hot path: batches, raw dicts, clear errors.

web3.py wraps every log in AttributeDicts and HexBytes through its middleware stack; the indexer
reads hundreds of thousands of logs, so it talks JSON-RPC directly and decodes logs itself
(`marketplace.chain.logs`). Importing this module does not import web3.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from marketplace.errors import MarketplaceError

Call = tuple[str, Sequence[Any]]


class NodeUnavailable(MarketplaceError):
    """The node did not answer (connection refused, reset, timed out, or an HTTP 5xx)."""


class RpcError(MarketplaceError):
    """The node answered a call with a JSON-RPC error."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method} failed: {message} (code {code})")
        self.method = method
        self.code = code
        self.message = message
        self.data = data

    def __reduce__(self) -> tuple[type[RpcError], tuple[str, int, str, Any]]:
        # Pickled as its fields (a worker process hands its errors over a pipe): the default
        # would call __init__ with the formatted message alone.
        return (type(self), (self.method, self.code, self.message, self.data))


class NodeRefused(RpcError):
    """The node refused a request as too large (range, result count or response size)."""


_REFUSAL_HINTS = (
    "limit",
    "too many",
    "too large",
    "block range",
    "exceed",
    "response size",
    "max results",
    "returned more than",
    "query timeout",
)


def _is_refusal(message: str) -> bool:
    """Whether an error message says the request was too big (so a smaller one may pass)."""
    lowered = message.lower()
    return any(hint in lowered for hint in _REFUSAL_HINTS)


class RpcClient:
    """JSON-RPC over HTTP(S) with a small pool of keep-alive connections (standard library only).

    Threads share the pool: a call takes an idle connection (or opens one) and gives it back
    after the reply, so the indexer's short-lived fetch threads reuse sockets instead of each
    leaving one behind. `close()` (or leaving a `with RpcClient(...)` block) closes the kept
    sockets; the owner of a client calls it when done. A closed client stays usable: the next
    call opens a new connection, as `http.client.HTTPConnection` does after `close()`.
    """

    def __init__(self, url: str, timeout: float = 30.0, max_idle: int = 4) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"RPC URL {url!r} is not an http(s) URL")
        self.url = url
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._ids = itertools.count(1)
        self._max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: list[http.client.HTTPConnection] = []
        # Bumped by close(): a connection checked out before it is closed on return, not kept.
        self._generation = 0

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every kept-alive connection (calls still running close theirs when done)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for conn in idle:
            conn.close()

    def _checkout(self, fresh: bool) -> tuple[http.client.HTTPConnection, int]:
        with self._lock:
            generation = self._generation
            if self._idle and not fresh:
                return self._idle.pop(), generation
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self.timeout), generation

    def _checkin(self, conn: http.client.HTTPConnection, generation: int) -> None:
        with self._lock:
            if generation == self._generation and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def _exchange(self, body: bytes, fresh: bool = False) -> tuple[int, bytes]:
        conn, generation = self._checkout(fresh)
        try:
            conn.request("POST", self._path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            result = response.status, response.read()
        except BaseException:
            conn.close()  # its state is unknown: never reuse it
            raise
        if response.will_close:
            conn.close()
        else:
            self._checkin(conn, generation)
        return result

    def _post(self, payload: Any, what: str) -> Any:
        body = json.dumps(payload).encode()
        try:
            try:
                status, content = self._exchange(body)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server closed: once more, on a new one.
                status, content = self._exchange(body, fresh=True)
        except TimeoutError as exc:
            raise NodeUnavailable(
                f"the node at {self.url} did not answer {what} within {self.timeout:g} s"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise NodeUnavailable(f"no node answers at {self.url} ({exc})") from exc
        if status == 413:
            raise NodeRefused(what, 413, "request or response too large (HTTP 413)")
        if status >= 500:
            raise NodeUnavailable(f"the node at {self.url} answered HTTP {status}")
        try:
            return json.loads(content)
        except ValueError as exc:
            if status != 200:
                raise NodeRefused(what, status, f"HTTP {status}") from exc
            raise NodeUnavailable(f"the node at {self.url} sent a reply that is not JSON") from exc

    @staticmethod
    def _result(method: str, reply: Any) -> Any:
        if not isinstance(reply, dict):
            raise RpcError(method, -32603, f"malformed JSON-RPC reply {reply!r:.200}")
        error = reply.get("error")
        if error is not None:
            code = int(error.get("code", -32603)) if isinstance(error, dict) else -32603
            message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
            data = error.get("data") if isinstance(error, dict) else None
            kind = NodeRefused if _is_refusal(message) else RpcError
            raise kind(method, code, message, data)
        if "result" not in reply:
            raise RpcError(method, -32603, f"JSON-RPC reply without a result {reply!r:.200}")
        return reply["result"]

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """The result of one call; raises RpcError / NodeRefused / NodeUnavailable."""
        reply = self._post(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)},
            method,
        )
        return self._result(method, reply)

    def batch(self, calls: Sequence[Call]) -> list[Any]:
        """Results of several calls in one HTTP request, in order; the first error is raised."""
        if not calls:
            return []
        first = next(self._ids)
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)}
            for i, (m, p) in enumerate(calls)
        ]
        for _ in range(len(calls) - 1):
            next(self._ids)
        replies = self._post(payload, calls[0][0] if len(calls) == 1 else "batch")
        if isinstance(replies, dict):  # some nodes answer a whole failed batch with one error
            self._result("batch", replies)
            raise RpcError("batch", -32603, "a batch was answered with a single reply")
        by_id = {r.get("id"): r for r in replies if isinstance(r, dict)}
        return [self._result(m, by_id.get(first + i)) for i, (m, _) in enumerate(calls)]

    # ------------------------------------------------------------ the calls the indexer uses

    def chain_id(self) -> int:
        """eth_chainId."""
        return int(self.call("eth_chainId"), 16)

    def block_number(self) -> int:
        """eth_blockNumber."""
        return int(self.call("eth_blockNumber"), 16)

    def get_logs(self, address: str, from_block: int, to_block: int) -> list[dict[str, Any]]:
        """eth_getLogs over the inclusive range, as raw dicts."""
        logs = self.call(
            "eth_getLogs",
            [{"address": address, "fromBlock": hex(from_block), "toBlock": hex(to_block)}],
        )
        if not isinstance(logs, list):
            raise RpcError("eth_getLogs", -32603, f"expected a list of logs, got {type(logs)}")
        return logs

    def block_headers(self, numbers: Sequence[int]) -> dict[int, dict[str, Any] | None]:
        """{number: block header dict (no transactions), or None if the block is absent}."""
        results = self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return {
            n: (block if isinstance(block, dict) else None)
            for n, block in zip(numbers, results, strict=True)
        }
