"""Provider listings: registration with a stake, updates, (re)activation and stake release."""

from __future__ import annotations

import pytest

from marketplace.domain import Criterion, Status
from tests.support.market_driver import MarketDriver

NEW_METADATA = bytes.fromhex("22" * 32)


# ---------------------------------------------------------------------- register


def test_register_creates_a_listing_with_its_full_state(
    market: MarketDriver, provider: str
) -> None:
    receipt = market.transact(
        "register", 7, 42, 0b1010, 12_345, market.METADATA, sender=provider, value=market.MIN_STAKE
    )

    assert market.only_event(receipt, "ProviderRegistered") == {
        "providerId": 1,
        "owner": provider,
        "category": 7,
        "region": 42,
        "attributes": 0b1010,
        "price": 12_345,
        "stake": market.MIN_STAKE,
        "metadataHash": market.METADATA,
    }
    assert market.provider_of(1) == {
        "owner": provider,
        "stake": market.MIN_STAKE,
        "price": 12_345,
        "attributes": 0b1010,
        "category": 7,
        "region": 42,
        "active": True,
        "scoreCount": 0,
        "scoreSum": 0,
        "metadataHash": market.METADATA,
        "stakeUnlockAt": 0,
        "disputesLost": 0,
    }
    assert market.call("providerCount") == 1
    assert market.balance(market.address) == market.MIN_STAKE
    market.assert_solvent()


def test_register_keeps_a_stake_above_the_minimum(market: MarketDriver, provider: str) -> None:
    provider_id = market.register(provider, stake=market.MIN_STAKE + 1)

    assert market.provider_of(provider_id)["stake"] == market.MIN_STAKE + 1
    market.assert_solvent()


def test_one_owner_may_register_several_listings(market: MarketDriver, provider: str) -> None:
    first = market.register(provider, category=1)
    second = market.register(provider, category=2)

    assert (first, second) == (1, 2)
    assert market.provider_of(second)["owner"] == provider
    assert market.call("providerCount") == 2


def test_register_refuses_a_stake_below_the_minimum(market: MarketDriver, provider: str) -> None:
    with market.reverts(
        "MarketplaceInsufficientStake", sent=market.MIN_STAKE - 1, required=market.MIN_STAKE
    ):
        market.register(provider, stake=market.MIN_STAKE - 1)


def test_register_keeps_the_largest_stake_that_fits_96_bits(
    market: MarketDriver, stranger: str
) -> None:
    market.rpc("anvil_setBalance", [stranger, hex(2**97)])

    provider_id = market.register(stranger, stake=2**96 - 1)

    assert market.provider_of(provider_id)["stake"] == 2**96 - 1
    market.assert_solvent()


def test_register_refuses_a_stake_that_does_not_fit_96_bits(
    market: MarketDriver, stranger: str
) -> None:
    market.rpc("anvil_setBalance", [stranger, hex(2**97)])

    with market.reverts("MarketplaceStakeTooLarge", sent=2**96):
        market.register(stranger, stake=2**96)

    assert market.call("providerCount") == 0


def test_register_refuses_category_zero(market: MarketDriver, provider: str) -> None:
    with market.reverts("MarketplaceInvalidCategory"):
        market.register(provider, category=0)


def test_register_refuses_a_zero_price(market: MarketDriver, provider: str) -> None:
    with market.reverts("MarketplaceZeroPrice"):
        market.register(provider, price=0)


def test_register_is_refused_while_paused(market: MarketDriver, owner: str, provider: str) -> None:
    market.transact("setPaused", True, sender=owner)

    with market.reverts("MarketplacePaused"):
        market.register(provider)


# ---------------------------------------------------------------------- views


def test_a_new_listing_scores_the_prior_mean_of_three_and_a_half_stars(
    market: MarketDriver, provider_id: int
) -> None:
    assert market.call("scoreOf", provider_id) == 35_000


@pytest.mark.parametrize("view", ["getProvider", "scoreOf"])
def test_provider_views_refuse_an_unknown_listing(
    market: MarketDriver, provider_id: int, view: str
) -> None:
    with market.reverts("MarketplaceProviderNotFound", providerId=provider_id + 1):
        market.call(view, provider_id + 1)


# ---------------------------------------------------------------------- update


