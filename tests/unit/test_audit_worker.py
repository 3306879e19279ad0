"""The auditor reading logs through a worker process (`LogStream`) audits exactly as it does on its
own thread: the same report, chunks, balance reads and `ChunkSizer`, the same errors with the same
messages, and no process left behind when the audit stops half-way."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from marketplace.audit import Auditor, AuditTarget, build_report
from marketplace.audit import auditor as auditor_module
from marketplace.audit.replay import Replay
from marketplace.chain.logstream import LogStream
from marketplace.chain.rpc import RpcClient, RpcError
from marketplace.chain.scan import marketplace_abi
from tests.support.crafted_chain import CraftedChain, CraftedMarket, LogCrafter, serve_chain

OPERATOR, ARBITER, *PEOPLE = ("0x" + f"{i:040x}" for i in range(1, 40))
UNKNOWN_TOPIC = "0x" + "cd" * 32
VIOLATIONS = ["events", "solvency"]  # the unknown log, the ether moved
MODES = {"thread": None, "worker": 0, "switch": 25}  # worker_after_logs
NEVER = 10**9  # worker_from_blocks: no range is that long


@cache
def crafter() -> LogCrafter:
    return LogCrafter(marketplace_abi())


def history() -> CraftedChain:
    """Ether and token bookings through settlement and disputes over ~150 blocks, a log that is
    no marketplace event, and ether moved behind the contract's back (one solvency finding)."""
    chain = CraftedChain(crafter=crafter())
    m = CraftedMarket(chain, OPERATOR, arbiter=ARBITER)
    providers, customers = PEOPLE[:4], PEOPLE[4:]
    for i, owner in enumerate(providers):
        m.register(owner, category=1 + i % 2, currency=i % 2,
                   price=10**16 if i % 2 == 0 else 25_000_000)
    for customer in customers:
        m.set_criteria(customer, max_price=10**17)
        m.set_criteria(customer, category=2, currency=1, max_price=10**9)
    for n in range(12):
        booking = m.book(customers[n % len(customers)], 1 + n % len(providers), salt=n)
        m.accept(booking)
        m.to_start(booking)
        m.complete(booking)
        if n % 4 == 0:
            m.dispute(booking)
            m.resolve(booking, 7_000)
        else:
            m.confirm_and_rate(booking, 1 + n % 5)
        if n == 5:
            chain.raw_log([UNKNOWN_TOPIC], "0x")
            chain.set_balance(chain.balance() + 12345)
    return chain


def audit(
    url: str, chain: CraftedChain, limit: int | None, from_blocks: int = NEVER
) -> tuple[Auditor, dict[str, Any]]:
    with RpcClient(url) as rpc:
        auditor = Auditor(rpc, AuditTarget(chain.chain_id, chain.address, 1),
                          worker_after_logs=limit, worker_from_blocks=from_blocks,
                          chunk_blocks=2, max_chunk_blocks=16, target_logs=12)
        auditor.run()
    report = json.loads(build_report(auditor).to_json())
    for volatile in ("seconds", "events_per_s", "generated_at"):
        report["audit"].pop(volatile)
    return auditor, report


def figures(auditor: Auditor) -> dict[str, Any]:
    return {"logs": auditor.logs, "next_block": auditor.next_block,
            "balance_calls": auditor.balance_calls, "sizer": vars(auditor.sizer),
            "events": auditor.replay.events_seen, "skipped": auditor.replay.skipped_logs}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CraftedChain, str]]:
    chain = history()
    with serve_chain(chain) as url:
        yield chain, url


