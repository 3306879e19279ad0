"""Proposed criteria changes: backed by evidence, complete on-chain tuples, dismissible."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from marketplace.catalogue import lookup, mask
from marketplace.domain import booking_id
from marketplace.matching.criteria import CriteriaInput
from marketplace.matching.eligibility import CriteriaView, ProviderView, price_ceiling
from marketplace.profile import (
    InMemoryProfileRepository,
    ProfileService,
    Proposal,
    ProposalKind,
)

OWNER = "0x" + "0d" * 20


def bid(customer: str, n: int) -> int:
    """The customer's n-th booking's id: listing 1, an hour-long slot n seconds apart."""
    return booking_id(customer, 1, 1_800_000_000 + n, 60)

CUSTOMER = "0x" + "12" * 20
CRITERIA = CriteriaView(category=1, region=1, min_score=30_000, max_price=10**17,
                        premium_per_star=10**16, refused_attributes=1 << 19,
                        score_weight=5_000, price_weight=5_000, version=3)
SMOKER = lookup("attribute", "smoker").code
COMPACT = lookup("attribute", "compact_car").code
ELECTRIC = lookup("attribute", "electric_vehicle").code


@pytest.fixture
def service() -> ProfileService:
    service = ProfileService(InMemoryProfileRepository(),
                             clock=lambda: datetime(2026, 3, 1, tzinfo=UTC))
    service.grant_consent(CUSTOMER)
    return service


def ride(pid: int, attributes: int = 0, count: int = 10, total: int = 40,
         price: int = 8 * 10**16) -> ProviderView:
    # 4,000 a rating: the prior weighs five such ratings, so scores read as v1's did.
    return ProviderView(pid, OWNER, 1, 1, attributes, 0, price, True, count * 4_000,
                        total * 4_000)


def rate(service: ProfileService, n: int, provider: ProviderView, stars: int,
         complaints: str | None = None) -> None:
    tags = mask("complaint tag", [complaints]) if complaints else 0
    service.record_rating(CUSTOMER, bid(CUSTOMER, n), provider, CRITERIA, stars, tags)


def kinds(proposals: list[Proposal]) -> list[ProposalKind]:
    return [p.kind for p in proposals]


def two_smoky_rides(service: ProfileService) -> None:
    rate(service, 1, ride(1, 1 << SMOKER | 1 << ELECTRIC), 1, "smoke_smell")
    rate(service, 2, ride(2, 1 << SMOKER), 2, "smoke_smell")


def test_one_complaint_proposes_nothing_yet_a_second_one_proposes_refusing_the_trait(
    service: ProfileService,
) -> None:
    rate(service, 1, ride(1, 1 << SMOKER | 1 << ELECTRIC), 1, "smoke_smell")
    assert service.proposals(CUSTOMER, CRITERIA) == []  # one complaint may be a stray one
    rate(service, 2, ride(2, 1 << SMOKER), 2, "smoke_smell")
    (proposal,) = service.proposals(CUSTOMER, CRITERIA)
    assert proposal.kind is ProposalKind.REFUSE_ATTRIBUTE
    assert proposal.title == "Refuse 'smoker'"
    assert proposal.reason == ("you complained about 'smelled of smoke' twice on providers with "
                               "'smoker', in both of your bookings with one: almost certainly "
                               "a dislike (99% sure)")
    expected = CriteriaInput.from_view(CRITERIA).changed(
        refused_attributes=CRITERIA.refused_attributes | 1 << SMOKER)
    assert proposal.criteria == expected  # every other field as the customer set it


def test_a_shared_blame_needs_a_second_complaint_before_a_refusal_is_proposed(
    service: ProfileService,
) -> None:
    rate(service, 1, ride(1, 1 << COMPACT | 1 << ELECTRIC), 2, "uncomfortable_vehicle")
    assert service.proposals(CUSTOMER, CRITERIA) == []
    rate(service, 2, ride(2, 1 << COMPACT), 2, "uncomfortable_vehicle")
    (proposal,) = service.proposals(CUSTOMER, CRITERIA)
    assert proposal.title == "Refuse 'compact car'"
    assert "twice" in proposal.reason


def test_no_refusal_is_proposed_for_a_trait_the_customer_also_rated_highly(
    service: ProfileService,
) -> None:
    two_smoky_rides(service)
    rate(service, 3, ride(3, 1 << SMOKER), 5)
    rate(service, 4, ride(4, 1 << SMOKER), 5)
    assert ProposalKind.REFUSE_ATTRIBUTE not in kinds(service.proposals(CUSTOMER, CRITERIA))


def test_strong_evidence_from_long_ago_is_no_longer_strong_enough() -> None:
    repository = InMemoryProfileRepository()
    then = ProfileService(repository, clock=lambda: datetime(2026, 3, 1, tzinfo=UTC))
    then.grant_consent(CUSTOMER)
    two_smoky_rides(then)
    years_later = ProfileService(repository, clock=lambda: datetime(2029, 3, 1, tzinfo=UTC))
    assert then.proposals(CUSTOMER, CRITERIA) != []
    assert years_later.proposals(CUSTOMER, CRITERIA) == []


def test_no_refusal_is_proposed_for_an_attribute_already_refused_or_required(
    service: ProfileService,
) -> None:
    two_smoky_rides(service)
    refused = replace(CRITERIA, refused_attributes=1 << SMOKER)
    assert ProposalKind.REFUSE_ATTRIBUTE not in kinds(service.proposals(CUSTOMER, refused))


def test_poor_experiences_below_a_score_propose_raising_the_minimum_and_keep_the_ceilings(
    service: ProfileService,
) -> None:
    rate(service, 1, ride(1, count=10, total=25), 2)  # score 30,000
    rate(service, 2, ride(2, count=10, total=28), 1)  # 32,000
    rate(service, 3, ride(3, count=10, total=45), 5)  # 41,666
    rate(service, 4, ride(4, count=10, total=48), 4)  # 43,666
    proposals = service.proposals(CUSTOMER, CRITERIA)
    (raise_min,) = [p for p in proposals if p.kind is ProposalKind.RAISE_MIN_SCORE]
    assert raise_min.title == "Raise your minimum score to 4.1"
    assert raise_min.reason.startswith("your two poor experiences were all with providers "
                                       "scoring below 4.1")
    assert raise_min.criteria is not None
    assert raise_min.criteria.min_score == 41_000
    new = raise_min.criteria.to_view(version=4)
    for score in (41_000, 45_000, 50_000):  # the ceiling above the new minimum is unchanged
        assert price_ceiling(new, score) == price_ceiling(CRITERIA, score)


def test_repeated_poor_ratings_of_one_provider_propose_blocking_it(
    service: ProfileService,
) -> None:
    rate(service, 1, ride(5), 2)
    rate(service, 2, ride(5), 1, "rude")
    (block,) = [p for p in service.proposals(CUSTOMER, CRITERIA)
                if p.kind is ProposalKind.BLOCK_PROVIDER]
    assert block.provider_id == 5 and block.criteria is None
    assert block.reason == ("you rated this provider 1.5 stars on average over two bookings and "
                            "complained about 'rude'")
    blocked = replace(CRITERIA, blocked=frozenset({5}))
    assert ProposalKind.BLOCK_PROVIDER not in kinds(service.proposals(CUSTOMER, blocked))


def test_consistent_ratings_propose_weights_closer_to_what_the_customer_values(
    service: ProfileService,
) -> None:
    history = [(50, 11, 5), (30, 6, 2), (50, 10, 5), (30, 5, 2), (40, 9, 4), (30, 6, 2)]
    for n, (total, price, stars) in enumerate(history, start=1):
        rate(service, n, ride(n, count=10, total=total, price=price * 10**16), stars)
    (weights,) = [p for p in service.proposals(CUSTOMER, CRITERIA)
                  if p.kind is ProposalKind.ADJUST_WEIGHTS]
    assert weights.criteria is not None
    assert weights.criteria.score_weight > 6_500
    assert weights.criteria.score_weight + weights.criteria.price_weight == 10_000
    assert "favour score more than your weights say (50/50)" in weights.reason


def test_a_dismissed_proposal_is_not_proposed_again(service: ProfileService) -> None:
    two_smoky_rides(service)
    (proposal,) = service.proposals(CUSTOMER, CRITERIA)
    service.dismiss(CUSTOMER, proposal.key)
    service.dismiss(CUSTOMER, proposal.key)
    assert service.proposals(CUSTOMER, CRITERIA) == []
    assert len(service.export(CUSTOMER)["dismissed_proposals"]) == 1


def test_nothing_is_proposed_for_unset_criteria_or_without_consent(
    service: ProfileService,
) -> None:
    two_smoky_rides(service)
    assert service.proposals(CUSTOMER, replace(CRITERIA, version=0)) == []
    service.revoke_consent(CUSTOMER)
    assert service.proposals(CUSTOMER, CRITERIA) == []


def test_a_proposal_serialises_to_json_with_its_transaction(service: ProfileService) -> None:
    two_smoky_rides(service)
    (proposal,) = service.proposals(CUSTOMER, CRITERIA)
    decoded = json.loads(json.dumps(proposal.to_json()))
    assert decoded["kind"] == "refuse_attribute"
    assert decoded["criteria"][0] == 1 and decoded["criteria"][7] == (1 << 19 | 1 << SMOKER)
    assert decoded["criteria"][4] == str(10**17)  # beyond 2**53: a string
