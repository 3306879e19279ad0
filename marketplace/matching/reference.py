"""The brute-force reference ranking: the specification the fast engine is tested against.

One provider at a time: the scalar eligibility rule (the contract's), the scalar `utility`, then a
full sort by (utility descending, provider id ascending). Slow on purpose: nothing here is clever.
"""

from __future__ import annotations

from collections.abc import Iterable

from marketplace.matching.eligibility import CriteriaView, ProviderView, is_eligible
from marketplace.matching.ranking import Affinity, utility


def rank_reference(
    providers: Iterable[ProviderView],
    criteria: CriteriaView | None,
    affinity: Affinity | None = None,
    k: int = 20,
    named_attestors: frozenset[int] | None = None,
) -> list[tuple[int, float]]:
    """(provider id, utility) of the top `k` eligible providers, best first (`named_attestors`:
    the attestor ids the operator names, as `ProviderIndex.named_attestors`)."""
    if criteria is None:
        return []
    scored = [
        (utility(p, criteria, affinity), p.provider_id)
        for p in providers
        if is_eligible(p, criteria, named_attestors)
    ]
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [(provider_id, value) for value, provider_id in scored[:k]]
