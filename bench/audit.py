"""Auditor benchmark: a full audit of 100,000+ marketplace events read from anvil.

    python -m bench.audit [--events 100000] [--regenerate] [--runs 3]

Writes section `audit` of bench/results.json:
  events_per_s   events replayed and checked per wall second of the whole audit (chain id and
                 code checks, eth_getLogs in chunks, decoding, every invariant, eth_getBalance at
                 every block with events, the report), best of `--runs` child processes
  peak_rss_mb    peak resident memory of that audit process
  web_first_view_s / web_events_page_ms / web_peak_rss_mb
                 the /audit pages on the same chain: the first overview (a full audit that
                 keeps every event for the explorer), then one page of the event explorer
  fetch_events_per_s / to_fetch_ratio
                 the physical limit (issue 16): the same logs fetched from the same node with
                 eth_getLogs in the auditor's chunks (its ChunkSizer and defaults, fed the same
                 log counts, so the same ranges) and nothing done with them, in a child process
                 like the audits, interleaved with them (the best fetch counts); the ratio is
                 the median audit's events_per_s over it
Target: events_per_s >= 10,000 (the median of `--runs` audits); to_fetch_ratio >= 0.6.

`--crafted` measures the replay alone, without a node: a contract v2 history of `--events` events
(tests/support/crafted_chain.py: ether and token bookings through every state, disputes, no-shows,
ratings, withdrawals) on an in-memory chain; section `audit_crafted`, same target. It needs
neither anvil nor the indexer benchmark's chain.

The chain is generated and cached by the indexer benchmark's code (bench/indexer.py: pumps
driving the real marketplace through every event type, `anvil --dump-state`), so both benchmarks
read the same kind of history. The auditor also reads the contract's balance at every block with
events, and anvil forgets historical states on `--load-state` unless they were dumped with
`--preserve-historical-states`; so this benchmark keeps its own cache, .cache/bench-audit/
(~540 MB), generated with that flag. Each audit runs in a child process so its memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.memory import peak_rss_mb
from bench.results import write_section

if TYPE_CHECKING:
    from marketplace.chain.anvil import Anvil

ROOT = Path(__file__).resolve().parents[1]
TARGET_EVENTS_PER_S = 10_000
TARGET_TO_FETCH_RATIO = 0.6


def auditor_chunking() -> tuple[int, int, int]:
    """The Auditor's default (chunk_blocks, max_chunk_blocks, target_logs), as the audits use."""
    import inspect

    from marketplace.audit import Auditor

    params = inspect.signature(Auditor.__init__).parameters
    return tuple(  # type: ignore[return-value]
        int(params[name].default) for name in ("chunk_blocks", "max_chunk_blocks", "target_logs")
    )


def _log(message: str) -> None:
    print(f"[bench-audit] {message}", file=sys.stderr, flush=True)


def audit_once(rpc_url: str, meta: dict[str, Any]) -> dict[str, Any]:
    """Audit the benchmark chain in this process; return its figures."""
    from marketplace.audit import Auditor, AuditTarget, build_report
    from marketplace.chain.rpc import RpcClient

    started = time.monotonic()
    with RpcClient(rpc_url, timeout=120) as rpc:
        auditor = Auditor(
            rpc,
            AuditTarget(meta["chain_id"], meta["address"], meta["start_block"]),
            progress=sys.stderr.isatty(),
        )
        replay = auditor.run()
    report = build_report(auditor)
    seconds = time.monotonic() - started
    return {
        "events": replay.events_seen,
        "seconds": round(seconds, 3),
        "events_per_s": round(replay.events_seen / seconds, 1),
        "violations": len(report.violations),
        "bookings": report.totals["bookings"],
        "blocks_checked": report.meta["blocks_checked"],
        "balance_reads": report.meta["balance_reads"],
        "peak_rss_mb": peak_rss_mb(),
    }


def prepare_chain_with_history(events: int, regenerate: bool) -> tuple[Anvil, dict[str, Any]]:
    """bench.indexer's chain, dumped and loaded with its historical states, cached on its own."""
    # Imported here, like the auditor below: the audit child processes measure their own peak
    # memory and must not carry the indexer benchmark's imports.
    import bench.indexer as indexer_bench

    return indexer_bench.prepare_chain(
        events,
        regenerate,
        cache=ROOT / ".cache" / "bench-audit",
        anvil_args=["--preserve-historical-states"],
    )


