"""Reliability benchmark: section `reliability` of bench/results.json.

    python -m bench.reliability [--deep] [--cases N] [--load-seconds S] [--skip-forge]

* API fuzz (deep profile): the OpenAPI-driven generator of tests/support/openapi_fuzz.py,
  >= 2,000 generated valid and invalid cases over every operation of /api/v1/openapi.json,
  against the app over anvil + a seeded store. Keys api_cases, api_5xx (every status >= 500,
  503s included: the chain is up all along), api_schema_failures, api_statuses.
* Load: tests/support/load.py, a bounded load (threads with keep-alive connections) against a
  live gunicorn on 127.0.0.1 (two workers, the indexer following), mixing POST /api/v1/match,
  provider pages and POST /api/v1/bookings/tx. 60 s, or 600 s with --deep. Keys load_requests,
  load_errors, load_p50_ms, load_p99_ms, load_rps.
* Invariants: `forge test` over tests/invariant (the default profile, 256 x 100 calls) or, with
  --deep, FOUNDRY_PROFILE=deep (4,000 x 250 = 1,000,000 calls, ~10 min). Keys invariant_calls,
  invariant_failures, invariant_profile.
* Faults: the scenarios of tests/support/faults.py. Keys faults_run, faults_lost_data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.results import write_section
from tests.support import faults
from tests.support.api_fuzz_market import seed_market, sender_for
from tests.support.load import load
from tests.support.openapi_fuzz import run as fuzz_run
from tests.support.world import make_world

ROOT = Path(__file__).resolve().parents[1]


def api_fuzz(cases: int) -> dict[str, Any]:
    """The deep profile of the OpenAPI-driven fuzzer."""
    with tempfile.TemporaryDirectory() as tmp:
        world = make_world(Path(tmp))
        try:
            hints = seed_market(world)
            document = world.client().raw.get("/api/v1/openapi.json").get_json()
            started = time.monotonic()
            statuses: dict[int, int] = {}
            failures: list[str] = []
            done = server_errors = 0
            unavailable: list[str] = []
            seed = 1000
            while done < cases:
                tally = fuzz_run(document, sender_for(world), min(500, cases - done),
                                 seed=seed, hints=hints)
                seed += 1
                done += tally.cases
                server_errors += tally.server_errors + tally.unavailable
                for status, count in tally.statuses.items():
                    statuses[status] = statuses.get(status, 0) + count
                failures += [f"{f.problem} <- {f.case}" for f in tally.failures]
                unavailable += tally.unavailable_messages
        finally:
            world.close()
    return {"api_cases": done, "api_5xx": server_errors, "api_schema_failures": len(failures),
            "api_statuses": {str(k): v for k, v in sorted(statuses.items())},
            "api_failure_examples": failures[:5], "api_503_examples": unavailable[:3],
            "api_seconds": round(time.monotonic() - started, 1)}


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
    parser.add_argument("--cases", type=int, default=2500, help="API fuzz cases")
    parser.add_argument("--load-seconds", type=float, default=None)
    parser.add_argument("--skip-forge", action="store_true")
    args = parser.parse_args(argv)
    data: dict[str, Any] = {"profile": "deep" if args.deep else "fast"}
    data |= api_fuzz(args.cases)
    print(f"api: {data['api_cases']} cases, {data['api_5xx']} 5xx", flush=True)
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
