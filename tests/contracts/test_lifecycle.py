"""The state machine and its deadlines: every transition from every state by the right and the
wrong party, each deadline exactly and one second past it, and every state's timed exit."""

from __future__ import annotations

import pytest

from tests.contracts import driver as d
from tests.contracts.driver import STATUS, V2


def test_the_happy_path(market: V2, provider: str, customer: str, booking_id: int) -> None:
    start = market.booking_id_parts(booking_id)["start"]
    receipt = market.tx("accept", booking_id, sender=provider)
    service_by = start + 60 * 60 + d.WINDOWS["serviceGrace"]
    assert market.one(receipt, "BookingAccepted")["serviceBy"] == service_by
    assert market.booking(booking_id)["deadline"] == service_by

    market.mine_at(start - 2)
    with market.reverts("MarketplaceTooEarly", start=start):
        market.tx("complete", booking_id, sender=provider)
    receipt = market.at(start, "complete", booking_id, sender=provider)
    confirm_by = start + d.WINDOWS["confirm"]
    assert market.one(receipt, "BookingCompleted")["confirmBy"] == confirm_by

    receipt = market.tx("confirm", booking_id, sender=customer)
    settled = market.one(receipt, "BookingSettled")
    fee = market.booking(booking_id)["fee"]
    assert (settled["payout"], settled["fee"], settled["by"]) == (d.PRICE - fee, fee, customer)
    assert market.credit(provider) == d.PRICE - fee
    assert market.status(booking_id) == "Settled"
    market.solvency([booking_id], [market.booking_id_parts(booking_id)["providerId"]])


@pytest.mark.parametrize("function", ["accept", "decline", "complete"])
def test_only_the_owner_acts_for_the_listing(
    market: V2, stranger: str, customer: str, booking_id: int, function: str
) -> None:
    if function == "complete":
        market.drive(booking_id, "Accepted")
        market.mine_at(market.booking_id_parts(booking_id)["start"])
    for who in (stranger, customer):
        with market.reverts("MarketplaceNotProviderOwner"):
            market.tx(function, booking_id, sender=who)


@pytest.mark.parametrize("function", ["cancel", "confirm", "dispute"])
def test_only_the_customer(
    market: V2, provider: str, stranger: str, booking_id: int, function: str
) -> None:
    if function != "cancel":
        market.drive(booking_id, "Completed")
    value = d.DISPUTE_BOND if function == "dispute" else 0
    for who in (provider, stranger):
        with market.reverts("MarketplaceNotCustomer", bookingId=booking_id, caller=who):
            market.tx(function, booking_id, sender=who, value=value)


def test_accept_until_respond_by_then_expire(
    market: V2, provider: str, stranger: str, booking_id: int
) -> None:
    deadline = market.booking(booking_id)["deadline"]
    market.mine_at(deadline + 1)
    with market.reverts("MarketplaceDeadlinePassed", bookingId=booking_id, deadline=deadline):
        market.tx("accept", booking_id, sender=provider)
    receipt = market.tx("expire", booking_id, sender=stranger)
    expired = market.one(receipt, "BookingExpired")
    assert (expired["refund"], expired["noShow"]) == (d.PRICE, False)
    assert market.listing(1)["failures"] == 0  # the provider never committed


def test_accept_exactly_at_respond_by(market: V2, provider: str, booking_id: int) -> None:
    deadline = market.booking(booking_id)["deadline"]
    market.at(deadline, "accept", booking_id, sender=provider)
    assert market.status(booking_id) == "Accepted"


def test_expire_is_refused_before_the_deadline(market: V2, stranger: str, booking_id: int) -> None:
    deadline = market.booking(booking_id)["deadline"]
    with market.reverts("MarketplaceDeadlineNotReached", bookingId=booking_id, deadline=deadline):
        market.tx("expire", booking_id, sender=stranger)


def test_complete_until_service_by(market: V2, provider: str, booking_id: int) -> None:
    market.drive(booking_id, "Accepted")
    service_by = market.booking(booking_id)["deadline"]
    market.at(service_by, "complete", booking_id, sender=provider)
    assert market.status(booking_id) == "Completed"


def test_complete_after_service_by_is_refused(market: V2, provider: str, booking_id: int) -> None:
    market.drive(booking_id, "Accepted")
    service_by = market.booking(booking_id)["deadline"]
    market.mine_at(service_by + 1)
    with market.reverts("MarketplaceDeadlinePassed", bookingId=booking_id, deadline=service_by):
        market.tx("complete", booking_id, sender=provider)


def test_confirm_until_confirm_by_then_anyone_settles(
    market: V2, customer: str, stranger: str, booking_id: int
) -> None:
    market.drive(booking_id, "Completed")
    confirm_by = market.booking(booking_id)["deadline"]
    with market.reverts("MarketplaceDeadlineNotReached", bookingId=booking_id, deadline=confirm_by):
        market.tx("settle", booking_id, sender=stranger)
    market.mine_at(confirm_by + 1)
    with market.reverts("MarketplaceDeadlinePassed", bookingId=booking_id, deadline=confirm_by):
        market.tx("confirm", booking_id, sender=customer)
    receipt = market.tx("settle", booking_id, sender=stranger)
    assert market.one(receipt, "BookingSettled")["by"] == stranger


def test_confirm_and_rate_in_one_call(market: V2, customer: str, booking_id: int) -> None:
    market.drive(booking_id, "Completed")
    receipt = market.tx("confirmAndRate", booking_id, 4, 0b101, sender=customer)
    assert market.one(receipt, "BookingSettled")
    rated = market.one(receipt, "BookingRated")
    assert (rated["stars"], rated["complaintTags"]) == (4, 0b101)
    assert market.booking(booking_id)["rated"] is True


@pytest.mark.parametrize(
    ("status", "function"),
    [
        ("Requested", "complete"),
        ("Requested", "confirm"),
        ("Accepted", "accept"),
        ("Completed", "accept"),
        ("Completed", "cancel"),
        ("Settled", "confirm"),
        ("Settled", "dispute"),
        ("Cancelled", "accept"),
        ("Declined", "cancel"),
        ("Expired", "complete"),
    ],
)
def test_transitions_from_the_wrong_state_are_refused(
    market: V2, provider: str, customer: str, booking_id: int, status: str, function: str
) -> None:
    market.drive(booking_id, status)
    sender = provider if function in ("accept", "decline", "complete") else customer
    value = d.DISPUTE_BOND if function == "dispute" else 0
    with pytest.raises(Exception) as info:  # noqa: PT011
        market.tx(function, booking_id, sender=sender, value=value)
    assert getattr(info.value, "error", "") in (
        "MarketplaceInvalidStatus",
        "MarketplaceSlotStarted",
    )
    assert market.status(booking_id) == status


def test_every_open_state_has_a_timed_exit(
    market: V2, provider: str, customer: str, stranger: str
) -> None:
    pid = market.register(provider)
    ids = {
        status: market.booking_in(status, customer, pid, salt=i)
        for i, status in enumerate(["Requested", "Accepted", "Completed", "Disputed"])
    }
    market.mine_at(market.now() + 30 * d.DAY)
    market.tx("expire", ids["Requested"], sender=stranger)
    market.tx("expire", ids["Accepted"], sender=stranger)
    market.tx("settle", ids["Completed"], sender=stranger)
    market.tx("resolveByDefault", ids["Disputed"], sender=stranger)
    assert [market.status(i) for i in ids.values()] == ["Expired", "Expired", "Settled", "Resolved"]
    market.solvency(list(ids.values()), [pid])
    assert all(STATUS.index(market.status(i)) >= 4 for i in ids.values())
