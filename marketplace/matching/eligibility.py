"""The eligibility rule, as matching names it: `marketplace.domain` states it once.

`ProviderView` and `CriteriaView` are the domain's `ListingFacts` and `CriteriaFacts` (v2:
currency, owner, rating weight, reliability counters, attestations; criteria with currency,
owner blocks, verified attributes by trusted attestors, track record and reliability minimums).
`first_failed_criterion`, `is_eligible` and `price_ceiling` are the domain's functions; the
vectorised rule (`vectorised`) gives the same answers per row, and the agreement test
(`tests/integration/test_eligibility_agreement.py`) proves the contract does too.
"""

from __future__ import annotations

from marketplace.domain import (
    CriteriaFacts,
    ListingFacts,
    first_failed_criterion,
    is_eligible,
    price_ceiling,
    verified_bits,
)

ProviderView = ListingFacts
CriteriaView = CriteriaFacts

__all__ = [
    "CriteriaView",
    "ProviderView",
    "first_failed_criterion",
    "is_eligible",
    "price_ceiling",
    "verified_bits",
]
