"""The columnar in-memory provider index that matching queries run over.

One numpy array per provider field (id, category, region, attributes, price, active, score count
and sum, and the Bayesian score derived from them), one row per provider. Events from the chain
update single rows in place; appends grow the arrays geometrically, so an index is never rebuilt.

Prices are uint96 on-chain. Below `PRICE_CAP` (2**62 wei, about 4.6 ether) a price is held exactly
in the int64 column; a larger one is held exactly beside it (`Columns.big_prices`) and the column
holds `PRICE_CAP`, so integer comparisons stay exact and the rare large price is checked in Python.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from marketplace.domain import (
    PRIOR_COUNT,
    PRIOR_MEAN,
    STAR,
    UINT16_MAX,
    UINT64_MAX,
    UINT96_MAX,
    bayesian_score,
)
from marketplace.errors import MarketplaceError
from marketplace.matching.eligibility import ProviderView
from marketplace.matching.rows import DENSE_IDS, RowMap

__all__ = ["DENSE_IDS", "PRICE_CAP", "Columns", "InvalidProvider", "ProviderIndex",
           "ProviderNotIndexed", "RowMap"]

PRICE_CAP = 1 << 62
_UINT24_MAX = 2**24 - 1
_UINT32_MAX = 2**32 - 1


class ProviderNotIndexed(MarketplaceError):
    """An update names a provider id the index has never seen."""


class InvalidProvider(MarketplaceError):
    """Provider data outside what the contract can hold (field widths, score sums)."""


@dataclass(frozen=True)
class Columns:
    """A read view of the index: equal-length arrays, row i describing one provider."""

    provider_id: npt.NDArray[np.uint32]
    category: npt.NDArray[np.uint16]
    region: npt.NDArray[np.uint16]
    attributes: npt.NDArray[np.uint64]
    price: npt.NDArray[np.int64]  # exact below PRICE_CAP, else PRICE_CAP
    price_float: npt.NDArray[np.float64]  # float(price), correctly rounded, for ranking
    active: npt.NDArray[np.bool_]
    score_count: npt.NDArray[np.uint32]
    score_sum: npt.NDArray[np.uint32]
    score: npt.NDArray[np.int32]
    big_prices: Mapping[int, int]  # row -> exact price, for prices >= PRICE_CAP
    row_of: RowMap  # provider id -> row

    def __len__(self) -> int:
        return int(self.provider_id.shape[0])

    def exact_price(self, row: int) -> int:
        """The exact price (wei) of the provider at `row`."""
        big = self.big_prices.get(row)
        return int(self.price[row]) if big is None else big

    def view(self, row: int) -> ProviderView:
        """The provider at `row` as the scalar eligibility rule sees it."""
        return ProviderView(
            provider_id=int(self.provider_id[row]),
            category=int(self.category[row]),
            region=int(self.region[row]),
            attributes=int(self.attributes[row]),
            price=self.exact_price(row),
            active=bool(self.active[row]),
            score_count=int(self.score_count[row]),
            score_sum=int(self.score_sum[row]),
        )


class ProviderIndex:
    """Providers as numpy columns, updated incrementally from events.

    Writers and readers take one lock: a query sees every row in one consistent state. Queries
    take milliseconds, so serialising them per process costs little; run one index per process.
    """

    def __init__(self, capacity: int = 1024) -> None:
        """An empty index with room for `capacity` providers before its first growth."""
        self._lock = threading.RLock()
        self._n = 0
        self._row_of = RowMap()
        self._big: dict[int, int] = {}
        self._allocate(max(capacity, 1))

    # ------------------------------------------------------------------ building

    @classmethod
    def from_views(cls, providers: Iterable[ProviderView]) -> ProviderIndex:
        """An index holding `providers` (a later duplicate id replaces an earlier one)."""
        listed = list(providers)
        index = cls(capacity=len(listed))
        for provider in listed:
            index.upsert(provider)
        return index

    @classmethod
    def from_columns(
        cls,
        *,
        provider_id: npt.ArrayLike,
        category: npt.ArrayLike,
        region: npt.ArrayLike,
        attributes: npt.ArrayLike,
        price: npt.ArrayLike,
        active: npt.ArrayLike,
        score_count: npt.ArrayLike,
        score_sum: npt.ArrayLike,
    ) -> ProviderIndex:
        """A bulk-loaded index (the fast path for a store snapshot); prices below PRICE_CAP."""
        ids = _checked("provider_id", provider_id, np.uint32, _UINT32_MAX)
        n = ids.shape[0]
        index = cls(capacity=n)
        counts = _checked("score_count", score_count, np.uint32, _UINT24_MAX)
        sums = _checked("score_sum", score_sum, np.uint32, _UINT32_MAX)
        prices = _checked("price", price, np.int64, PRICE_CAP - 1)
        if np.unique(ids).shape[0] != n or (n and int(ids.min()) == 0):
            raise InvalidProvider("provider ids must be unique and above zero")
        if np.any(sums.astype(np.int64) > 5 * counts.astype(np.int64)):
            raise InvalidProvider("a score sum exceeds five stars per rating")
        index._id[:n] = ids
        index._category[:n] = _checked("category", category, np.uint16, UINT16_MAX)
        index._region[:n] = _checked("region", region, np.uint16, UINT16_MAX)
        index._attributes[:n] = _checked("attributes", attributes, np.uint64, UINT64_MAX)
        index._price[:n] = prices
        index._price_float[:n] = prices.astype(np.float64)
        index._active[:n] = np.asarray(active, dtype=np.bool_)
        index._count[:n] = counts
        index._sum[:n] = sums
        index._score[:n] = _scores(counts, sums)
        index._n = n
        index._row_of = RowMap(ids)
        return index

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self._n

    def __contains__(self, provider_id: object) -> bool:
        return provider_id in self._row_of

    @contextmanager
    def read(self) -> Iterator[Columns]:
        """Hold the lock and yield a consistent view of every row."""
        with self._lock:
            n = self._n
            yield Columns(
                provider_id=self._id[:n],
                category=self._category[:n],
                region=self._region[:n],
                attributes=self._attributes[:n],
                price=self._price[:n],
                price_float=self._price_float[:n],
                active=self._active[:n],
                score_count=self._count[:n],
                score_sum=self._sum[:n],
                score=self._score[:n],
                big_prices=self._big,
                row_of=self._row_of,
            )

    def view(self, provider_id: int) -> ProviderView:
        """The provider's current state, as the scalar eligibility rule takes it."""
        with self.read() as columns:
            return columns.view(self._row(provider_id))

    def provider_ids(self) -> list[int]:
        """Every indexed provider id, in row order."""
        with self._lock:
            return [int(pid) for pid in self._id[: self._n]]

    def nbytes(self) -> int:
        """Bytes held by the columns (capacity included)."""
        return sum(int(a.nbytes) for a in self._arrays()) + self._row_of.nbytes()

    # ------------------------------------------------------------------ writing

    def upsert(self, provider: ProviderView) -> None:
        """Insert the provider or overwrite every field of its row."""
        _validate(provider)
        with self._lock:
            row = self._row_of.get(provider.provider_id)
            if row is None:
                if self._n == self._id.shape[0]:
                    self._grow(2 * self._n)
                row = self._n
                self._id[row] = provider.provider_id
                self._row_of.set(provider.provider_id, row)
                self._n += 1
            self._category[row] = provider.category
            self._region[row] = provider.region
            self._attributes[row] = provider.attributes
            self._active[row] = provider.active
            self._set_price(row, provider.price)
            self._set_score(row, provider.score_count, provider.score_sum)

    def update_listing(
        self,
        provider_id: int,
        *,
        region: int | None = None,
        attributes: int | None = None,
        price: int | None = None,
    ) -> None:
        """Change the fields a provider may update (`ProviderUpdated`); None keeps a field."""
        with self._lock:
            current = self.view(provider_id)
            changed = ProviderView(
                provider_id, current.category,
                current.region if region is None else region,
                current.attributes if attributes is None else attributes,
                current.price if price is None else price,
                current.active, current.score_count, current.score_sum,
            )
            self.upsert(changed)

    def set_active(self, provider_id: int, active: bool) -> None:
        """Record a deactivation or reactivation."""
        with self._lock:
            self._active[self._row(provider_id)] = active

    def set_score(self, provider_id: int, count: int, total: int) -> None:
        """Set the rating aggregate (count of ratings and lost disputes, sum of their stars)."""
        with self._lock:
            current = self.view(provider_id)
            _validate(ProviderView(provider_id, current.category, current.region,
                                   current.attributes, current.price, current.active, count, total))
            self._set_score(self._row(provider_id), count, total)

    def add_rating(self, provider_id: int, stars: int) -> None:
        """Add one rating (or, with 1 star, one lost dispute) to the provider's aggregate."""
        if not 1 <= stars <= 5:
            raise InvalidProvider(f"a rating has 1 to 5 stars, not {stars}")
        with self._lock:
            row = self._row(provider_id)
            self.set_score(provider_id, int(self._count[row]) + 1, int(self._sum[row]) + stars)

    # ------------------------------------------------------------------ internals

    def _row(self, provider_id: int) -> int:
        row = self._row_of.get(provider_id)
        if row is None:
            raise ProviderNotIndexed(f"provider {provider_id} is not in the index")
        return row

    def _set_price(self, row: int, price: int) -> None:
        if price < PRICE_CAP:
            self._big.pop(row, None)
            self._price[row] = price
        else:
            self._big[row] = price
            self._price[row] = PRICE_CAP
        self._price_float[row] = float(price)

    def _set_score(self, row: int, count: int, total: int) -> None:
        self._count[row] = count
        self._sum[row] = total
        self._score[row] = bayesian_score(count, total)

    def _allocate(self, capacity: int) -> None:
        self._id = np.zeros(capacity, np.uint32)
        self._category = np.zeros(capacity, np.uint16)
        self._region = np.zeros(capacity, np.uint16)
        self._attributes = np.zeros(capacity, np.uint64)
        self._price = np.zeros(capacity, np.int64)
        self._price_float = np.zeros(capacity, np.float64)
        self._active = np.zeros(capacity, np.bool_)
        self._count = np.zeros(capacity, np.uint32)
        self._sum = np.zeros(capacity, np.uint32)
        self._score = np.zeros(capacity, np.int32)

    def _arrays(self) -> tuple[npt.NDArray[Any], ...]:
        return (self._id, self._category, self._region, self._attributes, self._price,
                self._price_float, self._active, self._count, self._sum, self._score)

    def _grow(self, capacity: int) -> None:
        old = self._arrays()
        self._allocate(max(capacity, 1))
        for source, target in zip(old, self._arrays(), strict=True):
            target[: self._n] = source[: self._n]


