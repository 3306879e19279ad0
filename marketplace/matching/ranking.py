"""Ranking eligible providers by the customer's own weights, plus personal affinity, with reasons.

The ranking value of an eligible provider (`utility`) is, in this order of float operations:

    score_term = (score - minScore) / (5 stars - minScore)            1 if minScore is 5 stars
    price_term = max(1 - price / ceiling_f, 0)                         1 if ceiling_f is 0
                 ceiling_f = float(maxPrice) + float(premiumPerStar) * ((score - minScore) / STAR)
    base       = (w_score * score_term + w_price * price_term) / (w_score + w_price)
    utility    = base + each trait weight the provider has (by bit) + its own provider weight

Both terms run from 0 (at the customer's minimum score, at their ceiling) to 1 (five stars, free),
so the weights mean what the customer set. Ties break by provider id, ascending. The vectorised
path performs exactly these IEEE operations, so it agrees with `reference.rank_reference`
(a loop over `utility`) to the bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from marketplace.domain import MAX_SCORE, STAR, Criterion
from marketplace.matching.eligibility import CriteriaView, ProviderView, price_ceiling
from marketplace.matching.explain import distinct_stars, format_stars
from marketplace.matching.index import Columns, ProviderIndex
from marketplace.matching.vectorised import eligible_rows, first_failed_criteria
from marketplace.units import format_wei


@dataclass(frozen=True)
class TraitAffinity:
    """A personal adjustment for every provider with attribute bit `attribute`."""

    attribute: int
    weight: float  # added to the ranking value; negative ranks such providers lower
    reason: str  # plain words, e.g. "you complained about 'smelled of smoke' on ..."


@dataclass(frozen=True)
class ProviderAffinity:
    """A personal adjustment for one provider (the customer rated it before)."""

    provider_id: int
    weight: float
    reason: str


@dataclass(frozen=True)
class Affinity:
    """What the living profile adds to a ranking; the empty affinity changes nothing."""

    traits: tuple[TraitAffinity, ...] = ()
    providers: tuple[ProviderAffinity, ...] = ()
    score_weight: int | None = None  # learned weights replacing the criteria's, in basis points
    price_weight: int | None = None
    weights_reason: str = ""

    def __post_init__(self) -> None:
        bits = [t.attribute for t in self.traits]
        ids = [p.provider_id for p in self.providers]
        if len(set(bits)) != len(bits) or any(not 0 <= b < 64 for b in bits):
            raise ValueError("trait affinities need distinct attribute bits in 0..63")
        if len(set(ids)) != len(ids):
            raise ValueError("provider affinities need distinct provider ids")
        weights = [t.weight for t in self.traits] + [p.weight for p in self.providers]
        if not all(math.isfinite(w) for w in weights):
            raise ValueError("affinity weights must be finite")
        if (self.score_weight is None) != (self.price_weight is None):
            raise ValueError("learned weights come as a pair")
        if self.score_weight is not None and self.price_weight is not None and (
            self.score_weight < 0 or self.price_weight < 0
        ):
            raise ValueError("learned weights must not be negative")


@dataclass(frozen=True)
class Match:
    """One ranked provider with everything needed to book it and to say why it is here."""

    rank: int  # 1-based
    provider_id: int
    utility: float
    score: int
    price: int  # the quote: `book` takes it as expectedPrice
    ceiling: int  # the customer's score-adjusted ceiling for this provider
    score_term: float
    price_term: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Ranking:
    """The top providers for one customer's criteria in one category."""

    matches: tuple[Match, ...]
    eligible_count: int
    criteria_version: int  # `book` takes it: the quotes were made under this version
    notes: tuple[str, ...]  # reasons that apply to the whole list


def ranking_weights(criteria: CriteriaView, affinity: Affinity | None) -> tuple[int, int]:
    """The (score, price) weights the ranking uses: learned ones if any, else the criteria's."""
    if affinity is not None and affinity.score_weight is not None and (
        affinity.price_weight is not None
    ):
        score_weight, price_weight = affinity.score_weight, affinity.price_weight
    else:
        score_weight, price_weight = criteria.score_weight, criteria.price_weight
    if score_weight == 0 and price_weight == 0:
        return 1, 1
    return score_weight, price_weight


