"""The logs of one contract address over a block range, decoded, chunk by chunk in chain order.

`read_chunks` is the loop every reader of a contract's history needs: `eth_getLogs` over adaptive
block ranges (a `ChunkSizer`: a range the node refuses as too large is halved and asked again,
and the range steers toward its target number of logs), block timestamps from headers for logs
that come without one, and `EventDecoder.decode_many`. It yields one `LogChunk` per range.

`LogStream` runs the same loop in a worker process and hands its chunks over a pipe, in order:
the process starts when the stream is made, and `read(start, end, sizer)` gives it its range.
Parsing the node's JSON and decoding are about half the CPU time of a consumer as light as the
audit's replay; in a process of their own they no longer share the consumer's GIL, and the node
answers the next range meanwhile (the worker fetches one range ahead on a thread of its own).
The consumer sees what `read_chunks` would have yielded, chunk for chunk, then the error it would
have raised, with its type and message (`NodeRefused` once the range is one block,
`NodeUnavailable`, `RpcError`); its `ChunkSizer` ends as the worker's did. A log the decoder
refuses is a `SkippedLog` of its chunk, as with `read_chunks`.

The worker is a fresh interpreter (`python -c`), not a fork: forking a process that runs
threads (a threaded web server, the caller's own fetch thread) can leave a lock held for ever in
the child, and multiprocessing's `spawn` would import the caller's main module again. It costs
an interpreter start (about a tenth of a second of CPU), so it pays off on long ranges; a caller
that follows the head a few blocks at a time keeps `read_chunks`. The worker is killed when its
consumer closes (or cancels) the stream, exits when the consumer's process dies (its stdin, which
the consumer holds open, ends), and after its last chunk; the stream is a context manager and
`close()` reaps it.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import starmap
from multiprocessing.connection import Connection
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

from marketplace.chain.logs import DecodedEvent, EventDecoder, SkippedLog
from marketplace.chain.rpc import NodeRefused, RpcClient, RpcError
from marketplace.chain.scan import ChunkSizer
from marketplace.errors import MarketplaceError

HEADER_BATCH = 200
"""Block headers asked for in one JSON-RPC batch (timestamps of logs that lack them)."""

RawChunk = tuple[int, int, list[Any]]  # first block, last block, the node's logs as parsed


class LogStreamError(MarketplaceError):
    """The worker process died, or failed with an error that cannot cross a process boundary."""


@dataclass(frozen=True)
class LogChunk:
    """The logs of blocks `start..end`: decoded events in chain order and the logs the decoder
    refused (with their reasons), the number of logs the node returned, and the numbers of the
    blocks those logs name (every log with a readable block number, decoded or not)."""

    start: int
    end: int
    events: list[DecodedEvent]
    skipped: list[SkippedLog]
    logs: int
    blocks: list[int]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Across the worker's pipe, the events as rows of their fields: pickling thousands of
        # objects through their own __reduce__ took the worker a third of its decoding time.
        rows = list(map(_EVENT_FIELDS, self.events))
        return (_chunk_of_rows, (self.start, self.end, rows, self.skipped, self.logs,
                                 self.blocks))


_EVENT_FIELDS = attrgetter(*DecodedEvent.__slots__)  # DecodedEvent's arguments, in order


def _chunk_of_rows(
    start: int, end: int, rows: list[tuple[Any, ...]], skipped: list[SkippedLog], logs: int,
    blocks: list[int],
) -> LogChunk:
    return LogChunk(start, end, list(starmap(DecodedEvent, rows)), skipped, logs, blocks)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class LogRpc(Protocol):
    """The JSON-RPC calls the chunk loop makes (`RpcClient` has them)."""

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One call's result."""

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several calls' results, in order."""