def test_update_provider_changes_region_attributes_price_and_metadata(
    market: MarketDriver, provider: str, provider_id: int
) -> None:
    receipt = market.transact(
        "updateProvider", provider_id, 9, 0b0110, 777, NEW_METADATA, sender=provider
    )

    assert market.only_event(receipt, "ProviderUpdated") == {
        "providerId": provider_id,
        "region": 9,
        "attributes": 0b0110,
        "price": 777,
        "metadataHash": NEW_METADATA,
    }
    listing = market.provider_of(provider_id)
    assert (listing["region"], listing["attributes"], listing["price"]) == (9, 0b0110, 777)
    assert listing["metadataHash"] == NEW_METADATA
    assert listing["category"] == market.CATEGORY  # fixed for the listing's life


def test_update_provider_refuses_anyone_but_the_owner(
    market: MarketDriver, stranger: str, provider_id: int
) -> None:
    with market.reverts("MarketplaceNotProviderOwner", providerId=provider_id, caller=stranger):
        market.transact("updateProvider", provider_id, 0, 0, 1, NEW_METADATA, sender=stranger)


def test_update_provider_refuses_an_unknown_listing(market: MarketDriver, provider: str) -> None:
    with market.reverts("MarketplaceProviderNotFound", providerId=5):
        market.transact("updateProvider", 5, 0, 0, 1, NEW_METADATA, sender=provider)


def test_update_provider_refuses_a_zero_price(
    market: MarketDriver, provider: str, provider_id: int
) -> None:
    with market.reverts("MarketplaceZeroPrice"):
        market.transact("updateProvider", provider_id, 0, 0, 0, NEW_METADATA, sender=provider)


def test_open_bookings_keep_their_price_after_an_update(
    market: MarketDriver, provider: str, customer: str, provider_id: int, booking_id: int
) -> None:
    market.transact(
        "updateProvider", provider_id, 0, 0, 3 * market.PRICE, NEW_METADATA, sender=provider
    )
    market.transact("accept", booking_id, sender=provider)
    market.transact("complete", booking_id, sender=provider)

    receipt = market.transact("confirm", booking_id, sender=customer)

    settled = market.only_event(receipt, "BookingSettled")
    assert settled["payout"] + settled["fee"] == market.PRICE
    assert market.booking(booking_id)["price"] == market.PRICE
    market.assert_solvent()


# ---------------------------------------------------------------------- deactivate / reactivate


