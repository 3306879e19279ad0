"""Indexer benchmark: backfill 100,000+ marketplace events from anvil, then follow the head.

    python -m bench.indexer [--events 100000] [--regenerate] [--follow-seconds 20]

Writes section `indexer` of bench/results.json:
  events_per_s            backfill into a fresh SQLite store (events committed per wall second)
  events_per_s_postgres   the same into PostgreSQL (null when no server answers)
  follow_lag_p99_s        99th percentile, over blocks mined during follow mode, of the time from
                          sending the block's transaction (anvil mines it ~50 ms later) to
                          its events being committed to the store: an upper bound of the lag
  peak_rss_mb             peak resident memory of the SQLite backfill process
  events_per_cpu_s        events per CPU second of the backfill process (what the code costs
                          when other processes share the machine's cores)
  fetch_events_per_s      the physical limit (issue 16): the same logs fetched from the same node
                          with eth_getLogs in the same chunks (the indexer's ChunkSizer with the
                          indexer's defaults, fed the same log counts, so the same ranges) by the
                          same RpcClient, and nothing done with them; best of two fetches in child
                          processes, one right before and one right after the SQLite backfill
  to_fetch_ratio          events_per_s / fetch_events_per_s
Targets: events_per_s >= 10,000; follow_lag_p99_s <= 1; to_fetch_ratio >= 0.5 (issue 16).

The chain (pumps driving the real marketplace, see tests/support/indexer_workload.py) is generated
once and cached with `anvil --dump-state` under .cache/bench-indexer/; `--regenerate` rebuilds it.
Each backfill runs in a child process so its memory is measured alone.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.memory import peak_rss_mb
from bench.results import write_section
from marketplace.chain.anvil import Anvil, start_anvil
from marketplace.chain.connection import connect, disconnect
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from marketplace.chain.rpc import RpcClient
from marketplace.indexer import Indexer, Target, marketplace_decoder
from marketplace.store.engine import init_db, open_engine
from tests.support.indexer_workload import PUMP_SOURCE, deploy_workload, pump_artifact

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench-indexer"
POSTGRES_URL = os.environ.get(
    "MARKETPLACE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EVENTS_PER_ROUND = 2.5  # IndexerPump's average over its 20 kinds of round (v2, measured)
GAS_LIMIT = 60_000_000


def _log(message: str) -> None:
    print(f"[bench-indexer] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the chain


def _fingerprint(events: int) -> dict[str, Any]:
    import hashlib

    digest = hashlib.sha256(PUMP_SOURCE.read_bytes())
    for unit in ("Marketplace", "MarketplaceModule"):
        digest.update((ROOT / "artifacts" / f"{unit}.json").read_bytes())
    return {"events": events, "sources": digest.hexdigest()[:16]}


def _count_logs(rpc: RpcClient, address: str) -> int:
    return len(rpc.call("eth_getLogs", [{"address": address, "fromBlock": "0x0"}]))


def _generate(events: int, state: Path, anvil_args: Sequence[str] = ()) -> dict[str, Any]:
    """Deploy, pump until `events` marketplace events exist, dump anvil's state to `state`."""
    started = time.monotonic()
    node = start_anvil(
        accounts=4,
        extra_args=["--dump-state", str(state), "--gas-limit", str(GAS_LIMIT), *anvil_args],
    )
    try:
        w3 = connect(node.url, timeout=120)
        market, deployment = deploy_marketplace(
            w3, DeployParams(min_stake=10**15), deployer=w3.eth.accounts[0], record=False
        )
        workload = deploy_workload(
            market, w3.eth.accounts[0], pumps=8, providers_per_pump=4, rounds_per_tx=250
        )
        rpc = RpcClient(node.url, timeout=120)
        count = _count_logs(rpc, deployment.address)
        while count < events:
            rounds = int((events - count) / EVENTS_PER_ROUND) + 16
            txs = workload.pump(rounds)
            count = _count_logs(rpc, deployment.address)
            _log(f"generated {count:,} events ({txs} transactions so far this pass)")
        workload.finish()
        accounts = list(w3.eth.accounts)
        workload.admin(accounts[1])
        meta = {
            "address": deployment.address,
            "start_block": deployment.start_block,
            "chain_id": deployment.chain_id,
            "events": _count_logs(rpc, deployment.address),
            "head": rpc.block_number(),
            "operator": accounts[1],
            "pumps": [p.address for p in workload.pumps],
            "generation_s": round(time.monotonic() - started, 1),
        }
    finally:
        # anvil writes the state dump on the way out: hundreds of MB with historical states,
        # longer than Anvil.stop's 5 s grace on a busy machine (a SIGKILL truncates the dump)
        node.process.send_signal(signal.SIGTERM)
        try:
            node.process.wait(timeout=600)
        except subprocess.TimeoutExpired:
            node.stop()
    return meta


