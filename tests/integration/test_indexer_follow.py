"""Follow mode commits every new block as the chain grows; the store ends equal to a fresh index.

How fast it follows (the lag behind the head) is a benchmark figure (`make bench-indexer`,
`follow_lag_p99_s`), never asserted here: a test's outcome must not depend on the machine's speed.
"""

from __future__ import annotations

import threading

from tests.support.indexing import (
    Chain,
    StoreFactory,
    assert_same_store,
    dump_store,
    fresh_index,
    make_indexer,
)
from tests.support.waiting import HANG


def test_following_commits_every_new_block_while_the_chain_grows(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=4)
    url = new_store()
    committed: list[int] = []
    seen = threading.Condition()

    def on_commit(block: int, _at: float) -> None:
        with seen:
            committed.append(block)
            seen.notify_all()

    indexer = make_indexer(chain, url, poll_interval=0.05, on_commit=on_commit)
    stop = threading.Event()
    follower = threading.Thread(target=indexer.follow, args=(stop,), daemon=True)
    follower.start()
    mined: list[int] = []
    try:
        for _ in range(15):
            workload.pump(4)  # one block with ~16 events, mined as it is sent
            mined.append(chain.head())
            # the next block only once this one is in the store: every round is a new block
            # reaching a follower that is already waiting, whatever the machine's speed
            with seen:
                assert seen.wait_for(lambda: max(committed, default=-1) >= mined[-1], HANG), (
                    f"block {mined[-1]} never reached the store; committed {committed[-5:]}")
    finally:
        stop.set()
        follower.join(timeout=HANG)

    assert not follower.is_alive()
    assert committed == sorted(committed)  # commits move forward only
    assert len(set(committed) & set(mined)) == len(mined)  # each new head was committed as one
    assert_same_store(dump_store(url), fresh_index(chain, new_store))
