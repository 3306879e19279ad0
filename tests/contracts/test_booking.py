"""Booking a slot: the id packs customer, listing and slot; the slot must be in the future and at
most MAX_ADVANCE ahead; the same slot again needs another salt; the owner cannot book its own
listing; the ether sent must be the price; instant listings are accepted at once; the event records
the offer version, the fee and the arbiter fixed at booking."""

from __future__ import annotations

from tests.contracts import driver as d
from tests.contracts.driver import V2


def test_the_booking_id_packs_customer_listing_and_slot(
    market: V2, customer: str, provider_id: int
) -> None:
    start = market.now() + 3 * d.DAY
    booking = market.book_as(customer, provider_id, start=start, duration=75, salt=9)
    want = (int(customer, 16) << 96) | (provider_id << 64) | (start << 24) | (75 << 8) | 9
    assert booking == want
    assert market.call("encodeBookingId", customer, provider_id, start, 75, 9) == want
    parts = market.booking_id_parts(booking)
    assert (parts["customer"], parts["providerId"], parts["start"]) == (
        customer,
        provider_id,
        start,
    )
    assert (parts["durationMinutes"], parts["salt"]) == (75, 9)


def test_booking_requested_records_the_offer_fee_and_arbiter(
    market: V2, customer: str, provider_id: int
) -> None:
    req = market.request(customer, provider_id)
    receipt = market.tx("book", req, sender=customer, value=d.PRICE)
    event = market.one(receipt, "BookingRequested")
    fee = max(-(-d.PRICE * d.FEE_BPS // 10_000), d.MIN_FEE_ETH)
    assert (event["currency"], event["price"], event["fee"]) == (d.ETH, d.PRICE, fee)
    assert (event["offerVersion"], event["arbiterId"]) == (1, 1)
    assert event["respondBy"] == market.now() + d.WINDOWS["respond"]
    stored = market.booking(event["bookingId"])
    assert (stored["status"], stored["fee"], stored["arbiterId"]) == (1, fee, 1)
    assert stored["deadline"] == event["respondBy"]


def test_respond_by_is_never_after_the_start(market: V2, customer: str, provider_id: int) -> None:
    start = market.now() + 3_600
    booking = market.book_as(customer, provider_id, start=start)
    assert market.booking(booking)["deadline"] == start


def test_a_slot_in_the_past_or_now_is_refused(market: V2, customer: str, provider_id: int) -> None:
    now = market.now() + 1  # the next block's timestamp
    market.next_at(now)
    with market.reverts("MarketplaceSlotInPast", start=now):
        market.tx(
            "book", market.request(customer, provider_id, start=now), sender=customer, value=d.PRICE
        )


def test_a_slot_beyond_max_advance_is_refused(market: V2, customer: str, provider_id: int) -> None:
    max_advance = market.call("MAX_ADVANCE")
    assert max_advance == 365 * d.DAY
    now = market.now() + 100
    req_far = market.request(customer, provider_id, start=now + max_advance + 1)
    with market.reverts(
        "MarketplaceSlotTooFar", start=now + max_advance + 1, latest=now + max_advance
    ):
        market.at(now, "book", req_far, sender=customer, value=d.PRICE)
    req_edge = market.request(customer, provider_id, start=now + 1 + max_advance)
    market.at(now + 1, "book", req_edge, sender=customer, value=d.PRICE)


def test_zero_minutes_is_refused(market: V2, customer: str, provider_id: int) -> None:
    with market.reverts("MarketplaceInvalidDuration"):
        market.book_as(customer, provider_id, duration=0)


def test_the_same_slot_needs_another_salt(market: V2, customer: str, provider_id: int) -> None:
    start = market.now() + 2 * d.DAY
    booking = market.book_as(customer, provider_id, start=start)
    with market.reverts("MarketplaceBookingExists", bookingId=booking):
        market.book_as(customer, provider_id, start=start)
    assert market.book_as(customer, provider_id, start=start, salt=1) == booking + 1


def test_the_owner_cannot_book_its_own_listing(market: V2, provider: str, provider_id: int) -> None:
    with market.reverts("MarketplaceSelfBooking", providerId=provider_id):
        market.book_as(provider, provider_id)


def test_the_ether_sent_must_be_the_price(market: V2, customer: str, provider_id: int) -> None:
    with market.reverts("MarketplaceValueMismatch", sent=d.PRICE - 1, due=d.PRICE):
        market.book_as(customer, provider_id, value=d.PRICE - 1)
    with market.reverts("MarketplaceValueMismatch", sent=1, due=0):
        market.book_as(customer, market.register(market.roles["provider"], currency=d.USD), value=1)


def test_the_criteria_version_must_be_current(market: V2, customer: str, provider_id: int) -> None:
    version = market.set_criteria(customer)
    market.set_criteria(customer)
    with market.reverts(
        "MarketplaceCriteriaVersionMismatch", expected=version, current=version + 1
    ):
        market.book_as(customer, provider_id, criteria_version=version)


def test_an_instant_listing_is_accepted_on_booking(
    market: V2, provider: str, customer: str
) -> None:
    pid = market.register(provider, instant=True)
    req = market.request(customer, pid)
    receipt = market.tx("book", req, sender=customer, value=d.PRICE)
    assert market.one(receipt, "BookingRequested")
    accepted = market.one(receipt, "BookingAccepted")
    assert market.status(accepted["bookingId"]) == "Accepted"
    assert market.listing(pid)["lockedUntil"] == accepted["stakeLockedUntil"]


def test_an_unknown_booking(market: V2, provider: str) -> None:
    with market.reverts("MarketplaceBookingNotFound", bookingId=12345):
        market.tx("accept", 12345, sender=provider)
