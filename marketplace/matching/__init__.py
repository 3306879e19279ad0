"""Pure matching: eligibility (the contract's rule), the provider index, ranking with reasons.

No web3, no Flask. `eligibility` states the on-chain rule once; `vectorised` applies it to index
columns with identical answers; `ranking` orders the eligible by the customer's weights and the
living profile's affinity; `criteria` validates what a customer types into the on-chain tuple.
"""

from marketplace.matching.criteria import CriteriaInput, InvalidCriteria, parse_criteria
from marketplace.matching.eligibility import (
    CriteriaView,
    ProviderView,
    first_failed_criterion,
    is_eligible,
)
from marketplace.matching.explain import Exclusion, explain_exclusion
from marketplace.matching.index import ProviderIndex, ProviderNotIndexed
from marketplace.matching.ranking import (
    Affinity,
    Match,
    ProviderAffinity,
    Ranking,
    TraitAffinity,
    exclusion_counts,
    rank,
)

__all__ = [
    "Affinity",
    "CriteriaInput",
    "CriteriaView",
    "Exclusion",
    "InvalidCriteria",
    "Match",
    "ProviderAffinity",
    "ProviderIndex",
    "ProviderNotIndexed",
    "ProviderView",
    "Ranking",
    "TraitAffinity",
    "exclusion_counts",
    "explain_exclusion",
    "first_failed_criterion",
    "is_eligible",
    "parse_criteria",
    "rank",
]
