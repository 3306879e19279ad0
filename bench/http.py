"""`/api/v1/match` over HTTP: 100,000 providers, gunicorn with 2 workers, bounded load (section
`http` of bench/results.json).

A fresh SQLite store gets 100,000 providers (40% rides, five regions, attributes on a quarter of
them each, prices 0.02-0.12 ETH, varied scores) with their off-chain metadata. `marketplace web`
serves it with 2 gunicorn workers on a free 127.0.0.1 port; each worker loads its own matching
index from the store. Client processes then keep a fixed number of requests in flight (closed
loop: the load is bounded by the concurrency, never an open-ended flood) for a fixed time per
scenario, each request drawing fresh criteria:

- broad: rides, any region, no attributes, a loose ceiling (about 40,000 eligible);
- narrow: one region, a required and a refused attribute, a 4-star minimum, a tight ceiling;
- floor: GET /api/v1/catalogue, a constant JSON document built without any I/O, served by the
  same gunicorn configuration, the same process and the same request hooks (CSRF check, security
  headers): the cost any endpoint of ours pays.

The floor and broad run in rounds (`--rounds`, 3): floor, broad, floor, broad, ..., floor, so
every broad run sits between two floor runs. A round's ratio is its broad rps over the mean of
its two floors, and `match_to_floor_ratio` is the median of the rounds' ratios: a drift in the
machine's load hits both sides alike, and one disturbed run cannot carry the figure (a single
floor run at a third of its rate once made a one-round ratio look twice its true value).

Keys: `match_to_floor_ratio` (issue 16) and its `_rounds`, `match_broad_rps` (median of the
rounds, with `_runs`), `match_broad_p99_ms` (the worst round's), `floor_rps` (median, with
`_runs`), `floor_p99_ms`, `match_narrow_rps`, `match_narrow_p99_ms` (plus p50s, errors and the
setup). Targets (issue 16): match_to_floor_ratio >= 0.5,
match_broad_rps >= 1,000, match_broad_p99_ms <= 25. Client and server share the machine, so the
numbers include the client's CPU cost (the same for the floor).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.results import write_section

ROOT = Path(__file__).resolve().parents[1]

N_PROVIDERS = 100_000
TARGETS = {"match_to_floor_ratio": 0.5, "match_broad_rps": 1000, "match_broad_p99_ms": 25}
FLOOR_PATH = "/api/v1/catalogue"  # constant JSON, no I/O: the floor every endpoint pays
ATTRIBUTE_KEYS = ["electric_vehicle", "wheelchair_access", "pet_friendly", "speaks_finnish",
                  "speaks_english", "speaks_swedish", "compact_car", "large_vehicle",
                  "child_seat", "eco_products"]
REGION_KEYS = ["helsinki", "espoo", "tampere", "turku", "oulu"]


# ------------------------------------------------------------------ the store


def build_store(url: str, n: int, seed: int = 11) -> float:
    """Fill a fresh store with `n` providers and their metadata; returns seconds taken."""
    from sqlalchemy import insert

    from marketplace.domain import ETHER, RATING_WEIGHT_UNIT, reliability, weighted_score
    from marketplace.store import schema
    from marketplace.store.engine import init_db, open_engine
    from marketplace.web.db import canonical_json, create_web_schema, metadata_hash

    started = time.perf_counter()
    engine = open_engine(url)
    init_db(engine)
    create_web_schema(engine)
    rng = np.random.default_rng(seed)
    categories = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.4, 0.15, 0.15, 0.15, 0.15])
    regions = rng.integers(1, 6, n)
    attributes = np.zeros(n, np.uint64)
    for bit in range(20):
        attributes |= (rng.random(n) < 0.25).astype(np.uint64) << np.uint64(bit)
    prices = rng.integers(20, 121, n) * 10**15
    counts = rng.integers(0, 200, n)
    sums = np.clip(np.rint(counts * rng.uniform(2.5, 5.0, n)), counts, 5 * counts).astype(int)
    active = rng.random(n) > 0.05
    failed = rng.integers(0, 12, n)
    instant = rng.random(n) < 0.3
    owner = "0x" + "11" * 20
    providers, documents = [], []
    for i in range(n):
        document = {"name": f"Provider {i + 1}", "description": f"Listing number {i + 1}"}
        digest = metadata_hash(document)
        count, total = int(counts[i]), int(sums[i])
        weight, stars = count * RATING_WEIGHT_UNIT, total * RATING_WEIGHT_UNIT
        completed, failures = count, int(failed[i])
        providers.append({
            "provider_id": i + 1, "owner": owner, "category": int(categories[i]),
            "region": int(regions[i]), "attributes": int(attributes[i]), "currency": ETHER,
            "price": int(prices[i]), "instant": bool(instant[i]), "free_cancel_hours": 24,
            "late_cancel_pct": 50, "metadata_hash": digest, "offer_version": 1,
            "active": bool(active[i]), "stake": 10**16, "stake_unlock_at": 0,
            "locked_until": 0, "stake_topped_up": 0, "stake_slashed": 0,
            "rating_count": count, "rating_sum": total, "disputes_lost": 0,
            "rating_weight": weight, "weighted_stars": stars,
            "score": weighted_score(weight, stars), "completed": completed,
            "failures": failures, "no_shows": 0,
            "reliability": reliability(completed, failures),
            "registered_block": 1, "updated_block": 1,
        })
        documents.append({"hash": digest, "document": canonical_json(document).decode(),
                          "stored_at": 0.0})
    from marketplace.web.db import provider_metadata

    with engine.begin() as conn:
        for start in range(0, n, 10_000):
            conn.execute(insert(schema.providers), providers[start:start + 10_000])
            conn.execute(insert(provider_metadata), documents[start:start + 10_000])
        conn.execute(insert(schema.indexer_state).values(
            id=1, chain_id=31337, address="0x" + "22" * 20, start_block=1, last_block=100,
            last_hash="0x" + "33" * 32, confirmations=12, updated_at=time.time()))
    engine.dispose()
    return time.perf_counter() - started


# ------------------------------------------------------------------ criteria


def broad_criteria(rng: random.Random) -> dict[str, Any]:
    """Rides anywhere, a loose ceiling: most rides providers qualify."""
    return {
        "category": "rides",
        "max_price": f"{rng.randint(100, 130) / 1000} ether",
        "premium_per_star": "0.005 ether",
        "min_stars": rng.choice(["0", "1", "2"]),
        "score_weight": rng.randint(1, 9),
        "price_weight": rng.randint(1, 9),
    }


def narrow_criteria(rng: random.Random) -> dict[str, Any]:
    """One region, one required and one refused attribute, 4 stars, a tight ceiling."""
    required, refused = rng.sample(ATTRIBUTE_KEYS, 2)
    return {
        "category": rng.choice(["rides", "cleaning"]),
        "region": rng.choice(REGION_KEYS),
        "min_stars": "4",
        "max_price": f"{rng.randint(50, 80) / 1000} ether",
        "premium_per_star": "0.01 ether",
        "required": [required],
        "refused": [refused],
        "score_weight": rng.randint(1, 9),
        "price_weight": rng.randint(1, 9),
    }


SCENARIOS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "broad": broad_criteria,
    "narrow": narrow_criteria,
}
FLOOR = "floor"  # GET FLOOR_PATH instead of POST /api/v1/match


# ------------------------------------------------------------------ the client


def _client(port: int, scenario: str, seconds: float, seed: int, start_at: float,
            queue: Any) -> None:
    """One closed-loop client: a keep-alive connection, one request in flight at a time."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    rng = random.Random(seed)
    floor = scenario == FLOOR
    bodies = ([b""] if floor else
              [json.dumps(SCENARIOS[scenario](rng)).encode() for _ in range(500)])
    method, path, expect = (("GET", FLOOR_PATH, b'"categories"') if floor
                            else ("POST", "/api/v1/match", b'"matches"'))
    headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
    latencies: list[float] = []
    errors = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + seconds
    i = 0
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        body = bodies[i % len(bodies)]
        i += 1
        try:
            if floor:
                conn.request(method, path, headers={"Connection": "keep-alive"})
            else:
                conn.request(method, path, body, headers)
            response = conn.getresponse()
            payload = response.read()
            ok = response.status == 200 and expect in payload
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append(time.perf_counter() - now)
        errors += not ok
    conn.close()
    queue.put((latencies, errors))


