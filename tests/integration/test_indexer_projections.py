"""The store's projections equal the contract's own state, on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
from typing import Any

from sqlalchemy import select

from marketplace.artifacts import load_artifact
from marketplace.chain.deploy import DeployParams
from marketplace.indexer.scanner import SyncStats, _merge
from marketplace.store import queries, schema
from marketplace.store.engine import open_engine
from tests.support.indexing import (
    Chain,
    StoreFactory,
    assert_projections_match_contract,
    assert_same_store,
    dump_store,
    make_indexer,
    running_chain,
)


def test_projections_equal_the_contract_state_with_open_and_closed_bookings(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=3, rounds_per_tx=40)
    workload.pump(200)
    url = new_store()
    indexer = make_indexer(chain, url)

    indexer.sync()
    assert_projections_match_contract(chain, url)  # escrow still held by open bookings

    workload.finish()
    workload.admin(list(chain.w3.eth.accounts)[1])
    stats = indexer.sync()

    assert stats.skipped == 0 and stats.gaps == 0
    assert_projections_match_contract(chain, url)
    with indexer.engine.connect() as conn:
        assert {b["status_name"] for b in queries.bookings_of(conn)} == {
            "settled", "cancelled", "declined", "expired", "resolved"}


def test_every_event_is_journaled_once_and_a_booking_timeline_is_complete(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=20)
    workload.pump(64)
    url = new_store()
    indexer = make_indexer(chain, url)

    indexer.sync()

    logs = chain.rpc("eth_getLogs", {"address": chain.market.address, "fromBlock": "0x0"})
    with indexer.engine.connect() as conn:
        rows = conn.execute(
            select(schema.events.c.tx_hash, schema.events.c.log_index)
        ).all()
        assert sorted((r[0], r[1]) for r in rows) == sorted(
            (log["transactionHash"], int(log["logIndex"], 16)) for log in logs
        )
        settled = [b for b in queries.bookings_of(conn) if b["status_name"] == "settled"]
        timeline = queries.booking_timeline(conn, settled[0]["booking_id"])
    assert [e["event"] for e in timeline][:5] == [
        "BookingRequested", "BookingAccepted", "BookingCompleted", "BookingSettled",
        "BookingRated"]
    assert all(e["timestamp"] > 0 for e in timeline)


def test_criteria_keep_every_version_and_the_current_set_per_customer_and_category(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=16)
    workload.pump(32)
    url = new_store()
    make_indexer(chain, url).sync()

    customer = workload.pumps[0].address
    count = chain.market.call("criteriaVersionOf", customer)
    engine = open_engine(url)
    with engine.connect() as conn:
        history = queries.criteria_history(conn, customer)
        current = queries.current_criteria(conn, customer, 1)
    engine.dispose()
    assert [h["version"] for h in history] == list(range(1, count + 1))
    assert {h["change"] for h in history} == {
        "set", "block", "unblock", "block_owner", "unblock_owner"}
    category_changes = [h for h in history if h["category"] == 1]
    assert current is not None and current["version"] == category_changes[-1]["version"]
    assert current["blocked"] == [] and current["blocked_owners"] == []


def test_small_chunks_and_one_big_chunk_build_the_same_store(
    chain: Chain, new_store: StoreFactory
) -> None:
    chain.workload(pumps=2, rounds_per_tx=8).pump(48)
    one_chunk, small_chunks = new_store(), new_store()
    collector_on: list[bool] = []  # at each commit: the scan pauses the cyclic collector

    make_indexer(chain, one_chunk, chunk_blocks=10_000).sync()
    make_indexer(chain, small_chunks, chunk_blocks=1, max_chunk_blocks=2,
                 on_commit=lambda _block, _at: collector_on.append(gc.isenabled())).sync()

    assert collector_on and not any(collector_on)
    assert gc.isenabled()  # and turns it back on
    assert_same_store(dump_store(small_chunks), dump_store(one_chunk))


def _bookkeeping(url: str) -> tuple[list[Any], list[Any], Any]:
    """Undo records (in order, without their ids), recent block hashes and the checkpoint."""
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            undo = schema.indexer_undo.c
            state = schema.indexer_state.c
            return (
                [tuple(r) for r in conn.execute(
                    select(undo.block_number, undo.table_name, undo.key, undo.image)
                    .order_by(undo.id)
                )],
                [tuple(r) for r in conn.execute(
                    select(schema.indexer_recent_blocks).order_by(
                        schema.indexer_recent_blocks.c.number)
                )],
                tuple(conn.execute(select(state.last_block, state.last_hash)).one()),
            )
    finally:
        engine.dispose()


def test_chunks_merged_into_one_transaction_leave_the_store_committing_them_apart_leaves(
    chain: Chain, new_store: StoreFactory
) -> None:
    chain.workload(pumps=2, rounds_per_tx=8).pump(48)
    apart, merged = new_store(), new_store()
    head = chain.head()
    one_by_one = make_indexer(chain, apart, confirmations=6)
    together = make_indexer(chain, merged, confirmations=6)
    one_by_one.open()
    together.open()
    start = one_by_one.target.start_block
    cuts = [start, start + (head - start) // 3, head - 8, head - 3, head + 1]
    chunks, previous = [], None
    for first, after in zip(cuts, cuts[1:], strict=False):
        chunk = one_by_one._fetch(first, after - 1, head, previous)
        chunks.append(chunk)
        previous = chunk.hashes[after - 1]
    assert [c.undo_from is None for c in chunks] == [True, True, False, False]

    for chunk in chunks:
        one_by_one._commit(chunk, SyncStats())
    stats = SyncStats()
    together._commit(_merge(chunks[:1]), stats)
    together._commit(_merge(chunks[1:]), stats)  # final and provisional blocks together

    assert stats.chunks == 4 and stats.commits == 2
    assert_same_store(dump_store(merged), dump_store(apart))
    assert _bookkeeping(merged) == _bookkeeping(apart)


def test_provider_history_ends_at_each_provider_and_holds_every_score_change(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=30)
    workload.pump(120)
    workload.finish()
    url = new_store()
    indexer = make_indexer(chain, url)

    indexer.sync()

    history, providers = schema.provider_history, schema.providers
    columns = ("category", "region", "attributes", "currency", "price", "offer_version",
               "active", "rating_weight", "weighted_stars", "score", "completed", "failures",
               "reliability")
    with indexer.engine.connect() as conn:
        rows = conn.execute(
            select(history).order_by(history.c.block_number, history.c.log_index)
        ).mappings().all()
        by_provider: dict[int, list[dict[str, object]]] = {}
        for row in rows:
            by_provider.setdefault(int(row["provider_id"]), []).append(dict(row))
        current = conn.execute(select(providers)).mappings().all()
        assert current and sum(int(p["rating_count"]) for p in current) > 0
        for provider in current:
            own = by_provider[int(provider["provider_id"])]
            assert own[0]["event"] == "ListingRegistered"
            assert {c: own[-1][c] for c in columns} == {c: provider[c] for c in columns}
            ratings = [r for r in own if r["event"] == "BookingRated"]
            lost = [r for r in own if r["event"] == "DisputeResolved" and r["stars"] == 1]
            assert len(ratings) == provider["rating_count"]
            assert sum(int(str(r["stars"])) for r in ratings) == provider["rating_sum"]
            assert len(lost) == provider["disputes_lost"]
            assert sum(int(str(r["weight"])) for r in ratings + lost) == provider["rating_weight"]


def test_v2_signals_offers_owners_attestations_and_stakes_are_queryable(
    chain: Chain, new_store: StoreFactory
) -> None:
    workload = chain.workload(pumps=2, rounds_per_tx=40)
    workload.pump(240)
    workload.finish()
    url = new_store()
    indexer = make_indexer(chain, url)

    stats = indexer.sync()

    assert stats.skipped == 0 and stats.gaps == 0
    assert_projections_match_contract(chain, url)
    market = chain.market
    with indexer.engine.connect() as conn:
        listings = queries.list_providers(conn)
        bookings = queries.bookings_of(conn)
        for booking in bookings:  # the offer each booking was made against is recoverable
            offer = queries.offer(conn, booking["provider_id"], booking["offer_version"])
            assert offer is not None and offer["price"] == booking["price"]
            key = market.call("decodeBookingId", booking["booking_id"])
            assert (booking["customer"], booking["provider_id"], booking["start"],
                    booking["duration_minutes"], booking["salt"]) == (
                key[0].lower(), key[1], key[2], key[3], key[4])
        assert max(len(queries.offers_of(conn, p["provider_id"])) for p in listings) > 1
        assert {b["status_name"] for b in bookings} >= {
            "settled", "cancelled", "declined", "expired", "resolved"}
        assert any(b["compensation"] for b in bookings)  # late cancellations
        assert any(b["slash"] for b in bookings)  # no-shows
        assert any(b["arbiter_pay"] for b in bookings)  # disputes
        assert any(p["instant"] for p in listings)
        assert all(p["failures"] > 0 and p["completed"] > 0 for p in listings)
        owner = queries.owner_history(conn, listings[0]["owner"])
        assert owner is not None and owner["listings"] == len(owner["listings_detail"]) == 3
        assert owner["reliability"] < 9000
        attested = [p for p in listings if p["attestations"]]
        assert attested
        for p in attested:
            for row in queries.attestations_of(conn, p["provider_id"]):
                assert row["verified"] == market.call(
                    "verifiedAttributesOf", p["provider_id"], 1 << (row["attestor_id"] - 1))
        kinds = {m["kind"] for m in queries.stake_movements(conn)}
        assert kinds == {"register", "top_up", "slash", "arbiter_pay", "release"}
        assert {a["arbiter_id"] for a in queries.arbiters(conn)} >= {1}
        settings = queries.market_settings(conn)
        assert settings is not None and settings["default_arbiter_id"] == market.call(
            "defaultArbiter")
        assert {c["status"] for c in queries.operator_changes(conn)} >= {"applied"}


def test_token_bookings_keep_their_own_ledger_equal_to_the_tokens_balance(
    new_store: StoreFactory,
) -> None:
    with running_chain(DeployParams(min_stake=10**15, demo_token=True), accounts=4) as chain:
        w3 = chain.w3
        operator, provider, customer = (str(a) for a in list(w3.eth.accounts)[:3])
        record = chain.deployment.currencies[0]
        token = w3.eth.contract(address=record["token"], abi=load_artifact("DemoUSD")["abi"])
        m = chain.market.contract.functions

        def send(fn: Any, sender: str, value: int = 0) -> None:
            receipt = w3.eth.wait_for_transaction_receipt(
                fn.transact({"from": sender, "value": value})
            )
            assert receipt["status"] == 1

        price = 10 * 10**6  # 10 dUSD
        send(token.functions.mint(customer, 10**9), operator)
        send(m.register((1, 1, 0b11, 1, price, b"\x11" * 32, False, 24, 50)), provider,
             value=10**15)
        send(m.setCriteria((1, 0, 1, 0, 10**9, 0, 0, 0, 0, 0, 0, 0, 5000, 5000)), customer)
        version = chain.market.call("getCriteria", customer, 1)[5]
        start = int(w3.eth.get_block("latest")["timestamp"]) + 3600
        ids = []
        for salt in (0, 1, 2):
            send(token.functions.approve(chain.market.address, price), customer)
            send(m.book((1, start, 60, salt, 1, version)), customer)
            ids.append(chain.market.call("encodeBookingId", customer, 1, start, 60, salt))
        send(m.accept(ids[0]), provider)
        send(m.accept(ids[1]), provider)
        send(m.cancel(ids[1]), customer)  # 24 free hours: a late cancellation, 50 % to provider
        chain.rpc("evm_increaseTime", 3601)
        chain.mine()
        send(m.complete(ids[0]), provider)
        send(m.confirmAndRate(ids[0], 5, 0), customer)
        send(m.withdraw(1), provider)  # ids[2] stays requested: escrow in dUSD
        url = new_store()
        indexer = make_indexer(chain, url)

        indexer.sync()

        assert_projections_match_contract(chain, url)
        with indexer.engine.connect() as conn:
            dusd = queries.ledger_totals(conn, 1)
            currency = queries.currency(conn, 1)
            bookings = queries.bookings_of(conn, customer=customer)
            listing = queries.get_provider(conn, 1)
        assert dusd["escrow"] == price and dusd["open_bookings"] == 1
        assert dusd["accrued_fees"] == chain.market.call("accruedFees", 1) > 0
        assert currency is not None
        assert (currency["symbol"], currency["decimals"]) == (
            token.functions.symbol().call(), token.functions.decimals().call())
        assert currency["min_fee"] == record["min_fee"]
        assert [b["currency"] for b in bookings] == [1, 1, 1]
        assert bookings[1]["compensation"] == price // 2
        assert listing is not None and listing["rating_weight"] == bookings[0]["weight"] > 0
