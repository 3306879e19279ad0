"""`marketplace.chain.logstream`: a contract's logs decoded chunk by chunk, read in this thread
(`read_chunks`) or by a worker process (`LogStream`). The worker must yield exactly what the
thread would, chunk for chunk (the node refusing wide ranges included), end with the same
`ChunkSizer`, raise the same errors, and leave no process behind however it ends."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from marketplace.chain.logs import EventDecoder
from marketplace.chain.logstream import LogChunk, LogStream, LogStreamError, read_chunks
from marketplace.chain.rpc import NodeRefused, NodeUnavailable, RpcClient, RpcError
from marketplace.chain.scan import ChunkSizer, marketplace_abi, marketplace_decoder
from tests.support.crafted_chain import CraftedChain, CraftedMarket, LogCrafter, serve_chain
from tests.support.rpc_gate import RpcGate
from tests.support.waiting import HANG, wait_for

ROOT = Path(__file__).resolve().parents[2]
OPERATOR, P1, C1, C2 = ("0x" + f"{i:02x}" * 20 for i in range(1, 5))
UNKNOWN_TOPIC = "0x" + "ab" * 32


@cache
def crafter() -> LogCrafter:
    return LogCrafter(marketplace_abi())


@cache
def decoder() -> EventDecoder:
    return marketplace_decoder()


def crafted(timestamps_in_logs: bool = True) -> CraftedChain:
    """Bookings over a few dozen blocks, a stretch of empty blocks, and two logs the decoder
    refuses (an unknown event, and a known one with short data)."""
    chain = CraftedChain(crafter=crafter(), timestamps_in_logs=timestamps_in_logs)
    m = CraftedMarket(chain, OPERATOR)
    m.register(P1)
    m.set_criteria(C1)
    m.set_criteria(C2)
    m.lifecycle(C1, 1, stars=4)
    for _ in range(6):
        chain.mine()
    chain.raw_log([UNKNOWN_TOPIC], "0x")
    m.lifecycle(C2, 1, stars=2)
    topic0 = decoder().topic0_of("CriteriaSet")
    chain.raw_log([topic0, "0x" + "00" * 32], "0x1234")
    m.lifecycle(C1, 1, stars=5)
    return chain


@pytest.fixture
def served() -> Iterator[tuple[CraftedChain, str]]:
    chain = crafted()
    with serve_chain(chain) as url:
        yield chain, url


def sizer(initial: int = 2, maximum: int = 8, target_logs: int = 4) -> ChunkSizer:
    return ChunkSizer(initial, maximum, target_logs, probe_after=3)


Outcome = tuple[list[LogChunk], BaseException | None, dict[str, Any]]


def in_thread(chain: CraftedChain, url: str, chunks: ChunkSizer) -> Outcome:
    got: list[LogChunk] = []
    with RpcClient(url) as rpc:
        try:
            for chunk in read_chunks(rpc, chain.address, 1, chain.head, chunks, decoder()):
                got.append(chunk)
        except Exception as exc:  # noqa: BLE001 - compared below
            return got, exc, vars(chunks)
    return got, None, vars(chunks)


def in_worker(chain: CraftedChain, url: str, chunks: ChunkSizer) -> Outcome:
    got: list[LogChunk] = []
    with RpcClient(url) as rpc, LogStream(rpc, chain.address, decoder()) as stream:
        try:
            for chunk in stream.read(1, chain.head, chunks):
                got.append(chunk)
        except Exception as exc:  # noqa: BLE001 - compared below
            return got, exc, vars(chunks)
    return got, None, vars(chunks)


def assert_same(thread: Outcome, worker: Outcome) -> None:
    assert worker[0] == thread[0]
    assert type(worker[1]) is type(thread[1])
    assert str(worker[1]) == str(thread[1])
    assert worker[2] == thread[2]


def test_the_worker_yields_the_chunks_of_this_thread(served: tuple[CraftedChain, str]) -> None:
    chain, url = served

    thread = in_thread(chain, url, sizer())
    worker = in_worker(chain, url, sizer())

    assert_same(thread, worker)
    chunks = thread[0]
    assert thread[1] is None and len(chunks) > 3
    assert [(c.start, c.end) for c in chunks][0] == (1, 2)
    assert chunks[-1].end == chain.head
    assert sum(c.logs for c in chunks) == sum(len(c.events) + len(c.skipped) for c in chunks)
    assert sorted(s.topic0 or "" for c in chunks for s in c.skipped) == sorted(
        [UNKNOWN_TOPIC, decoder().topic0_of("CriteriaSet")])
    assert all(e.block_timestamp is not None for c in chunks for e in c.events)


def test_timestamps_come_from_headers_when_logs_lack_them() -> None:
    chain = crafted(timestamps_in_logs=False)
    with serve_chain(chain) as url:
        thread = in_thread(chain, url, sizer())
        worker = in_worker(chain, url, sizer())

    assert_same(thread, worker)
    assert all(e.block_timestamp is not None for c in thread[0] for e in c.events)


def test_a_range_the_node_refuses_is_halved_in_the_worker_too(
    served: tuple[CraftedChain, str]
) -> None:
    chain, url = served
    chain.max_log_range = 2

    thread = in_thread(chain, url, sizer(initial=8, target_logs=1_000))
    worker = in_worker(chain, url, sizer(initial=8, target_logs=1_000))

    assert_same(thread, worker)
    assert thread[1] is None
    assert max(c.end - c.start + 1 for c in thread[0]) == 2
    assert thread[2]["ceiling"] == 2


def failing_from(chain: CraftedChain, block: int, error: Callable[[], Any]) -> None:
    """eth_getLogs from `block` on gets `error()` raised, or its value as the reply."""
    answer = chain.call

    def call(method: str, params: Sequence[Any] = ()) -> Any:
        if method == "eth_getLogs" and int(params[0]["fromBlock"], 16) >= block:
            return error()
        return answer(method, params)

    chain.call = call  # type: ignore[method-assign]


def refuse() -> Any:
    raise NodeRefused("eth_getLogs", -32005, "query returned more than 10000 results")


def fail() -> Any:
    raise RpcError("eth_getLogs", -32000, "header not found")


@pytest.mark.parametrize(
    ("error", "expected"),
    [(refuse, NodeRefused), (fail, RpcError), (lambda: {"not": "a list"}, RpcError)],
    ids=["refused-at-one-block", "node-error", "not-a-list"],
)
def test_an_error_after_some_chunks_is_raised_after_them(
    served: tuple[CraftedChain, str], error: Callable[[], Any], expected: type[Exception]
) -> None:
    chain, url = served
    failing_from(chain, 12, error)

    thread = in_thread(chain, url, sizer())
    worker = in_worker(chain, url, sizer())

    assert_same(thread, worker)
    assert type(thread[1]) is expected
    assert thread[0] and thread[0][-1].end + 1 >= 12 and thread[0][-1].end < chain.head


def test_a_node_that_does_not_answer_is_the_same_error(served: tuple[CraftedChain, str]) -> None:
    chain, _ = served
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there
    thread = in_thread(chain, url, sizer())
    worker = in_worker(chain, url, sizer())

    assert_same(thread, worker)
    assert isinstance(thread[1], NodeUnavailable)


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie waiting for its reaper does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_closing_a_stream_after_one_chunk_ends_its_worker(
    served: tuple[CraftedChain, str]
) -> None:
    chain, url = served
    with RpcClient(url) as rpc:
        stream = LogStream(rpc, chain.address, decoder())
        with stream:
            first = next(stream.read(1, chain.head, sizer()))
            assert alive(stream.pid)

    assert first.start == 1
    assert not alive(stream.pid)


def test_cancel_ends_an_iteration_that_waits_for_the_node(
    served: tuple[CraftedChain, str]
) -> None:
    chain, url = served
    gate = RpcGate(url, frozenset({"eth_getLogs"}), grant=1).start()
    got: list[LogChunk] = []
    errors: list[BaseException] = []
    try:
        with RpcClient(gate.url) as rpc:
            stream = LogStream(rpc, chain.address, decoder())

            def consume() -> None:
                try:
                    got.extend(stream.read(1, chain.head, sizer()))
                except BaseException as exc:  # noqa: BLE001 - asserted below
                    errors.append(exc)

            consumer = threading.Thread(target=consume)
            consumer.start()
            assert gate.wait_blocked(HANG)  # the worker asks for its second range: held
            stream.cancel()
            consumer.join()
            stream.close()
    finally:
        gate.close()

    assert errors == []
    assert len(got) <= 1
    assert not alive(stream.pid)


def test_the_worker_ends_when_its_parent_process_is_killed(
    served: tuple[CraftedChain, str]
) -> None:
    chain, url = served
    gate = RpcGate(url, frozenset({"eth_getLogs"})).start()  # no range is ever answered
    script = (
        "import sys, time\n"
        "from marketplace.chain.logstream import LogStream\n"
        "from marketplace.chain.rpc import RpcClient\n"
        "from marketplace.chain.scan import ChunkSizer, marketplace_decoder\n"
        f"stream = LogStream(RpcClient({gate.url!r}), {chain.address!r}, marketplace_decoder())\n"
        "print(stream.pid, flush=True)\n"
        "for chunk in stream.read(1, 100, ChunkSizer(2, 8, 4)):\n"
        "    pass\n"
    )
    try:
        with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}) as parent:
            try:
                assert parent.stdout is not None
                worker = int(parent.stdout.readline())
                assert gate.wait_blocked(HANG)  # the worker runs: it asks for its first range
            finally:
                parent.kill()

        wait_for(lambda: not alive(worker), "the orphaned worker to exit")
    finally:
        gate.close()


def test_a_worker_that_dies_is_an_error(served: tuple[CraftedChain, str]) -> None:
    chain, url = served
    gate = RpcGate(url, frozenset({"eth_getLogs"})).start()
    try:
        with RpcClient(gate.url) as rpc, LogStream(rpc, chain.address, decoder()) as stream:
            def kill_when_it_waits() -> None:
                if gate.wait_blocked(HANG):  # the worker asks for its first range
                    os.kill(stream.pid, signal.SIGKILL)

            killer = threading.Thread(target=kill_when_it_waits)
            killer.start()
            with pytest.raises(LogStreamError, match="exited with code -9"):
                list(stream.read(1, chain.head, sizer()))
            killer.join()
    finally:
        gate.close()


def test_what_crosses_the_pipe_pickles_whole(served: tuple[CraftedChain, str]) -> None:
    chain, url = served
    chunks, _, _ = in_thread(chain, url, sizer(initial=100, maximum=100))
    error = NodeRefused("eth_getLogs", -32005, "block range limit", {"max": 2})

    restored_error = pickle.loads(pickle.dumps(error))
    restored_decoder = pickle.loads(pickle.dumps(decoder()))

    assert pickle.loads(pickle.dumps(chunks)) == chunks
    assert (type(restored_error), str(restored_error), restored_error.code,
            restored_error.message, restored_error.data) == (
        NodeRefused, str(error), -32005, "block range limit", {"max": 2})
    assert restored_decoder.specs.keys() == decoder().specs.keys()
    with RpcClient(url) as rpc:
        logs = rpc.get_logs(chain.address, 1, chain.head)
    assert restored_decoder.decode_many(logs) == decoder().decode_many(logs)
