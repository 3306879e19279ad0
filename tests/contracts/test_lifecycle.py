"""The booking state machine: every legal transition with its event, who may take it, and every
illegal one refused with MarketplaceInvalidStatus naming the current status."""

from __future__ import annotations

import pytest

from marketplace.domain import Status
from tests.support.market_driver import MarketDriver

ZERO = "0x0000000000000000000000000000000000000000"


def fee_of(market: MarketDriver, price: int) -> int:
    """The fee of a booking made at the deployment's fee rate."""
    return price * market.FEE_BPS // 10_000


# ---------------------------------------------------------------------- Requested -> ...


def test_provider_accepts_a_requested_booking(
    market: MarketDriver, provider: str, customer: str, provider_id: int, booking_id: int
) -> None:
    receipt = market.transact("accept", booking_id, sender=provider)

    service_by = market.timestamp_of(receipt) + market.WINDOWS["service"]
    assert market.only_event(receipt, "BookingAccepted") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "serviceBy": service_by,
    }
    stored = market.booking(booking_id)
    assert (stored["status"], stored["deadline"]) == (Status.ACCEPTED, service_by)


@pytest.mark.parametrize("status", [Status.REQUESTED, Status.ACCEPTED])
def test_provider_declines_and_the_customer_is_refunded(
    market: MarketDriver, provider: str, customer: str, provider_id: int, status: Status
) -> None:
    booking_id = market.booking_in(status, customer, provider_id)

    receipt = market.transact("decline", booking_id, sender=provider)

    assert market.only_event(receipt, "BookingDeclined") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "refund": market.PRICE,
    }
    assert market.status(booking_id) == Status.DECLINED
    assert market.credit(customer) == market.PRICE
    market.assert_solvent()


def test_customer_cancels_a_requested_booking_and_is_refunded(
    market: MarketDriver, customer: str, provider_id: int, booking_id: int
) -> None:
    receipt = market.transact("cancel", booking_id, sender=customer)

    assert market.only_event(receipt, "BookingCancelled") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "refund": market.PRICE,
    }
    assert market.status(booking_id) == Status.CANCELLED
    assert market.credit(customer) == market.PRICE
    market.assert_solvent()


def test_customer_may_still_cancel_an_unanswered_booking_after_its_deadline(
    market: MarketDriver, customer: str, booking_id: int
) -> None:
    market.mine_at(market.booking(booking_id)["deadline"] + 10)

    market.transact("cancel", booking_id, sender=customer)

    assert market.status(booking_id) == Status.CANCELLED


@pytest.mark.parametrize("status", [Status.REQUESTED, Status.ACCEPTED])
def test_anyone_expires_an_unanswered_booking_and_the_customer_is_refunded(
    market: MarketDriver, customer: str, stranger: str, provider_id: int, status: Status
) -> None:
    booking_id = market.booking_in(status, customer, provider_id)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)

    receipt = market.transact("expire", booking_id, sender=stranger)

    assert market.only_event(receipt, "BookingExpired") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "refund": market.PRICE,
    }
    assert market.status(booking_id) == Status.EXPIRED
    assert market.credit(customer) == market.PRICE
    assert market.credit(stranger) == 0
    market.assert_solvent()


# ---------------------------------------------------------------------- Accepted -> Completed


def test_provider_completes_an_accepted_booking(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.ACCEPTED, customer, provider_id)

    receipt = market.transact("complete", booking_id, sender=provider)

    confirm_by = market.timestamp_of(receipt) + market.WINDOWS["confirm"]
    assert market.only_event(receipt, "BookingCompleted") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "confirmBy": confirm_by,
    }
    stored = market.booking(booking_id)
    assert (stored["status"], stored["deadline"]) == (Status.COMPLETED, confirm_by)


# ---------------------------------------------------------------------- Completed -> ...


def test_customer_confirms_and_the_escrow_is_released(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.COMPLETED, customer, provider_id)

    receipt = market.transact("confirm", booking_id, sender=customer)

    fee = fee_of(market, market.PRICE)
    assert market.only_event(receipt, "BookingSettled") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "payout": market.PRICE - fee,
        "fee": fee,
        "by": customer,
    }
    assert market.status(booking_id) == Status.SETTLED
    assert market.credit(provider) == market.PRICE - fee
    assert market.call("accruedFees") == fee
    assert market.credit(customer) == 0
    market.assert_solvent()


def test_anyone_settles_after_the_confirmation_window(
    market: MarketDriver, provider: str, customer: str, stranger: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.COMPLETED, customer, provider_id)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)

    receipt = market.transact("settle", booking_id, sender=stranger)

    fee = fee_of(market, market.PRICE)
    assert market.only_event(receipt, "BookingSettled") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "payout": market.PRICE - fee,
        "fee": fee,
        "by": stranger,
    }
    assert market.credit(provider) == market.PRICE - fee
    market.assert_solvent()


def test_customer_disputes_a_completed_booking(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.COMPLETED, customer, provider_id)

    receipt = market.transact("dispute", booking_id, sender=customer)

    arbitrate_by = market.timestamp_of(receipt) + market.WINDOWS["arbitration"]
    assert market.only_event(receipt, "BookingDisputed") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "arbitrateBy": arbitrate_by,
    }
    stored = market.booking(booking_id)
    assert (stored["status"], stored["deadline"]) == (Status.DISPUTED, arbitrate_by)
    market.assert_solvent()


