"""Booking: escrow, ids, and the front-running guards (price, value, criteria version, pause)."""

from __future__ import annotations

import pytest

from marketplace.domain import Status
from tests.support.market_driver import MarketDriver


def test_book_escrows_the_price_and_logs_the_request(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    version = market.set_criteria(customer)
    balance_before = market.balance(market.address)

    receipt = market.transact(
        "book", provider_id, market.PRICE, version, sender=customer, value=market.PRICE
    )

    booking_id = (int(customer, 16) << 64) | 1
    respond_by = market.timestamp_of(receipt) + market.WINDOWS["respond"]
    assert market.only_event(receipt, "BookingRequested") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "price": market.PRICE,
        "feeBps": market.FEE_BPS,
        "criteriaVersion": version,
        "respondBy": respond_by,
    }
    assert market.booking(booking_id) == {
        "providerId": provider_id,
        "price": market.PRICE,
        "feeBps": market.FEE_BPS,
        "status": Status.REQUESTED,
        "deadline": respond_by,
        "criteriaVersion": version,
        "rated": False,
    }
    assert market.call("bookingCountOf", customer) == 1
    assert market.balance(market.address) == balance_before + market.PRICE
    market.assert_solvent()


def test_booking_ids_number_each_customer_bookings_from_one(
    market: MarketDriver, customer: str, other_customer: str, provider_id: int
) -> None:
    first = market.book(customer, provider_id)
    second = market.book(customer, provider_id)
    others = market.book(other_customer, provider_id)

    assert first == (int(customer, 16) << 64) | 1
    assert second == (int(customer, 16) << 64) | 2
    assert others == (int(other_customer, 16) << 64) | 1
    assert market.call("bookingCountOf", customer) == 2
    assert market.call("bookingCountOf", other_customer) == 1
    market.assert_solvent()


@pytest.mark.parametrize("n", [1, 2**64 - 1])
def test_customer_of_reads_the_customer_from_any_booking_id(
    market: MarketDriver, stranger: str, n: int
) -> None:
    assert market.call("customerOf", (int(stranger, 16) << 64) | n) == stranger


def test_get_booking_refuses_an_unknown_id(
    market: MarketDriver, customer: str, booking_id: int
) -> None:
    with market.reverts("MarketplaceBookingNotFound", bookingId=booking_id + 1):
        market.call("getBooking", booking_id + 1)


def test_a_booking_keeps_the_criteria_version_it_was_checked_against(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    market.set_criteria(customer, category=2)
    version = market.set_criteria(customer)
    booking_id = market.book(customer, provider_id)

    market.set_criteria(customer, minScore=1)

    assert market.booking(booking_id)["criteriaVersion"] == version == 2


def test_book_refuses_an_unknown_provider(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    version = market.set_criteria(customer)

    with market.reverts("MarketplaceProviderNotFound", providerId=provider_id + 1):
        market.transact("book", provider_id + 1, 0, version, sender=customer)


def test_book_refuses_when_the_price_moved_since_the_quote(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    version = market.set_criteria(customer)
    quoted = market.PRICE
    market.transact(
        "updateProvider", provider_id, 0, 0, quoted + 1, market.METADATA, sender=provider
    )

    with market.reverts("MarketplacePriceChanged", expected=quoted, current=quoted + 1):
        market.transact("book", provider_id, quoted, version, sender=customer, value=quoted)


@pytest.mark.parametrize("delta", [-1, 1, None])
def test_book_refuses_a_value_other_than_the_price(
    market: MarketDriver, customer: str, provider_id: int, delta: int | None
) -> None:
    version = market.set_criteria(customer)
    sent = 0 if delta is None else market.PRICE + delta

    with market.reverts("MarketplaceValueMismatch", sent=sent, price=market.PRICE):
        market.transact("book", provider_id, market.PRICE, version, sender=customer, value=sent)


def test_book_refuses_a_quote_made_under_older_criteria(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    quoted_version = market.set_criteria(customer)
    market.set_criteria(customer, maxPrice=10**17)  # e.g. changed in another tab

    with market.reverts("MarketplaceCriteriaVersionMismatch", expected=quoted_version, current=2):
        market.transact(
            "book", provider_id, market.PRICE, quoted_version, sender=customer, value=market.PRICE
        )


def test_book_refuses_a_quote_made_before_a_block_changed_the_version(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    quoted_version = market.set_criteria(customer)
    other_listing = market.register(provider)
    market.transact("setBlocked", other_listing, True, sender=customer)

    with market.reverts("MarketplaceCriteriaVersionMismatch", expected=quoted_version, current=2):
        market.transact(
            "book", provider_id, market.PRICE, quoted_version, sender=customer, value=market.PRICE
        )


def test_book_refuses_a_version_from_the_future(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    version = market.set_criteria(customer)

    with market.reverts(
        "MarketplaceCriteriaVersionMismatch", expected=version + 1, current=version
    ):
        market.transact(
            "book", provider_id, market.PRICE, version + 1, sender=customer, value=market.PRICE
        )


def test_book_checks_the_version_of_the_provider_category_only(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    category_version = market.set_criteria(customer, category=market.CATEGORY)
    latest = market.set_criteria(customer, category=2)  # another category moves the latest version
    assert market.call("criteriaVersionOf", customer) == latest == 2

    with market.reverts(
        "MarketplaceCriteriaVersionMismatch", expected=latest, current=category_version
    ):
        market.transact(
            "book", provider_id, market.PRICE, latest, sender=customer, value=market.PRICE
        )
    receipt = market.transact(
        "book", provider_id, market.PRICE, category_version, sender=customer, value=market.PRICE
    )
    assert market.events("BookingRequested", receipt)[0]["criteriaVersion"] == category_version


def test_book_checks_price_before_value_and_value_before_version(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    version = market.set_criteria(customer)
    market.transact(
        "updateProvider", provider_id, 0, 0, market.PRICE + 1, market.METADATA, sender=provider
    )

    with market.reverts("MarketplacePriceChanged", expected=market.PRICE, current=market.PRICE + 1):
        market.transact("book", provider_id, market.PRICE, version + 1, sender=customer, value=1)
    with market.reverts("MarketplaceValueMismatch", sent=1, price=market.PRICE + 1):
        market.transact(
            "book", provider_id, market.PRICE + 1, version + 1, sender=customer, value=1
        )


def test_book_is_refused_while_paused_and_allowed_again_after(
    market: MarketDriver, owner: str, customer: str, provider_id: int
) -> None:
    version = market.set_criteria(customer)
    market.transact("setPaused", True, sender=owner)

    with market.reverts("MarketplacePaused"):
        market.transact(
            "book", provider_id, market.PRICE, version, sender=customer, value=market.PRICE
        )
    market.transact("setPaused", False, sender=owner)
    market.transact("book", provider_id, market.PRICE, version, sender=customer, value=market.PRICE)
    assert market.call("bookingCountOf", customer) == 1


def test_book_snapshots_the_fee_rate_of_the_moment(
    market: MarketDriver, owner: str, customer: str, provider_id: int
) -> None:
    market.transact("setFeeRate", 1_000, sender=owner)

    booking_id = market.book(customer, provider_id)

    assert market.booking(booking_id)["feeBps"] == 1_000
