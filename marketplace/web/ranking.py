"""Matching for pages and the API: ranked providers with reasons, counts of who is excluded why.

Runs over this process's `LiveIndex`; the customer's blocks come from the store and the living
profile's affinity from their consented profile. A ranking never lists a provider the contract's
rule would refuse (the index applies that rule exactly), and every match says why it is there.
"""

from __future__ import annotations

from typing import Any

from marketplace.catalogue import CATEGORIES, key_of, labels
from marketplace.domain import Criterion
from marketplace.matching.eligibility import CriteriaView
from marketplace.matching.explain import format_stars
from marketplace.matching.ranking import Ranking, exclusion_counts, rank
from marketplace.units import ETHER_CURRENCY, format_amount
from marketplace.web.context import Services
from marketplace.web.db import cached_metadata_many
from marketplace.web.present import reliability_label, weight_label

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
            row = columns.row_of.get(m.provider_id)
            listing = listings.get(m.provider_id)
            document = documents.get(listing.metadata_hash) if listing else None
            name = document.get("name") if document else None
            region = int(columns.region[row]) if row is not None else 0
            attributes = int(columns.attributes[row]) if row is not None else 0
            out.append({
                "rank": m.rank,
                "provider_id": m.provider_id,
                "name": name if isinstance(name, str) and name else f"Provider #{m.provider_id}",
                "owner": listing.owner if listing else None,
                "region": key_of("region", region),
                "attributes": labels("attribute", attributes),
                "score": m.score,
                "stars": format_stars(m.score),
                "rating_weight": int(columns.rating_weight[row]) if row is not None else 0,
                "weight_label": weight_label(int(columns.rating_weight[row]))
                if row is not None else "",
                "reliability": int(columns.reliability[row]) if row is not None else None,
                "reliability_label": reliability_label(
                    int(columns.reliability[row]), int(columns.completed[row]),
                    int(columns.failures[row])) if row is not None else "",
                "currency_id": int(columns.currency[row]) if row is not None else 0,
                "verified": _verified_labels(columns, row) if row is not None else [],
                "price": str(m.price),
                "price_label": format_amount(m.price, columns.currencies.get(
                    int(columns.currency[row]) if row is not None else 0, ETHER_CURRENCY)),
                "ceiling": str(m.ceiling),
                "utility": round(m.utility, 6),
                "reasons": list(m.reasons),
            })
    return ranking, out


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
