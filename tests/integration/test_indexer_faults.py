"""Faults: a node that goes away, a node that refuses big ranges, foreign logs at the address,
a store whose statements fail and whose commits lose their replies."""

from __future__ import annotations

import http.client
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from marketplace.chain.anvil import free_port
from marketplace.chain.rpc import NodeUnavailable
from marketplace.indexer import (
    CheckpointMoved,
    Indexer,
    SyncStats,
    marketplace_decoder,
    retry,
)
from marketplace.store import queries, schema
from marketplace.store.engine import open_engine
from tests.support.indexing import (
    Chain,
    StoreFactory,
    assert_projections_match_contract,
    assert_same_store,
    dump_store,
    fresh_index,
    make_indexer,
)
from tests.support.waiting import wait_for


class FlakyNode:
    """A JSON-RPC proxy in front of anvil that can go down, and refuse large eth_getLogs ranges."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.port = free_port()
        self.max_log_blocks: int | None = None
        self.strip_timestamps = False  # behave like nodes whose logs lack blockTimestamp
        self.refusals = 0
        self._server: ThreadingHTTPServer | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _forward(self, body: bytes) -> bytes:
        conn = http.client.HTTPConnection(self.upstream, timeout=10)
        conn.request("POST", "/", body, {"Content-Type": "application/json"})
        reply = conn.getresponse().read()
        conn.close()
        request = json.loads(body)
        if self.strip_timestamps and isinstance(request, dict):
            if request.get("method") == "eth_getLogs":
                answer = json.loads(reply)
                for log in answer.get("result") or []:
                    log.pop("blockTimestamp", None)
                reply = json.dumps(answer).encode()
        return reply

    def _refusal(self, body: bytes) -> bytes | None:
        request = json.loads(body)
        if self.max_log_blocks is None or not isinstance(request, dict):
            return None
        if request.get("method") != "eth_getLogs":
            return None
        query = request["params"][0]
        span = int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1
        if span <= self.max_log_blocks:
            return None
        self.refusals += 1
        error = {"code": -32005, "message": f"query exceeds max block range {self.max_log_blocks}"}
        return json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": error}).encode()

    def up(self) -> None:
        """Start answering (on the same port as before)."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                reply = proxy._refusal(body) or proxy._forward(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def down(self) -> None:
        """Stop answering: connections are refused until `up`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def flaky(chain: Chain) -> Iterator[FlakyNode]:
    node = FlakyNode(chain.node.url)
    yield node
    node.down()


def test_the_indexer_retries_while_the_node_is_down_and_catches_up_when_it_returns(
    chain: Chain, flaky: FlakyNode, new_store: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=8)
    workload.pump(16)
    url = new_store()
    indexer = make_indexer(chain, url, rpc_url=flaky.url, retry_for=None, poll_interval=0.05)
    stop = threading.Event()
    follower = threading.Thread(target=indexer.follow, args=(stop,), daemon=True)
    caplog.set_level(logging.WARNING, logger="marketplace.indexer")
    follower.start()
    try:
        wait_for(lambda: indexer.checkpoint()[0] == chain.head())
        flaky.down()
        workload.pump(24)  # the chain moves on while the indexer cannot see it
        wait_for(lambda: any(r.levelno == logging.ERROR for r in caplog.records))
        assert indexer.checkpoint()[0] < chain.head()
        flaky.up()
        wait_for(lambda: indexer.checkpoint()[0] == chain.head())
    finally:
        stop.set()
        follower.join(timeout=20)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and all("no node answers at" in e and "retrying in" in e for e in errors)
    assert any("recovered" in r.getMessage() for r in caplog.records)
    assert_same_store(dump_store(url), fresh_index(chain, new_store))


def test_a_one_shot_run_gives_up_with_a_clear_error_when_the_node_stays_down(
    chain: Chain, flaky: FlakyNode, new_store: StoreFactory
) -> None:
    indexer = make_indexer(chain, new_store(), rpc_url=flaky.url, retry_for=1.0)
    flaky.down()

    with pytest.raises(NodeUnavailable, match=r"gave up trying to .* after \d+ s: no node answers"):
        indexer.sync()


def test_chunks_shrink_when_the_node_refuses_large_ranges_and_grow_again_when_it_stops(
    chain: Chain, flaky: FlakyNode, new_store: StoreFactory
) -> None:
    chain.workload(pumps=2, rounds_per_tx=2).pump(40)
    flaky.max_log_blocks = 3
    url = new_store()
    indexer = make_indexer(chain, url, rpc_url=flaky.url, chunk_blocks=64, max_chunk_blocks=256)

    stats = indexer.sync()

    assert stats.refusals == flaky.refusals > 0
    assert indexer.sizer.size <= 3
    assert_same_store(dump_store(url), fresh_index(chain, new_store))

    flaky.max_log_blocks = None
    chain.rpc("anvil_mine", hex(300))
    indexer.sync()
    assert indexer.sizer.size > 64


def test_logs_without_block_timestamps_get_them_from_the_block_headers(
    chain: Chain, flaky: FlakyNode, new_store: StoreFactory
) -> None:
    chain.workload(pumps=2, rounds_per_tx=8).pump(24)
    flaky.strip_timestamps = True
    url = new_store()

    make_indexer(chain, url, rpc_url=flaky.url).sync()

    assert_same_store(dump_store(url), fresh_index(chain, new_store))


# ---------------------------------------------------------------- foreign logs

def _emitter_code(logs: list[tuple[list[str], bytes]]) -> str:
    """Runtime bytecode that emits `logs` (topics as 0x hex, raw data) then stops."""
    code = bytearray()
    for topics, data in logs:
        padded = data + b"\0" * (-len(data) % 32)
        for offset in range(0, len(padded), 32):
            code += b"\x7f" + padded[offset : offset + 32] + b"\x61" + offset.to_bytes(2, "big")
            code += b"\x52"  # MSTORE
        for topic in reversed(topics):
            code += b"\x7f" + bytes.fromhex(topic[2:])
        code += b"\x61" + len(data).to_bytes(2, "big") + b"\x60\x00"
        code += bytes([0xA0 + len(topics)])  # LOGn
    code += b"\x00"
    return "0x" + code.hex()


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _topic(value: int) -> str:
    return "0x" + _word(value).hex()


def _emit_from(chain: Chain, address: str, logs: list[tuple[list[str], bytes]]) -> None:
    """Run an emitter's code at `address` once, then put the original code back."""
    original = chain.rpc("eth_getCode", address, "latest")
    chain.rpc("anvil_setCode", address, _emitter_code(logs))
    tx = chain.w3.eth.send_transaction({"from": chain.operator, "to": address, "gas": 200_000})
    assert chain.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    chain.rpc("anvil_setCode", address, original)


