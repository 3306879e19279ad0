"""Bounded mixed HTTP load against a live gunicorn: the fast profile in
tests/reliability/test_load.py (2,000 requests), the 60 s / 600 s profiles in bench/reliability.py.

Threads with keep-alive connections mix POST /api/v1/match, provider pages and
POST /api/v1/bookings/tx against gunicorn (two workers, the indexer following) on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import itertools
import json
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from marketplace.chain.anvil import free_port
from marketplace.web.devstack import start_services
from tests.support.world import CUSTOMERS, ESPOO, HELSINKI, PROVIDERS, RIDES, World, make_world


def _seed_for_load(world: World) -> list[int]:
    ids = [world.register(f"Load {i}", RIDES, HELSINKI if i % 2 else ESPOO, 0,
                          (3 + i % 5) * 10**16, owner=PROVIDERS[i % 3]) for i in range(20)]
    for customer in CUSTOMERS:
        world.set_criteria(customer, RIDES, max_price=10**17)
    world.sync()
    return ids


REQUEST_TIMEOUT = 120.0  # a bound for a hung server, not a pace: a slow answer is not an error


def _worker(port: int, plan: list[tuple[str, str, bytes | None]], stop: float,
            budget: itertools.count[int] | None, limit: int, seed: int,
            latencies: list[float], errors: list[str]) -> None:
    """Sends requests until the clock passes `stop` or, with a budget, `limit` have been sent."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    while time.monotonic() < stop and (budget is None or next(budget) < limit):
        method, path, body = rng.choice(plan)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"exception {method} {path}: {exc!r}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            errors.append(f"{method} {path}: {status}")
    conn.close()


def load(seconds: float | None = None, threads: int = 8,
         requests: int | None = None) -> dict[str, Any]:
    """A bounded mixed load against a live gunicorn (two workers) on 127.0.0.1.

    Bounded by time (`seconds`, for the benchmark's rates) or by count (`requests`, for tests:
    the same work on a fast and on a slow machine), or both.
    """
    if seconds is None and requests is None:
        raise ValueError("bound the load by seconds, requests or both")
    tmp = Path(tempfile.mkdtemp(prefix="bench-reliability-"))
    world = make_world(tmp)
    services = None
    try:
        ids = _seed_for_load(world)
        world.indexer.engine.dispose()
        settings = world.app.extensions["marketplace"].config.settings
        port = free_port()
        services = start_services(
            rpc_url=world.node.url, deployment_path=world.deployment_path,
            database_url=settings.database_url, log_dir=tmp / "logs", port=port,
            dev_accounts=12, extra_env={"MARKETPLACE_SECRET_KEY": "bench-" + "k" * 40})
        plan: list[tuple[str, str, bytes | None]] = []
        slot_start = world.market.now() + 7 * 86_400
        for pid in ids:
            plan.append(("GET", f"/providers/{pid}", None))
            plan.append(("POST", "/api/v1/match", json.dumps({
                "category": "rides", "max_price": "0.1 ether", "k": 10,
                "region": "helsinki" if pid % 2 else "any"}).encode()))
            # A slot a week ahead at the listing's first offer (no weekly hours: any time).
            plan.append(("POST", "/api/v1/bookings/tx", json.dumps({
                "from": world.address(CUSTOMERS[pid % 4]), "provider_id": pid,
                "start": slot_start + 3_600 * pid, "duration": 60, "offer_version": 1,
                "currency": "ETH", "criteria_version": 1}).encode()))
        latencies: list[float] = []
        errors: list[str] = []
        stop = time.monotonic() + (seconds if seconds is not None else float("inf"))
        budget = itertools.count() if requests is not None else None
        limit = requests or 0
        workers = [threading.Thread(target=_worker,
                                    args=(port, plan, stop, budget, limit, i, latencies, errors))
                   for i in range(threads)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - started
    finally:
        if services is not None:
            services.stop()
        world.close()
        shutil.rmtree(tmp, ignore_errors=True)
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1) if ordered else 0.0

    return {"load_requests": len(latencies) + sum(e.startswith("exception") for e in errors),
            "load_errors": len(errors), "load_p50_ms": pct(0.50), "load_p99_ms": pct(0.99),
            "load_rps": round(len(latencies) / elapsed, 1), "load_seconds": round(elapsed, 1),
            "load_threads": threads, "load_error_examples": errors[:5]}