def score_term(score: int, min_score: int) -> float:
    """How far above the customer's minimum a score is: 0 at the minimum, 1 at five stars."""
    if min_score >= MAX_SCORE:
        return 1.0
    return float(score - min_score) / float(MAX_SCORE - min_score)


def price_term(price: int, score: int, criteria: CriteriaView) -> float:
    """How far under the customer's score-adjusted ceiling a price is: 0 at it, 1 if free."""
    d = float(score - criteria.min_score)
    ceiling = float(criteria.max_price) + float(criteria.premium_per_star) * (d / float(STAR))
    if ceiling > 0.0:
        return max(1.0 - float(price) / ceiling, 0.0)
    return 1.0


def utility(provider: ProviderView, criteria: CriteriaView, affinity: Affinity | None) -> float:
    """The ranking value of an eligible provider (the module docstring gives the formula)."""
    score_weight, price_weight = ranking_weights(criteria, affinity)
    sw, pw = float(score_weight), float(price_weight)
    score = provider.score
    value = (sw * score_term(score, criteria.min_score)
             + pw * price_term(provider.price, score, criteria)) / (sw + pw)
    if affinity is not None:
        for trait in sorted(affinity.traits, key=lambda t: t.attribute):
            if provider.attributes >> trait.attribute & 1:
                value = value + trait.weight
        for personal in affinity.providers:
            if personal.provider_id == provider.provider_id:
                value = value + personal.weight
    return value


def rank(
    index: ProviderIndex,
    criteria: CriteriaView | None,
    *,
    affinity: Affinity | None = None,
    k: int = 20,
) -> Ranking:
    """The top `k` eligible providers by `utility`, ties by provider id, each with reasons."""
    if k < 0:
        raise ValueError("k must not be negative")
    with index.read() as columns:
        rows = eligible_rows(columns, criteria)
        if criteria is None or rows.shape[0] == 0 or k == 0:
            version = 0 if criteria is None else criteria.version
            return Ranking((), int(rows.shape[0]), version, ())
        values = _utilities(columns, rows, criteria, affinity)
        top = _top_k(values, columns.provider_id[rows], k)
        matches = tuple(
            _match(position + 1, columns.view(int(rows[i])), float(values[i]), criteria, affinity)
            for position, i in enumerate(top.tolist())
        )
        notes = (_weights_note(criteria, affinity),)
        return Ranking(matches, int(rows.shape[0]), criteria.version, notes)


def exclusion_counts(index: ProviderIndex, criteria: CriteriaView | None) -> dict[Criterion, int]:
    """How many providers fail first on each criterion (Criterion.NONE counts the eligible)."""
    with index.read() as columns:
        counts = np.bincount(first_failed_criteria(columns, criteria), minlength=len(Criterion))
    return {criterion: int(counts[criterion]) for criterion in Criterion}


def _utilities(
    columns: Columns, rows: npt.NDArray[np.intp], criteria: CriteriaView, affinity: Affinity | None
) -> npt.NDArray[np.float64]:
    """`utility` for `rows`: the same IEEE operations on the same operands (commuted at most),
    computed in place to spare allocations."""
    m = criteria.min_score
    d = (columns.score[rows] - np.int32(m)).astype(np.float64)
    if m < MAX_SCORE:
        values = d / float(MAX_SCORE - m)  # the score term
    else:
        values = np.ones(rows.shape[0])
    ceiling = d  # d is not needed after this: reuse it for the float ceiling
    ceiling /= float(STAR)
    ceiling *= float(criteria.premium_per_star)
    ceiling += float(criteria.max_price)
    positive = ceiling > 0.0
    p_term = columns.price_float[rows]
    np.divide(p_term, ceiling, out=p_term, where=positive)
    np.subtract(1.0, p_term, out=p_term)
    np.maximum(p_term, 0.0, out=p_term)
    if not positive.all():
        p_term[~positive] = 1.0
    score_weight, price_weight = ranking_weights(criteria, affinity)
    sw, pw = float(score_weight), float(price_weight)
    values *= sw
    p_term *= pw
    values += p_term
    values /= sw + pw
    if affinity is not None:
        attributes = columns.attributes[rows]
        for trait in sorted(affinity.traits, key=lambda t: t.attribute):
            has = np.flatnonzero((attributes & np.uint64(1 << trait.attribute)) != 0)
            values[has] = values[has] + trait.weight
        for personal in affinity.providers:
            row = columns.row_of.get(personal.provider_id)
            if row is None:
                continue
            i = int(np.searchsorted(rows, row))
            if i < rows.shape[0] and rows[i] == row:
                values[i] = values[i] + personal.weight
    return values


