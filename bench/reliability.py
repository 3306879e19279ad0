"""Reliability benchmark: section `reliability` of bench/results.json.

    python -m bench.reliability [--deep] [--cases N] [--load-seconds S] [--skip-forge]

* API (deep profile): schemathesis (its own venv, `make schemathesis`) over every operation of
  /api/v1/openapi.json, every phase, `--checks all`, anonymous and signed in by turns, >= 5,000
  cases, against the live app over anvil + a seeded store (tests/reliability/api_schemathesis.py).
  Keys api_cases, api_5xx (every response >= 500, 503s included: the chain is up all along),
  api_conformance_failures (every failure schemathesis reports), api_statuses.
* Load: a bounded load (threads with keep-alive connections) against a live gunicorn on
  127.0.0.1 (two workers, the indexer following), mixing POST /api/v1/match, provider pages
  and POST /api/v1/bookings/tx. 60 s, or 600 s with --deep. Keys load_requests, load_errors,
  load_p50_ms, load_p99_ms, load_rps.
* Invariants: `forge test` over tests/invariant (the default profile, 256 x 100 calls) or, with
  --deep, FOUNDRY_PROFILE=deep (4,000 x 250 = 1,000,000 calls, ~10 min). Keys invariant_calls,
  invariant_failures, invariant_profile.
* Faults: the scenarios of tests/reliability/faults.py. Keys faults_run, faults_lost_data.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.results import read_results, write_section

ROOT = Path(__file__).resolve().parents[1]
for _folder in (ROOT / "tests", ROOT / "tests" / "reliability"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

import api_schemathesis as schemathesis_run  # noqa: E402
import faults  # noqa: E402
from api_schemathesis import seed_market  # noqa: E402
from web_support import CUSTOMERS, ESPOO, HELSINKI, PROVIDERS, RIDES, World, make_world  # noqa: E402

from marketplace.chain.anvil import free_port  # noqa: E402
from marketplace.web.devstack import start_services  # noqa: E402

DEEP_EXAMPLES = 25  # per operation and phase, in each schemathesis run


def api_fuzz(cases: int) -> dict[str, Any]:
    """The deep profile of schemathesis over /api/v1/openapi.json: every phase, --checks all,
    anonymous and signed in by turns, new seeds until at least `cases` cases ran."""
    with tempfile.TemporaryDirectory() as tmp:
        world = make_world(Path(tmp))
        try:
            seed_market(world)
            started = time.monotonic()
            total = schemathesis_run.Run()
            seed = 1000
            with schemathesis_run.live_server(world.app) as url:
                while total.cases < cases:
                    headers = (schemathesis_run.signed_in_headers(world, CUSTOMERS[0])
                               if seed % 2 else None)
                    total += schemathesis_run.run(
                        url, max_examples=DEEP_EXAMPLES, seed=seed,
                        report_dir=Path(tmp) / f"run-{seed}", headers=headers)
                    seed += 1
        finally:
            world.close()
    return {"api_cases": total.cases, "api_5xx": total.server_errors,
            "api_conformance_failures": total.failures, "api_runs": seed - 1000,
            "api_statuses": {str(k): v for k, v in sorted(total.statuses.items())},
            "api_failure_examples": total.failure_titles[:5],
            "api_seconds": round(time.monotonic() - started, 1)}


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
        for pid in ids:
            plan.append(("GET", f"/providers/{pid}", None))
            plan.append(("POST", "/api/v1/match", json.dumps({
                "category": "rides", "max_price": "0.1 ether", "k": 10,
                "region": "helsinki" if pid % 2 else "any"}).encode()))
            plan.append(("POST", "/api/v1/bookings/tx", json.dumps({
                "from": world.address(CUSTOMERS[pid % 4]), "provider_id": pid,
                "expected_price": str((3 + (pid - ids[0]) % 5) * 10**16),
                "criteria_version": 1}).encode()))
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


def invariants(deep: bool) -> dict[str, Any]:
    """Run the forge invariant suite and count the calls it made."""
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}"}
    if deep:
        env["FOUNDRY_PROFILE"] = "deep"
    out = subprocess.run(["forge", "test", "--match-path", "tests/invariant/*", "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    start = out.stdout.find("{")
    results = json.loads(out.stdout[start:]) if start >= 0 else {}
    calls = failures = runs = 0
    for suite in results.values():
        for test in suite["test_results"].values():
            kind = test.get("kind", {})
            if "Invariant" in kind:
                calls += int(kind["Invariant"]["calls"])
                runs += int(kind["Invariant"]["runs"])
                failures += int(test["status"] != "Success")
    return {"invariant_calls": calls, "invariant_runs": runs, "invariant_failures": failures
            + int(out.returncode != 0 and failures == 0),
            "invariant_profile": "deep" if deep else "default"}


def run_faults() -> dict[str, Any]:
    """Every fault scenario on a fresh world; how much data each lost."""
    scenarios = [faults.concurrent_bookings, faults.price_change_races_bookings,
                 faults.anvil_killed_and_restarted]
    lost = 0
    details: dict[str, Any] = {}
    for scenario in scenarios:
        with tempfile.TemporaryDirectory() as tmp:
            world = make_world(Path(tmp))
            try:
                result = scenario(world)
                lost += result.lost
                details[result.name] = {"lost": result.lost, **result.details}
            except AssertionError as exc:
                lost += 1
                details[scenario.__name__] = {"failed": str(exc)[:300]}
            finally:
                world.close()
    return {"faults_run": len(scenarios), "faults_lost_data": lost, "faults": details}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deep", action="store_true",
                        help="10 min of load and the 1,000,000-call invariant profile")
    parser.add_argument("--cases", type=int, default=5000,
                        help="schemathesis cases at least (anonymous and signed in)")
    parser.add_argument("--load-seconds", type=float, default=None)
    parser.add_argument("--skip-forge", action="store_true")
    parser.add_argument("--api-only", action="store_true",
                        help="run only the API part and replace only the api_* keys")
    args = parser.parse_args(argv)
    api = api_fuzz(args.cases)
    print(f"api: {api['api_cases']} cases, {api['api_5xx']} 5xx, "
          f"{api['api_conformance_failures']} conformance failures", flush=True)
    if args.api_only:
        kept = {k: v for k, v in read_results().get("reliability", {}).items()
                if not k.startswith("api_")}
        write_section("reliability", kept | api)
        return int(api["api_5xx"] + api["api_conformance_failures"] > 0)
    data: dict[str, Any] = {"profile": "deep" if args.deep else "fast"} | api
    data |= run_faults()
    print(f"faults: {data['faults_run']} run, {data['faults_lost_data']} lost", flush=True)
    seconds = args.load_seconds if args.load_seconds is not None else (600 if args.deep else 60)
    data |= load(seconds)
    print(f"load: {data['load_requests']} requests, {data['load_errors']} errors, "
          f"p50 {data['load_p50_ms']} ms, p99 {data['load_p99_ms']} ms", flush=True)
    if not args.skip_forge:
        data |= invariants(args.deep)
        print(f"invariants: {data['invariant_calls']} calls, "
              f"{data['invariant_failures']} failures", flush=True)
    write_section("reliability", data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
