"""The whole state machine: each action from each status. Legal pairs are exercised with their
events in test_lifecycle.py; every illegal pair is refused with MarketplaceInvalidStatus naming the
current status, and leaves the booking as it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from marketplace.domain import Status
from tests.support.market_driver import MarketDriver

# Who takes each action (so that only the status can be wrong) and with which extra arguments.
ACTIONS = {
    "accept": ("provider", ()),
    "decline": ("provider", ()),
    "cancel": ("customer", ()),
    "expire": ("stranger", ()),
    "complete": ("provider", ()),
    "confirm": ("customer", ()),
    "settle": ("stranger", ()),
    "dispute": ("customer", ()),
    "resolve": ("arbiter", (5_000,)),
    "resolveByDefault": ("stranger", ()),
    "rate": ("customer", (5, 0)),
}
LEGAL = {
    "accept": {Status.REQUESTED},
    "decline": {Status.REQUESTED, Status.ACCEPTED},
    "cancel": {Status.REQUESTED},
    "expire": {Status.REQUESTED, Status.ACCEPTED},
    "complete": {Status.ACCEPTED},
    "confirm": {Status.COMPLETED},
    "settle": {Status.COMPLETED},
    "dispute": {Status.COMPLETED},
    "resolve": {Status.DISPUTED},
    "resolveByDefault": {Status.DISPUTED},
    "rate": {Status.SETTLED, Status.RESOLVED},
}
STATUSES = [s for s in Status if s != Status.NONE]
ILLEGAL = [(a, s) for a in ACTIONS for s in STATUSES if s not in LEGAL[a]]


@pytest.fixture(scope="module")
def every_status(deployed: MarketDriver, roles: dict[str, str]) -> Iterator[dict[Status, int]]:
    """One booking in each status, built once per module (each test runs in its own snapshot)."""
    snapshot = deployed.rpc("evm_snapshot")
    provider_id = deployed.register(roles["provider"])
    bookings = {Status.EXPIRED: deployed.booking_in(Status.EXPIRED, roles["customer"], provider_id)}
    for status in STATUSES:
        if status != Status.EXPIRED:
            bookings[status] = deployed.booking_in(status, roles["customer"], provider_id)
    yield bookings
    deployed.rpc("evm_revert", [snapshot])


@pytest.mark.parametrize(("action", "status"), ILLEGAL, ids=[f"{a}-{s.name}" for a, s in ILLEGAL])
def test_an_action_outside_its_states_is_refused_with_the_current_status(
    market: MarketDriver,
    roles: dict[str, str],
    every_status: dict[Status, int],
    action: str,
    status: Status,
) -> None:
    booking_id = every_status[status]
    role, extra = ACTIONS[action]

    with market.reverts("MarketplaceInvalidStatus", bookingId=booking_id, status=int(status)):
        market.transact(action, booking_id, *extra, sender=roles[role])

    assert market.status(booking_id) == status


@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_action_on_an_unknown_booking_is_refused(
    market: MarketDriver, roles: dict[str, str], customer: str, action: str
) -> None:
    unknown = (int(customer, 16) << 64) | 99
    role, extra = ACTIONS[action]

    with market.reverts("MarketplaceBookingNotFound", bookingId=unknown):
        market.transact(action, unknown, *extra, sender=roles[role])