def test_deactivate_stops_bookings_and_starts_the_stake_cooldown(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    receipt = market.transact("deactivate", provider_id, sender=provider)

    unlock_at = market.timestamp_of(receipt) + market.WINDOWS["stakeCooldown"]
    assert market.only_event(receipt, "ProviderDeactivated") == {
        "providerId": provider_id,
        "stakeUnlockAt": unlock_at,
    }
    listing = market.provider_of(provider_id)
    assert (listing["active"], listing["stakeUnlockAt"]) == (False, unlock_at)
    assert market.call("firstFailedCriterion", customer, provider_id) == Criterion.PROVIDER_INACTIVE


def test_deactivate_refuses_an_inactive_listing(
    market: MarketDriver, provider: str, provider_id: int
) -> None:
    market.transact("deactivate", provider_id, sender=provider)

    with market.reverts("MarketplaceProviderStateUnchanged", providerId=provider_id, active=False):
        market.transact("deactivate", provider_id, sender=provider)


def test_deactivate_refuses_anyone_but_the_owner(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    with market.reverts("MarketplaceNotProviderOwner", providerId=provider_id, caller=customer):
        market.transact("deactivate", provider_id, sender=customer)


def test_a_deactivated_provider_still_serves_its_open_bookings(
    market: MarketDriver, provider: str, customer: str, provider_id: int, booking_id: int
) -> None:
    market.transact("deactivate", provider_id, sender=provider)

    market.transact("accept", booking_id, sender=provider)
    market.transact("complete", booking_id, sender=provider)
    market.transact("confirm", booking_id, sender=customer)

    assert market.status(booking_id) == Status.SETTLED
    market.assert_solvent()


def test_reactivate_takes_bookings_again(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    market.transact("deactivate", provider_id, sender=provider)

    receipt = market.transact("reactivate", provider_id, sender=provider)

    assert market.only_event(receipt, "ProviderReactivated") == {"providerId": provider_id}
    listing = market.provider_of(provider_id)
    assert (listing["active"], listing["stakeUnlockAt"]) == (True, 0)
    market.book(customer, provider_id)


def test_reactivate_refuses_an_active_listing(
    market: MarketDriver, provider: str, provider_id: int
) -> None:
    with market.reverts("MarketplaceProviderStateUnchanged", providerId=provider_id, active=True):
        market.transact("reactivate", provider_id, sender=provider)


def test_reactivate_refuses_anyone_but_the_owner(
    market: MarketDriver, provider: str, stranger: str, provider_id: int
) -> None:
    market.transact("deactivate", provider_id, sender=provider)

    with market.reverts("MarketplaceNotProviderOwner", providerId=provider_id, caller=stranger):
        market.transact("reactivate", provider_id, sender=stranger)


def test_reactivate_refuses_a_stake_below_the_current_minimum(
    market: MarketDriver, owner: str, provider: str, provider_id: int
) -> None:
    market.transact("deactivate", provider_id, sender=provider)
    market.transact("setMinStake", market.MIN_STAKE + 1, sender=owner)

    with market.reverts(
        "MarketplaceInsufficientStake", sent=market.MIN_STAKE, required=market.MIN_STAKE + 1
    ):
        market.transact("reactivate", provider_id, sender=provider)


def test_reactivate_refuses_a_listing_whose_stake_was_released(
    market: MarketDriver, provider: str, provider_id: int
) -> None:
    receipt = market.transact("deactivate", provider_id, sender=provider)
    market.mine_at(market.timestamp_of(receipt) + market.WINDOWS["stakeCooldown"])
    market.transact("releaseStake", provider_id, sender=provider)

    with market.reverts("MarketplaceInsufficientStake", sent=0, required=market.MIN_STAKE):
        market.transact("reactivate", provider_id, sender=provider)


def test_reactivate_is_refused_while_paused(
    market: MarketDriver, owner: str, provider: str, provider_id: int
) -> None:
    market.transact("deactivate", provider_id, sender=provider)
    market.transact("setPaused", True, sender=owner)

    with market.reverts("MarketplacePaused"):
        market.transact("reactivate", provider_id, sender=provider)


# ---------------------------------------------------------------------- stake release


def deactivated(market: MarketDriver, provider: str, provider_id: int) -> int:
    """Arrange: deactivate the listing; returns its stake unlock time."""
    receipt = market.transact("deactivate", provider_id, sender=provider)
    return market.timestamp_of(receipt) + market.WINDOWS["stakeCooldown"]


def test_release_stake_moves_the_stake_to_the_owner_credit(
    market: MarketDriver, provider: str, provider_id: int
) -> None:
    unlock_at = deactivated(market, provider, provider_id)

    receipt = market.at(unlock_at, "releaseStake", provider_id, sender=provider)

    assert market.only_event(receipt, "StakeReleased") == {
        "providerId": provider_id,
        "owner": provider,
        "amount": market.MIN_STAKE,
    }
    assert market.provider_of(provider_id)["stake"] == 0
    assert market.credit(provider) == market.MIN_STAKE
    market.assert_solvent()
    market.transact("withdraw", sender=provider)
    assert market.balance(market.address) == 0


def test_release_stake_refuses_an_active_listing(
    market: MarketDriver, provider: str, provider_id: int
) -> None:
    with market.reverts("MarketplaceStakeLocked", providerId=provider_id, unlockAt=0):
        market.transact("releaseStake", provider_id, sender=provider)


def test_release_stake_refuses_a_reactivated_listing(
    market: MarketDriver, provider: str, provider_id: int
) -> None:
    unlock_at = deactivated(market, provider, provider_id)
    market.transact("reactivate", provider_id, sender=provider)

    with market.reverts("MarketplaceStakeLocked", providerId=provider_id, unlockAt=0):
        market.at(unlock_at + 1, "releaseStake", provider_id, sender=provider)


def test_release_stake_pays_only_once(
    market: MarketDriver, provider: str, provider_id: int
) -> None:
    unlock_at = deactivated(market, provider, provider_id)
    market.at(unlock_at, "releaseStake", provider_id, sender=provider)

    with market.reverts("MarketplaceStakeLocked", providerId=provider_id, unlockAt=unlock_at):
        market.transact("releaseStake", provider_id, sender=provider)

    assert market.credit(provider) == market.MIN_STAKE


def test_release_stake_refuses_anyone_but_the_owner(
    market: MarketDriver, provider: str, stranger: str, provider_id: int
) -> None:
    unlock_at = deactivated(market, provider, provider_id)

    with market.reverts("MarketplaceNotProviderOwner", providerId=provider_id, caller=stranger):
        market.at(unlock_at + 1, "releaseStake", provider_id, sender=stranger)


def test_release_stake_refuses_an_unknown_listing(market: MarketDriver, provider: str) -> None:
    with market.reverts("MarketplaceProviderNotFound", providerId=3):
        market.transact("releaseStake", 3, sender=provider)
