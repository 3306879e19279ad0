"""A live stack for browser tests: anvil, the marketplace, the indexer and the web app (gunicorn,
two workers) as separate processes on free 127.0.0.1 ports, and Debian's Chromium.

Screenshots go to reports/screenshots/.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from marketplace.availability import parse_schedule
from marketplace.availability.store import save_schedule
from marketplace.chain.anvil import free_port
from marketplace.web.demo_pictures import demo_picture
from marketplace.web.devstack import start_services
from tests.support.browser import CHROMIUM, ROOT, SCREENSHOTS, Stack
from tests.support.world import (
    CLEANING,
    CUSTOMERS,
    DUSD,
    DUSD_UNIT,
    ESPOO,
    HELSINKI,
    PROVIDERS,
    RIDES,
    World,
    make_world,
)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


# Playwright waits for conditions (a URL, a text); this only bounds a hang, on any machine speed.
PATIENCE_MS = 120_000


@pytest.fixture(autouse=True)
def _patient_page(page: Any) -> None:
    page.set_default_timeout(PATIENCE_MS)
    page.set_default_navigation_timeout(PATIENCE_MS)


def _seed(world: World) -> None:
    """A small market: rides and cleaning providers in two regions, customers with history;
    one listing with a picture (the others show the placeholder)."""
    compact, electric, large = 1 << 6, 1 << 0, 1 << 7
    world.register("Aino's Rides", RIDES, HELSINKI, compact, 4 * 10**16, owner=PROVIDERS[0],
                   picture=demo_picture("rides"))
    world.register("Eero Electric", RIDES, HELSINKI, electric, 6 * 10**16, owner=PROVIDERS[1])
    world.register("Helmi Vans", RIDES, HELSINKI, large, 5 * 10**16, owner=PROVIDERS[2])
    world.register("Juho Taxi", RIDES, ESPOO, compact, 3 * 10**16, owner=PROVIDERS[1])
    world.register("Lumi Cleaning", CLEANING, HELSINKI, 1 << 9, 7 * 10**16, owner=PROVIDERS[2])
    # v2: a cleaner priced in DemoUSD (permit bookings), instant, with cancellation terms.
    world.register("Sini Sparkle", CLEANING, HELSINKI, 1 << 9, 45 * DUSD_UNIT,
                   owner=PROVIDERS[0], currency=DUSD, instant=True, free_cancel_hours=24,
                   late_cancel_pct=50)
    for customer in CUSTOMERS[1:]:
        world.set_criteria(customer, RIDES, max_price=10**17)
    world.set_criteria(CUSTOMERS[3], CLEANING, currency=DUSD, max_price=100 * DUSD_UNIT)
    # Weekly hours of one ride provider: the booking page offers its free times.
    save_schedule(world.services.engine, world.providers["Helmi Vans"], parse_schedule({
        "time_zone": "Europe/Helsinki",
        "hours": [{"day": d, "from": "08:00", "to": "18:00"}
                  for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]}),
                  world.address(PROVIDERS[2]))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("e2e")
    world = make_world(tmp)
    _seed(world)
    world.sync()
    world.indexer.engine.dispose()
    settings = world.app.extensions["marketplace"].config.settings
    logs = tmp / "logs"
    services = start_services(
        rpc_url=world.node.url, deployment_path=world.deployment_path,
        database_url=settings.database_url, log_dir=logs, port=free_port(), dev_accounts=12,
        extra_env={"MARKETPLACE_SECRET_KEY": "e2e-secret-" + "k" * 40,
                   "MARKETPLACE_INDEX_REFRESH": "0.1"})
    try:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        yield Stack(world, services.url, services.processes, logs)
    finally:
        services.stop()
        world.close()
        kept = ROOT / "reports" / "e2e-logs"
        kept.mkdir(parents=True, exist_ok=True)
        for log in sorted(logs.glob("*.log")):
            text = log.read_text(errors="replace")
            (kept / log.name).write_text(text)
            if "Traceback" in text:
                sys.stderr.write(f"\n----- {log.name} -----\n{text[-4000:]}\n")
