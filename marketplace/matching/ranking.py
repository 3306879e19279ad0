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
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from marketplace.domain import MAX_SCORE, STAR, Criterion, attestor_ids
from marketplace.matching.eligibility import CriteriaView, ProviderView, price_ceiling
from marketplace.matching.explain import (
    MEMO,
    amount_in,
    attribute_name,
    count_words,
    distinct_stars,
    format_stars,
    percent_text,
    weight_text,
)
from marketplace.matching.index import PRICE_CAP, Columns, OwnerHistory, ProviderIndex
from marketplace.matching.partition import FRONT_DEPTH, PartColumns
from marketplace.matching.vectorised import (
    check_ranges,
    eligible_rows,
    first_failed_criteria,
    partition_eligible,
)
from marketplace.units import Currency

# From this many eligible listings on, a sample (the partition's front, or about PRUNE_SAMPLE of
# its listings) bounds the k-th best utility first, and only the listings that can reach it are
# ranked (`_candidates`); below, every eligible listing is.
PRUNE_FROM = 4_096
PRUNE_SAMPLE = 4_096


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
    price: int  # in the listing's currency (the criteria's: other currencies are not eligible)
    ceiling: int  # the customer's score-adjusted ceiling for this provider
    score_term: float
    price_term: float
    reasons: tuple[str, ...]
    currency: int = 0
    rating_weight: int = 0  # the track record behind the score (1,000 = a minimum-fee rating)
    reliability: int = 0  # basis points
    completed: int = 0
    failures: int = 0
    # price less the premium the customer accepts for the score above their minimum
    adjusted_price: int = 0
    verified: tuple[Verified, ...] = ()  # claimed attributes verified by named attestors
    owner: str = ""
    owner_history: OwnerHistory | None = None  # for a listing without ratings yet
    category: int = 0
    region: int = 0
    attributes: int = 0  # the bits the listing claims


@dataclass(frozen=True)
class Verified:
    """One claimed attribute and the named attestors that verified it."""

    attribute: int  # bit
    attestors: tuple[int, ...]  # attestor ids
    trusted: bool  # one of them is trusted by the customer's criteria


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
        source, at, eligible, low = _ranked_rows(columns, criteria, affinity, k)
        if criteria is None or eligible == 0 or k == 0:
            version = 0 if criteria is None else criteria.version
            return Ranking((), eligible, version, ())
        values = _utilities(source, at, criteria, affinity)
        top = _top_k(values, source.provider_id[at], k, low)
        at = at[top]
        rows = source.row[at].astype(np.intp) if isinstance(source, PartColumns) else at
        matches = _matches(columns, rows, values[top], criteria, affinity)
        notes = (_weights_note(criteria, affinity),)
        return Ranking(matches, eligible, criteria.version, notes)


# Where the listings to rank are read from: the index's columns (positions are rows) or one
# partition (positions are its positions; `PartColumns.row` gives the rows).
Source = Columns | PartColumns


def _ranked_rows(columns: Columns, criteria: CriteriaView | None, affinity: Affinity | None,
                 k: int) -> tuple[Source, npt.NDArray[np.intp], int, float]:
    """(source, positions in it that hold every top-`k` eligible listing, how many are
    eligible, a lower bound of the k-th best utility: -inf when none was needed).

    With the index's partitions, only the active listings of the criteria's category and
    currency from the criteria's minimum score on are scanned, and only those that could still
    reach the top k are returned."""
    if columns.partitions is None or criteria is None or criteria.version == 0:
        rows = eligible_rows(columns, criteria)
        return columns, rows, int(rows.shape[0]), -math.inf
    part = columns.partitions.get((criteria.category, criteria.currency))
    if part is None or len(part) == 0:
        check_ranges(criteria)
        return columns, np.zeros(0, np.intp), 0, -math.inf
    start, ok = partition_eligible(columns, part, criteria)
    eligible = int(np.count_nonzero(ok))
    if k == 0 or eligible == 0:
        return part, np.zeros(0, np.intp), eligible, -math.inf
    found, low = _candidates(columns, part, start, ok, eligible, criteria, affinity, k)
    return part, found, eligible, low