def run_scenario(port: int, scenario: str, concurrency: int, seconds: float) -> dict[str, float]:
    """Drive `concurrency` closed-loop clients for `seconds`; rps, p50, p99 and errors."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.time() + 0.5
    clients = [context.Process(target=_client,
                               args=(port, scenario, seconds, 1000 + i, start_at, queue))
               for i in range(concurrency)]
    for process in clients:
        process.start()
    results = [queue.get(timeout=seconds + 60) for _ in clients]
    for process in clients:
        process.join(timeout=10)
    latencies = np.array([x for lat, _ in results for x in lat]) * 1000
    errors = sum(e for _, e in results)
    return {
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "requests": int(len(latencies)),
        "errors": int(errors),
    }


# ------------------------------------------------------------------ the server


def _record(results: dict[str, Any], scenario: str, runs: list[dict[str, float]]) -> None:
    """A scenario's keys from its runs: the median rps and p50, the worst p99, every error."""
    results[f"match_{scenario}_rps"] = round(float(np.median([r["rps"] for r in runs])), 1)
    results[f"match_{scenario}_p50_ms"] = round(float(np.median([r["p50_ms"] for r in runs])), 2)
    results[f"match_{scenario}_p99_ms"] = round(max(r["p99_ms"] for r in runs), 2)
    results[f"match_{scenario}_errors"] = sum(int(r["errors"]) for r in runs)
    if len(runs) > 1:
        results[f"match_{scenario}_rps_runs"] = [r["rps"] for r in runs]