def test_foreign_and_malformed_logs_at_the_contract_address_are_skipped_and_counted(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=8)
    workload.pump(16)
    decoder = marketplace_decoder()
    accepted = decoder.topic0_of("BookingAccepted")
    updated = decoder.topic0_of("ListingUpdated")
    criteria = decoder.topic0_of("CriteriaSet")
    foreign = [
        (["0x" + "ab" * 32], b"not a marketplace event"),  # unknown signature
        ([], b"anonymous"),  # no topics at all
        ([accepted, _topic(1), _topic(2)], _word(3)),  # one topic too many
        ([criteria, _topic(1), _topic(1), _topic(1)], _word(1) * 3),  # data too short
        ([updated, _topic(1), _topic(2)], _word(2**16) + _word(0) * 8),  # uint16 overflow
    ]
    _emit_from(chain, chain.market.address, foreign)
    workload.pump(8)
    url = new_store()
    indexer = make_indexer(chain, url)

    stats = indexer.sync()

    assert stats.skipped == len(foreign)
    with indexer.engine.connect() as conn:
        skipped = queries.skipped_logs(conn)
        journal = set(conn.execute(select(schema.events.c.tx_hash)).scalars())
    assert len(skipped) == len(foreign)
    assert not {s["tx_hash"] for s in skipped} & journal
    reasons = " | ".join(s["reason"] for s in skipped)
    for words in ("unknown event signature", "without topics", "needs 2 topics", "data is",
                  "does not fit uint16"):
        assert words in reasons
    assert_projections_match_contract(chain, url)


def test_marketplace_shaped_logs_from_another_address_are_ignored(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=8)
    workload.pump(8)
    fake = chain.w3.to_checksum_address("0x" + "42" * 20)
    withdrawn = marketplace_decoder().topic0_of("Withdrawn")
    _emit_from(chain, fake, [([withdrawn, _topic(1), _topic(1)], _word(10**18))])
    url = new_store()

    stats = make_indexer(chain, url).sync()

    assert stats.skipped == 0
    assert_projections_match_contract(chain, url)