def _top_k(
    values: npt.NDArray[np.float64], ids: npt.NDArray[np.uint32], k: int
) -> npt.NDArray[np.intp]:
    """Positions of the k largest values, ties by ascending id, in rank order.

    On many values, the k-th largest of an evenly strided sample is a lower bound of the true
    k-th largest, so every top-k value is at least it: filtering by it first is exact and leaves
    about k * stride candidates.
    """
    n = values.shape[0]
    candidates = np.arange(n)
    stride = int((n / k) ** 0.5) if k else 0
    if stride >= 8:
        sample = values[::stride]
        bound = np.partition(sample, sample.shape[0] - k)[sample.shape[0] - k]
        candidates = np.flatnonzero(values >= bound)
    if candidates.shape[0] > k:
        chosen = values[candidates]
        kth = np.partition(chosen, chosen.shape[0] - k)[chosen.shape[0] - k]
        candidates = candidates[chosen >= kth]  # the k largest and every tie with the k-th
    order = np.lexsort((ids[candidates], -values[candidates]))[:k]
    return candidates[order]


def _match(
    position: int, p: ProviderView, value: float, c: CriteriaView, affinity: Affinity | None
) -> Match:
    score = p.score
    ceiling = price_ceiling(c, score)
    reasons = [_score_reason(p, c), _price_reason(p.price, ceiling)]
    if affinity is not None:
        reasons.extend(_affinity_reasons(p, affinity))
    return Match(position, p.provider_id, value, score, p.price, ceiling,
                 score_term(score, c.min_score), price_term(p.price, score, c), tuple(reasons))


def _score_reason(p: ProviderView, c: CriteriaView) -> str:
    new = " (new provider, no ratings yet)" if p.score_count == 0 else ""
    if c.min_score == 0:
        return f"score {format_stars(p.score)}{new}"
    score, minimum = distinct_stars(p.score, c.min_score)
    if p.score == c.min_score:
        return f"score {score}, exactly your minimum{new}"
    return f"score {score}, above your {minimum}{new}"


def _price_reason(price: int, ceiling: int) -> str:
    if price == ceiling:
        return f"price {format_wei(price)}, at your ceiling"
    under = (ceiling - price) * 100 // ceiling
    if under == 0:
        return f"price {format_wei(price)}, just under your ceiling"
    return f"price {format_wei(price)}, {under}% under your ceiling"


def _affinity_reasons(p: ProviderView, affinity: Affinity) -> list[str]:
    reasons: list[str] = []
    for personal in affinity.providers:
        if personal.provider_id == p.provider_id and personal.weight != 0:
            reasons.append(_signed(personal.weight, personal.reason))
    shared = [t for t in affinity.traits if p.attributes >> t.attribute & 1 and t.weight != 0]
    for trait in sorted((t for t in shared if t.weight < 0), key=lambda t: t.weight):
        reasons.append(_signed(trait.weight, trait.reason))
    liked = [t for t in shared if t.weight > 0]
    if liked:  # one is enough: several would repeat the same story
        reasons.append(max(liked, key=lambda t: (t.weight, -t.attribute)).reason)
    return reasons


def _signed(weight: float, reason: str) -> str:
    return f"ranked lower: {reason}" if weight < 0 else reason


def _weights_note(c: CriteriaView, affinity: Affinity | None) -> str:
    score_weight, price_weight = ranking_weights(c, affinity)
    share = round(100 * score_weight / (score_weight + price_weight))
    note = f"ranked {share}% on score and {100 - share}% on price"
    if affinity is not None and affinity.score_weight is not None and affinity.weights_reason:
        return f"{note}: {affinity.weights_reason}"
    return f"{note}, as your criteria say"