class Streams:
    """Every `LogStream` the auditor starts, recorded (a stand-in for the class it uses)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started: list[LogStream] = []
        streams = self

        class Recorded(LogStream):
            def __init__(self, *args: Any) -> None:
                super().__init__(*args)
                streams.started.append(self)

        monkeypatch.setattr(auditor_module, "LogStream", Recorded)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize("mode", ["worker", "switch", "warmed-unused", "long-range"])
def test_an_audit_through_a_worker_is_the_audit_on_a_thread(
    served: tuple[CraftedChain, str], mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain, url = served
    thread, thread_report = audit(url, chain, None)
    streams = Streams(monkeypatch)
    # "warmed-unused": the worker starts at half the logs, but the range ends before it reads;
    # "long-range": the range spans worker_from_blocks, the worker reads from its first block
    limit = {"warmed-unused": thread.logs + 1, "long-range": NEVER}.get(mode) or MODES[mode]

    worker, worker_report = audit(url, chain, limit, chain.head if mode == "long-range" else NEVER)

    assert worker_report == thread_report
    assert figures(worker) == figures(thread)
    assert sorted(v.invariant.value for v in thread.replay.violations) == VIOLATIONS
    assert len(streams.started) == 1
    assert not alive(streams.started[0].pid)


def test_a_node_refusing_wide_ranges_gets_the_same_halved_ranges_from_the_worker() -> None:
    chain = history()
    chain.max_log_range = 3
    with serve_chain(chain) as url:
        thread, thread_report = audit(url, chain, None)
        worker, worker_report = audit(url, chain, 0)

    assert worker_report == thread_report
    assert figures(worker) == figures(thread)
    assert thread.sizer.ceiling == 2  # 4 refused, halved to 2, and capped there


def test_a_follow_up_below_the_threshold_stays_on_the_thread(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = history()
    streams = Streams(monkeypatch)
    with serve_chain(chain) as url, RpcClient(url) as rpc:
        auditor = Auditor(rpc, AuditTarget(chain.chain_id, chain.address, 1),
                          worker_from_blocks=chain.head)
        auditor.run()  # a long range: through a worker
        for _ in range(3):
            chain.mine()
        auditor.advance(chain.head)  # three blocks, few logs: on the thread

    assert len(streams.started) == 1
    assert auditor.next_block == chain.head + 1


def test_a_node_without_a_url_is_read_on_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = history()
    streams = Streams(monkeypatch)
    auditor = Auditor(chain, AuditTarget(chain.chain_id, chain.address, 1), worker_after_logs=0)

    auditor.run()

    assert streams.started == []
    assert auditor.replay.events_seen > 100


def test_where_no_worker_can_start_the_thread_reads_everything(
    served: tuple[CraftedChain, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    chain, url = served
    thread, thread_report = audit(url, chain, None)
    streams = Streams(monkeypatch)
    monkeypatch.setattr(LogStream, "available", staticmethod(lambda: False))

    auditor, report = audit(url, chain, 0)

    assert streams.started == []
    assert report == thread_report


def failing_from(chain: CraftedChain, block: int) -> None:
    answer = chain.call

    def call(method: str, params: Sequence[Any] = ()) -> Any:
        if method == "eth_getLogs" and int(params[0]["toBlock"], 16) >= block:
            raise RpcError(method, -32000, "header not found")
        return answer(method, params)

    chain.call = call  # type: ignore[method-assign]


@pytest.mark.parametrize("mode", ["worker", "switch"])
def test_a_node_error_mid_way_is_the_same_error_after_the_same_blocks(mode: str) -> None:
    outcomes = []
    for each in ("thread", mode):
        chain = history()
        failing_from(chain, chain.head - 20)
        with serve_chain(chain) as url, RpcClient(url) as rpc:
            auditor = Auditor(rpc, AuditTarget(chain.chain_id, chain.address, 1),
                              worker_after_logs=MODES[each], worker_from_blocks=NEVER,
                              chunk_blocks=2, max_chunk_blocks=16, target_logs=12)
            with pytest.raises(RpcError) as raised:
                auditor.run()
        outcomes.append((type(raised.value), str(raised.value), figures(auditor),
                         [v.message for v in auditor.replay.violations]))

    assert outcomes[1] == outcomes[0]
    assert "header not found" in outcomes[0][1]


def test_an_audit_that_fails_mid_way_leaves_no_worker(
    served: tuple[CraftedChain, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    chain, url = served
    streams = Streams(monkeypatch)
    applied = Replay.apply

    def apply_then_fail(self: Replay, events: Any) -> Any:
        if self.events_seen > 60:
            raise RuntimeError("the replay broke")
        return applied(self, events)

    monkeypatch.setattr(Replay, "apply", apply_then_fail)
    with RpcClient(url) as rpc:
        auditor = Auditor(rpc, AuditTarget(chain.chain_id, chain.address, 1),
                          worker_after_logs=0, chunk_blocks=2, max_chunk_blocks=2)
        with pytest.raises(RuntimeError, match="the replay broke"):
            auditor.run()

    assert len(streams.started) == 1
    assert auditor.next_block < chain.head
    assert not alive(streams.started[0].pid)
