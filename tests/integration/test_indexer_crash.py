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
from tests.support.rpc_gate import RpcGate
from tests.support.waiting import HANG

KILLS = 20
MAX_CHUNK_BLOCKS = 2
MAX_CHUNKS_PER_LIFE = 4  # eth_getLogs a killed indexer may make before the gate holds it


@pytest.fixture(scope="module")
def busy_chain() -> Iterator[Chain]:
    """~400 blocks with ~8 marketplace events each; the tests only read it."""
    with running_chain(accounts=4) as chain:
        chain.workload(pumps=2, rounds_per_tx=2).pump(800)
        yield chain


def _start(url: str, deployment: Path, log: Path, rpc: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "marketplace.cli", "index",
        "--rpc", rpc, "--deployment", str(deployment), "--database", url,
        "--chunk-blocks", "1", "--max-chunk-blocks", str(MAX_CHUNK_BLOCKS), "--confirmations", "12",
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def _kill_one_life(
    chain: Chain, url: str, deployment: Path, log: Path, rng: random.Random
) -> None:
    """Runs an indexer that may read 1..MAX_CHUNKS_PER_LIFE chunks, and SIGKILLs it.

    Half the lives die at a random moment after their last granted chunk arrived (decoding it,
    writing it, or already waiting for the next); the other half die while held at the gate, so
    their last chunk is surely committed and the checkpoints are sure to move. The indexer can
    never finish inside a life, on any machine: the grant is smaller than the chain.
    """
    grant = rng.randint(1, MAX_CHUNKS_PER_LIFE)
    at_random_moment = rng.random() < 0.5
    delay = rng.uniform(0.0, 0.05)
    with RpcGate(chain.node.url, frozenset({"eth_getLogs"}), grant=grant) as gate:
        process = _start(url, deployment, log, gate.url)
        try:
            if at_random_moment:
                reached = gate.wait_served(grant, HANG)
                time.sleep(delay)
            else:
                reached = gate.wait_blocked(HANG)
            if process.poll() is not None:
                pytest.fail(f"the indexer exited by itself (status {process.returncode}):\n"
                            f"{log.read_text()}")
            assert reached, f"the indexer made no progress within {HANG:g} s:\n{log.read_text()}"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=HANG)


def test_an_indexer_killed_at_twenty_random_points_resumes_without_duplicates_or_gaps(
    busy_chain: Chain, new_store: StoreFactory, tmp_path: Path
) -> None:
    chain = busy_chain
    # By construction no life can reach the head: all lives together read fewer chunks than it has.
    assert KILLS * MAX_CHUNKS_PER_LIFE * MAX_CHUNK_BLOCKS < chain.head() - 12
    url = new_store()
    deployment = save_deployment(chain.deployment, tmp_path / "deployment.json")
    log = tmp_path / "indexer.log"
    rng = random.Random(20260522)
    checkpoints: list[int] = []
    engine = open_engine(url)
    for _ in range(KILLS):
        _kill_one_life(chain, url, deployment, log, rng)
        with engine.connect() as conn:
            last = conn.execute(select(schema.indexer_state.c.last_block)).scalar()
        checkpoints.append(int(last) if last is not None else -1)

    final = _start(url, deployment, log, chain.node.url)
    assert final.wait(timeout=600) == 0, log.read_text()

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