def prepare_chain(
    events: int, regenerate: bool, *, cache: Path = CACHE, anvil_args: Sequence[str] = ()
) -> tuple[Anvil, dict[str, Any]]:
    """A running anvil holding the benchmark chain (from the cache when it matches).

    `cache` is where the chain's state dump lives; `anvil_args` go to every anvil started for it,
    both the one that generates the chain and the one that loads it.
    """
    cache.mkdir(parents=True, exist_ok=True)
    state, meta_path = cache / "state.json", cache / "meta.json"
    fingerprint = _fingerprint(events)
    meta: dict[str, Any] | None = None
    if not regenerate and state.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("fingerprint") != fingerprint:
            meta = None
    if meta is None:
        _log(f"generating a chain with {events:,} marketplace events (cached afterwards)")
        meta = _generate(events, state, anvil_args)
        meta["fingerprint"] = fingerprint
        meta_path.write_text(json.dumps(meta, indent=2))
    started = time.monotonic()
    node = start_anvil(
        accounts=4,
        timeout=300,
        extra_args=["--load-state", str(state), "--gas-limit", str(GAS_LIMIT), *anvil_args],
    )
    rpc = RpcClient(node.url, timeout=120)
    if rpc.block_number() != meta["head"]:
        node.stop()
        raise RuntimeError("the cached chain did not load; run with --regenerate")
    # The dump keeps the blocks but not the clock offset the workload's time travel set: without
    # it new blocks would be older than their parent and anvil would not mine them.
    latest = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    ahead = latest - int(time.time()) + 1
    if ahead > 0:
        rpc.call("evm_increaseTime", [ahead])
    _log(
        f"chain ready: {meta['events']:,} events up to block {meta['head']} "
        f"(loaded in {time.monotonic() - started:.1f} s)"
    )
    return node, meta


# ---------------------------------------------------------------- backfill


def _postgres_store() -> tuple[str, str] | None:
    """A fresh schema on the benchmark PostgreSQL server: (url, schema), or None if unreachable."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    schema = f"bench_indexer_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(
            POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
    except OperationalError as exc:
        _log(f"PostgreSQL unreachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}")
        return None
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", schema


def _drop_postgres_schema(schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def backfill(rpc_url: str, meta: dict[str, Any], database_url: str) -> dict[str, Any]:
    """Index the whole benchmark chain into an empty store (in this process); return figures."""
    engine = open_engine(database_url)
    init_db(engine)
    indexer = Indexer(
        engine,
        RpcClient(rpc_url, timeout=120),
        marketplace_decoder(),
        Target(meta["chain_id"], meta["address"], meta["start_block"]),
        progress=sys.stderr.isatty(),
    )
    indexer.open()
    cpu = time.process_time()
    stats = indexer.sync()
    cpu = time.process_time() - cpu
    indexer.close()
    return {
        **stats.as_dict(),
        "peak_rss_mb": peak_rss_mb(),
        # CPU seconds of the indexer's process (both threads): wall time on a busy machine
        # measures the other processes too
        "cpu_s": round(cpu, 3),
        "events_per_cpu_s": round(stats.events / cpu, 1) if cpu > 0 else None,
    }


def _backfill_in_child(rpc_url: str, meta: dict[str, Any], database_url: str) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.indexer",
        "--child-backfill",
        database_url,
        "--child-rpc",
        rpc_url,
    ]
    result = subprocess.run(
        command,
        input=json.dumps(meta),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"backfill failed:\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def fetch_only(
    rpc_url: str, meta: dict[str, Any], chunk_blocks: int, max_chunk_blocks: int, target_logs: int
) -> dict[str, Any]:
    """eth_getLogs over the benchmark chain in the chunks a `ChunkSizer` with these parameters
    picks, doing nothing with the logs: the limit any consumer of the node's logs meets."""
    from marketplace.chain.scan import ChunkSizer

    sizer = ChunkSizer(chunk_blocks, max_chunk_blocks, target_logs)
    events = chunks = 0
    with RpcClient(rpc_url, timeout=120) as rpc:
        started = time.monotonic()
        cpu = time.process_time()
        head = rpc.block_number()
        block = meta["start_block"]
        while block <= head:
            last = min(head, block + sizer.size - 1)
            logs = rpc.get_logs(meta["address"], block, last)
            sizer.observe(last - block + 1, len(logs))
            events += len(logs)
            chunks += 1
            block = last + 1
        seconds = time.monotonic() - started
        cpu = time.process_time() - cpu
    return {
        "events": events,
        "chunks": chunks,
        "seconds": round(seconds, 3),
        "events_per_s": round(events / seconds, 1),
        "cpu_s": round(cpu, 3),
    }


