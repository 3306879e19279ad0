"""The eligibility rule, stated once in Python with the contract's integer maths.

`contracts/libraries/Eligibility.sol` states it once in Solidity (the score it uses is
`marketplace.domain.bayesian_score`, as `Score.sol`); the agreement test
(`tests/integration/test_eligibility_agreement.py`) proves both give the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marketplace.domain import STAR, Criterion, bayesian_score


@dataclass(frozen=True)
class ProviderView:
    """What eligibility needs to know of a provider."""

    provider_id: int
    category: int
    region: int
    attributes: int
    price: int
    active: bool
    score_count: int = 0
    score_sum: int = 0

    @property
    def score(self) -> int:
        """Bayesian score in basis points of a star."""
        return bayesian_score(self.score_count, self.score_sum)


@dataclass(frozen=True)
class CriteriaView:
    """A customer's stored criteria for one category (version 0 = never set)."""

    category: int
    region: int = 0
    min_score: int = 0
    max_price: int = 0
    premium_per_star: int = 0
    required_attributes: int = 0
    refused_attributes: int = 0
    score_weight: int = 5_000
    price_weight: int = 5_000
    version: int = 0
    blocked: frozenset[int] = field(default_factory=frozenset)


def price_ceiling(criteria: CriteriaView, score: int) -> int:
    """Highest accepted price for a provider with `score`; 0 below the minimum score."""
    if score < criteria.min_score:
        return 0
    return criteria.max_price + (criteria.premium_per_star * (score - criteria.min_score)) // STAR


def first_failed_criterion(provider: ProviderView, criteria: CriteriaView | None) -> Criterion:
    """The first criterion `provider` fails under `criteria`, in the contract's order, or NONE."""
    if not provider.active:
        return Criterion.PROVIDER_INACTIVE
    if criteria is None or criteria.version == 0 or criteria.category != provider.category:
        return Criterion.CRITERIA_NOT_SET
    if criteria.region != 0 and criteria.region != provider.region:
        return Criterion.REGION
    if provider.provider_id in criteria.blocked:
        return Criterion.BLOCKED
    required = criteria.required_attributes
    if provider.attributes & required != required:
        return Criterion.REQUIRED_ATTRIBUTES
    if provider.attributes & criteria.refused_attributes:
        return Criterion.REFUSED_ATTRIBUTES
    score = provider.score
    if score < criteria.min_score:
        return Criterion.MIN_SCORE
    if provider.price > price_ceiling(criteria, score):
        return Criterion.MAX_PRICE
    return Criterion.NONE


def is_eligible(provider: ProviderView, criteria: CriteriaView | None) -> bool:
    """Whether the contract would accept a booking of `provider` under `criteria`."""
    return first_failed_criterion(provider, criteria) is Criterion.NONE
