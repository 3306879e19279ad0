"""Matching for pages and the API: ranked providers with reasons, counts of who is excluded why.

Runs over this process's `LiveIndex`; the customer's blocks come from the store and the living
profile's affinity from their consented profile. A ranking never lists a provider the contract's
rule would refuse (the index applies that rule exactly), and every match says why it is there.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from marketplace.catalogue import CATEGORIES, key_of, labels
from marketplace.domain import Criterion
from marketplace.matching.eligibility import CriteriaView
from marketplace.matching.explain import format_stars
from marketplace.matching.ranking import Ranking, exclusion_counts, rank
from marketplace.units import ETHER_CURRENCY, Currency, format_amount
from marketplace.web.context import Services
from marketplace.web.db import cached_metadata_many
from marketplace.web.present import picture_json, reliability_label, weight_label

MAX_K = 100


def match(
    svc: Services,
    criteria: CriteriaView | None,
    *,
    customer: str | None = None,
    personalise: bool = True,
    k: int = 20,
) -> tuple[Ranking, list[dict[str, Any]]]:
    """The top `k` eligible providers under `criteria`, each with its reasons, as JSON."""
    index = svc.index.current()
    affinity = None
    if personalise and customer is not None and criteria is not None:
        affinity = svc.profiles.affinity(customer, criteria)
    ranking = rank(index, criteria, affinity=affinity, k=k)
    listings = {m.provider_id: svc.index.listing(m.provider_id) for m in ranking.matches}
    documents = cached_metadata_many(
        svc.engine, [listing.metadata_hash for listing in listings.values() if listing])
    out = []
    with index.read() as columns:
        for m in ranking.matches:
            listing = listings.get(m.provider_id)
            document = documents.get(listing.metadata_hash) if listing else None
            name = document.get("name") if document else None
            shown = _listing_text(m.region, m.attributes, m.score,
                                  (m.rating_weight, m.reliability, m.completed, m.failures))
            row = columns.row_of.get(m.provider_id) if m.verified else None
            out.append({
                "rank": m.rank,
                "provider_id": m.provider_id,
                "name": name if isinstance(name, str) and name else f"Provider #{m.provider_id}",
                "owner": listing.owner if listing else None,
                "category": key_of("category", m.category),
                "region": shown.region,
                "attributes": list(shown.attributes),
                "score": m.score,
                "stars": shown.stars,
                "rating_weight": m.rating_weight,
                "weight_label": shown.weight_label,
                "reliability": m.reliability,
                "reliability_label": shown.reliability_label,
                "currency_id": m.currency,
                # only a listing a named attestor verified has labels to show
                "verified": _verified_labels(columns, row) if row is not None else [],
                "price": str(m.price),
                "price_label": _amount_label(
                    m.price, columns.currencies.get(m.currency, ETHER_CURRENCY)),
                "ceiling": str(m.ceiling),
                "utility": round(m.utility, 6),
                "reasons": list(m.reasons),
                **picture_json(document),
            })
    return ranking, out


class _ListingText(NamedTuple):
    """How a match shows its listing's facts (the same words for the same facts)."""

    region: str | None
    attributes: tuple[str, ...]
    stars: str
    weight_label: str
    reliability_label: str


# Pure functions of a listing's facts, memoised: a listing that ranks high for many customers is
# worded once per worker. Bounded, and nothing to invalidate: new facts are new arguments.
@lru_cache(maxsize=16_384)
def _listing_text(region: int, attributes: int, score: int,
                  outcomes: tuple[int, int, int, int]) -> _ListingText:
    """`outcomes`: (rating weight, reliability, completed, failures)."""
    return _ListingText(
        region=key_of("region", region),
        attributes=tuple(labels("attribute", attributes)),
        stars=format_stars(score),
        weight_label=weight_label(outcomes[0]),
        reliability_label=reliability_label(*outcomes[1:]),
    )


@lru_cache(maxsize=16_384)
def _amount_label(amount: int, currency: Currency) -> str:
    return format_amount(amount, currency)


def _verified_labels(columns: Any, row: int) -> list[str]:
    """Attributes of the listing at `row` verified by a still-named attestor (with its id)."""
    attributes = int(columns.attributes[row])
    out = []
    for attestor, bits in columns.attestations(row).items():
        if attestor in columns.named_attestors:
            out += [f"{name} (attestor #{attestor})"
                    for name in labels("attribute", bits & attributes)]
    return out


def exclusions(svc: Services, criteria: CriteriaView | None) -> dict[str, Any]:
    """How many providers of the category qualify, and how many each criterion excludes."""
    index = svc.index.current()
    counts = exclusion_counts(index, criteria)
    in_category = 0
    if criteria is not None:
        with index.read() as columns:
            in_category = int((columns.category == criteria.category).sum())
    excluded = {
        c.name.lower(): {"count": n, "reason": c.reason}
        for c, n in counts.items()
        if c not in (Criterion.NONE, Criterion.CRITERIA_NOT_SET) and n
    }
    return {
        "eligible": counts[Criterion.NONE],
        "in_category": in_category,
        "excluded": excluded,
    }


def category_entries() -> list[dict[str, Any]]:
    """Categories as the pages list them."""
    return [{"code": e.code, "key": e.key, "label": e.label} for e in CATEGORIES]