def fetch_logs(
    rpc: LogRpc,
    address: str,
    start: int,
    end: int,
    sizer: ChunkSizer,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[RawChunk]:
    """The node's raw logs of `address` over `start..end`, one adaptive range at a time, with
    their block timestamps filled in. A range the node refuses is halved (`sizer.shrink`) and
    asked again; at one block the refusal is raised. Stops early when `stop()` says so."""
    block = start
    while block <= end and not stop():
        last = min(end, block + sizer.size - 1)
        try:
            logs = rpc.call(
                "eth_getLogs",
                [{"address": address, "fromBlock": hex(block), "toBlock": hex(last)}],
            )
        except NodeRefused:
            if not sizer.shrink():
                raise
            continue
        if not isinstance(logs, list):
            raise RpcError("eth_getLogs", -32603, f"expected a list, got {type(logs)}")
        sizer.observe(last - block + 1, len(logs))
        fill_timestamps(rpc, logs)
        yield block, last, logs
        block = last + 1


def fill_timestamps(rpc: LogRpc, logs: list[Any]) -> None:
    """Set `blockTimestamp` (from the block headers) on the logs that come without one; a log
    without a readable block number is left as it is, for the decoder to report."""
    missing: set[int] = set()
    for log in logs:
        if isinstance(log, dict) and log.get("blockTimestamp") is None:
            try:
                missing.add(_int(log["blockNumber"]))
            except (TypeError, KeyError, ValueError):
                continue
    if not missing:
        return
    numbers = sorted(missing)
    stamps: dict[int, Any] = {}
    for i in range(0, len(numbers), HEADER_BATCH):
        part = numbers[i : i + HEADER_BATCH]
        headers = rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in part])
        for number, header in zip(part, headers, strict=True):
            if isinstance(header, dict) and header.get("timestamp") is not None:
                stamps[number] = header["timestamp"]
    for log in logs:
        if isinstance(log, dict) and log.get("blockTimestamp") is None:
            try:
                stamp = stamps.get(_int(log["blockNumber"]))
            except (TypeError, KeyError, ValueError):
                continue
            if stamp is not None:
                log["blockTimestamp"] = stamp


def decode_chunk(decoder: EventDecoder, raw: RawChunk) -> LogChunk:
    """A fetched range as a `LogChunk`."""
    start, end, logs = raw
    try:
        numbers = {log["blockNumber"] for log in logs}  # a few distinct ones, usually
    except (TypeError, KeyError):  # a log without one, or not a dict: log by log
        numbers = set()
        for log in logs:
            try:
                numbers.add(log["blockNumber"])
            except (TypeError, KeyError):
                continue  # the decoder reports it
    blocks: set[int] = set()
    for number in numbers:
        try:
            blocks.add(_int(number))
        except (TypeError, ValueError):
            continue  # the decoder reports the log
    events, skipped = decoder.decode_many(logs)
    return LogChunk(start, end, events, skipped, len(logs), sorted(blocks))


