"""The per-process matching index follows the store: updates, reorg rollbacks, redeployments."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Boolean, Engine, delete, insert, update

from marketplace.matching.eligibility import CriteriaView
from marketplace.matching.ranking import rank
from marketplace.store import schema
from marketplace.store.engine import init_db, open_engine
from marketplace.web.live_index import LiveIndex

ADDRESS = "0x" + "ab" * 20


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    built = open_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    init_db(built)
    return built


def provider_row(pid: int, price: int = 10**16, active: bool = True,
                 **extra: Any) -> dict[str, Any]:
    """A v2 `providers` row: every NOT NULL column (zero or false unless given)."""
    row: dict[str, Any] = {}
    for column in schema.providers.columns:
        if not column.nullable:
            row[column.name] = False if isinstance(column.type, Boolean) else 0
    row.update({
        "provider_id": pid, "owner": ADDRESS, "category": 1, "region": 1, "price": price,
        "stake": 10**15, "metadata_hash": "0x" + "00" * 32, "active": active,
        "score": 35_000, "reliability": 9_000, "offer_version": 1, "registered_block": 1,
        "updated_block": 1,
    })
    row.update(extra)
    return row


def checkpoint(engine: Engine, block: int, block_hash: str, address: str = ADDRESS) -> None:
    with engine.begin() as conn:
        conn.execute(delete(schema.indexer_state))
        conn.execute(insert(schema.indexer_state).values(
            id=1, chain_id=31337, address=address, start_block=1, last_block=block,
            last_hash=block_hash, confirmations=3, updated_at=0.0))


def event(engine: Engine, block: int, pid: int, name: str = "ListingUpdated") -> None:
    with engine.begin() as conn:
        conn.execute(insert(schema.events).values(
            block_number=block, log_index=0, tx_hash=f"0x{block:064x}", tx_index=0,
            block_hash=f"0x{block:064x}", event=name, booking_id=None, provider_id=pid,
            account=None, args="{}"))


@pytest.fixture
def live(engine: Engine) -> LiveIndex:
    with engine.begin() as conn:
        conn.execute(insert(schema.providers), [provider_row(1), provider_row(2)])
    checkpoint(engine, 10, "0xa")
    return LiveIndex(engine, interval=0.0)


def test_the_index_loads_every_provider_with_owner_and_metadata(live: LiveIndex) -> None:
    index = live.current()

    assert sorted(index.provider_ids()) == [1, 2]
    listing = live.listing(1)
    assert listing is not None and listing.owner == ADDRESS


def test_a_change_in_a_new_block_reaches_the_index(engine: Engine, live: LiveIndex) -> None:
    live.current()
    with engine.begin() as conn:
        conn.execute(update(schema.providers).where(schema.providers.c.provider_id == 2)
                     .values(price=5 * 10**16, updated_block=11))
        conn.execute(insert(schema.providers), [provider_row(3, registered_block=12)])
    event(engine, 11, 2)
    event(engine, 12, 3, "ProviderRegistered")
    checkpoint(engine, 12, "0xc")

    index = live.current()

    assert index.view(2).price == 5 * 10**16 and 3 in index
    assert live.rebuilds == 1 and live.refreshes == 1


def test_a_reorg_rollback_restores_the_rows_it_undid(engine: Engine, live: LiveIndex) -> None:
    live.current()
    with engine.begin() as conn:
        conn.execute(update(schema.providers).where(schema.providers.c.provider_id == 1)
                     .values(price=9 * 10**16, updated_block=11))
        conn.execute(insert(schema.providers), [provider_row(3)])
    event(engine, 11, 1)
    event(engine, 12, 3, "ProviderRegistered")
    checkpoint(engine, 12, "0xc")
    assert live.current().view(1).price == 9 * 10**16
    with engine.begin() as conn:  # the indexer rolls blocks 11 and 12 back
        conn.execute(update(schema.providers).where(schema.providers.c.provider_id == 1)
                     .values(price=10**16, updated_block=1))
        conn.execute(delete(schema.providers).where(schema.providers.c.provider_id == 3))
        conn.execute(delete(schema.events).where(schema.events.c.block_number > 10))
    checkpoint(engine, 10, "0xb")

    index = live.current()

    assert index.view(1).price == 10**16
    assert index.view(3).active is False  # its registration is gone: never eligible


def test_another_deployment_in_the_store_rebuilds_the_index(engine: Engine,
                                                           live: LiveIndex) -> None:
    live.current()
    with engine.begin() as conn:
        conn.execute(delete(schema.providers))
        conn.execute(insert(schema.providers), [provider_row(7)])
    checkpoint(engine, 3, "0xd", address="0x" + "cd" * 20)

    assert live.current().provider_ids() == [7] and live.rebuilds == 2


def test_refreshes_are_throttled_to_the_interval(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(schema.providers), [provider_row(1)])
    checkpoint(engine, 10, "0xa")
    live = LiveIndex(engine, interval=3600)
    live.current()
    with engine.begin() as conn:
        conn.execute(insert(schema.providers), [provider_row(2)])
    event(engine, 11, 2, "ProviderRegistered")
    checkpoint(engine, 11, "0xe")

    assert 2 not in live.current()
    assert 2 in live.rebuild()


def test_an_empty_store_gives_an_empty_index(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    init_db(engine)

    assert len(LiveIndex(engine).current()) == 0


def test_currencies_follow_the_checkpoint_and_reach_the_index(engine: Engine,
                                                              live: LiveIndex) -> None:
    assert set(live.currencies()) == {0}
    with engine.begin() as conn:
        conn.execute(insert(schema.currencies).values(
            currency=1, token="0x" + "01" * 20, enabled=True, min_fee=10_000, symbol="DUSD",
            decimals=6, updated_block=11))
    assert set(live.currencies()) == {0}  # the indexer has not moved the checkpoint yet
    checkpoint(engine, 11, "0xf")

    known = live.currencies()

    assert known[1].symbol == "DUSD" and known[1].decimals == 6
    with live.current().read() as columns:
        assert columns.currencies[1] == known[1]  # amounts in reasons read in DUSD


def test_queries_during_refreshes_see_each_published_index_whole(engine: Engine) -> None:
    # Every block moves value between listings' prices, keeping their total: a query that saw
    # half of a refresh would see another total. Readers run while refreshes apply hundreds of
    # row updates each (RCU: the refresh writes a copy and publishes it whole).
    listings, total = 300, 300 * 10**16
    with engine.begin() as conn:
        conn.execute(insert(schema.providers), [provider_row(pid) for pid in
                                                range(1, listings + 1)])
    checkpoint(engine, 10, "0xa")
    live = LiveIndex(engine, interval=3600.0)
    criteria = CriteriaView(category=1, max_price=10**18, version=1)
    assert rank(live.current(), criteria, k=5).eligible_count == listings
    prices = dict.fromkeys(range(1, listings + 1), 10**16)
    seen: list[int] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        try:
            while not done.is_set():
                index = live.current()
                with index.read() as columns:
                    seen.append(int(columns.price.sum()))
                assert rank(index, criteria, k=5).eligible_count == listings
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: mid-refresh reads, if any can happen
    threads = [threading.Thread(target=reader) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        for block in range(11, 19):
            shift = (block % 3 + 1) * 10**15
            with engine.begin() as conn:  # half the listings give `shift`, the others take it
                for pid in range(1, listings + 1):
                    prices[pid] += shift if (pid + block) % 2 else -shift
                    conn.execute(update(schema.providers)
                                 .where(schema.providers.c.provider_id == pid)
                                 .values(price=prices[pid], updated_block=block))
                conn.execute(insert(schema.events), [
                    {"block_number": block, "log_index": pid, "tx_hash": f"0x{block:064x}",
                     "tx_index": 0, "block_hash": f"0x{block:064x}", "event": "ListingUpdated",
                     "booking_id": None, "provider_id": pid, "account": None, "args": "{}"}
                    for pid in range(1, listings + 1)])
            checkpoint(engine, block, f"0x{block:x}")
            live.refresh()  # this thread refreshes now; the readers keep reading
    finally:
        done.set()
        for thread in threads:
            thread.join()
        sys.setswitchinterval(old_interval)
    assert not failures, failures
    assert seen and set(seen) == {total}
    assert live.refreshes == 8
    with live.current().read() as columns:
        assert int(columns.price[0]) != 10**16  # the refreshes did change prices
    with pytest.raises(RuntimeError):
        live.current().set_active(1, False)  # a published index is never written in place
