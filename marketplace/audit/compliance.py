"""Compliance: every booking met its customer's criteria, as they stood at its block.

The criteria a customer sets must be criteria the contract accepts, each change the customer's
next version; a booking must not be of the customer's own listing, must name the listing's offer
version and the criteria version in force, and meet the criteria with the listing's state at that
block (score, track record, reliability, attestations, blocks and owner blocks), by
`marketplace.domain.first_failed_criterion`: the same rule the contract's `Eligibility` states.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marketplace.audit.model import Invariant, hex_id
from marketplace.audit.state import BookingState, CriteriaState, CustomerState, ProviderState
from marketplace.chain.logs import DecodedEvent
from marketplace.domain import (
    CriteriaFacts,
    Criterion,
    criteria_problem,
    first_failed_criterion,
    price_ceiling,
)

if TYPE_CHECKING:
    from marketplace.audit.replay import Replay


def criteria_facts(
    values: dict[str, Any], version: int, blocked: frozenset[int],
    blocked_owners: frozenset[str],
) -> CriteriaFacts:
    """The domain's view of a `CriteriaInput` as an event stated it."""
    return CriteriaFacts(
        category=values["category"],
        region=values["region"],
        currency=values["currency"],
        min_score=values["minScore"],
        max_price=values["maxPrice"],
        premium_per_star=values["premiumPerStar"],
        required_attributes=values["requiredAttributes"],
        refused_attributes=values["refusedAttributes"],
        verified_attributes=values["verifiedAttributes"],
        trusted_attestors=values["trustedAttestors"],
        min_rating_weight=values["minRatingWeight"],
        min_reliability=values["minReliability"],
        score_weight=values["scoreWeight"],
        price_weight=values["priceWeight"],
        version=version,
        blocked=blocked,
        blocked_owners=blocked_owners,
    )


def _facts_of(r: Replay, customer: str, criteria: CriteriaState | None) -> CriteriaFacts | None:
    """The domain's view of the customer's criteria as they stand. Built again only when they
    changed since the last booking: new values (a CriteriaSet stores a new dict), version,
    blocked listings or owner blocks."""
    if criteria is None or not criteria.values:
        return None
    owners = r.customer(customer).blocked_owners
    facts = criteria.facts
    if (
        facts is None
        or criteria.facts_of is not criteria.values
        or facts.version != criteria.version
        or facts.blocked != criteria.blocked
        or facts.blocked_owners != owners
    ):
        facts = criteria.facts = criteria_facts(
            criteria.values, criteria.version, frozenset(criteria.blocked), frozenset(owners)
        )
        criteria.facts_of = criteria.values
    return facts


def check_booking(
    r: Replay, ev: DecodedEvent, b: BookingState, provider: ProviderState | None
) -> None:
    """The booking is not self-booking, names the offer and criteria versions in force, and the
    listing met the customer's criteria at that block."""
    booking_id, customer, provider_id = b.booking_id, b.customer, b.provider_id
    if provider is None:
        r.violate(
            Invariant.COMPLIANCE, ev,
            f"booking {hex_id(booking_id)} is of listing {provider_id}, which was never registered",
            booking=booking_id, provider=provider_id, account=customer,
        )
        return
    reasons: list[str] = []
    details: dict[str, Any] = {}
    if customer == provider.owner:
        reasons.append("the customer owns the listing (self-booking)")
        details["self_booking"] = True
    offer = provider.offer
    if b.offer_version != offer.version:
        reasons.append(f"names offer version {b.offer_version}, but the listing was at version "
                       f"{offer.version}")
        details["offer_version"] = offer.version
    if b.price != offer.price or b.currency != offer.currency:
        reasons.append(f"price {b.price} in currency {b.currency} is not the listing's offer "
                       f"({offer.price} in currency {offer.currency})")
        details["offer_price"] = offer.price
        details["offer_currency"] = offer.currency
    criteria = r.criteria.get((customer, provider.category))
    current = criteria.version if criteria is not None else 0
    if b.criteria_version != current:
        reasons.append(
            f"booked under criteria version {b.criteria_version}, but the customer's criteria "
            f"for category {provider.category} were at version {current}"
        )
        details["current_version"] = current
    facts = _facts_of(r, customer, criteria)
    listing = provider.facts()
    failed = first_failed_criterion(listing, facts, r.named_attestors())
    if failed is not Criterion.NONE:
        reasons.append(f"fails {failed.name}: {failed.reason}")
        details["criterion"] = failed.name
        details["score"] = listing.score
        details["rating_weight"] = listing.rating_weight
        details["reliability"] = listing.reliability
        if facts is not None:
            details["min_score"] = facts.min_score
            details["ceiling"] = price_ceiling(facts, listing.score)
    if reasons:
        r.violate(
            Invariant.COMPLIANCE, ev,
            f"booking {hex_id(booking_id)} of listing {provider_id}: " + "; ".join(reasons),
            booking=booking_id, provider=provider_id, account=customer, **details,
        )


def check_version(r: Replay, ev: DecodedEvent, customer: CustomerState, version: int) -> None:
    """Every criteria change (and block) is the customer's next version."""
    if version != customer.criteria_version + 1:
        r.violate(
            Invariant.COMPLIANCE, ev,
            f"customer {customer.address}'s criteria jumped from version "
            f"{customer.criteria_version} to {version}: every change must be the next version",
            account=customer.address,
            version=version,
        )


def check_criteria(r: Replay, ev: DecodedEvent) -> None:
    """The criteria the contract stored are criteria it should have accepted."""
    a = ev.args
    customer, category, version, values = a["customer"], a["category"], a["version"], a["criteria"]
    problems = []
    if values["category"] != category:
        problems.append(f"its category {values['category']} differs from topic {category}")
    problem = criteria_problem(criteria_facts(values, version, frozenset(), frozenset()))
    if problem:
        problems.append(problem)
    if problems:
        r.violate(
            Invariant.COMPLIANCE, ev,
            f"customer {customer}'s criteria version {version} should have been refused: "
            + "; ".join(problems),
            account=customer,
        )


def check_block_change(r: Replay, ev: DecodedEvent, c: CriteriaState | None) -> None:
    """A block or unblock of a listing of the category, with criteria set, that changes it."""
    a = ev.args
    customer, provider_id, category = a["customer"], a["providerId"], a["category"]
    blocked = a["blocked"]
    provider = r.providers.get(provider_id)
    problems = []
    if provider is None or provider.category != category:
        problems.append(f"listing {provider_id} is not in category {category}")
    if c is None or c.version == 0:
        problems.append(f"the customer has no criteria for category {category}")
    elif (provider_id in c.blocked) == blocked:
        problems.append(f"listing {provider_id} was already {'un' * (not blocked)}blocked")
    if problems:
        r.violate(
            Invariant.COMPLIANCE, ev,
            f"customer {customer}'s block change (version {a['version']}) should have been "
            "refused: " + "; ".join(problems),
            provider=provider_id,
            account=customer,
        )
