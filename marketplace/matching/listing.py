"""Listing filters over the index's columns: which providers a directory query shows.

Browsing (the API's `GET /providers`) filters by plain listing facts, not by a customer's
criteria: category, region, active, currency, owner, required attribute bits, a minimum score,
reliability and track record, and a maximum price.
Every filter is a vectorised mask over the columns; a price at or above `PRICE_CAP` is compared
exactly against `Columns.big_prices`, so the answer is exact for every uint96 price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketplace.matching.index import PRICE_CAP, Columns

__all__ = ["ListingFilter", "listed_provider_ids"]


@dataclass(frozen=True)
class ListingFilter:
    """What to keep; None (or 0 for `required_attributes`) means no filter on that column."""

    category: int | None = None
    region: int | None = None  # 0 means any region: no filter
    active: bool | None = None
    currency: int | None = None
    owner: str | None = None
    required_attributes: int = 0
    min_score: int | None = None  # basis points of a star
    max_price: int | None = None  # smallest units (compare within one currency)
    min_reliability: int | None = None  # basis points
    min_rating_weight: int | None = None


def listed_provider_ids(columns: Columns, wanted: ListingFilter) -> list[int]:
    """Ids of the providers that pass every filter, in ascending order."""
    mask = np.ones(len(columns), np.bool_)
    if wanted.category is not None:
        mask &= columns.category == wanted.category
    if wanted.region:
        mask &= columns.region == wanted.region
    if wanted.active is not None:
        mask &= columns.active == wanted.active
    if wanted.currency is not None:
        mask &= columns.currency == wanted.currency
    if wanted.owner is not None:
        code = columns.owner_code.get(wanted.owner.lower())
        mask &= columns.owner == (-1 if code is None else code)
    if wanted.min_reliability is not None:
        mask &= columns.reliability >= wanted.min_reliability
    if wanted.min_rating_weight is not None:
        mask &= columns.rating_weight >= np.uint64(wanted.min_rating_weight)
    if wanted.required_attributes:
        required = np.uint64(wanted.required_attributes)
        mask &= (columns.attributes & required) == required
    if wanted.min_score is not None:
        mask &= columns.score >= wanted.min_score
    if wanted.max_price is not None:
        mask &= columns.price <= min(wanted.max_price, PRICE_CAP)
        for row, exact in columns.big_prices.items():
            mask[row] &= exact <= wanted.max_price
    ids: list[int] = np.sort(columns.provider_id[mask]).tolist()
    return ids
