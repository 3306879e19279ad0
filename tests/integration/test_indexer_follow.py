"""Follow mode keeps the store within a second of the chain's head."""

from __future__ import annotations

import threading
import time

from tests.support.indexing import (
    Chain,
    StoreFactory,
    make_indexer,
)


def test_following_keeps_every_new_block_in_the_store_within_a_second(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=4)
    committed: dict[int, float] = {}
    indexer = make_indexer(
        chain, new_store(), poll_interval=0.1,
        on_commit=lambda block, at: committed.setdefault(block, at),
    )
    stop = threading.Event()
    follower = threading.Thread(target=indexer.follow, args=(stop,), daemon=True)
    follower.start()
    mined: dict[int, float] = {}
    try:
        for _ in range(15):
            sent = time.time()
            workload.pump(4)  # one block with ~16 events, mined as it is sent
            mined[chain.head()] = sent
            time.sleep(0.15)
        deadline = time.monotonic() + 10
        while max(committed, default=0) < max(mined) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        follower.join(timeout=10)

    lags = []
    for block, at in mined.items():
        seen = min(t for b, t in committed.items() if b >= block)
        lags.append(seen - at)
    assert max(lags) < 1.0, f"lags {sorted(lags)}"
