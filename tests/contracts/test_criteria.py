"""Criteria, blocks and attestations: each criterion can be the first failed one (in the enum's
order), blocks of a listing and of an owner (present and future listings, every category), and
attributes verified by trusted attestors only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts import driver as d
from tests.contracts.driver import CRITERION, V2

C = {name: i for i, name in enumerate(CRITERION)}


def first_failed(market: V2, customer: str, provider_id: int) -> str:
    return str(CRITERION[market.call("firstFailedCriterion", customer, provider_id)])


def assert_refused(market: V2, customer: str, provider_id: int, criterion: str) -> None:
    assert first_failed(market, customer, provider_id) == criterion
    with market.reverts("MarketplaceIneligible", providerId=provider_id, criterion=C[criterion]):
        market.book_as(
            customer, provider_id, salt=77, criteria_version=market.criteria_version(customer)
        )


def test_criteria_set_emits_every_field(market: V2, customer: str) -> None:
    receipt = market.tx(
        "setCriteria",
        market.criteria_input(minRatingWeight=3_000, minReliability=8_500),
        sender=customer,
    )
    event = market.one(receipt, "CriteriaSet")
    assert event["version"] == 1 and event["category"] == d.CATEGORY
    stored = market.as_dict("getCriteria", customer, d.CATEGORY)
    assert (stored["minRatingWeight"], stored["minReliability"]) == (3_000, 8_500)
    assert market.call("criteriaVersionOf", customer) == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"minScore": 50_001}, "MarketplaceInvalidMinScore"),
        ({"minReliability": 10_001}, "MarketplaceInvalidMinReliability"),
        ({"scoreWeight": 0, "priceWeight": 0}, "MarketplaceInvalidWeights"),
        ({"requiredAttributes": 3, "refusedAttributes": 2}, "MarketplaceConflictingAttributes"),
        ({"requiredAttributes": 1, "verifiedAttributes": 3}, "MarketplaceVerifiedNotRequired"),
        ({"trustedAttestors": 0b11111}, "MarketplaceTooManyAttestors"),
    ],
)
def test_bad_criteria_are_refused(
    market: V2, customer: str, fields: dict[str, Any], error: str
) -> None:
    with market.reverts(error):
        market.tx("setCriteria", market.criteria_input(**fields), sender=customer)


def test_each_criterion_in_order(
    market: V2, owner: str, provider: str, customer: str, attestor: str
) -> None:
    pid = market.register(provider, region=4, attributes=0b0110)
    assert first_failed(market, customer, pid) == "CriteriaNotSet"
    with market.reverts("MarketplaceCriteriaNotSet"):
        market.tx("setBlocked", pid, True, sender=customer)
    market.set_criteria(customer, currency=d.USD)
    assert_refused(market, customer, pid, "Currency")
    market.set_criteria(customer, region=5)
    assert_refused(market, customer, pid, "Region")
    market.set_criteria(customer, region=4)
    market.tx("setBlocked", pid, True, sender=customer)
    assert_refused(market, customer, pid, "Blocked")
    market.tx("setBlocked", pid, False, sender=customer)
    market.tx("setOwnerBlocked", provider, True, sender=customer)
    assert_refused(market, customer, pid, "OwnerBlocked")
    market.tx("setOwnerBlocked", provider, False, sender=customer)
    market.set_criteria(customer, requiredAttributes=0b1000)
    assert_refused(market, customer, pid, "RequiredAttributes")
    market.set_criteria(customer, refusedAttributes=0b0010)
    assert_refused(market, customer, pid, "RefusedAttributes")
    market.set_criteria(
        customer, requiredAttributes=0b0100, verifiedAttributes=0b0100, trustedAttestors=1
    )
    assert_refused(market, customer, pid, "VerifiedAttributes")
    market.tx("attest", pid, 0b0100, sender=attestor)
    market.set_criteria(customer, minScore=35_001)
    assert_refused(market, customer, pid, "MinScore")
    market.set_criteria(customer, minRatingWeight=1)
    assert_refused(market, customer, pid, "TrackRecord")
    market.set_criteria(customer, minReliability=9_001)
    assert_refused(market, customer, pid, "Reliability")
    market.set_criteria(customer, maxPrice=d.PRICE - 1)
    assert_refused(market, customer, pid, "MaxPrice")
    market.set_criteria(customer, maxPrice=d.PRICE)
    assert first_failed(market, customer, pid) == "None"
    market.tx("deactivate", pid, sender=provider)
    assert_refused(market, customer, pid, "ProviderInactive")
    assert CRITERION[market.call("firstFailedCriterion", customer, 999)] == "ProviderInactive"


def test_price_ceiling_grows_with_the_score(market: V2, customer: str) -> None:
    market.set_criteria(customer, minScore=30_000, maxPrice=1_000, premiumPerStar=500)
    assert market.call("priceCeiling", customer, d.CATEGORY, 29_999) == 0
    assert market.call("priceCeiling", customer, d.CATEGORY, 30_000) == 1_000
    assert market.call("priceCeiling", customer, d.CATEGORY, 35_000) == 1_250


def test_an_owner_block_covers_future_listings_in_every_category(
    market: V2, provider: str, customer: str
) -> None:
    receipt = market.tx("setOwnerBlocked", provider, True, sender=customer)
    event = market.one(receipt, "OwnerBlockChanged")
    assert (event["owner"], event["blocked"]) == (provider, True)
    assert market.call("isOwnerBlocked", customer, provider) is True
    with market.reverts("MarketplaceOwnerBlockUnchanged"):
        market.tx("setOwnerBlocked", provider, True, sender=customer)
    market.set_criteria(customer, category=2)
    later = market.register(provider, category=2)  # re-registering does not escape the block
    assert first_failed(market, customer, later) == "OwnerBlocked"


def test_a_listing_block_bumps_the_version(market: V2, customer: str, provider_id: int) -> None:
    version = market.set_criteria(customer)
    receipt = market.tx("setBlocked", provider_id, True, sender=customer)
    event = market.one(receipt, "ProviderBlockChanged")
    assert event["version"] == version + 1
    assert market.call("isBlocked", customer, provider_id) is True
    assert market.criteria_version(customer) == version + 1
    with market.reverts("MarketplaceBlockUnchanged"):
        market.tx("setBlocked", provider_id, True, sender=customer)
    with market.reverts(
        "MarketplaceCriteriaVersionMismatch", expected=version, current=version + 1
    ):
        market.book_as(customer, provider_id, criteria_version=version)


def test_attestations(market: V2, owner: str, provider: str, attestor: str, stranger: str) -> None:
    pid = market.register(provider, attributes=0b0011)
    receipt = market.tx("attest", pid, 0b0111, sender=attestor)
    event = market.one(receipt, "AttributesAttested")
    assert (event["attestorId"], event["attributes"]) == (1, 0b0111)
    assert market.call("attestationOf", pid, 1) == 0b0111
    # only the bits the listing still claims count
    assert market.call("verifiedAttributesOf", pid, 1) == 0b0011
    assert market.call("verifiedAttributesOf", pid, 0) == 0
    with market.reverts("MarketplaceNotAttestor", caller=stranger):
        market.tx("attest", pid, 1, sender=stranger)
    market.tx("attest", pid, 0, sender=attestor)  # revokes
    assert market.call("verifiedAttributesOf", pid, 1) == 0


def test_a_removed_attestor_no_longer_verifies(
    market: V2, owner: str, provider: str, customer: str, attestor: str
) -> None:
    pid = market.register(provider, attributes=0b1)
    market.tx("attest", pid, 0b1, sender=attestor)
    market.set_criteria(customer, requiredAttributes=1, verifiedAttributes=1, trustedAttestors=1)
    assert first_failed(market, customer, pid) == "None"
    eta = market.one(market.tx("scheduleChange", 6, attestor, 0, sender=owner), "ChangeScheduled")[
        "eta"
    ]
    market.mine_at(eta)
    market.tx("applyChange", 6, attestor, 0, sender=owner)
    assert first_failed(market, customer, pid) == "VerifiedAttributes"