def indexer_chunking() -> tuple[int, int, int]:
    """The Indexer's default (chunk_blocks, max_chunk_blocks, target_logs), as backfill uses."""
    import inspect

    params = inspect.signature(Indexer.__init__).parameters
    return tuple(  # type: ignore[return-value]
        int(params[name].default) for name in ("chunk_blocks", "max_chunk_blocks", "target_logs")
    )


def fetch_in_child(rpc_url: str, meta: dict[str, Any], chunking: tuple[int, int, int]) -> dict[
    str, Any
]:
    """`fetch_only` in a fresh process, like the backfill it is compared with."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.indexer", "--child-fetch", json.dumps(list(chunking)),
         "--child-rpc", rpc_url],
        input=json.dumps(meta),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"fetch failed:\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


# ---------------------------------------------------------------- follow


def follow_lag(
    node: Anvil, meta: dict[str, Any], database_url: str, seconds: float
) -> dict[str, Any]:
    """Follow the head while new blocks with events arrive; lag from mining to commit."""
    w3 = connect(node.url)
    abi = pump_artifact()["IndexerPump"]["abi"]
    pumps = [w3.eth.contract(address=a, abi=abi) for a in meta["pumps"]]
    committed: list[tuple[int, float]] = []
    lock = threading.Lock()

    def on_commit(block: int, at: float) -> None:
        with lock:
            committed.append((block, at))

    indexer = Indexer(
        open_engine(database_url),
        RpcClient(node.url),
        marketplace_decoder(),
        Target(meta["chain_id"], meta["address"], meta["start_block"]),
        retry_for=None,
        on_commit=on_commit,
    )
    indexer.open()
    indexer.sync()  # caught up before the clock starts
    stop = threading.Event()
    follower = threading.Thread(target=indexer.follow, args=(stop,), daemon=True)
    follower.start()
    mined: list[tuple[int, float]] = []
    events = 0
    deadline = time.monotonic() + seconds
    i = 0
    try:
        while time.monotonic() < deadline:
            pump = pumps[i % len(pumps)]
            sent = time.time()  # the block cannot be mined before its transaction is sent
            tx_hash = pump.functions.pump(16).transact(
                {"from": meta["operator"], "gas": 10_000_000}
            )
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.01)
            mined.append((int(receipt["blockNumber"]), sent))
            events += 40
            i += 1
            time.sleep(0.25)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            with lock:
                if committed and committed[-1][0] >= mined[-1][0]:
                    break
            time.sleep(0.02)
    finally:
        stop.set()
        follower.join(timeout=10)
        indexer.close()
        disconnect(w3)
    lags = []
    for block, at in mined:
        seen = [t for b, t in committed if b >= block]
        lags.append((min(seen) if seen else float("inf")) - at)
    lags.sort()
    p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))]
    return {
        "follow_lag_p99_s": round(p99, 3),
        "follow_lag_median_s": round(statistics.median(lags), 3),
        "follow_lag_max_s": round(lags[-1], 3),
        "follow_blocks": len(lags),
    }


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write section `indexer` of bench/results.json."""
    parser = argparse.ArgumentParser(prog="bench.indexer", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to backfill")
    parser.add_argument("--regenerate", action="store_true", help="ignore the cached chain")
    parser.add_argument("--follow-seconds", type=float, default=20.0)
    parser.add_argument("--child-backfill", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--child-rpc", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--child-fetch", metavar="CHUNKING", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_fetch:
        chunking = json.loads(args.child_fetch)
        print(json.dumps(fetch_only(args.child_rpc, json.loads(sys.stdin.read()), *chunking)))
        return 0
    if args.child_backfill:
        meta = json.loads(sys.stdin.read())
        print(json.dumps(backfill(args.child_rpc, meta, args.child_backfill)))
        return 0

    node, meta = prepare_chain(args.events, args.regenerate)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-indexer-") as tmp:
            sqlite_url = f"sqlite:///{Path(tmp) / 'store.sqlite'}"
            load_before = round(os.getloadavg()[0], 2)
            chunking = indexer_chunking()
            fetches = [fetch_in_child(node.url, meta, chunking)]
            _log("backfill into SQLite ...")
            sqlite = _backfill_in_child(node.url, meta, sqlite_url)
            fetches.append(fetch_in_child(node.url, meta, chunking))
            fetch = max(fetches, key=lambda f: f["events_per_s"])
            _log(
                f"fetch only: {fetch['events']:,} logs in {fetch['chunks']} chunks = "
                f"{fetch['events_per_s']:,.0f} events/s (runs "
                f"{[f['events_per_s'] for f in fetches]})"
            )
            _log(
                f"SQLite: {sqlite['events']:,} events in {sqlite['seconds']} s = "
                f"{sqlite['events_per_s']:,.0f} events/s, peak RSS {sqlite['peak_rss_mb']} MB"
            )
            postgres: dict[str, Any] | None = None
            store = _postgres_store()
            if store is not None:
                url, schema = store
                try:
                    _log("backfill into PostgreSQL ...")
                    postgres = _backfill_in_child(node.url, meta, url)
                    _log(
                        f"PostgreSQL: {postgres['events']:,} events in {postgres['seconds']} s"
                        f" = {postgres['events_per_s']:,.0f} events/s"
                    )
                finally:
                    _drop_postgres_schema(schema)
            _log(f"follow mode for {args.follow_seconds:.0f} s ...")
            follow = follow_lag(node, meta, sqlite_url, args.follow_seconds)
            _log(
                f"follow lag p99 {follow['follow_lag_p99_s']} s "
                f"(median {follow['follow_lag_median_s']} s over {follow['follow_blocks']} blocks)"
            )
    finally:
        node.stop()

    section = {
        "to_fetch_ratio": round(sqlite["events_per_s"] / fetch["events_per_s"], 3),
        "fetch_events_per_s": fetch["events_per_s"],
        "fetch_events_per_s_runs": [f["events_per_s"] for f in fetches],
        "fetch_chunks": fetch["chunks"],
        "backfill_chunks": sqlite.get("chunks"),
        "to_fetch_ratio_postgres": (
            round(postgres["events_per_s"] / fetch["events_per_s"], 3) if postgres else None
        ),
        "load_average_before": load_before,
        "load_average_after": round(os.getloadavg()[0], 2),
        "events_per_s": sqlite["events_per_s"],
        "events_per_s_postgres": postgres["events_per_s"] if postgres else None,
        "follow_lag_p99_s": follow["follow_lag_p99_s"],
        "peak_rss_mb": sqlite["peak_rss_mb"],
        "peak_rss_mb_postgres": postgres["peak_rss_mb"] if postgres else None,
        "events": sqlite["events"],
        "blocks": meta["head"] - meta["start_block"] + 1,
        "backfill_s": sqlite["seconds"],
        "backfill_s_postgres": postgres["seconds"] if postgres else None,
        "events_per_cpu_s": sqlite["events_per_cpu_s"],
        "events_per_cpu_s_postgres": postgres["events_per_cpu_s"] if postgres else None,
        "follow_lag_median_s": follow["follow_lag_median_s"],
        "follow_lag_max_s": follow["follow_lag_max_s"],
        "follow_blocks": follow["follow_blocks"],
        "generation_s": meta["generation_s"],
        "targets": {
            "events_per_s": ">= 10000",
            "follow_lag_p99_s": "<= 1",
            "to_fetch_ratio": ">= 0.5",
        },
    }
    write_section("indexer", section)
    _log(json.dumps(section, indent=2))
    if (
        section["events_per_s"] < 10_000
        or section["follow_lag_p99_s"] > 1
        or section["to_fetch_ratio"] < 0.5
    ):
        _log("TARGET MISSED: events_per_s >= 10000, follow_lag_p99_s <= 1, to_fetch_ratio >= 0.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
