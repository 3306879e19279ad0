"""`marketplace index` from the command line: catch up, report, and fail with clear exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from marketplace.chain.anvil import free_port
from marketplace.chain.deployment import save_deployment
from marketplace.cli.db import db
from marketplace.cli.exits import ExitCode
from marketplace.cli.index import index
from marketplace.store import schema
from marketplace.store.engine import open_engine
from tests.support.indexing import (
    ROOT,
    Chain,
    StoreFactory,
    assert_same_store,
    dump_store,
    fresh_index,
)


def test_index_catches_up_with_the_chain_and_db_status_reports_it(
    chain: Chain, new_store: StoreFactory, tmp_path: Path
) -> None:
    chain.workload(pumps=2, rounds_per_tx=10).pump(30)
    deployment = save_deployment(chain.deployment, tmp_path / "deployment.json")
    url = new_store()
    runner = CliRunner()

    result = runner.invoke(index, ["--rpc", chain.node.url, "--deployment", str(deployment),
                                   "--database", url, "--no-progress"])
    status = runner.invoke(db, ["status", "--database", url])

    assert result.exit_code == 0, result.output
    assert f"last block   {chain.head()}" in status.output
    assert "0 foreign logs skipped" in status.output
    assert_same_store(dump_store(url), fresh_index(chain, new_store))


def test_index_exits_node_unreachable_and_says_so_when_no_node_answers(
    chain: Chain, new_store: StoreFactory, tmp_path: Path
) -> None:
    deployment = save_deployment(chain.deployment, tmp_path / "deployment.json")
    dead = f"http://127.0.0.1:{free_port()}"

    result = CliRunner().invoke(index, ["--rpc", dead, "--deployment", str(deployment),
                                        "--database", new_store(), "--retry-for", "0.5"])

    assert result.exit_code == ExitCode.NODE_UNREACHABLE
    assert f"no node answers at {dead}" in result.output


def test_index_exits_deep_reorg_on_a_reorg_deeper_than_the_confirmations(
    chain: Chain, new_store: StoreFactory, tmp_path: Path
) -> None:
    chain.workload(pumps=2, rounds_per_tx=4).pump(24)
    deployment = save_deployment(chain.deployment, tmp_path / "deployment.json")
    args = ["--rpc", chain.node.url, "--deployment", str(deployment), "--database", new_store(),
            "--confirmations", "2"]
    runner = CliRunner()
    assert runner.invoke(index, args).exit_code == 0

    chain.rpc("anvil_reorg", 4, [])
    result = runner.invoke(index, args)

    assert result.exit_code == ExitCode.DEEP_REORG
    assert "deeper than the confirmation window of 2 blocks" in result.output


def test_index_refuses_a_store_that_holds_another_deployment(
    chain: Chain, new_store: StoreFactory, tmp_path: Path
) -> None:
    url = new_store()
    first = save_deployment(chain.deployment, tmp_path / "first.json")
    runner = CliRunner()
    assert runner.invoke(index, ["--rpc", chain.node.url, "--deployment", str(first),
                                 "--database", url]).exit_code == 0
    from dataclasses import replace
    other = replace(chain.deployment, address="0x" + "12" * 20)
    second = save_deployment(other, tmp_path / "second.json")

    result = runner.invoke(index, ["--rpc", chain.node.url, "--deployment", str(second),
                                   "--database", url])

    assert result.exit_code == ExitCode.FAILED
    assert "the store holds" in result.output and "db init --reset" in result.output


def test_index_follow_stops_cleanly_on_sigterm(
    chain: Chain, new_store: StoreFactory, tmp_path: Path
) -> None:
    chain.workload(pumps=2, rounds_per_tx=10).pump(20)
    deployment = save_deployment(chain.deployment, tmp_path / "deployment.json")
    log = tmp_path / "follow.log"
    url = new_store()
    command = [sys.executable, "-m", "marketplace.cli", "index", "--follow",
               "--rpc", chain.node.url, "--deployment", str(deployment),
               "--database", url, "--poll-interval", "0.05"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        # SIGTERM once the follower has caught up with the head: a condition, not a pause.
        engine = open_engine(url)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            with engine.connect() as conn:
                last = conn.execute(select(schema.indexer_state.c.last_block)).scalar()
            if last == chain.head():
                break
            time.sleep(0.05)
        engine.dispose()
        assert process.poll() is None, log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    assert f"stopped at block {chain.head()}" in log.read_text()
