"""Reorgs made on anvil leave the store exactly as a fresh index of the new chain would."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from marketplace.indexer import DeepReorgError
from marketplace.store import schema
from tests.support.indexing import (
    Chain,
    StoreFactory,
    assert_same_store,
    dump_store,
    fresh_index,
    make_indexer,
)
from tests.support.waiting import HANG, wait_for

CONFIRMATIONS = 12


def _pump_tx(chain: Chain, pumps: list[Any], rounds: int, nonce: int) -> dict[str, str]:
    """A pump transaction as anvil_reorg takes it (hex quantities, explicit nonce)."""
    tx = pumps[0].functions.pump(rounds).build_transaction(
        {"from": chain.operator, "gas": 10_000_000, "nonce": nonce}
    )
    return {k: hex(v) if isinstance(v, int) else str(v) for k, v in tx.items()}


def _reorg_with_anvil(chain: Chain, pumps: list[Any], depth: int) -> None:
    # The replaced blocks each held one operator transaction: reuse the first one's nonce.
    nonce = chain.w3.eth.get_transaction_count(chain.w3.to_checksum_address(chain.operator)) - depth
    chain.rpc("anvil_reorg", depth, [[_pump_tx(chain, pumps, 3, nonce), 0],
                                    [_pump_tx(chain, pumps, 1, nonce + 1), depth - 1]])


def _event_txs(url: str) -> set[str]:
    from marketplace.store.engine import open_engine

    engine = open_engine(url)
    with engine.connect() as conn:
        hashes = set(conn.execute(select(schema.events.c.tx_hash)).scalars())
    engine.dispose()
    return hashes


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_an_anvil_reorg_of_this_depth_leaves_the_store_identical_to_a_fresh_index(
    chain: Chain, new_store: StoreFactory, depth: int
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=4)
    workload.pump(4 * (depth + 4))  # one transaction, one block, ~16 events each
    url = new_store()
    indexer = make_indexer(chain, url, confirmations=CONFIRMATIONS)
    indexer.sync()
    head = chain.head()
    orphaned = {
        log["transactionHash"]
        for log in chain.rpc("eth_getLogs", {"address": chain.market.address,
                                             "fromBlock": hex(head - depth + 1)})
    }

    _reorg_with_anvil(chain, workload.pumps, depth)
    stats = indexer.sync()

    assert stats.reorgs == 1
    assert chain.head() == head
    assert not orphaned & _event_txs(url)
    assert_same_store(dump_store(url), fresh_index(chain, new_store))


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_a_snapshot_revert_reorg_of_this_depth_leaves_the_store_identical_to_a_fresh_index(
    chain: Chain, new_store: StoreFactory, depth: int
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=4)
    workload.pump(16)
    snapshot = chain.rpc("evm_snapshot")
    workload.pump(4 * depth)  # `depth` blocks that will be replaced
    url = new_store()
    indexer = make_indexer(chain, url, confirmations=CONFIRMATIONS)
    indexer.sync()
    tip = chain.head()

    chain.rpc("evm_revert", snapshot)
    workload.pump(6 * depth, rounds_per_tx=3)  # a different, longer branch
    stats = indexer.sync()

    assert stats.reorgs == 1
    assert chain.head() > tip
    assert_same_store(dump_store(url), fresh_index(chain, new_store))


def test_a_shorter_replacement_chain_rolls_the_store_back_too(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=4)
    workload.pump(16)
    snapshot = chain.rpc("evm_snapshot")
    workload.pump(12)
    url = new_store()
    indexer = make_indexer(chain, url, confirmations=CONFIRMATIONS)
    indexer.sync()

    chain.rpc("evm_revert", snapshot)
    chain.mine(1)  # the new branch is shorter than the indexed one
    indexer.sync()

    assert indexer.checkpoint()[0] == chain.head()
    assert_same_store(dump_store(url), fresh_index(chain, new_store))


def test_a_reorg_deeper_than_the_confirmations_stops_the_indexer_with_a_clear_error(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=4)
    workload.pump(40)
    url = new_store()
    indexer = make_indexer(chain, url, confirmations=3)
    indexer.sync()
    before = dump_store(url)

    _reorg_with_anvil(chain, workload.pumps, 5)
    with pytest.raises(DeepReorgError, match="deeper than the confirmation window of 3 blocks"):
        indexer.sync()

    assert dump_store(url) == before  # nothing guessed, nothing half-done


def test_a_reorg_while_following_the_head_is_rolled_back_and_re_read(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=4)
    workload.pump(24)
    url = new_store()
    indexer = make_indexer(chain, url, confirmations=CONFIRMATIONS, poll_interval=0.05)
    stop = threading.Event()
    follower = threading.Thread(target=indexer.follow, args=(stop,), daemon=True)
    follower.start()
    try:
        wait_for(lambda: indexer.checkpoint()[0] == chain.head())
        _reorg_with_anvil(chain, workload.pumps, 4)
        workload.pump(8)
        wait_for(lambda: indexer.checkpoint() == (chain.head(), _head_hash(chain)))
    finally:
        stop.set()
        follower.join(timeout=HANG)
    assert not follower.is_alive()
    assert_same_store(dump_store(url), fresh_index(chain, new_store))


def _head_hash(chain: Chain) -> str:
    return str(chain.rpc("eth_getBlockByNumber", "latest", False)["hash"])
