"""Invariant 3, compliance: every booking met its customer's criteria, as they stood.

The criteria a customer sets must be criteria the contract accepts, each change the customer's
next version; a booking must name the version in force for its category and meet it with the
provider's listing and score at that block (the eligibility rule of `marketplace.matching`, the
same rule the contract's `Eligibility` library states).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marketplace.audit.model import Invariant
from marketplace.audit.state import CriteriaState, CustomerState, short_id
from marketplace.chain.logs import DecodedEvent
from marketplace.domain import MAX_SCORE, MAX_WEIGHT, Criterion
from marketplace.matching.eligibility import first_failed_criterion, price_ceiling

if TYPE_CHECKING:
    from marketplace.audit.replay import Replay


def check_booking(r: Replay, ev: DecodedEvent) -> None:
    """The booking met its customer's criteria version and the provider's state at that block."""
    a = ev.args
    booking_id, customer, provider_id = a["bookingId"], a["customer"], a["providerId"]
    price, version = a["price"], a["criteriaVersion"]
    provider = r.providers.get(provider_id)
    if provider is None:
        r.violate(
            Invariant.COMPLIANCE, ev,
            f"booking {short_id(booking_id)} is of provider {provider_id}, which was never "
            "registered",
            booking=booking_id,
            provider=provider_id,
            account=customer,
        )
        return
    reasons: list[str] = []
    details: dict[str, Any] = {}
    if price != provider.price:
        reasons.append(f"price {price} wei is not the provider's price {provider.price} wei")
        details["provider_price"] = provider.price
    criteria = r.criteria.get((customer, provider.category))
    current = criteria.version if criteria is not None else 0
    if version != current:
        reasons.append(
            f"booked under criteria version {version}, but the customer's criteria for "
            f"category {provider.category} were at version {current}"
        )
        details["current_version"] = current
    view = provider.view()
    failed = first_failed_criterion(view, criteria.view() if criteria is not None else None)
    if failed is not Criterion.NONE:
        reasons.append(f"fails {failed.name}: {failed.reason}")
        details["criterion"] = failed.name
        details["score"] = view.score
        if criteria is not None:
            details["min_score"] = criteria.min_score
            details["ceiling"] = price_ceiling(criteria.view(), view.score)
    if reasons:
        r.violate(
            Invariant.COMPLIANCE, ev,
            f"booking {short_id(booking_id)} of provider {provider_id}: " + "; ".join(reasons),
            booking=booking_id,
            provider=provider_id,
            account=customer,
            **details,
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
    if values["requiredAttributes"] & values["refusedAttributes"]:
        problems.append("an attribute is both required and refused")
    if values["minScore"] > MAX_SCORE:
        problems.append(f"minimum score {values['minScore']} is above five stars")
    weights = (values["scoreWeight"], values["priceWeight"])
    if max(weights) > MAX_WEIGHT or weights == (0, 0):
        problems.append(f"ranking weights {weights} are not two shares of at most 10000, "
                        "not both zero")
    if problems:
        r.violate(
            Invariant.COMPLIANCE, ev,
            f"customer {customer}'s criteria version {version} should have been refused: "
            + "; ".join(problems),
            account=customer,
        )


def check_block_change(r: Replay, ev: DecodedEvent, c: CriteriaState | None) -> None:
    """A block or unblock of a provider of the category, with criteria set, that changes it."""
    a = ev.args
    customer, provider_id, category = a["customer"], a["providerId"], a["category"]
    blocked = a["blocked"]
    provider = r.providers.get(provider_id)
    problems = []
    if provider is None or provider.category != category:
        problems.append(f"provider {provider_id} is not in category {category}")
    if c is None or c.version == 0:
        problems.append(f"the customer has no criteria for category {category}")
    elif (provider_id in c.blocked) == blocked:
        problems.append(f"provider {provider_id} was already {'un' * (not blocked)}blocked")
    if problems:
        r.violate(
            Invariant.COMPLIANCE, ev,
            f"customer {customer}'s block change (version {a['version']}) should have been "
            "refused: " + "; ".join(problems),
            provider=provider_id,
            account=customer,
        )
