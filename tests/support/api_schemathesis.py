"""Run schemathesis (its own venv: `make schemathesis`) against the live app over anvil.

The app is served by werkzeug on 127.0.0.1 over a seeded world (a provider, criteria and a
booking, so valid requests reach past the lookups). Schemathesis reads /api/v1/openapi.json and
runs every phase (examples, coverage, fuzzing, stateful) with `--checks all`, once anonymous and
once signed in (the session cookie and its CSRF header on every request). Cases and failures are
counted from schemathesis' own JUnit and NDJSON reports.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from marketplace.availability import demo_schedule, save_schedule
from tests.support.world import CUSTOMERS, DUSD, DUSD_UNIT, HELSINKI, PROVIDERS, RIDES, World

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = ROOT / ".cache" / "schemathesis-venv" / "bin" / "schemathesis"
CONFIG = ROOT / "tools" / "schemathesis.toml"
PHASES = "examples,coverage,fuzzing,stateful"
# Generous: a request on a busy shared machine may take seconds; this is no speed test.
REQUEST_TIMEOUT = 120


@dataclass
class Run:
    """What one schemathesis run reported."""

    cases: int = 0
    failures: int = 0
    server_errors: int = 0
    returncode: int = 0
    output: str = ""
    failure_titles: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def __add__(self, other: Run) -> Run:
        return Run(self.cases + other.cases, self.failures + other.failures,
                   self.server_errors + other.server_errors,
                   self.returncode or other.returncode, self.output + other.output,
                   self.failure_titles + other.failure_titles, self.statuses + other.statuses)


def seed_market(world: World) -> None:
    """Two listings (one in ether with weekly hours and cancellation terms, one in DemoUSD),
    on-chain criteria and a booking of a slot, indexed."""
    provider = world.register("Aino's Rides", RIDES, HELSINKI, 0, 4 * 10**16,
                              free_cancel_hours=24, late_cancel_pct=30)
    world.register("Dollar Rides", RIDES, HELSINKI, 0, 12 * DUSD_UNIT, currency=DUSD)
    world.set_criteria(CUSTOMERS[0], RIDES)
    world.book_direct(CUSTOMERS[0], provider)
    engine = world.services.engine
    save_schedule(engine, provider, demo_schedule(provider), world.address(PROVIDERS[0]))
    world.sync()


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a free port of 127.0.0.1 (threaded); its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-live", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def signed_in_headers(world: World, index: int) -> list[str]:
    """`-H` values that act as dev account `index`: its session cookie and CSRF token."""
    client = world.client()
    client.sign_in(index)
    cookie = client.raw.get_cookie("mkt_session")
    assert cookie is not None
    return [f"Cookie: mkt_session={cookie.value}", f"X-CSRF-Token: {client.csrf()}"]


def run(base_url: str, *, max_examples: int, seed: int, report_dir: Path,
        headers: list[str] | None = None) -> Run:
    """One schemathesis run over every operation; counts from its reports."""
    report_dir.mkdir(parents=True, exist_ok=True)
    junit, ndjson = report_dir / "junit.xml", report_dir / "events.ndjson"
    command = [
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "run",
        f"{base_url}/api/v1/openapi.json",
        "--checks", "all", "--phases", PHASES, "--seed", str(seed),
        "--max-examples", str(max_examples), "--workers", "1",
        "--request-timeout", str(REQUEST_TIMEOUT), "--continue-on-failure",
        "--suppress-health-check", "too_slow",
        "--report", "junit,ndjson", "--report-junit-path", str(junit),
        "--report-ndjson-path", str(ndjson),
    ]
    for header in headers or []:
        command += ["-H", header]
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1",
                               "SCHEMATHESIS_HOOKS": ""}, cwd=report_dir)
    result = Run(returncode=done.returncode, output=done.stdout + done.stderr)
    result.cases, result.statuses = _recorded(ndjson)
    result.server_errors = sum(n for status, n in result.statuses.items() if status >= 500)
    for case in ET.parse(junit).iter("testcase"):
        for failure in [*case.iter("failure"), *case.iter("error")]:
            result.failures += 1
            text = (failure.get("message") or "") + (failure.text or "")
            result.failure_titles.append(f"{case.get('name')}: {text[:300]}")
    return result


def _recorded(ndjson: Path) -> tuple[int, Counter[int]]:
    """Cases schemathesis ran and the statuses it got, from its NDJSON event stream: each
    finished scenario records its cases and their request/response interactions."""
    cases = 0
    statuses: Counter[int] = Counter()
    for line in ndjson.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder", {})
        cases += len(recorder.get("cases", {}))
        for interaction in recorder.get("interactions", {}).values():
            response = interaction.get("response")
            if response:
                statuses[int(response["status_code"])] += 1
    return cases, statuses