def _scores(counts: npt.NDArray[np.uint32], sums: npt.NDArray[np.uint32]) -> npt.NDArray[np.int32]:
    """`bayesian_score` over arrays, in int64 like the contract's uint256 maths."""
    numerator = PRIOR_COUNT * PRIOR_MEAN + STAR * sums.astype(np.int64)
    return (numerator // (PRIOR_COUNT + counts.astype(np.int64))).astype(np.int32)


def _checked(name: str, values: npt.ArrayLike, dtype: type[Any], limit: int) -> npt.NDArray[Any]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidProvider(f"{name} must be one-dimensional")
    if array.size and (int(array.min()) < 0 or int(array.max()) > limit):
        raise InvalidProvider(f"{name} outside 0..{limit}")
    return array.astype(dtype)


def _validate(p: ProviderView) -> None:
    limits = (
        ("provider_id", p.provider_id, _UINT32_MAX),
        ("category", p.category, UINT16_MAX),
        ("region", p.region, UINT16_MAX),
        ("attributes", p.attributes, UINT64_MAX),
        ("price", p.price, UINT96_MAX),
        ("score_count", p.score_count, _UINT24_MAX),
        ("score_sum", p.score_sum, _UINT32_MAX),
    )
    for name, value, limit in limits:
        if not 0 <= value <= limit:
            raise InvalidProvider(f"provider {p.provider_id}: {name} {value} outside 0..{limit}")
    if p.provider_id == 0:
        raise InvalidProvider("provider id 0 does not exist")
    if p.score_sum > 5 * p.score_count:
        raise InvalidProvider(f"provider {p.provider_id}: score sum exceeds five stars a rating")