class StoreFaults:
    """Store failures injected into one engine, the way a restarting database shows them: each
    SQL statement fails the first time it runs from each place in the product's code, and every
    other COMMIT is carried out by the server but reported as failed (its reply lost with the
    connection)."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.error: type[Exception] = engine.dialect.loaded_dbapi.OperationalError
        self.seen: set[tuple[str, tuple[str, ...]]] = set()
        self.failed_statements = 0
        self.commits = 0
        self.lost_commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        commit = engine.dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            commit(dbapi_connection)
            self.commits += 1
            if self.commits % 2:
                self.lost_commits += 1
                raise self.error("injected: the connection dropped before COMMIT's reply")

        monkeypatch.setattr(engine.dialect, "do_commit", do_commit)

    def rearm(self) -> None:
        """Make every statement fail once more."""
        self.seen.clear()

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        key = (statement, _call_site())
        if key not in self.seen:
            self.seen.add(key)
            self.failed_statements += 1
            raise self.error(f"injected: the store went away before {statement[:40]!r}")


def _call_site() -> tuple[str, ...]:
    """The product's frames on the stack (file:line, innermost first): where a statement runs."""
    frame: FrameType | None = sys._getframe(1)
    sites = []
    while frame is not None:
        name = frame.f_code.co_filename
        if f"{os.sep}marketplace{os.sep}" in name:
            sites.append(f"{name}:{frame.f_lineno}")
        frame = frame.f_back
    return tuple(sites)


class Follower:
    """`indexer.follow()` on a daemon thread that keeps what it died of, if it died."""

    def __init__(self, indexer: Indexer) -> None:
        self.indexer = indexer
        self.stop = threading.Event()
        self.died: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.indexer.follow(self.stop)
        except BaseException as exc:
            self.died.append(exc)

    def alive(self) -> bool:
        """True while it follows; AssertionError (from what it died of) once it has died."""
        if self.died:
            raise AssertionError("the following indexer died") from self.died[0]
        return self.thread.is_alive()

    def end(self) -> None:
        """Stop it and check that it ended by itself, without an error."""
        self.stop.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive() and self.died == []


def _checkpoint(url: str) -> int:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            row = queries.status(conn)
        return -1 if row is None else int(row["last_block"])
    finally:
        engine.dispose()


def test_every_store_statement_failing_and_every_lost_commit_reply_are_ridden_out(
    chain: Chain, new_store: StoreFactory, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(retry, "FIRST_DELAY", 0.01)  # the faults come in their hundreds
    monkeypatch.setattr(retry, "MAX_DELAY", 0.01)
    workload = chain.workload(pumps=2, rounds_per_tx=8)
    workload.pump(12)
    url = new_store()
    indexer = make_indexer(chain, url, retry_for=None, poll_interval=0.05)
    faults = StoreFaults(indexer.engine, monkeypatch)
    caplog.set_level(logging.WARNING, logger="marketplace.indexer")
    follower = Follower(indexer)

    def caught_up() -> bool:
        return follower.alive() and _checkpoint(url) == chain.head()

    try:
        wait_for(caught_up, "the first catch-up")
        first_round = faults.failed_statements
        faults.rearm()  # now every statement of a following indexer fails once more
        workload.pump(12)
        wait_for(caught_up, "the catch-up while following")
    finally:
        follower.end()
    assert first_round >= 10 and faults.failed_statements > first_round
    assert faults.lost_commits >= 2
    assert any("already committed" in r.getMessage() for r in caplog.records)
    assert_same_store(dump_store(url), fresh_index(chain, new_store))


def test_a_second_writer_is_refused_instead_of_writing_over_the_first(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=8)
    workload.pump(8)
    url = new_store()
    first = make_indexer(chain, url, confirmations=0)
    second = make_indexer(chain, url, confirmations=0)
    head = chain.head()
    first.sync(until=head - 4)
    second.open()
    seen, seen_hash = second.checkpoint()
    first.sync()  # the first moves on to the head while the second still sees block `seen`
    late = second._fetch(seen + 1, head - 1, head, seen_hash)

    with pytest.raises(CheckpointMoved, match="another indexer writes to this store"):
        second._commit(late, SyncStats())
    assert first.checkpoint()[0] == head
    assert_same_store(dump_store(url), fresh_index(chain, new_store))


def test_stopping_a_follower_that_waits_for_the_store_ends_it_quietly(
    chain: Chain, new_store: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    indexer = make_indexer(chain, new_store(), retry_for=None, poll_interval=0.05)
    error = indexer.engine.dialect.loaded_dbapi.OperationalError

    def unreachable(*_: Any) -> None:
        raise error("injected: the store is down")

    event.listen(indexer.engine, "before_cursor_execute", unreachable)
    caplog.set_level(logging.INFO, logger="marketplace.indexer")
    follower = Follower(indexer)
    wait_for(lambda: any("retrying" in r.getMessage() for r in caplog.records), "a retry")
    follower.end()

    assert any("stopped while waiting" in r.getMessage() for r in caplog.records)