# ---------------------------------------------------------------------- Disputed -> Resolved


def test_arbiter_resolves_a_dispute_with_a_split(
    market: MarketDriver, provider: str, customer: str, arbiter: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)

    receipt = market.transact("resolve", booking_id, 2_500, sender=arbiter)

    refund = market.PRICE * 2_500 // 10_000
    fee = fee_of(market, market.PRICE - refund)
    assert market.only_event(receipt, "DisputeResolved") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "arbiter": arbiter,
        "refundBps": 2_500,
        "refund": refund,
        "payout": market.PRICE - refund - fee,
        "fee": fee,
    }
    assert market.status(booking_id) == Status.RESOLVED
    assert market.credit(customer) == refund
    assert market.credit(provider) == market.PRICE - refund - fee
    assert market.credit(arbiter) == 0
    market.assert_solvent()


def test_anyone_applies_the_default_split_after_the_arbitration_window(
    market: MarketDriver, provider: str, customer: str, stranger: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)

    receipt = market.transact("resolveByDefault", booking_id, sender=stranger)

    refund = market.PRICE // 2
    fee = fee_of(market, market.PRICE - refund)
    assert market.only_event(receipt, "DisputeResolved") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "arbiter": ZERO,
        "refundBps": 5_000,
        "refund": refund,
        "payout": market.PRICE - refund - fee,
        "fee": fee,
    }
    assert market.status(booking_id) == Status.RESOLVED
    assert market.credit(stranger) == 0
    market.assert_solvent()


# ---------------------------------------------------------------------- who may act


@pytest.mark.parametrize("role", ["customer", "stranger", "other_provider", "arbiter"])
@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("accept", Status.REQUESTED),
        ("decline", Status.REQUESTED),
        ("decline", Status.ACCEPTED),
        ("complete", Status.ACCEPTED),
    ],
)
def test_only_the_listing_owner_acts_for_the_provider(
    market: MarketDriver,
    roles: dict[str, str],
    customer: str,
    provider_id: int,
    role: str,
    action: str,
    status: Status,
) -> None:
    market.register(roles["other_provider"])  # owns a listing, just not this one
    booking_id = market.booking_in(status, customer, provider_id)

    with market.reverts("MarketplaceNotProviderOwner", providerId=provider_id, caller=roles[role]):
        market.transact(action, booking_id, sender=roles[role])


@pytest.mark.parametrize("role", ["provider", "stranger", "other_customer", "arbiter"])
@pytest.mark.parametrize(
    ("action", "status"),
    [("cancel", Status.REQUESTED), ("confirm", Status.COMPLETED), ("dispute", Status.COMPLETED)],
)
def test_only_the_customer_acts_for_the_customer(
    market: MarketDriver,
    roles: dict[str, str],
    customer: str,
    provider_id: int,
    role: str,
    action: str,
    status: Status,
) -> None:
    booking_id = market.booking_in(status, customer, provider_id)

    with market.reverts("MarketplaceNotCustomer", bookingId=booking_id, caller=roles[role]):
        market.transact(action, booking_id, sender=roles[role])


def test_a_contract_acting_for_the_customer_is_not_the_customer(
    market: MarketDriver, customer: str, booking_id: int
) -> None:
    # No tx.origin: the customer's own transaction through a contract is the contract's call.
    proxy = market.deploy_actor("RevertingReceiver", controller=customer)

    with market.reverts("MarketplaceNotCustomer", bookingId=booking_id, caller=proxy.address):
        proxy.act("cancel", booking_id)


@pytest.mark.parametrize("role", ["stranger", "owner", "other_customer"])
def test_resolve_refuses_an_account_not_on_the_allowlist(
    market: MarketDriver, roles: dict[str, str], customer: str, provider_id: int, role: str
) -> None:
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)

    with market.reverts("MarketplaceNotArbiter", bookingId=booking_id, caller=roles[role]):
        market.transact("resolve", booking_id, 5_000, sender=roles[role])


@pytest.mark.parametrize("party", ["customer", "provider"])
def test_resolve_refuses_an_arbiter_who_is_a_party(
    market: MarketDriver,
    roles: dict[str, str],
    owner: str,
    customer: str,
    provider_id: int,
    party: str,
) -> None:
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)
    market.transact("setArbiter", roles[party], True, sender=owner)

    with market.reverts("MarketplaceNotArbiter", bookingId=booking_id, caller=roles[party]):
        market.transact(
            "resolve", booking_id, 10_000 if party == "customer" else 0, sender=roles[party]
        )


def test_resolve_refuses_a_removed_arbiter(
    market: MarketDriver, owner: str, customer: str, arbiter: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)
    market.transact("setArbiter", arbiter, False, sender=owner)

    with market.reverts("MarketplaceNotArbiter", bookingId=booking_id, caller=arbiter):
        market.transact("resolve", booking_id, 5_000, sender=arbiter)


def test_resolve_refuses_a_refund_above_one_hundred_percent(
    market: MarketDriver, customer: str, arbiter: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)

    with market.reverts("MarketplaceInvalidRefundBps", refundBps=10_001):
        market.transact("resolve", booking_id, 10_001, sender=arbiter)


def test_resolve_checks_the_arbiter_before_the_refund(
    market: MarketDriver, customer: str, stranger: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)

    with market.reverts("MarketplaceNotArbiter", bookingId=booking_id, caller=stranger):
        market.transact("resolve", booking_id, 10_001, sender=stranger)
