"""The eligibility rule over index columns: the same answers as `first_failed_criterion`, per row.

Integer maths only, as in the contract. The score-adjusted ceiling
`maxPrice + premiumPerStar * (score - minScore) // STAR` can need ~100 bits; comparing it with a
price below `PRICE_CAP` only needs it exactly while it is below `PRICE_CAP`, so it is computed
in int64 saturating at `PRICE_CAP`, once per query for every score (`ceiling_by_score`), and
read by score. Over a partition (whose scores ascend) the common case needs no table: when the
premium is a whole number of units per ten-thousandth of a star and the ceiling at the
partition's top score is below `PRICE_CAP`, it is `maxPrice + q * (score - minScore)` exactly,
computed straight from the scores. Prices at or above `PRICE_CAP` are compared exactly in Python.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from marketplace.domain import (
    MAX_ATTESTORS,
    MAX_SCORE,
    STAR,
    UINT8_MAX,
    UINT16_MAX,
    UINT32_MAX,
    UINT64_MAX,
    UINT96_MAX,
    Criterion,
    attestor_ids,
)
from marketplace.matching.criteria import InvalidCriteria
from marketplace.matching.eligibility import CriteriaView, price_ceiling
from marketplace.matching.index import PRICE_CAP, Columns
from marketplace.matching.partition import PartColumns

Rows = npt.NDArray[np.intp]
Mask = npt.NDArray[np.bool_]


def first_failed_criteria(columns: Columns, criteria: CriteriaView | None) -> npt.NDArray[np.uint8]:
    """The `Criterion` code of the first failed criterion of every row (0 = eligible)."""
    n = len(columns)
    code = np.zeros(n, np.uint8)
    if criteria is None or criteria.version == 0:
        code[:] = Criterion.CRITERIA_NOT_SET
        code[~columns.active] = Criterion.PROVIDER_INACTIVE
        return code
    check_ranges(criteria)
    min_ok = columns.score >= criteria.min_score
    price_ok = np.ones(n, np.bool_)
    scored = np.flatnonzero(min_ok)
    price_ok[scored] = _within_ceiling(columns, scored, criteria)
    # Assigned from the last criterion to the first, so the first failure wins.
    code[~price_ok] = Criterion.MAX_PRICE
    if criteria.min_reliability:
        code[columns.reliability < criteria.min_reliability] = Criterion.RELIABILITY
    if criteria.min_rating_weight:
        code[columns.rating_weight < np.uint64(criteria.min_rating_weight)] = (
            Criterion.TRACK_RECORD)
    code[~min_ok] = Criterion.MIN_SCORE
    if criteria.verified_attributes:
        code[~_verified_ok(columns, criteria)] = Criterion.VERIFIED_ATTRIBUTES
    if criteria.refused_attributes:
        refused = np.uint64(criteria.refused_attributes)
        code[(columns.attributes & refused) != 0] = Criterion.REFUSED_ATTRIBUTES
    if criteria.required_attributes:
        required = np.uint64(criteria.required_attributes)
        code[(columns.attributes & required) != required] = Criterion.REQUIRED_ATTRIBUTES
    code[_owner_blocked_rows(columns, criteria)] = Criterion.OWNER_BLOCKED
    code[_blocked_rows(columns, criteria)] = Criterion.BLOCKED
    if criteria.region != 0:
        code[columns.region != criteria.region] = Criterion.REGION
    code[columns.currency != criteria.currency] = Criterion.CURRENCY
    code[columns.category != criteria.category] = Criterion.CRITERIA_NOT_SET
    code[~columns.active] = Criterion.PROVIDER_INACTIVE
    return code


def eligible_rows(columns: Columns, criteria: CriteriaView | None) -> Rows:
    """Rows (ascending) of every provider that passes every criterion.

    The fast path of `first_failed_criteria`: cheap column tests narrow the rows first, and the
    ceiling is computed only for the survivors.
    """
    if criteria is None or criteria.version == 0 or len(columns) == 0:
        return np.zeros(0, np.intp)
    check_ranges(criteria)
    mask: Mask = columns.category == criteria.category
    mask &= columns.active
    mask &= columns.currency == criteria.currency
    if criteria.min_score > 0:
        mask &= columns.score >= criteria.min_score
    _match_listing_fields(columns, criteria, mask)
    mask[_blocked_rows(columns, criteria)] = False
    mask[_owner_blocked_rows(columns, criteria)] = False
    rows = np.flatnonzero(mask)
    if criteria.verified_attributes:
        rows = rows[_verified_ok(columns, criteria, rows)]
    return rows[_within_ceiling(columns, rows, criteria)]


def _match_listing_fields(arrays: Columns | PartColumns, criteria: CriteriaView,
                          mask: Mask, start: int = 0) -> None:
    """Clear in `mask` the listings of `arrays` (the whole index, or one partition) from
    position `start` on that fail the region, attribute, rating-weight or reliability
    criteria."""
    if criteria.region != 0:
        mask &= arrays.region[start:] == criteria.region
    if criteria.required_attributes:
        required = np.uint64(criteria.required_attributes)
        mask &= (arrays.attributes[start:] & required) == required
    if criteria.refused_attributes:
        mask &= (arrays.attributes[start:] & np.uint64(criteria.refused_attributes)) == 0
    if criteria.min_rating_weight:
        mask &= arrays.rating_weight[start:] >= np.uint64(criteria.min_rating_weight)
    if criteria.min_reliability:
        mask &= arrays.reliability[start:] >= criteria.min_reliability


def partition_eligible(columns: Columns, part: PartColumns, criteria: CriteriaView
                       ) -> tuple[int, Mask]:
    """Which positions of `part` (the active listings of the criteria's category and currency)
    pass every other criterion: `eligible_rows` over one partition, without gathers.

    `(start, ok)`: the positions below `start` have a score below the minimum (the partition
    is in score order) and `ok[i]` says whether position `start + i` is eligible.
    """
    check_ranges(criteria)
    start = part.first_with_score(criteria.min_score)
    ok = _within_sorted_ceiling(part.price[start:], part.score[start:], criteria)
    if columns.big_prices:  # the exact rule for prices held above PRICE_CAP
        slots = part.positions(list(columns.big_prices))
        for slot in slots[slots >= start].tolist():
            ok[slot - start] = columns.big_prices[int(part.row[slot])] <= price_ceiling(
                criteria, int(part.score[slot]))
    _match_listing_fields(part, criteria, ok, start)
    if criteria.blocked:
        found = (columns.row_of.get(pid) for pid in criteria.blocked)
        slots = part.positions([row for row in found if row is not None])
        ok[slots[slots >= start] - start] = False
    if criteria.blocked_owners:
        codes = [c for o in criteria.blocked_owners
                 if (c := columns.owner_code.get(o.lower())) is not None]
        for code in codes:
            ok &= part.owner[start:] != code
    if criteria.verified_attributes:
        usable = sum(1 << (a - 1) for a in attestor_ids(criteria.trusted_attestors)
                     if a in columns.named_attestors)
        ok &= (part.attested[start:] & np.uint32(usable)) != 0  # none attested a claim: fails
        slots = np.flatnonzero(ok)
        rows = part.row[start + slots].astype(np.intp)
        ok[slots[~_verified_ok(columns, criteria, rows)]] = False
    return start, ok


def _within_sorted_ceiling(price: npt.NDArray[np.int64], score: npt.NDArray[np.int64],
                           criteria: CriteriaView) -> Mask:
    """price <= the score-adjusted ceiling, for capped prices and ascending scores at least
    the minimum: `ceiling_by_score`'s answers, straight from the scores where that is exact in
    int64, that is where the premium is a whole multiple of STAR and the ceiling at the largest
    score stays below PRICE_CAP (the ceiling is then maxPrice + q * (score - minScore))."""
    if score.shape[0] == 0 or criteria.max_price >= PRICE_CAP:
        return np.ones(score.shape[0], np.bool_)  # every capped price is within
    q, r = divmod(criteria.premium_per_star, STAR)
    m, top = criteria.min_score, int(score[-1])
    if r or criteria.max_price + q * (top - m) >= PRICE_CAP or q * top >= PRICE_CAP:
        within: Mask = price <= np.take(ceiling_by_score(criteria), score)
        return within
    ceiling = score * q  # below PRICE_CAP (< 2**63) at the largest score
    ceiling += criteria.max_price - q * m
    within = price <= ceiling
    return within


def ceiling_by_score(criteria: CriteriaView) -> npt.NDArray[np.int64]:
    """For every score 0..5 stars: -1 below the criteria's minimum, else the ceiling saturated
    at PRICE_CAP: exact wherever the true ceiling is below PRICE_CAP, and at least PRICE_CAP
    elsewhere, so comparing it with a price below PRICE_CAP gives the contract's answer
    (PRICE_CAP throughout when max_price is at least PRICE_CAP, above every column price)."""
    table = np.empty(MAX_SCORE + 1, np.int64)
    m = criteria.min_score
    table[:m] = -1
    if criteria.max_price >= PRICE_CAP:
        table[m:] = PRICE_CAP
        return table
    # Over d = score - minScore = 0, 1, 2, ... in two passes: maxPrice + q * d
    # is exact in int64 up to the first d where it reaches PRICE_CAP (PRICE_CAP from there
    # on), and the remainder's share, floor(r * d / STAR), is added after (rarely: a
    # premium is seldom not a multiple of STAR in the smallest unit).
    q, r = divmod(criteria.premium_per_star, STAR)
    count = MAX_SCORE + 1 - m
    below = count if q == 0 else min(count, -(-(PRICE_CAP - criteria.max_price) // q))
    linear = table[m:m + below]  # maxPrice + q * (below - 1) < PRICE_CAP: no overflow
    np.multiply(_SCORES[:below], min(q, PRICE_CAP), out=linear)
    linear += criteria.max_price
    table[m + below:] = PRICE_CAP
    if r:
        table[m:] += (r * _SCORES[:count]) // STAR
    return table


_SCORES = np.arange(MAX_SCORE + 1, dtype=np.int64)  # 0, 1, ..., MAX_SCORE (read only)
_SCORES.flags.writeable = False


def _within_ceiling(columns: Columns, rows: Rows, criteria: CriteriaView) -> Mask:
    """price <= score-adjusted ceiling for `rows`, whose scores are at least the minimum."""
    ok: Mask = columns.price[rows] <= np.take(ceiling_by_score(criteria), columns.score[rows])
    if columns.big_prices:
        positions = {int(row): i for i, row in enumerate(rows.tolist())}
        for row, exact in columns.big_prices.items():
            i = positions.get(row)
            if i is not None:
                ok[i] = exact <= price_ceiling(criteria, int(columns.score[row]))
    return ok


def _blocked_rows(columns: Columns, criteria: CriteriaView) -> Rows:
    found = (columns.row_of.get(pid) for pid in criteria.blocked)
    rows = [row for row in found if row is not None]
    return np.asarray(rows, np.intp)


def _owner_blocked_rows(columns: Columns, criteria: CriteriaView) -> Rows:
    if not criteria.blocked_owners:
        return np.zeros(0, np.intp)
    codes = [c for o in criteria.blocked_owners
             if (c := columns.owner_code.get(o.lower())) is not None]
    if not codes:
        return np.zeros(0, np.intp)
    return np.flatnonzero(np.isin(columns.owner, np.asarray(codes, np.int32)))


def _verified_ok(columns: Columns, criteria: CriteriaView, rows: Rows | None = None) -> Mask:
    """Every wanted bit verified by a trusted, still-named attestor (`domain.verified_bits`)."""
    attributes = columns.attributes if rows is None else columns.attributes[rows]
    verified = np.zeros(attributes.shape[0], np.uint64)
    for attestor in attestor_ids(criteria.trusted_attestors):
        column = columns.attested.get(attestor)
        if column is not None and attestor in columns.named_attestors:
            verified |= column if rows is None else column[rows]
    wanted = np.uint64(criteria.verified_attributes)
    ok: Mask = (verified & attributes & wanted) == wanted
    return ok


def check_ranges(criteria: CriteriaView) -> None:
    """The vectorised rule assumes the contract's field widths; say which field breaks them."""
    limits = (
        ("category", criteria.category, UINT16_MAX),
        ("region", criteria.region, UINT16_MAX),
        ("min_score", criteria.min_score, MAX_SCORE),
        ("max_price", criteria.max_price, UINT96_MAX),
        ("premium_per_star", criteria.premium_per_star, UINT96_MAX),
        ("required_attributes", criteria.required_attributes, UINT64_MAX),
        ("refused_attributes", criteria.refused_attributes, UINT64_MAX),
        ("currency", criteria.currency, UINT8_MAX),
        ("verified_attributes", criteria.verified_attributes, UINT64_MAX),
        ("trusted_attestors", criteria.trusted_attestors, (1 << MAX_ATTESTORS) - 1),
        ("min_rating_weight", criteria.min_rating_weight, UINT32_MAX),
        ("min_reliability", criteria.min_reliability, UINT16_MAX),
    )
    for name, value, limit in limits:
        if not 0 <= value <= limit:
            raise InvalidCriteria(name, f"{value} outside 0..{limit}")
