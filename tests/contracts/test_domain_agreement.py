"""The Python rules (marketplace/domain.py, the one place the app keeps them) equal the contract on
random inputs: the fee from BookingRequested, the weight and score from BookingRated, reliability
from the listing's counters after random outcomes, the booking id, the cancellation split and the
dispute resolution. Each hypothesis example runs in its own chain snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# hypothesis's own `given` (brownie patches `hypothesis.given` to warn: its isolation is for its own
# network; these tests isolate every example with an explicit evm_snapshot instead)
from hypothesis.core import given

from marketplace import domain
from tests.contracts import driver as d
from tests.contracts.driver import V2

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
MIN_FEE = {d.ETH: d.MIN_FEE_ETH, d.USD: d.MIN_FEE_USD}
# prices whose fee fits the booking's uint80 fee field (see test_doubt_a_fee_above_80_bits_...)
PRICES = st.one_of(
    st.integers(min_value=d.MIN_FEE_ETH, max_value=d.MIN_FEE_ETH * 50),
    st.integers(min_value=d.MIN_FEE_ETH, max_value=2**80),
)


@contextmanager
def snapshot(market: V2) -> Iterator[None]:
    snap = market.rpc("evm_snapshot")
    accounts = list(market.accounts)
    try:
        yield
    finally:
        assert market.rpc("evm_revert", [snap]) is True
        market.accounts[:] = accounts


@SETTINGS
@given(price=PRICES, currency=st.sampled_from([d.ETH, d.USD]))
def test_fee(market: V2, provider: str, customer: str, price: int, currency: int) -> None:
    with snapshot(market):
        market.rpc("anvil_setBalance", [customer, hex(4 * price + 10**18)])
        listing = market.register(provider, currency=currency, price=price)
        req = market.request(customer, listing)
        if currency != d.ETH:
            market.fund(customer, price, currency)
        receipt = market.tx("book", req, sender=customer, value=price if currency == d.ETH else 0)
        fee = market.one(receipt, "BookingRequested")["fee"]
        assert fee == domain.booking_fee(price, d.FEE_BPS, MIN_FEE[currency])
        assert not domain.fee_exceeds_price(price, d.FEE_BPS, MIN_FEE[currency])


@SETTINGS
@given(ratings=st.lists(st.tuples(PRICES, st.integers(1, 5)), min_size=1, max_size=3))
def test_weight_and_score(
    market: V2, provider: str, customer: str, ratings: list[tuple[int, int]]
) -> None:
    with snapshot(market):
        market.rpc("anvil_setBalance", [customer, hex(2**90)])
        listing = market.register(provider, instant=True)
        total, weighted = 0, 0
        for salt, (price, stars) in enumerate(ratings):
            market.tx(
                "updateListing",
                listing,
                market.listing_input(listing, price=price),
                sender=provider,
            )
            booking = market.book_as(customer, listing, salt=salt, start=market.now() + 60)
            market.drive(booking, "Completed")
            receipt = market.tx("confirmAndRate", booking, stars, 0, sender=customer)
            rated = market.one(receipt, "BookingRated")
            fee = market.booking(booking)["fee"]
            weight = domain.rating_weight(fee, d.MIN_FEE_ETH)
            total, weighted = domain.add_rating(total, weighted, stars, weight)
            assert rated["weight"] == weight
            assert rated["newScore"] == domain.weighted_score(total, weighted)
        assert market.call("scoreOf", listing) == domain.weighted_score(total, weighted)


OUTCOMES = ["settle", "no_show", "provider_cancel", "lost_dispute", "won_dispute", "default"]


@SETTINGS
@given(outcomes=st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=4))
def test_reliability(
    market: V2, provider: str, customer: str, stranger: str, arbiter: str, outcomes: list[str]
) -> None:
    with snapshot(market):
        listing = market.register(provider)
        market.tx("topUpStake", listing, sender=provider, value=10 * d.MIN_STAKE)
        completed = failures = 0
        for salt, outcome in enumerate(outcomes):
            booking = market.booking_in("Accepted", customer, listing, salt=salt)
            if outcome == "no_show":
                market.mine_at(market.booking(booking)["deadline"] + 1)
                market.tx("expire", booking, sender=stranger)
                completed, failures = domain.count_outcome(completed, failures, failure=True)
            elif outcome == "provider_cancel":
                market.tx("decline", booking, sender=provider)
                completed, failures = domain.count_outcome(completed, failures, failure=True)
            elif outcome == "settle":
                market.drive(booking, "Settled")
                completed, failures = domain.count_outcome(completed, failures, failure=False)
            elif outcome == "default":
                market.drive(booking, "Disputed")
                market.mine_at(market.booking(booking)["deadline"] + 1)
                market.tx("resolveByDefault", booking, sender=stranger)
            else:
                bps = 9_000 if outcome == "lost_dispute" else 1_000
                market.drive(booking, "Resolved", refund_bps=bps)
                completed, failures = domain.count_resolution(
                    completed, failures, provider_lost=domain.lost_dispute(bps)
                )
            stored = market.listing(listing)
            assert (stored["completed"], stored["failures"]) == (completed, failures), outcome
        assert market.call("reliabilityOf", listing) == domain.reliability(completed, failures)


@SETTINGS
@given(
    provider_id=st.integers(0, 2**32 - 1),
    start=st.integers(0, 2**40 - 1),
    duration=st.integers(0, 2**16 - 1),
    salt=st.integers(0, 255),
)
def test_booking_id(
    market: V2, customer: str, provider_id: int, start: int, duration: int, salt: int
) -> None:
    want = domain.booking_id(customer, provider_id, start, duration, salt)
    assert market.call("encodeBookingId", customer, provider_id, start, duration, salt) == want
    parts = market.booking_id_parts(want)
    key = domain.decode_booking_id(want)
    assert parts["customer"].lower() == key.customer.lower()
    assert (parts["providerId"], parts["start"], parts["durationMinutes"], parts["salt"]) == (
        key.provider_id,
        key.start,
        key.duration_minutes,
        key.salt,
    )


@SETTINGS
@given(
    hours=st.integers(0, 72),
    pct=st.integers(0, 100),
    before=st.integers(1, 80 * 3_600),
    price=PRICES,
)
def test_cancellation_split(
    market: V2, provider: str, customer: str, hours: int, pct: int, before: int, price: int
) -> None:
    with snapshot(market):
        market.rpc("anvil_setBalance", [customer, hex(2 * price + 10**18)])
        listing = market.register(provider, price=price, freeCancelHours=hours, lateCancelPct=pct)
        start = market.now() + 4 * d.DAY
        booking = market.booking_in("Accepted", customer, listing, start=start)
        when = start - before
        receipt = market.at(when, "cancel", booking, sender=customer)
        event = market.one(receipt, "BookingCancelled")
        terms = domain.CancelTerms(free_cancel_hours=hours, late_cancel_pct=pct)
        assert (event["refund"], event["compensation"]) == domain.cancellation_split(
            price, domain.Status.ACCEPTED, when, start, terms
        )


@SETTINGS
@given(bps=st.integers(0, 10_000), price=PRICES)
def test_dispute_resolution(
    market: V2, provider: str, customer: str, arbiter: str, bps: int, price: int
) -> None:
    with snapshot(market):
        market.rpc("anvil_setBalance", [customer, hex(2 * price + 10**18)])
        listing = market.register(provider, price=price)
        booking = market.booking_in("Disputed", customer, listing)
        stake = market.listing(listing)["stake"]
        receipt = market.tx("resolve", booking, bps, sender=arbiter)
        event = market.one(receipt, "DisputeResolved")
        fee = market.booking(booking)["fee"]
        want = domain.resolve_dispute(price, fee, bps, d.DISPUTE_BOND, stake)
        assert (event["refund"], event["payout"], event["fee"]) == (
            want.refund,
            want.payout,
            want.fee,
        )
        assert event["providerLost"] is want.provider_lost
        assert market.credit(arbiter) == want.bond_to_arbiter + want.arbiter_from_stake
        assert market.credit(customer) == want.refund + want.bond_to_customer
