"""Fault: PostgreSQL restarts under a following indexer; nothing is lost or written twice."""

from __future__ import annotations

import glob
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.indexing import (
    Chain,
    assert_same_store,
    dump_store,
    fresh_index,
    make_indexer,
    running_chain,
    store_factory,
)
from tests.support.waiting import wait_for


def _cluster() -> list[str] | None:
    """`pg_ctlcluster` arguments for this machine's cluster, when we may restart it."""
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        return None
    versions = sorted(Path(p).name for p in glob.glob("/etc/postgresql/*"))
    if not versions:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]



@pytest.fixture
def chain() -> Iterator[Chain]:
    with running_chain(accounts=4) as running:
        yield running


def test_the_indexer_rides_out_a_postgres_restart_and_the_store_equals_a_fresh_index(
    chain: Chain, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cluster = _cluster()
    if cluster is None:
        message = "restarting PostgreSQL needs root and pg_ctlcluster"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with store_factory("postgresql", tmp_path) as new_store:
        workload = chain.workload(pumps=2, rounds_per_tx=8)
        workload.pump(12)
        url = new_store()
        indexer = make_indexer(chain, url, retry_for=None, poll_interval=0.05)
        stop = threading.Event()
        follower = threading.Thread(target=indexer.follow, args=(stop,), daemon=True)
        caplog.set_level(logging.WARNING, logger="marketplace.indexer")
        follower.start()
        try:
            wait_for(lambda: indexer.checkpoint()[0] == chain.head())
            subprocess.run([*cluster, "stop", "-m", "fast"], check=True, timeout=60)
            try:
                workload.pump(16)  # the chain moves on while the store is gone
                time.sleep(1.0)
            finally:
                subprocess.run([*cluster, "start"], check=True, timeout=60)
            workload.pump(8)
            wait_for(lambda: indexer.checkpoint()[0] == chain.head())
        finally:
            stop.set()
            follower.join(timeout=30)
            indexer.engine.dispose()
        assert any("retrying" in r.getMessage() for r in caplog.records)
        assert_same_store(dump_store(url), fresh_index(chain, new_store))