def _free_port() -> int:
    from marketplace.chain.anvil import free_port

    return free_port()


def start_server(database_url: str, port: int, workers: int, threads: int,
                 log: Path) -> subprocess.Popen[bytes]:
    """`marketplace web` under gunicorn; no chain node (matching reads only the store)."""
    env = {
        **os.environ,
        "MARKETPLACE_SECRET_KEY": "bench-" + "x" * 40,
        "MARKETPLACE_INDEX_REFRESH": "1.0",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "marketplace.cli", "web", "--port", str(port),
               "--workers", str(workers), "--threads", str(threads),
               "--database", database_url, "--rpc", "http://127.0.0.1:9"]
    out = open(log, "wb")  # noqa: SIM115 - owned by the process
    return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def warm_up(port: int, workers: int, timeout: float = 120.0) -> None:
    """Until every worker has loaded its index (each answers a match quickly)."""
    rng = random.Random(1)
    deadline = time.monotonic() + timeout
    fast = 0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("POST", "/api/v1/match", json.dumps(broad_criteria(rng)).encode(),
                         {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            conn.close()
            ok = response.status == 200
        except OSError:
            ok = False
            time.sleep(0.2)
        fast = fast + 1 if ok and time.perf_counter() - started < 0.1 else 0
        if fast >= 20 * workers:
            return
    raise RuntimeError("the server did not warm up")


def main(argv: list[str] | None = None) -> int:
    """Build the store, serve it, load it, write the `http` section; 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=N_PROVIDERS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per worker (1: gunicorn's sync worker)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="floor+broad rounds; the ratio is the median of theirs")
    parser.add_argument("--no-write", action="store_true", help="print, do not record")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'store.sqlite'}"
        load_before = round(os.getloadavg()[0], 2)
        print(f"building a store of {args.providers:,} providers ...", flush=True)
        built = build_store(database_url, args.providers)
        port = _free_port()
        server = start_server(database_url, port, args.workers, args.threads,
                              Path(tmp) / "server.log")
        try:
            started = time.perf_counter()
            warm_up(port, args.workers)
            warm = time.perf_counter() - started
            results: dict[str, Any] = {
                "providers": args.providers,
                "workers": args.workers,
                "worker_class": "sync" if args.threads == 1 else f"gthread x{args.threads}",
                "concurrency": args.concurrency,
                "seconds_per_scenario": args.seconds,
                "rounds": args.rounds,
                "store_build_s": round(built, 1),
                "warm_up_s": round(warm, 1),
                "cpus": os.cpu_count(),
                "load_average_before": load_before,
            }
            # Rounds of floor, broad, ..., floor: each broad run sits between two floor runs,
            # and the ratio is the median of the rounds' ratios, so one disturbed run (another
            # tenant of the host, a burst of the machine's own work) cannot carry the figure.
            floors, broads = [], []
            for scenario in [FLOOR, "broad"] * args.rounds + [FLOOR, "narrow"]:
                measured = run_scenario(port, scenario, args.concurrency, args.seconds)
                print(f"{scenario:>7}: {measured}", flush=True)
                if scenario == FLOOR:
                    floors.append(measured)
                elif scenario == "broad":
                    broads.append(measured)
                else:
                    _record(results, scenario, [measured])
            _record(results, "broad", broads)
            ratios = [b["rps"] / ((before["rps"] + after["rps"]) / 2)
                      for b, before, after in zip(broads, floors, floors[1:], strict=False)]
            results["floor_path"] = FLOOR_PATH
            results["floor_rps"] = round(float(np.median([f["rps"] for f in floors])), 1)
            results["floor_rps_runs"] = [f["rps"] for f in floors]
            results["floor_p50_ms"] = round(max(f["p50_ms"] for f in floors), 2)
            results["floor_p99_ms"] = round(max(f["p99_ms"] for f in floors), 2)
            results["floor_errors"] = sum(int(f["errors"]) for f in floors)
            results["match_to_floor_ratio"] = round(float(np.median(ratios)), 3)
            results["match_to_floor_ratio_rounds"] = [round(r, 3) for r in ratios]
            results["load_average_after"] = round(os.getloadavg()[0], 2)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
    results["targets"] = TARGETS
    missed = [
        key for key, target in TARGETS.items()
        if (results[key] > target if key.endswith("_ms") else results[key] < target)
    ]
    results["targets_met"] = not missed
    if not args.no_write:
        write_section("http", results)
    print(json.dumps(results, indent=2))
    if missed:
        print(f"missed targets: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
