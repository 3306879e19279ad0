"""The v2 projections, event by event, without a chain: hand-made events folded into real stores
(SQLite and PostgreSQL), checked against the contract's rules in `marketplace.domain`; a rollback
restores exactly the store of the shorter chain, and any chunking builds the same store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from marketplace import domain
from marketplace.chain.logs import DecodedEvent
from marketplace.indexer.batch import apply_events
from marketplace.indexer.scanner import _abi_small_uint, _abi_string
from marketplace.indexer.state import RowCache, UnitOfWork, rollback_to
from marketplace.store import queries, schema
from marketplace.store.engine import open_engine
from tests.support.indexing import BACKENDS, store_factory

OPERATOR = "0x" + "0a" * 20
OWNER = "0x" + "01" * 20
OTHER_OWNER = "0x" + "02" * 20
CUSTOMER = "0x" + "c1" * 20
ARBITER = "0x" + "ab" * 20
ATTESTOR = "0x" + "a7" * 20
TOKEN = "0x" + "70" * 20
ZERO = domain.ZERO_ADDRESS
MIN_FEE = 10**12
TOKEN_MIN_FEE = 10_000
STAKE = 10**16
BOND = 10**15
HOUR = 3600
START = 1_900_000_000


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_factory(request.param, tmp_path) as make:
        made = open_engine(make())
        yield made
        made.dispose()


class Chain:
    """Hand-made events with increasing positions."""

    def __init__(self) -> None:
        self.events: list[DecodedEvent] = []
        self.block = 1
        self.log_index = 0

    def next_block(self) -> None:
        self.block += 1
        self.log_index = 0

    def emit(self, name: str, **args: Any) -> None:
        self.events.append(
            DecodedEvent(
                name=name,
                args=args,
                block_number=self.block,
                block_hash=f"0x{self.block:064x}",
                block_timestamp=1_800_000_000 + self.block * 12,
                tx_hash=f"0x{self.block:032x}{self.log_index:032x}",
                tx_index=0,
                log_index=self.log_index,
            )
        )
        self.log_index += 1


def fold(engine: Engine, events: list[DecodedEvent], undo_from: int | None = None,
         tokens: dict[str, tuple[str | None, int | None]] | None = None,
         known: RowCache | None = None) -> None:
    with engine.begin() as conn:
        uow = UnitOfWork(conn, undo_from, known)
        uow.tokens = tokens or {}
        stats = apply_events(uow, events)
        uow.flush()
    if known is not None:
        known.remember(uow)
    assert stats.gaps == 0


def listing(price: int, currency: int = 0, attributes: int = 0b1011, instant: bool = False,
            free: int = 24, late: int = 50) -> dict[str, Any]:
    return {"category": 1, "region": 2, "attributes": attributes, "currency": currency,
            "price": price, "metadataHash": "0x" + "11" * 32, "instant": instant,
            "freeCancelHours": free, "lateCancelPct": late}


def setup_market(c: Chain) -> None:
    """What the constructor emits: settings, ether min fee, arbiter 1 (default), attestor 1,
    token currency 1 (its min fee first)."""
    c.emit("OwnershipTransferred", previousOwner=ZERO, newOwner=OPERATOR)
    c.emit("ChangeApplied", kind=0, account=ZERO, value=250)
    c.emit("ChangeApplied", kind=1, account=ZERO, value=STAKE)
    c.emit("ChangeApplied", kind=2, account=ZERO, value=BOND)
    c.emit("ChangeApplied", kind=3, account=ZERO, value=MIN_FEE)
    c.emit("ArbiterSet", id=1, account=ARBITER, allowed=True)
    c.emit("ChangeApplied", kind=4, account=ARBITER, value=1)
    c.emit("ChangeApplied", kind=5, account=ARBITER, value=0)
    c.emit("AttestorSet", id=1, account=ATTESTOR, allowed=True)
    c.emit("ChangeApplied", kind=6, account=ATTESTOR, value=1)
    c.emit("ChangeApplied", kind=3, account=TOKEN, value=TOKEN_MIN_FEE)
    c.emit("CurrencySet", id=1, token=TOKEN, enabled=True)
    c.emit("ChangeApplied", kind=7, account=TOKEN, value=1)


def register(c: Chain, provider_id: int, owner: str = OWNER, **offer: Any) -> None:
    c.emit("ListingRegistered", providerId=provider_id, owner=owner, category=1,
           listing=listing(**({"price": 10**15} | offer)), offerVersion=1, stake=STAKE)


def book(c: Chain, provider_id: int, start: int = START, salt: int = 0, currency: int = 0,
         price: int = 10**15, offer_version: int = 1) -> int:
    booking = domain.booking_id(CUSTOMER, provider_id, start, 90, salt)
    min_fee = TOKEN_MIN_FEE if currency else MIN_FEE
    c.emit("BookingRequested", bookingId=booking, customer=CUSTOMER, providerId=provider_id,
           currency=currency, price=price, fee=domain.booking_fee(price, 250, min_fee),
           offerVersion=offer_version, criteriaVersion=1, arbiterId=1, respondBy=start - HOUR)
    return booking


def accept(c: Chain, booking: int, provider_id: int) -> None:
    c.emit("BookingAccepted", bookingId=booking,
           serviceBy=START + 3 * HOUR, stakeLockedUntil=START + 20 * 24 * HOUR)


def serve(c: Chain, booking: int, provider_id: int, price: int = 10**15,
          min_fee: int = MIN_FEE, stars: int | None = 5) -> None:
    accept(c, booking, provider_id)
    c.emit("BookingCompleted", bookingId=booking,
           confirmBy=START + 5 * 24 * HOUR)
    fee = domain.booking_fee(price, 250, min_fee)
    c.emit("BookingSettled", bookingId=booking,
           payout=price - fee, fee=fee, by=CUSTOMER)
    if stars is not None:
        c.emit("BookingRated", bookingId=booking,
               stars=stars, complaintTags=0, weight=domain.rating_weight(fee, min_fee),
               newScore=0)


def scenario() -> Chain:
    """Every v2 event at least once."""
    c = Chain()
    setup_market(c)
    c.next_block()
    register(c, 1)
    register(c, 2, currency=1, price=10**7, instant=True)
    register(c, 3, owner=OTHER_OWNER)
    c.emit("ListingUpdated", providerId=1, offerVersion=2, listing=listing(2 * 10**15))
    c.emit("AttributesAttested", providerId=1, attestor=ATTESTOR, attestorId=1,
           attributes=0b0011)
    c.emit("AttributesAttested", providerId=3, attestor=ATTESTOR, attestorId=1,
           attributes=0b0001)
    c.emit("StakeToppedUp", providerId=1, by=OWNER, amount=STAKE, stake=2 * STAKE)
    c.next_block()
    # settled and rated, in ether at offer 2
    b1 = book(c, 1, price=2 * 10**15, offer_version=2)
    serve(c, b1, 1, price=2 * 10**15)
    # an instant token booking, settled and rated
    b2 = book(c, 2, currency=1, price=10**7)
    serve(c, b2, 2, price=10**7, min_fee=TOKEN_MIN_FEE, stars=4)
    c.next_block()
    # a late cancellation of an accepted booking: 50 % compensation
    b3 = book(c, 1, salt=1, price=2 * 10**15, offer_version=2)
    accept(c, b3, 1)
    c.emit("BookingCancelled", bookingId=b3,
           refund=10**15, compensation=10**15)
    # a provider's cancellation after acceptance, and a decline of a request
    b4 = book(c, 1, salt=2, price=2 * 10**15, offer_version=2)
    accept(c, b4, 1)
    c.emit("BookingDeclined", bookingId=b4,
           refund=2 * 10**15, afterAcceptance=True)
    b5 = book(c, 3, salt=3)
    c.emit("BookingDeclined", bookingId=b5, refund=10**15,
           afterAcceptance=False)
    c.next_block()
    # a no-show: full refund and 10 % of the stake to the customer
    b6 = book(c, 3, salt=4)
    accept(c, b6, 3)
    c.emit("BookingExpired", bookingId=b6, refund=10**15,
           noShow=True)
    c.emit("StakeSlashed", providerId=3, bookingId=b6, to=CUSTOMER, amount=STAKE // 10)
    # a dispute the provider loses: bond back, arbiter paid from the stake, one star at weight
    b7 = book(c, 3, salt=5)
    accept(c, b7, 3)
    c.emit("BookingCompleted", bookingId=b7, confirmBy=START)
    c.emit("BookingDisputed", bookingId=b7, bond=BOND,
           arbitrateBy=START + 9 * 24 * HOUR)
    fee = domain.booking_fee(10**15, 250, MIN_FEE)
    refund, payout = (10**15 - fee) * 8000 // 10_000, (10**15 - fee) * 2000 // 10_000
    c.emit("StakeSlashed", providerId=3, bookingId=b7, to=ARBITER, amount=BOND)
    c.emit("DisputeResolved", bookingId=b7, arbiter=ARBITER,
           refundBps=8000, refund=refund, payout=payout, fee=fee, bond=BOND,
           providerLost=True, weight=domain.rating_weight(fee, MIN_FEE))
    # a dispute resolved by default: 50/50, bond back, no effect
    b8 = book(c, 1, salt=6, price=2 * 10**15, offer_version=2)
    serve_fee = domain.booking_fee(2 * 10**15, 250, MIN_FEE)
    accept(c, b8, 1)
    c.emit("BookingCompleted", bookingId=b8, confirmBy=START)
    c.emit("BookingDisputed", bookingId=b8, bond=BOND,
           arbitrateBy=START)
    half = (2 * 10**15 - serve_fee) // 2
    c.emit("DisputeResolved", bookingId=b8, arbiter=ZERO,
           refundBps=5000, refund=half, payout=2 * 10**15 - serve_fee - half, fee=serve_fee,
           bond=BOND, providerLost=False, weight=0)
    c.next_block()
    # criteria, blocks, operator changes, money
    criteria = {"category": 1, "region": 0, "currency": 0, "minScore": 30_000,
                "maxPrice": 10**16, "premiumPerStar": 0, "requiredAttributes": 0b0011,
                "refusedAttributes": 0, "verifiedAttributes": 0b0001, "trustedAttestors": 1,
                "minRatingWeight": 1000, "minReliability": 8000, "scoreWeight": 5000,
                "priceWeight": 5000}
    c.emit("CriteriaSet", customer=CUSTOMER, category=1, version=1, criteria=criteria)
    c.emit("ProviderBlockChanged", customer=CUSTOMER, providerId=3, category=1, blocked=True,
           version=2)
    c.emit("OwnerBlockChanged", customer=CUSTOMER, owner=OTHER_OWNER, blocked=True, version=3)
    c.emit("ChangeScheduled", kind=0, account=ZERO, value=300, eta=1_900_000_000)
    c.emit("ChangeScheduled", kind=2, account=ZERO, value=2 * BOND, eta=1_900_000_000)
    c.emit("ChangeCancelled", kind=2, account=ZERO, value=2 * BOND)
    c.next_block()
    c.emit("ChangeApplied", kind=0, account=ZERO, value=300)
    c.emit("PauseChanged", paused=True, by=OPERATOR)
    c.emit("FeesCollected", currency=1, to=OPERATOR, amount=10)
    c.emit("Withdrawn", account=CUSTOMER, to=CUSTOMER, currency=0,
           amount=STAKE // 10)
    c.emit("ListingDeactivated", providerId=3, unlockAt=START + 30 * 24 * HOUR)
    c.emit("StakeReleased", providerId=3, owner=OTHER_OWNER, amount=STAKE - STAKE // 10 - BOND)
    c.emit("AttestorSet", id=2, account=OPERATOR, allowed=True)
    c.emit("AttributesAttested", providerId=1, attestor=OPERATOR, attestorId=2,
           attributes=0b1000)
    c.emit("AttributesAttested", providerId=1, attestor=OPERATOR, attestorId=2, attributes=0)
    return c


def test_every_v2_event_is_projected_as_the_contract_keeps_it(engine: Engine) -> None:
    c = scenario()
    fold(engine, c.events)
    fee1 = domain.booking_fee(2 * 10**15, 250, MIN_FEE)
    w1 = domain.rating_weight(fee1, MIN_FEE)
    fee7 = domain.booking_fee(10**15, 250, MIN_FEE)
    w7 = domain.rating_weight(fee7, MIN_FEE)
    with engine.connect() as conn:
        p1, p2, p3 = (queries.get_provider(conn, i) for i in (1, 2, 3))
        assert p1 is not None and p2 is not None and p3 is not None
        # listing 1: offer 2, one five-star rating, a settled booking, a provider cancellation
        assert (p1["offer_version"], p1["price"], p1["currency"]) == (2, 2 * 10**15, 0)
        assert (p1["rating_weight"], p1["weighted_stars"]) == (w1, 5 * w1)
        assert p1["score"] == domain.weighted_score(w1, 5 * w1)
        assert (p1["completed"], p1["failures"]) == (1, 1)
        assert p1["reliability"] == domain.reliability(1, 1)
        assert (p1["stake"], p1["stake_topped_up"], p1["locked_until"]) == (
            2 * STAKE, STAKE, START + 20 * 24 * HOUR)
        assert p1["attestations"] == {1: 0b0011}  # attestor 2 revoked
        # listing 2: instant, token-priced
        assert (p2["instant"], p2["currency"], p2["completed"]) == (True, 1, 1)
        # listing 3: a no-show (slash), a lost dispute (one star at weight, arbiter paid)
        assert (p3["no_shows"], p3["disputes_lost"], p3["failures"], p3["completed"]) == (
            1, 1, 2, 1)  # a lost dispute is a completion and a failure
        assert (p3["rating_weight"], p3["weighted_stars"]) == (w7, w7)
        assert p3["stake"] == 0 and p3["stake_slashed"] == STAKE // 10 + BOND
        assert p3["active"] is False
        assert p3["owner_history"]["owner"] == OTHER_OWNER
        # offers: every version, so a booking's offer is recoverable
        assert [o["price"] for o in queries.offers_of(conn, 1)] == [10**15, 2 * 10**15]
        bookings = queries.bookings_of(conn, customer=CUSTOMER)
        assert len(bookings) == 8
        first = queries.get_booking(conn, bookings[0]["booking_id"])
        assert first is not None and first["offer"]["price"] == 2 * 10**15
        assert (first["start"], first["duration_minutes"], first["salt"]) == (START, 90, 0)
        assert (first["arbiter_id"], first["arbiter"], first["status_name"]) == (
            1, ARBITER, "settled")
        assert (first["weight"], first["stars"], first["free_cancel_hours"]) == (w1, 5, 24)
        by_status = {b["status_name"]: b for b in bookings}
        cancelled = by_status["cancelled"]
        assert (cancelled["refund"], cancelled["compensation"]) == (10**15, 10**15)
        expired = by_status["expired"]
        assert (expired["slash"], expired["failure"]) == (STAKE // 10, True)
        resolved = [b for b in bookings if b["status_name"] == "resolved"]
        lost = next(b for b in resolved if not b["by_default"])
        assert (lost["bond_to"], lost["arbiter_pay"], lost["weight"]) == (CUSTOMER, BOND, w7)
        default = next(b for b in resolved if b["by_default"])
        assert (default["bond_to"], default["failure"], default["arbiter_pay"]) == (
            CUSTOMER, False, None)
        assert len(queries.bookings_of(conn, owner=OWNER)) == 5
        # owners: sums over their listings
        owner = queries.owner_history(conn, OWNER)
        assert owner is not None
        assert (owner["listings"], owner["active_listings"]) == (2, 2)
        assert owner["completed"] == p1["completed"] + p2["completed"]
        assert owner["rating_weight"] == p1["rating_weight"] + p2["rating_weight"]
        assert owner["score"] == domain.weighted_score(owner["rating_weight"],
                                                       owner["weighted_stars"])
        assert [row["provider_id"] for row in owner["listings_detail"]] == [1, 2]
        listed = queries.list_providers(conn, category=1, currency=0)
        assert [row["provider_id"] for row in listed] == [1, 3]
        assert listed[0]["owner_listings"] == 2
        # money: per currency, and the ether ledger holds stakes and bonds
        ether, token = queries.ledger_totals(conn, 0), queries.ledger_totals(conn, 1)
        assert (ether["escrow"], ether["bonds"], ether["open_bookings"]) == (0, 0, 0)
        assert ether["stakes"] == 3 * STAKE + STAKE - (STAKE // 10 + BOND) - (
            STAKE - STAKE // 10 - BOND)
        fee2 = domain.booking_fee(10**7, 250, TOKEN_MIN_FEE)
        assert token["accrued_fees"] == fee2 - 10
        assert queries.credits_of(conn, OPERATOR) == {1: 10}
        assert queries.credit_of(conn, OWNER, 1) == 10**7 - fee2
        assert queries.credit_of(conn, ARBITER) == BOND  # from the lost provider's stake
        # registries and the operator
        currencies = queries.currencies(conn)
        assert [(c["currency"], c["token"], c["min_fee"]) for c in currencies] == [
            (0, ZERO, MIN_FEE), (1, TOKEN, TOKEN_MIN_FEE)]
        assert currencies[0]["symbol"] == "ETH"
        settings = queries.market_settings(conn)
        assert settings is not None
        assert (settings["fee_bps"], settings["dispute_bond"], settings["default_arbiter_id"],
                settings["paused"], settings["owner"]) == (300, BOND, 1, True, OPERATOR)
        changes = {(c["kind"], c["status"]) for c in queries.operator_changes(conn)}
        assert {(0, "applied"), (2, "cancelled")} <= changes
        assert [a["attestor_id"] for a in queries.attestors(conn)] == [1, 2]
        attestations = queries.attestations_of(conn, 1)
        assert [(a["attestor_id"], a["verified"]) for a in attestations] == [(1, 0b0011)]
        criteria = queries.current_criteria(conn, CUSTOMER, 1)
        assert criteria is not None
        assert (criteria["verified_attributes"], criteria["trusted_attestors"]) == (1, 1)
        assert (criteria["min_rating_weight"], criteria["min_reliability"]) == (1000, 8000)
        assert (criteria["blocked"], criteria["blocked_owners"]) == ([3], [OTHER_OWNER])
        history = queries.criteria_history(conn, CUSTOMER)
        assert [h["change"] for h in history] == ["set", "block", "block_owner"]
        kinds = [m["kind"] for m in queries.stake_movements(conn, 3)]
        assert kinds == ["register", "slash", "arbiter_pay", "release"]


def _split(events: list[DecodedEvent], at_block: int) -> tuple[list[DecodedEvent],
                                                              list[DecodedEvent]]:
    return ([e for e in events if e.block_number <= at_block],
            [e for e in events if e.block_number > at_block])


def test_any_chunking_builds_the_same_store(tmp_path: Path) -> None:
    events = scenario().events
    with store_factory("sqlite", tmp_path) as make:
        one, per_block = open_engine(make()), open_engine(make())
        fold(one, events)
        for block in sorted({e.block_number for e in events}):
            fold(per_block, [e for e in events if e.block_number == block])
        with one.connect() as a, per_block.connect() as b:
            assert queries.dump(a) == queries.dump(b)
        one.dispose()
        per_block.dispose()


@pytest.mark.parametrize("limit", [200_000, 5])
def test_chunks_reading_the_row_cache_build_the_same_store(engine: Engine, tmp_path: Path,
                                                           limit: int) -> None:
    """Rows the last chunks committed, read from the cache instead of the store (also when the
    cache overflows and starts again), give the store a single fold gives."""
    events = scenario().events
    known = RowCache(limit)
    for block in sorted({e.block_number for e in events}):
        fold(engine, [e for e in events if e.block_number == block], known=known)
    assert len(known) <= limit
    with store_factory("sqlite", tmp_path) as make:
        expected = open_engine(make())
        fold(expected, events)
        with engine.connect() as a, expected.connect() as b:
            assert queries.dump(a) == queries.dump(b)
        expected.dispose()


def test_the_row_cache_serves_committed_rows_and_forgets_them_on_clear(engine: Engine) -> None:
    events = scenario().events
    known = RowCache()
    fold(engine, events, known=known)
    assert len(known) > 0
    provider = (1,)
    with engine.begin() as conn:
        conn.execute(update(schema.providers).values(price=12345))  # behind the cache's back
        cached = UnitOfWork(conn, None, known).get("providers", provider)
        known.clear()
        fresh = UnitOfWork(conn, None, known).get("providers", provider)
    assert cached is not None and fresh is not None
    assert cached["price"] != 12345  # served from memory: the committed image
    assert fresh["price"] == 12345  # after clear, read from the store
    assert len(known) == 0


@pytest.mark.parametrize("fork", [1, 3, 5])
def test_a_rollback_restores_the_store_of_the_shorter_chain(engine: Engine, fork: int,
                                                            tmp_path: Path) -> None:
    events = scenario().events
    kept, dropped = _split(events, fork)
    fold(engine, kept, undo_from=0)
    fold(engine, dropped, undo_from=0)
    with engine.begin() as conn:
        rollback_to(conn, fork)
    with store_factory("sqlite", tmp_path) as make:
        expected = open_engine(make())
        fold(expected, kept)
        with engine.connect() as a, expected.connect() as b:
            got, want = queries.dump(a), queries.dump(b)
        expected.dispose()
    for table in want:
        assert _normal(got[table]) == _normal(want[table]), table


def _normal(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows comparable across backends (PostgreSQL returns Decimal-free ints already)."""
    return [tuple(int(v) if isinstance(v, bool) is False and hasattr(v, "as_integer_ratio")
                  and not isinstance(v, float) else v for v in row) for row in rows]


