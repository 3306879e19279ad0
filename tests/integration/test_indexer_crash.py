"""An indexer killed with SIGKILL at random moments resumes with no duplicate and no gap."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.chain.deployment import save_deployment
from marketplace.store import schema
from marketplace.store.engine import open_engine
from tests.support.indexing import (
    ROOT,
    Chain,
    StoreFactory,
    assert_same_store,
    dump_store,
    fresh_index,
    running_chain,
)

KILLS = 20
MARKER = "indexing "


@pytest.fixture(scope="module")
def busy_chain() -> Iterator[Chain]:
    """~400 blocks with ~8 marketplace events each; the tests only read it."""
    with running_chain(accounts=4) as chain:
        chain.workload(pumps=2, rounds_per_tx=2).pump(800)
        yield chain


def _start(chain: Chain, url: str, deployment: Path, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "marketplace.cli_index", "index",
        "--rpc", chain.node.url, "--deployment", str(deployment), "--database", url,
        "--chunk-blocks", "1", "--max-chunk-blocks", "2", "--confirmations", "12",
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def _wait_for_marker(process: subprocess.Popen[bytes], log: Path) -> bool:
    """True once the indexer has opened the store and starts reading; False if it exited."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if MARKER in log.read_text(errors="replace"):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.01)
    raise AssertionError(f"the indexer never started:\n{log.read_text()}")


def test_an_indexer_killed_at_twenty_random_points_resumes_without_duplicates_or_gaps(
    busy_chain: Chain, new_store: StoreFactory, tmp_path: Path
) -> None:
    chain = busy_chain
    url = new_store()
    deployment = save_deployment(chain.deployment, tmp_path / "deployment.json")
    log = tmp_path / "indexer.log"
    rng = random.Random(20260522)
    kills = 0
    checkpoints: list[int] = []
    engine = open_engine(url)
    while kills < KILLS:
        process = _start(chain, url, deployment, log)
        if not _wait_for_marker(process, log):
            pytest.fail(f"the indexer finished after only {kills} kills:\n{log.read_text()}")
        time.sleep(rng.uniform(0.0, 0.12))
        if process.poll() is not None:
            pytest.fail(f"the indexer finished after only {kills} kills:\n{log.read_text()}")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        kills += 1
        with engine.connect() as conn:
            last = conn.execute(select(schema.indexer_state.c.last_block)).scalar()
        checkpoints.append(int(last) if last is not None else -1)

    final = _start(chain, url, deployment, log)
    assert final.wait(timeout=120) == 0, log.read_text()

    assert checkpoints == sorted(checkpoints)  # never went backwards
    assert len(set(checkpoints)) >= 5  # the kills landed at many different points
    logs = chain.rpc("eth_getLogs", {"address": chain.market.address, "fromBlock": "0x0"})
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(schema.events)).scalar_one()
        last = conn.execute(select(schema.indexer_state.c.last_block)).scalar_one()
    engine.dispose()
    assert count == len(logs)  # every log once: no duplicate (unique key) and no gap
    assert last == chain.head()
    assert_same_store(dump_store(url), fresh_index(chain, new_store))