def read_chunks(
    rpc: LogRpc,
    address: str,
    start: int,
    end: int,
    sizer: ChunkSizer,
    decoder: EventDecoder,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[LogChunk]:
    """The decoded logs of `address` over `start..end`, one adaptive range at a time, in this
    thread: each range is fetched when the one before has been taken, so a caller that stops
    taking leaves `sizer` as the ranges it took left it."""
    for raw in fetch_logs(rpc, address, start, end, sizer, stop):
        yield decode_chunk(decoder, raw)


# ---------------------------------------------------------------- in a worker process

_CHUNK, _DONE, _ERROR = "chunk", "done", "error"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding `marketplace`


class LogStream:
    """A worker process that runs `read_chunks` against an `RpcClient`'s node, for one range.

    The process starts (an interpreter, the imports, the decoder) when the stream is made, so
    a caller may make it while it still reads on its own; `read` then hands it the range.
    """

    def __init__(self, rpc: RpcClient, address: str, decoder: EventDecoder) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._reaped = False
        self._reading = False
        receiver, sender = os.pipe()
        _widen(receiver)
        try:
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p
            )
            # A fresh interpreter, not multiprocessing's spawn: that one would import the
            # caller's main module again in the worker (a script without a __main__ guard
            # would run again there).
            self._process = subprocess.Popen(
                [sys.executable, "-c", f"import {__name__} as m; m._worker_main({sender})"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                pass_fds=(sender,),
                env=env,
            )
        except BaseException:
            os.close(receiver)
            raise
        finally:
            os.close(sender)  # the worker holds the only write end: its exit is our end of file
        self._conn = Connection(receiver, writable=False)
        self._request((rpc.url, rpc.timeout, address, decoder))

    @staticmethod
    def available() -> bool:
        """Whether a worker can start here: a POSIX system (the pipe is handed over by file
        descriptor) and an interpreter to start (none where Python is embedded without one)."""
        return os.name == "posix" and bool(sys.executable)

    def _request(self, message: Any) -> None:
        """A message on the worker's stdin, which stays open: the worker exits when it closes
        (this process exited)."""
        data = pickle.dumps(message)
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(struct.pack("!Q", len(data)) + data)
            stdin.flush()
        except OSError:
            pass  # the worker died: reading its chunks says so

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self._process.pid

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def read(self, start: int, end: int, sizer: ChunkSizer) -> Iterator[LogChunk]:
        """The chunks of blocks `start..end`, as `read_chunks` would yield them, then its error
        if it would raise one. `sizer` is the caller's: the worker starts from a copy, and this
        one takes the worker's state when the worker has read its last range or failed. Once
        a stream."""
        if self._reading:
            raise RuntimeError("a LogStream reads one range")
        self._reading = True
        self._request((start, end, sizer))
        while True:
            try:
                kind, payload, state = self._conn.recv()
            except (EOFError, OSError) as exc:
                if self._cancelled:
                    return
                code = self._process.wait()
                raise LogStreamError(
                    f"the log reader process exited with code {code} before its last chunk"
                ) from exc
            if state is not None:
                vars(sizer).update(vars(state))
            if kind == _CHUNK:
                yield payload
            elif kind == _DONE:
                return
            else:
                raise payload

    def cancel(self) -> None:
        """Kill the worker now, wherever it is; a `read` (in any thread) then ends without an
        error. The stream's owner still calls `close()`."""
        with self._lock:
            self._cancelled = True
            if not self._reaped:
                self._process.kill()  # nothing if it has exited

    def close(self) -> None:
        """Kill the worker if it still runs, reap it and close the pipes (again: nothing)."""
        self.cancel()
        with self._lock:
            if self._reaped:
                return
            self._reaped = True
        self._process.wait()
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._conn.close()


SWITCH_INTERVAL = 0.0005  # seconds: the worker's GIL switch interval (Python's default: 0.005)
PIPE_BYTES = 1 << 20
"""The pipe's buffer (Linux allows a megabyte without privileges): a whole chunk of a few
thousand events fits, so the worker need not wait, 64 KB at a time, for the consumer's thread
to win the GIL back and read on."""


def _widen(fd: int) -> None:
    """Give the pipe `PIPE_BYTES` of buffer where the system lets us (else its default)."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError):
        pass


def _worker_main(fd: int) -> None:
    """The worker process: its setup and then its range from stdin; the chunks, then done or
    the error, on `fd`."""
    stdin = sys.stdin.buffer

    def receive() -> Any:
        header = stdin.read(8)
        if len(header) < 8:
            os._exit(1)  # the consumer is gone
        (size,) = struct.unpack("!Q", header)
        return pickle.loads(stdin.read(size))

    url, timeout, address, decoder = receive()
    start, end, sizer = receive()

    def exit_with_parent() -> None:  # stdin ends when the consumer's process does (killed too)
        stdin.read()
        os._exit(1)

    threading.Thread(target=exit_with_parent, name="log-stream-parent", daemon=True).start()
    conn = Connection(fd, readable=False)
    _work(conn, url, timeout, address, start, end, sizer, decoder)
    os._exit(0)  # not waiting for the fetch thread, which may be blocked on a full queue


def _work(
    conn: Connection,
    url: str,
    timeout: float,
    address: str,
    start: int,
    end: int,
    sizer: ChunkSizer,
    decoder: EventDecoder,
) -> None:
    """The worker: fetch on a thread, decode here, send each chunk; then done, or the error."""
    import gc

    gc.disable()  # decoded events make no cycles; the collector's passes would find nothing
    # The fetch thread reads the node's reply a socket buffer at a time and waits for the GIL
    # after each read; with the default 5 ms switch interval against the decoding thread, a
    # few megabytes of reply took a tenth of a second of waiting. This process is ours to tune.
    sys.setswitchinterval(SWITCH_INTERVAL)
    ahead: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        try:
            with RpcClient(url, timeout=timeout) as rpc:
                for raw in fetch_logs(rpc, address, start, end, sizer, stop.is_set):
                    ahead.put(raw)
            ahead.put(None)
        except BaseException as exc:  # sent to the consumer once the chunks before are
            ahead.put(exc)

    fetcher = threading.Thread(target=fetch, name="log-stream-fetch", daemon=True)
    fetcher.start()
    try:
        while True:
            item = ahead.get()
            if item is None:
                conn.send((_DONE, None, sizer))
                return
            if isinstance(item, BaseException):
                _send_error(conn, item, sizer)
                return
            conn.send((_CHUNK, decode_chunk(decoder, item), None))
    except BaseException as exc:
        stop.set()
        _send_error(conn, exc, sizer)
    finally:
        conn.close()


def _send_error(conn: Connection, exc: BaseException, sizer: ChunkSizer) -> None:
    """The error as it was raised, if it survives pickling; else its type, message and trace."""
    try:
        restored = pickle.loads(pickle.dumps(exc))
        if type(restored) is not type(exc) or str(restored) != str(exc):
            raise TypeError("the error does not survive pickling")
    except Exception:  # noqa: BLE001 - any error of any kind must reach the consumer
        trace = "".join(traceback.format_exception(exc))
        exc = LogStreamError(f"the log reader failed: {type(exc).__name__}: {exc}\n{trace}")
    try:
        conn.send((_ERROR, exc, sizer))
    except OSError:
        pass  # the consumer is gone