def test_a_tokens_symbol_and_decimals_are_stored_when_it_tells_them(tmp_path: Path) -> None:
    c = Chain()
    setup_market(c)
    with store_factory("sqlite", tmp_path) as make:
        engine = open_engine(make())
        fold(engine, c.events, tokens={TOKEN: ("dUSD", 6)})
        with engine.connect() as conn:
            token = queries.currency(conn, 1)
        engine.dispose()
    assert token is not None and (token["symbol"], token["decimals"]) == ("dUSD", 6)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("0x" + (32).to_bytes(32, "big").hex() + (4).to_bytes(32, "big").hex()
         + b"dUSD".ljust(32, b"\0").hex(), "dUSD"),
        ("0x" + b"MKR".ljust(32, b"\0").hex(), "MKR"),  # bytes32 symbol
        ("0x", None),
        (None, None),
        ("0x" + "ff" * 96, None),
    ],
)
def test_token_symbols_decode_from_a_string_or_bytes32_and_junk_is_none(
    data: str | None, text: str | None
) -> None:
    assert _abi_string(data) == text
    assert _abi_small_uint("0x" + "00" * 31 + "12") == 18
    assert _abi_small_uint("0x" + "ff" * 32) is None


def test_an_owner_sums_its_listings_counters_through_the_contracts_halving(
    tmp_path: Path,
) -> None:
    c = Chain()
    setup_market(c)
    register(c, 1)
    register(c, 2)
    with store_factory("sqlite", tmp_path) as make:
        engine = open_engine(make())
        fold(engine, c.events)
        with engine.begin() as conn:  # listing 1 at the counter's limit (as 65,535 settlements)
            conn.execute(update(schema.providers).where(schema.providers.c.provider_id == 1)
                         .values(completed=domain.RELIABILITY_COUNTER_MAX, failures=7))
            conn.execute(update(schema.owners).where(schema.owners.c.owner == OWNER)
                         .values(completed=domain.RELIABILITY_COUNTER_MAX, failures=7))
        c.next_block()
        c.events.clear()
        booking = book(c, 1)
        serve(c, booking, 1, stars=None)
        booking = book(c, 2, salt=1)
        serve(c, booking, 2, stars=None)
        fold(engine, c.events)
        with engine.connect() as conn:
            listing = queries.get_provider(conn, 1)
            owner = queries.owner_history(conn, OWNER)
        engine.dispose()
    assert listing is not None and owner is not None
    halved = domain.count_outcome(domain.RELIABILITY_COUNTER_MAX, 7, failure=False)
    assert (listing["completed"], listing["failures"]) == halved == (32_768, 3)
    assert (owner["completed"], owner["failures"]) == (32_768 + 1, 3)
    assert owner["reliability"] == domain.reliability(32_769, 3)