def _candidates(columns: Columns, part: PartColumns, start: int, ok: npt.NDArray[np.bool_],
                eligible: int, criteria: CriteriaView, affinity: Affinity | None, k: int
                ) -> tuple[npt.NDArray[np.intp], float]:
    """(positions of `part` among the eligible ones (`ok[i]` for position `start + i`) that can
    be in the top `k`, a lower bound `low` of the k-th best utility or -inf).

    The k-th best utility of some of the eligible is a lower bound `low` of the true k-th best:
    those of the partition's front (see `partition`), where the best of a ranking that prefers
    higher scores and lower prices lie, so `low` is close to the true k-th best; or, for a
    large k or a front with fewer than k eligible, an evenly strided sample of the eligible.
    A listing in the top k has a utility of at least `low`; its utility is at most its base
    value plus the largest sum of positive affinities, and the base value is increasing in the
    score term and the price term, each at most 1. So it needs a score term and a price term no
    lower than what the other term at 1 leaves, which gives a minimum score (a later start in
    the score-ordered partition) and a maximum price (with a margin far above rounding error).
    These two tests are exact necessary conditions: nothing of the top k is dropped. The few
    listings with a positive provider affinity are kept whatever their terms, so that affinity
    does not loosen the bound of all the others.
    """
    if eligible < PRUNE_FROM:
        return start + np.flatnonzero(ok), -math.inf
    sample = part.front[part.front >= start]
    sample = sample[ok[sample - start]]
    if k > FRONT_DEPTH or sample.shape[0] < k:  # the front's bound would be loose, or none
        stride = max(1, ok.shape[0] // PRUNE_SAMPLE)
        sample = start + np.flatnonzero(ok[::stride]) * stride
    if sample.shape[0] < k:
        return start + np.flatnonzero(ok), -math.inf
    values = _utilities(part, sample, criteria, affinity)
    low = float(np.partition(values, values.shape[0] - k)[values.shape[0] - k])
    min_score, max_price = _necessary(low, criteria, affinity)
    first = start
    if min_score > criteria.min_score:
        first = max(start, part.first_with_score(min_score))
    selected = ok[first - start:]
    if max_price < PRICE_CAP:
        selected = selected & (part.price[first:] <= max_price)
    found = first + np.flatnonzero(selected)
    if affinity is not None and (first > start or max_price < PRICE_CAP):
        kept = [row for p in affinity.providers if p.weight > 0
                and (row := columns.row_of.get(p.provider_id)) is not None]
        extra = [slot for slot in part.positions(kept).tolist()
                 if slot >= start and ok[slot - start]
                 and not (slot >= first and int(part.price[slot]) <= max_price)]
        if extra:
            found = np.concatenate((found, np.asarray(extra, np.intp)))
    return found, low


def _necessary(low: float, criteria: CriteriaView, affinity: Affinity | None
               ) -> tuple[int, int]:
    """(minimum score, maximum price) every eligible listing with a utility >= `low` has, but
    those with a positive provider affinity."""
    bonus, magnitude = 0.0, 0.0
    if affinity is not None:
        bonus = sum(t.weight for t in affinity.traits if t.weight > 0)
        magnitude = sum(abs(t.weight) for t in affinity.traits) + sum(
            abs(p.weight) for p in affinity.providers)
    # A base value below `base` cannot reach `low`, whatever rounding the sums add.
    base = low - bonus - 1e-9 * (1.0 + abs(low) + magnitude)
    score_weight, price_weight = ranking_weights(criteria, affinity)
    sw, pw = float(score_weight), float(price_weight)
    m = criteria.min_score
    min_score = m
    if sw > 0 and m < MAX_SCORE:
        need = (base * (sw + pw) - pw) / sw  # the least score term
        if need > 0:
            min_score = max(m, min(MAX_SCORE + 1, m + math.floor(need * (MAX_SCORE - m)) - 1))
    max_price = PRICE_CAP
    if pw > 0:
        need = (base * (sw + pw) - sw) / pw  # the least price term
        if need > 0:
            # price term = 1 - price / ceiling, and the ceiling is largest at five stars
            top = float(criteria.max_price) + float(criteria.premium_per_star) * (
                float(MAX_SCORE - m) / float(STAR))
            bound = max(1.0 - need, 0.0) * top * (1.0 + 1e-9) + 1.0
            if bound < PRICE_CAP:
                max_price = math.ceil(bound)
    return min_score, max_price


def exclusion_counts(index: ProviderIndex, criteria: CriteriaView | None) -> dict[Criterion, int]:
    """How many providers fail first on each criterion (Criterion.NONE counts the eligible)."""
    with index.read() as columns:
        counts = np.bincount(first_failed_criteria(columns, criteria), minlength=len(Criterion))
    return {criterion: int(counts[criterion]) for criterion in Criterion}


def _utilities(
    source: Source, at: npt.NDArray[np.intp], criteria: CriteriaView, affinity: Affinity | None
) -> npt.NDArray[np.float64]:
    """`utility` for the listings at positions `at` of `source`: the same IEEE operations on
    the same operands (commuted at most), computed in place to spare allocations."""
    m = criteria.min_score
    d = np.subtract(source.score[at], m, dtype=np.float64)  # exact: both are small integers
    if m < MAX_SCORE:
        values = d / float(MAX_SCORE - m)  # the score term
    else:
        values = np.ones(at.shape[0])
    ceiling = d  # d is not needed after this: reuse it for the float ceiling
    ceiling /= float(STAR)
    ceiling *= float(criteria.premium_per_star)
    ceiling += float(criteria.max_price)
    positive = ceiling > 0.0
    p_term = source.price_float[at]
    if positive.all():
        np.divide(p_term, ceiling, out=p_term)
    else:
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
        attributes = source.attributes[at]
        for trait in sorted(affinity.traits, key=lambda t: t.attribute):
            has = np.flatnonzero((attributes & np.uint64(1 << trait.attribute)) != 0)
            values[has] = values[has] + trait.weight
        ids = source.provider_id[at]
        for personal in affinity.providers:  # `at` in any order
            found = np.flatnonzero(ids == personal.provider_id)
            values[found] = values[found] + personal.weight
    return values


def _top_k(
    values: npt.NDArray[np.float64], ids: npt.NDArray[np.uint32], k: int,
    at_least: float = -math.inf,
) -> npt.NDArray[np.intp]:
    """Positions of the k largest values, ties by ascending id, in rank order; `at_least`: a
    lower bound of the k-th largest, if known (the pruning's).

    Every top-k value is at least such a bound, so filtering by it first is exact. Without
    one, on many values, the k-th largest of an evenly strided sample is a lower bound, which
    leaves about k * stride candidates.
    """
    n = values.shape[0]
    candidates = np.arange(n)
    stride = int((n / k) ** 0.5) if k else 0
    if at_least > -math.inf:
        candidates = np.flatnonzero(values >= at_least)
    elif stride >= 8:
        sample = values[::stride]
        bound = np.partition(sample, sample.shape[0] - k)[sample.shape[0] - k]
        candidates = np.flatnonzero(values >= bound)
    if candidates.shape[0] > k:
        chosen = values[candidates]
        kth = np.partition(chosen, chosen.shape[0] - k)[chosen.shape[0] - k]
        candidates = candidates[chosen >= kth]  # the k largest and every tie with the k-th
    order = np.lexsort((ids[candidates], -values[candidates]))[:k]
    return candidates[order]


def _matches(columns: Columns, rows: npt.NDArray[np.intp], values: npt.NDArray[np.float64],
             c: CriteriaView, affinity: Affinity | None) -> tuple[Match, ...]:
    """The ranked `rows` (best first) as matches with their reasons.

    The rows' fields are gathered column by column (one numpy call per field for all of them,
    not one per field and row), and the reasons are worded by memoised pure functions of the
    numbers they show."""
    fields = zip(
        rows.tolist(), values.tolist(), columns.provider_id[rows].tolist(),
        columns.score[rows].tolist(), columns.price[rows].tolist(),
        columns.currency[rows].tolist(), columns.rating_weight[rows].tolist(),
        columns.reliability[rows].tolist(), columns.completed[rows].tolist(),
        columns.failures[rows].tolist(), columns.attributes[rows].tolist(),
        columns.owner[rows].tolist(), columns.category[rows].tolist(),
        columns.region[rows].tolist(), strict=True)
    matches = []
    for position, (row, value, pid, score, price, currency, weight, reliability, completed,
                   failures, attributes, owner_code, category, region) in enumerate(fields, 1):
        if price == PRICE_CAP:
            price = columns.exact_price(row)
        owner = columns.owners[owner_code]
        ceiling = price_ceiling(c, score)
        known = None if currency == 0 else columns.currencies.get(currency)
        reasons = [score_reason(weight, score, c.min_score),
                   price_reason(price, ceiling, currency, known),
                   reliability_reason(reliability, completed, failures)]
        verified: tuple[Verified, ...] = ()
        if columns.attested:
            verified = verified_attributes(attributes, columns.attestations(row),
                                           columns.named_attestors, c.trusted_attestors)
            if verified:
                reasons.append(verified_reason(verified, columns.attestor_accounts))
        history = None
        if weight == 0:
            history = columns.owner_history(owner, excluding=pid)
            reasons.append(owner_history_reason(history))
        if affinity is not None:
            reasons.extend(_affinity_reasons(pid, attributes, affinity))
        adjusted = price - c.premium_per_star * (score - c.min_score) // STAR
        matches.append(_new_match((
            position, pid, value, score, price, ceiling, score_term(score, c.min_score),
            price_term(price, score, c), tuple(reasons), currency, weight, reliability,
            completed, failures, adjusted, verified, owner, history, category, region,
            attributes)))
    return tuple(matches)


_MATCH_FIELDS = tuple(f.name for f in fields(Match))


def _new_match(values: tuple[Any, ...]) -> Match:
    """`Match(*values)` (every field, in order), built without the frozen dataclass's
    `__init__`, which sets each of its 21 fields through `object.__setattr__`: the same
    instance, equal to the one `__init__` builds, at well under half the cost."""
    match = object.__new__(Match)
    match.__dict__.update(zip(_MATCH_FIELDS, values, strict=True))
    return match


def verified_attributes(attributes: int, attestations: Mapping[int, int],
                        named: frozenset[int], trusted_mask: int = 0) -> tuple[Verified, ...]:
    """Each attribute a listing claims (`attributes`) that a named attestor verified, with who
    did (`attestations`: attestor id -> attested bits)."""
    by_bit: dict[int, list[int]] = {}
    for attestor, bits in sorted(attestations.items()):
        if attestor not in named:
            continue
        claimed = bits & attributes
        while claimed:
            low = claimed & -claimed
            by_bit.setdefault(low.bit_length() - 1, []).append(attestor)
            claimed ^= low
    trusted = set(attestor_ids(trusted_mask))
    return tuple(Verified(bit, tuple(ids), bool(trusted & set(ids)))
                 for bit, ids in sorted(by_bit.items()))


def attestor_text(attestor: int, accounts: Mapping[int, str]) -> str:
    """'attestor #1 (0x1234…abcd)', or 'attestor #1' when its address is unknown here."""
    account = accounts.get(attestor)
    return f"attestor #{attestor}" if account is None else (
        f"attestor #{attestor} ({account[:6]}…{account[-4:]})")


def verified_reason(verified: tuple[Verified, ...], accounts: Mapping[int, str]) -> str:
    """"verified: 'electric vehicle' by attestor #1 (0x1234…abcd), 'certified' by ..."."""
    parts = []
    for v in verified:
        who = " and ".join(attestor_text(a, accounts) for a in v.attestors)
        parts.append(f"'{attribute_name(v.attribute)}' by {who}"
                     + (" (an attestor you trust)" if v.trusted else ""))
    return "verified: " + "; ".join(parts)


@lru_cache(maxsize=MEMO)
def reliability_reason(reliability: int, completed: int, failures: int) -> str:
    """'reliability 96.4% (48 completed, one failure)'; a listing without outcomes says so."""
    if completed == 0 and failures == 0:
        return f"reliability {percent_text(reliability)} (the starting figure: no bookings yet)"
    failed = "no failures" if failures == 0 else (
        f"{count_words(failures)} failure{'s' if failures != 1 else ''}")
    return f"reliability {percent_text(reliability)} ({completed} completed, {failed})"


@lru_cache(maxsize=MEMO)
def owner_history_reason(history: OwnerHistory) -> str:
    """A new listing's owner's record on its other listings."""
    if history.listings == 0:
        return "new listing; its owner has no other listings"
    listings = f"{count_words(history.listings)} other listing{'s' if history.listings > 1 else ''}"
    if history.rating_weight == 0:
        return (f"new listing; its owner's {listings} have no ratings yet, reliability "
                f"{percent_text(history.reliability)}")
    return (f"new listing; its owner's {listings}: {format_stars(history.score)} stars at "
            f"rating weight {weight_text(history.rating_weight)}, reliability "
            f"{percent_text(history.reliability)}")


@lru_cache(maxsize=MEMO)
def score_reason(rating_weight: int, score: int, min_score: int) -> str:
    """'score 4.3 at rating weight 80, above your 4.0', and so on."""
    if rating_weight == 0:
        track = " (new listing, no ratings yet)"
    else:
        track = f" at rating weight {weight_text(rating_weight)}"
    if min_score == 0:
        return f"score {format_stars(score)}{track}"
    shown, minimum = distinct_stars(score, min_score)
    if score == min_score:
        return f"score {shown}{track}, exactly your minimum"
    return f"score {shown}{track}, above your {minimum}"


def price_reason(price: int, ceiling: int, currency: int, known: Currency | None) -> str:
    """'price 0.088 ETH, 12% under your ceiling', and so on (`known`: the currency's symbol
    and decimals, None for ether or when unknown here)."""
    amount = amount_in(price, currency, known)
    if price == ceiling:
        return f"price {amount}, at your ceiling"
    under = (ceiling - price) * 100 // ceiling
    if under == 0:
        return f"price {amount}, just under your ceiling"
    return f"price {amount}, {under}% under your ceiling"


def _affinity_reasons(provider_id: int, attributes: int, affinity: Affinity) -> list[str]:
    reasons: list[str] = []
    for personal in affinity.providers:
        if personal.provider_id == provider_id and personal.weight != 0:
            reasons.append(_signed(personal.weight, personal.reason))
    shared = [t for t in affinity.traits if attributes >> t.attribute & 1 and t.weight != 0]
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
