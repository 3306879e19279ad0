"""Reliability benchmark: section `reliability` of bench/results.json.

    python -m bench.reliability [--deep] [--cases N] [--load-seconds S] [--skip-forge]

* API (deep profile): schemathesis (its own venv, `make schemathesis`) over every operation of
  /api/v1/openapi.json, every phase, `--checks all`, anonymous and signed in by turns, >= 5,000
  cases, against the live app over anvil + a seeded store (tests/support/api_schemathesis.py).
  Keys api_cases, api_5xx (every response >= 500, 503s included: the chain is up all along),
  api_conformance_failures (every failure schemathesis reports), api_statuses.
* Load: tests/support/load.py, a bounded load (threads with keep-alive connections) against a
  live gunicorn on 127.0.0.1 (two workers, the indexer following), mixing POST /api/v1/match,
  provider pages and POST /api/v1/bookings/tx. 60 s, or 600 s with --deep. Keys load_requests,
  load_errors, load_p50_ms, load_p99_ms, load_rps.
* Invariants: `forge test` over tests/invariant (the default profile, 256 x 100 calls) or, with
  --deep, FOUNDRY_PROFILE=deep (4,000 x 250 = 1,000,000 calls, ~10 min). Keys invariant_calls,
  invariant_failures, invariant_profile.
* Faults: the scenarios of tests/reliability/faults.py. Keys faults_run, faults_lost_data.
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

from bench.results import read_results, write_section
from tests.support import api_schemathesis as schemathesis_run
from tests.support import faults
from tests.support.api_schemathesis import seed_market
from tests.support.load import load
from tests.support.world import CUSTOMERS, make_world

ROOT = Path(__file__).resolve().parents[1]

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