def test_the_journal_holds_every_event_with_its_position_parties_and_args(engine: Engine) -> None:
    """Each journal column holds what it names (the journal's rows are built as tuples in the
    table's column order, so a column out of place would show here)."""
    events = scenario().events
    fold(engine, events)
    with engine.connect() as conn:
        journal = {
            (row["block_number"], row["log_index"]): row
            for row in conn.execute(select(schema.events)).mappings()
        }
    assert len(journal) == len(events)
    for ev in events:
        row = journal[(ev.block_number, ev.log_index)]
        booking = ev.args.get("bookingId")
        parties: tuple[Any, Any, Any]
        if booking is not None:
            parties = (booking, domain.provider_of(booking), domain.customer_of(booking))
        elif ev.name == "ListingRegistered":
            parties = (None, ev.args["providerId"], ev.args["owner"])
        elif ev.name == "StakeToppedUp":
            parties = (None, ev.args["providerId"], ev.args["by"])
        elif ev.name == "ListingUpdated":
            parties = (None, ev.args["providerId"], None)
        else:
            continue
        assert (row["tx_hash"], row["tx_index"], row["block_hash"], row["event"]) == (
            ev.tx_hash, ev.tx_index, ev.block_hash, ev.name)
        assert (row["booking_id"], row["provider_id"], row["account"]) == parties
        assert json.loads(row["args"]) == ev.args