def web_once(rpc_url: str, meta: dict[str, Any]) -> dict[str, Any]:
    """Serve the /audit pages of the benchmark chain from a minimal Flask app; time them."""
    from flask import Flask

    from marketplace.audit import AuditTarget
    from marketplace.audit.service import AuditService
    from marketplace.audit.web import init_app
    from marketplace.chain.rpc import RpcClient

    app = Flask("bench-audit")
    target = AuditTarget(meta["chain_id"], meta["address"], meta["start_block"])
    with RpcClient(rpc_url, timeout=120) as rpc:
        init_app(app, AuditService(rpc, target, refresh_seconds=1e9))
        client = app.test_client()
        started = time.monotonic()
        first = client.get("/audit/")
        first_s = time.monotonic() - started
        started = time.monotonic()
        page = client.get("/audit/events?provider=3&page=20")
        page_ms = (time.monotonic() - started) * 1000
    if first.status_code != 200 or page.status_code != 200:
        raise RuntimeError(f"/audit answered {first.status_code} / {page.status_code}")
    return {
        "web_first_view_s": round(first_s, 3),
        "web_events_page_ms": round(page_ms, 1),
        "web_peak_rss_mb": peak_rss_mb(),
    }


def _audit_in_child(rpc_url: str, meta: dict[str, Any], mode: str = "--child") -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.audit", mode, rpc_url],
        input=json.dumps(meta),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"audit failed:\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def crafted_history(events: int) -> Any:
    """An in-memory v2 chain with about `events` events of every booking outcome."""
    from marketplace.chain.scan import marketplace_abi
    from tests.support.crafted_chain import DAY, CraftedChain, CraftedMarket, LogCrafter

    chain = CraftedChain(crafter=LogCrafter(marketplace_abi()))
    accounts = ["0x" + format(i, "040x") for i in range(1, 1_000)]
    operator, arbiter, *people = accounts
    m = CraftedMarket(chain, operator, arbiter=arbiter)
    providers, customers = people[:40], people[40:400]
    for i, owner in enumerate(providers):  # even: ether in category 1; odd: the token in 2
        m.register(owner, category=1 + i % 2, currency=i % 2,
                   price=10**16 if i % 2 == 0 else 25_000_000, instant=i % 3 == 0)
    for customer in customers:
        m.set_criteria(customer, max_price=10**17)
        m.set_criteria(customer, category=2, currency=1, max_price=10**9)
    salt, n = 0, 0
    while chain.head < events:  # about one event a block
        customer = customers[n % len(customers)]
        listing = 1 + n % len(providers)
        n += 1
        salt = (salt + 1) % 256
        booking = m.book(customer, listing, salt=salt, start=chain.now() + DAY)
        if not m.listings[listing].instant:
            m.accept(booking)
        m.to_start(booking)
        m.complete(booking)
        if n % 10 == 0:
            m.dispute(booking)
            m.resolve(booking, 8_000 if n % 20 == 0 else 2_000)
        else:
            m.confirm_and_rate(booking, 1 + n % 5)
    return chain


