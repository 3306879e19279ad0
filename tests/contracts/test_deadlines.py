"""Deadlines to the second: an action is allowed while block.timestamp <= deadline, its timed exit
only once block.timestamp > deadline; the stake unlocks at (not after) its unlock time."""

from __future__ import annotations

import pytest

from marketplace.domain import Status
from tests.support.market_driver import MarketDriver

# window, the state it bounds, the action due by the deadline, the timed exit after it
WINDOW_CASES = {
    "respond": (Status.REQUESTED, ("accept", "provider", ()), ("expire", "stranger", ())),
    "service": (Status.ACCEPTED, ("complete", "provider", ()), ("expire", "stranger", ())),
    "confirm": (Status.COMPLETED, ("dispute", "customer", ()), ("settle", "stranger", ())),
    "arbitration": (
        Status.DISPUTED,
        ("resolve", "arbiter", (5_000,)),
        ("resolveByDefault", "stranger", ()),
    ),
}
NEXT_STATUS = {
    "accept": Status.ACCEPTED,
    "complete": Status.COMPLETED,
    "dispute": Status.DISPUTED,
    "resolve": Status.RESOLVED,
    "expire": Status.EXPIRED,
    "settle": Status.SETTLED,
    "resolveByDefault": Status.RESOLVED,
}


def booking_at_window(
    market: MarketDriver, customer: str, provider_id: int, window: str
) -> tuple[int, int]:
    """Arrange: a booking in the state `window` bounds; returns (booking id, deadline)."""
    status = WINDOW_CASES[window][0]
    booking_id = market.booking_in(status, customer, provider_id)
    deadline = int(market.booking(booking_id)["deadline"])
    return booking_id, deadline


@pytest.mark.parametrize("offset", [-1, 0])
@pytest.mark.parametrize("window", list(WINDOW_CASES))
def test_the_due_action_is_allowed_up_to_and_at_the_deadline(
    market: MarketDriver,
    roles: dict[str, str],
    customer: str,
    provider_id: int,
    window: str,
    offset: int,
) -> None:
    booking_id, deadline = booking_at_window(market, customer, provider_id, window)
    action, role, extra = WINDOW_CASES[window][1]

    market.at(deadline + offset, action, booking_id, *extra, sender=roles[role])

    assert market.status(booking_id) == NEXT_STATUS[action]


@pytest.mark.parametrize("window", list(WINDOW_CASES))
def test_the_due_action_is_refused_one_second_after_the_deadline(
    market: MarketDriver, roles: dict[str, str], customer: str, provider_id: int, window: str
) -> None:
    booking_id, deadline = booking_at_window(market, customer, provider_id, window)
    action, role, extra = WINDOW_CASES[window][1]

    with market.reverts("MarketplaceDeadlinePassed", bookingId=booking_id, deadline=deadline):
        market.at(deadline + 1, action, booking_id, *extra, sender=roles[role])

    assert market.status(booking_id) == WINDOW_CASES[window][0]


@pytest.mark.parametrize("offset", [-1, 0])
@pytest.mark.parametrize("window", list(WINDOW_CASES))
def test_the_timed_exit_is_refused_up_to_and_at_the_deadline(
    market: MarketDriver,
    roles: dict[str, str],
    customer: str,
    provider_id: int,
    window: str,
    offset: int,
) -> None:
    booking_id, deadline = booking_at_window(market, customer, provider_id, window)
    action, role, extra = WINDOW_CASES[window][2]

    with market.reverts("MarketplaceDeadlineNotReached", bookingId=booking_id, deadline=deadline):
        market.at(deadline + offset, action, booking_id, *extra, sender=roles[role])

    assert market.status(booking_id) == WINDOW_CASES[window][0]


@pytest.mark.parametrize("window", list(WINDOW_CASES))
def test_the_timed_exit_opens_one_second_after_the_deadline(
    market: MarketDriver, roles: dict[str, str], customer: str, provider_id: int, window: str
) -> None:
    booking_id, deadline = booking_at_window(market, customer, provider_id, window)
    action, role, extra = WINDOW_CASES[window][2]

    market.at(deadline + 1, action, booking_id, *extra, sender=roles[role])

    assert market.status(booking_id) == NEXT_STATUS[action]
    market.assert_solvent()


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_customer_may_confirm_at_any_time_in_the_completed_state(
    market: MarketDriver, customer: str, provider_id: int, offset: int
) -> None:
    # confirm has no deadline: after confirmBy it releases the escrow exactly as settle would.
    booking_id, deadline = booking_at_window(market, customer, provider_id, "confirm")

    receipt = market.at(deadline + offset, "confirm", booking_id, sender=customer)

    assert market.events("BookingSettled", receipt)[0]["by"] == customer


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_provider_may_decline_an_accepted_booking_even_after_the_service_deadline(
    market: MarketDriver, provider: str, customer: str, provider_id: int, offset: int
) -> None:
    booking_id, deadline = booking_at_window(market, customer, provider_id, "service")

    market.at(deadline + offset, "decline", booking_id, sender=provider)

    assert market.credit(customer) == market.PRICE


def test_the_stake_stays_locked_one_second_before_its_unlock_time(
    market: MarketDriver, provider: str, provider_id: int
) -> None:
    receipt = market.transact("deactivate", provider_id, sender=provider)
    unlock_at = market.timestamp_of(receipt) + market.WINDOWS["stakeCooldown"]

    with market.reverts("MarketplaceStakeLocked", providerId=provider_id, unlockAt=unlock_at):
        market.at(unlock_at - 1, "releaseStake", provider_id, sender=provider)


@pytest.mark.parametrize("offset", [0, 1])
def test_the_stake_unlocks_at_its_unlock_time(
    market: MarketDriver, provider: str, provider_id: int, offset: int
) -> None:
    receipt = market.transact("deactivate", provider_id, sender=provider)
    unlock_at = market.timestamp_of(receipt) + market.WINDOWS["stakeCooldown"]

    market.at(unlock_at + offset, "releaseStake", provider_id, sender=provider)

    assert market.credit(provider) == market.MIN_STAKE
    market.assert_solvent()