def crafted_main(events: int, runs: int) -> int:
    """Audit a crafted v2 history in this process; write section `audit_crafted`."""
    from marketplace.audit import Auditor, AuditTarget, build_report

    started = time.monotonic()
    chain = crafted_history(events)
    _log(f"crafted {chain.head:,} blocks in {time.monotonic() - started:.1f} s")
    results = []
    for run in range(1, max(1, runs) + 1):
        started = time.monotonic()
        auditor = Auditor(chain, AuditTarget(chain.chain_id, chain.address, 1))
        replay = auditor.run()
        report = build_report(auditor)
        seconds = time.monotonic() - started
        results.append({
            "events": replay.events_seen, "seconds": round(seconds, 3),
            "events_per_s": round(replay.events_seen / seconds, 1),
            "violations": len(report.violations), "bookings": report.totals["bookings"],
            "blocks_checked": report.meta["blocks_checked"],
        })
        _log(f"run {run}: {results[-1]}")
    best = sorted(results, key=lambda r: r["events_per_s"])[len(results) // 2]
    section = {
        **best,
        "source": "crafted v2 history, in memory (tests/support/crafted_chain.py)",
        "runs_events_per_s": [r["events_per_s"] for r in results],
        "peak_rss_mb": peak_rss_mb(),
        "targets": {"events_per_s": f">= {TARGET_EVENTS_PER_S}", "violations": "== 0",
                    "to_fetch_ratio": f">= {TARGET_TO_FETCH_RATIO}"},
    }
    write_section("audit_crafted", section)
    _log(json.dumps(section, indent=2))
    return 0 if section["events_per_s"] >= TARGET_EVENTS_PER_S and not best["violations"] else 1


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write section `audit` of bench/results.json."""
    parser = argparse.ArgumentParser(prog="bench.audit", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in the chain")
    parser.add_argument("--regenerate", action="store_true", help="ignore the cached chain")
    parser.add_argument("--runs", type=int, default=3, help="audits; the median counts")
    parser.add_argument("--crafted", action="store_true",
                        help="audit an in-memory crafted v2 history (no node)")
    parser.add_argument("--child", metavar="RPC_URL", help=argparse.SUPPRESS)
    parser.add_argument("--child-web", metavar="RPC_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(audit_once(args.child, json.loads(sys.stdin.read()))))
        return 0
    if args.child_web:
        print(json.dumps(web_once(args.child_web, json.loads(sys.stdin.read()))))
        return 0
    if args.crafted:
        return crafted_main(args.events, args.runs)

    import bench.indexer as indexer_bench

    node, meta = prepare_chain_with_history(args.events, args.regenerate)
    runs: list[dict[str, Any]] = []
    fetches: list[dict[str, Any]] = []
    load_before = round(os.getloadavg()[0], 2)
    chunking = auditor_chunking()
    try:
        for run in range(1, max(1, args.runs) + 1):
            fetches.append(indexer_bench.fetch_in_child(node.url, meta, chunking))
            figures = _audit_in_child(node.url, meta)
            runs.append(figures)
            _log(
                f"run {run}: {figures['events']:,} events in {figures['seconds']} s = "
                f"{figures['events_per_s']:,.0f} events/s, {figures['violations']} violations, "
                f"peak RSS {figures['peak_rss_mb']} MB"
            )
        fetches.append(indexer_bench.fetch_in_child(node.url, meta, chunking))
        fetch = max(fetches, key=lambda f: f["events_per_s"])
        _log(f"fetch only: {fetch['events']:,} logs in {fetch['chunks']} chunks = "
             f"{fetch['events_per_s']:,.0f} events/s (runs "
             f"{[f['events_per_s'] for f in fetches]})")
        web = _audit_in_child(node.url, meta, "--child-web")
        _log(f"web: first /audit/ view {web['web_first_view_s']} s, an explorer page "
             f"{web['web_events_page_ms']} ms, peak RSS {web['web_peak_rss_mb']} MB")
    finally:
        node.stop()
    ordered = sorted(runs, key=lambda r: r["events_per_s"])
    best = ordered[len(ordered) // 2]  # the median run
    section = {
        "to_fetch_ratio": round(best["events_per_s"] / fetch["events_per_s"], 3),
        "fetch_events_per_s": fetch["events_per_s"],
        "fetch_events_per_s_runs": [f["events_per_s"] for f in fetches],
        "fetch_chunks": fetch["chunks"],
        "load_average_before": load_before,
        "load_average_after": round(os.getloadavg()[0], 2),
        "events_per_s": best["events_per_s"],
        "events": best["events"],
        "seconds": best["seconds"],
        "violations": best["violations"],
        "bookings": best["bookings"],
        "blocks": meta["head"] - meta["start_block"] + 1,
        "blocks_checked": best["blocks_checked"],
        "balance_reads": best["balance_reads"],
        "peak_rss_mb": best["peak_rss_mb"],
        "runs_events_per_s": [r["events_per_s"] for r in runs],
        **web,
        "targets": {"events_per_s": f">= {TARGET_EVENTS_PER_S}", "violations": "== 0",
                    "to_fetch_ratio": f">= {TARGET_TO_FETCH_RATIO}"},
    }
    write_section("audit", section)
    _log(json.dumps(section, indent=2))
    if section["events_per_s"] < TARGET_EVENTS_PER_S or section["violations"]:
        _log(f"TARGET MISSED: events_per_s >= {TARGET_EVENTS_PER_S} on a clean history")
        return 1
    if section["to_fetch_ratio"] < TARGET_TO_FETCH_RATIO:
        _log(f"TARGET MISSED: to_fetch_ratio >= {TARGET_TO_FETCH_RATIO}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
