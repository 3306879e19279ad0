"""The columnar in-memory listing index that matching queries run over.

One numpy array per listing field (id, category, region, attributes, currency, owner, price,
active, rating weight, weighted stars, reliability counters, and the score and reliability
derived from them by `marketplace.domain`), one row per listing. Attestations are one column
per attestor that ever attested (few exist), allocated on its first attestation. Events from the
chain update single rows in place; appends grow the arrays geometrically, so an index is never
rebuilt.

Prices are at most uint88 on-chain. Below `PRICE_CAP` (2**62) a price is held exactly in the
int64 column; a larger one is held exactly beside it (`Columns.big_prices`) and the column holds
`PRICE_CAP`, so integer comparisons stay exact and the rare large price is checked in Python.
Owners are held as codes (int32) into `Columns.owners`, and every write keeps each owner's sums
(listings, rating weight, weighted stars, outcomes) in step, so an owner's record
(`Columns.owner_history`) is a subtraction, not a scan of the owner's listings.

Every write also refreshes the row's copy in `Partitions` (the active listings per category and
currency, the only rows a matching query scans; see `partition`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from marketplace.domain import (
    BPS,
    MAX_ATTESTORS,
    PRIOR_SCORE,
    PRIOR_WEIGHT,
    STAR,
    UINT8_MAX,
    UINT16_MAX,
    UINT64_MAX,
    UINT96_MAX,
    count_outcome,
    reliability,
    weighted_score,
)
from marketplace.domain import (
    add_rating as domain_add_rating,
)
from marketplace.errors import MarketplaceError
from marketplace.matching.eligibility import ProviderView
from marketplace.matching.partition import Partitions
from marketplace.matching.rows import DENSE_IDS, RowMap
from marketplace.units import ETHER_CURRENCY, Currency

__all__ = ["DENSE_IDS", "PRICE_CAP", "Columns", "InvalidProvider", "OwnerHistory", "OwnerSums",
           "ProviderIndex", "ProviderNotIndexed", "RowMap"]

PRICE_CAP = 1 << 62
_UINT32_MAX = 2**32 - 1
# weighted stars * STAR + the prior stay below 2**63 up to this: the vectorised score is exact.
_FAST_SCORE_LIMIT = (2**63 - 1 - PRIOR_WEIGHT * PRIOR_SCORE) // STAR


class ProviderNotIndexed(MarketplaceError):
    """An update names a provider id the index has never seen."""


class InvalidProvider(MarketplaceError):
    """Listing data outside what the contract can hold (field widths, score sums)."""


@dataclass(frozen=True)
class OwnerHistory:
    """An owner's other listings, summed: what a new listing's page shows beside it."""

    owner: str
    listings: int
    rating_weight: int
    score: int  # the domain's weighted score over the summed ratings
    completed: int
    failures: int

    @property
    def reliability(self) -> int:
        """The domain's reliability over the summed counters (basis points)."""
        return reliability(self.completed, self.failures)


_LOW = 2**32 - 1


class OwnerSums:
    """Per owner code: how many listings, their rating weight and weighted stars, completed
    bookings and failures, summed exactly. numpy columns (a million listings have some 200,000
    owners); each 64-bit sum is held as a high and a low 32-bit half in int64, so it never
    overflows."""

    def __init__(self) -> None:
        """No owners yet."""
        self._columns = [np.zeros(0, np.int64) for _ in range(7)]

    def grow(self, owners: int) -> None:
        """Room for owner codes below `owners` (new ones sum to zero)."""
        size = self._columns[0].shape[0]
        if owners > size:
            capacity = max(owners, 2 * size, 16)
            for i, column in enumerate(self._columns):
                grown = np.zeros(capacity, np.int64)
                grown[:size] = column
                self._columns[i] = grown

    def load(self, codes: npt.NDArray[Any], listings: npt.NDArray[Any],
             *sums: npt.NDArray[Any]) -> None:
        """Set the owners `codes` from bulk sums: listings, then the high and low halves of the
        weights and of the weighted stars, then completed and failures (int64-safe sums)."""
        weight_high, weight_low, stars_high, stars_low, completed, failures = (
            np.asarray(s, np.int64) for s in sums)
        for high, low, at in ((weight_high, weight_low, 1), (stars_high, stars_low, 3)):
            self._columns[at][codes] = high + (low >> 32)  # carry the low halves' overflow
            self._columns[at + 1][codes] = low & _LOW
        self._columns[0][codes] = listings
        self._columns[5][codes] = completed
        self._columns[6][codes] = failures

    def add(self, code: int, sign: int, weight: int, stars: int, completed: int,
            failures: int) -> None:
        """Add (`sign` 1) or take away (-1) one listing's values."""
        columns = self._columns
        columns[0][code] += sign
        for at, value in ((1, weight), (3, stars)):
            total = (int(columns[at][code]) << 32) + int(columns[at + 1][code]) + sign * value
            columns[at][code], columns[at + 1][code] = total >> 32, total & _LOW
        columns[5][code] += sign * completed
        columns[6][code] += sign * failures

    def get(self, code: int) -> tuple[int, int, int, int, int]:
        """(listings, rating weight, weighted stars, completed, failures) of the owner."""
        c = [int(column[code]) for column in self._columns]
        return c[0], (c[1] << 32) + c[2], (c[3] << 32) + c[4], c[5], c[6]

    def copy(self) -> OwnerSums:
        """An independent copy."""
        other = OwnerSums()
        other._columns = [column.copy() for column in self._columns]
        return other

    def nbytes(self) -> int:
        """Bytes held."""
        return sum(int(column.nbytes) for column in self._columns)


@dataclass(frozen=True)
class Columns:
    """A read view of the index: equal-length arrays, row i describing one listing."""

    provider_id: npt.NDArray[np.uint32]
    category: npt.NDArray[np.uint16]
    region: npt.NDArray[np.uint16]
    attributes: npt.NDArray[np.uint64]
    currency: npt.NDArray[np.uint8]
    owner: npt.NDArray[np.int32]  # code into `owners`
    price: npt.NDArray[np.int64]  # exact below PRICE_CAP, else PRICE_CAP
    price_float: npt.NDArray[np.float64]  # float(price), correctly rounded, for ranking
    active: npt.NDArray[np.bool_]
    rating_weight: npt.NDArray[np.uint64]
    weighted_stars: npt.NDArray[np.uint64]
    completed: npt.NDArray[np.uint16]
    failures: npt.NDArray[np.uint16]
    score: npt.NDArray[np.int32]
    reliability: npt.NDArray[np.int16]  # basis points
    attested: Mapping[int, npt.NDArray[np.uint64]]  # attestor id -> bits it attested, per row
    named_attestors: frozenset[int]  # attestor ids the operator names now
    attestor_accounts: Mapping[int, str]  # attestor id -> address
    owners: Sequence[str]  # owner code -> lower-case address
    owner_code: Mapping[str, int]
    owner_sums: OwnerSums  # per owner code, sums over its listings
    currencies: Mapping[int, Currency]  # id -> symbol and decimals (ether always)
    big_prices: Mapping[int, int]  # row -> exact price, for prices >= PRICE_CAP
    row_of: RowMap  # provider id -> row
    # the active rows per (category, currency), as matching scans them; None: scan every row
    partitions: Partitions | None = None

    def __len__(self) -> int:
        return int(self.provider_id.shape[0])

    def exact_price(self, row: int) -> int:
        """The exact price (smallest units of its currency) of the listing at `row`."""
        big = self.big_prices.get(row)
        return int(self.price[row]) if big is None else big

    def attestations(self, row: int) -> dict[int, int]:
        """attestor id -> attested bits of the listing at `row` (non-zero records only)."""
        found: dict[int, int] = {}
        for attestor, column in sorted(self.attested.items()):
            bits = int(column[row])
            if bits:
                found[attestor] = bits
        return found

    def view(self, row: int) -> ProviderView:
        """The listing at `row` as the scalar eligibility rule sees it."""
        return ProviderView(
            provider_id=int(self.provider_id[row]),
            owner=self.owners[int(self.owner[row])],
            category=int(self.category[row]),
            region=int(self.region[row]),
            attributes=int(self.attributes[row]),
            currency=int(self.currency[row]),
            price=self.exact_price(row),
            active=bool(self.active[row]),
            rating_weight=int(self.rating_weight[row]),
            weighted_stars=int(self.weighted_stars[row]),
            completed=int(self.completed[row]),
            failures=int(self.failures[row]),
            attestations=self.attestations(row),
        )

    def owner_history(self, owner: str, excluding: int | None = None) -> OwnerHistory:
        """The owner's listings (but `excluding`, a provider id) summed."""
        code = self.owner_code.get(owner.lower())
        if code is None:
            return OwnerHistory(owner.lower(), 0, 0, weighted_score(0, 0), 0, 0)
        listings, weight, stars, completed, failures = self.owner_sums.get(code)
        row = None if excluding is None else self.row_of.get(excluding)
        if row is not None and row < len(self) and int(self.owner[row]) == code:
            listings, weight, stars, completed, failures = (
                listings - 1, weight - int(self.rating_weight[row]),
                stars - int(self.weighted_stars[row]), completed - int(self.completed[row]),
                failures - int(self.failures[row]))
        return OwnerHistory(owner.lower(), listings, weight, weighted_score(weight, stars),
                            completed, failures)


class ProviderIndex:
    """Listings as numpy columns, updated incrementally from events.

    Writers and readers take one lock: a query sees every row in one consistent state. A frozen
    index (`freeze`) is read-only, so its readers take no lock at all: a process that serves
    queries from several threads publishes frozen snapshots and applies updates to a `copy`
    (see `marketplace.web.live_index`), read-copy-update style.
    """

    def __init__(self, capacity: int = 1024) -> None:
        """An empty index with room for `capacity` listings before its first growth."""
        self._lock = threading.RLock()
        self._frozen: Columns | None = None  # the view every read yields, once frozen
        self._n = 0
        self._row_of = RowMap()
        self._big: dict[int, int] = {}
        self._owners: list[str] = []
        self._owner_code: dict[str, int] = {}
        self._owner_sums = OwnerSums()
        self._attested: dict[int, npt.NDArray[np.uint64]] = {}
        self._named: set[int] = set()
        self._attestor_accounts: dict[int, str] = {}
        self._currencies: dict[int, Currency] = {ETHER_CURRENCY.id: ETHER_CURRENCY}
        self._allocate(max(capacity, 1))
        self._parts = Partitions(max(capacity, 1))

    # ------------------------------------------------------------------ building

    @classmethod
    def from_views(cls, providers: Iterable[ProviderView],
                   named_attestors: Iterable[int] | None = None) -> ProviderIndex:
        """An index holding `providers` (a later duplicate id replaces an earlier one).

        `named_attestors`: the attestor ids the operator names; None names every attestor that
        appears in an attestation."""
        listed = list(providers)
        index = cls(capacity=len(listed))
        for provider in listed:
            index.upsert(provider)
        if named_attestors is None:
            named_attestors = {a for p in listed for a in p.attestations}
        for attestor in named_attestors:
            index.set_attestor(attestor, None, True)
        return index

    @classmethod
    def from_columns(
        cls,
        *,
        provider_id: npt.ArrayLike,
        owner: Sequence[str],
        category: npt.ArrayLike,
        region: npt.ArrayLike,
        attributes: npt.ArrayLike,
        currency: npt.ArrayLike,
        price: npt.ArrayLike,
        active: npt.ArrayLike,
        rating_weight: npt.ArrayLike,
        weighted_stars: npt.ArrayLike,
        completed: npt.ArrayLike,
        failures: npt.ArrayLike,
    ) -> ProviderIndex:
        """A bulk-loaded index (the fast path for a store snapshot); prices below PRICE_CAP.
        Attestations and attestors are added after (`attest`, `set_attestor`)."""
        ids = _checked("provider_id", provider_id, np.uint32, _UINT32_MAX)
        n = ids.shape[0]
        index = cls(capacity=n)
        if len(owner) != n:
            raise InvalidProvider("owner must have one address per listing")
        weights = _checked("rating_weight", rating_weight, np.uint64, UINT64_MAX)
        stars = _checked("weighted_stars", weighted_stars, np.uint64, UINT64_MAX)
        prices = _checked("price", price, np.int64, PRICE_CAP - 1)
        if np.unique(ids).shape[0] != n or (n and int(ids.min()) == 0):
            raise InvalidProvider("provider ids must be unique and above zero")
        if np.any(stars > weights * np.uint64(5)) or np.any(weights > np.uint64(UINT64_MAX // 5)):
            raise InvalidProvider("weighted stars exceed five stars per unit of weight")
        addresses = np.asarray([o.lower() for o in owner], dtype=object)
        unique, codes = np.unique(addresses, return_inverse=True) if n else (np.array([]), [])
        index._owners = [str(u) for u in unique]
        index._owner_code = {o: i for i, o in enumerate(index._owners)}
        index._id[:n] = ids
        index._owner[:n] = np.asarray(codes, np.int32)
        index._category[:n] = _checked("category", category, np.uint16, UINT16_MAX)
        index._region[:n] = _checked("region", region, np.uint16, UINT16_MAX)
        index._attributes[:n] = _checked("attributes", attributes, np.uint64, UINT64_MAX)
        index._currency[:n] = _checked("currency", currency, np.uint8, UINT8_MAX)
        index._price[:n] = prices
        index._price_float[:n] = prices.astype(np.float64)
        index._active[:n] = np.asarray(active, dtype=np.bool_)
        index._weight[:n] = weights
        index._stars[:n] = stars
        index._completed[:n] = _checked("completed", completed, np.uint16, UINT16_MAX)
        index._failures[:n] = _checked("failures", failures, np.uint16, UINT16_MAX)
        index._score[:n] = _scores(weights, stars)
        index._reliability[:n] = _reliabilities(index._completed[:n], index._failures[:n])
        index._n = n
        index._row_of = RowMap(ids)
        index._sum_owners()
        index._parts.load(
            (index._category[:n].astype(np.int64) << 8) | index._currency[:n],
            index._active[:n],
            (index._id, index._score, index._price, index._price_float, index._attributes,
             index._region, index._weight, index._reliability, index._owner,
             np.zeros(n, np.uint32)))
        return index

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self._n

    def __contains__(self, provider_id: object) -> bool:
        return provider_id in self._row_of

    @contextmanager
    def read(self) -> Iterator[Columns]:
        """Yield a consistent view of every row: under the lock, or, frozen, without one."""
        with self._reading():
            yield self._columns() if self._frozen is None else self._frozen

    def _columns(self) -> Columns:
        n = self._n
        return Columns(
            provider_id=self._id[:n],
            category=self._category[:n],
            region=self._region[:n],
            attributes=self._attributes[:n],
            currency=self._currency[:n],
            owner=self._owner[:n],
            price=self._price[:n],
            price_float=self._price_float[:n],
            active=self._active[:n],
            rating_weight=self._weight[:n],
            weighted_stars=self._stars[:n],
            completed=self._completed[:n],
            failures=self._failures[:n],
            score=self._score[:n],
            reliability=self._reliability[:n],
            attested={a: column[:n] for a, column in self._attested.items()},
            named_attestors=frozenset(self._named),
            attestor_accounts=dict(self._attestor_accounts),
            owners=self._owners,
            owner_code=self._owner_code,
            owner_sums=self._owner_sums,
            currencies=dict(self._currencies),
            big_prices=self._big,
            row_of=self._row_of,
            partitions=self._parts,
        )

    @property
    def frozen(self) -> bool:
        """Whether the index is read-only (`freeze`)."""
        return self._frozen is not None

    def freeze(self) -> None:
        """Make the index read-only: from now on every write raises, and reads take no lock."""
        with self._lock:
            self._parts.order()  # its lock-free readers must find every partition sorted
            self._frozen = self._columns()

    def copy(self) -> ProviderIndex:
        """A writable copy of every row and setting (a frozen index's next version)."""
        with self._reading():
            other = ProviderIndex.__new__(ProviderIndex)
            other._lock = threading.RLock()
            other._frozen = None
            other._n = self._n
            other._row_of = self._row_of.copy()
            other._big = dict(self._big)
            other._owners = list(self._owners)
            other._owner_code = dict(self._owner_code)
            other._owner_sums = self._owner_sums.copy()
            other._attested = {a: column.copy() for a, column in self._attested.items()}
            other._named = set(self._named)
            other._attestor_accounts = dict(self._attestor_accounts)
            other._currencies = dict(self._currencies)
            for name in _COLUMN_NAMES:
                setattr(other, name, getattr(self, name).copy())
            other._parts = self._parts.copy()
            return other

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """The lock, unless the index is frozen (nothing writes it then)."""
        if self._frozen is not None:
            yield
            return
        with self._lock:
            yield

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The lock, for a write; a frozen index refuses every write."""
        with self._lock:
            if self._frozen is not None:
                raise RuntimeError("this index is frozen (read-only): write to a copy")
            yield

    def view(self, provider_id: int) -> ProviderView:
        """The listing's current state, as the scalar eligibility rule takes it."""
        with self.read() as columns:
            return columns.view(self._row(provider_id))

    def named_attestors(self) -> frozenset[int]:
        """The attestor ids the operator names now."""
        with self._reading():
            return frozenset(self._named)

    def provider_ids(self) -> list[int]:
        """Every indexed provider id, in row order."""
        with self._reading():
            return [int(pid) for pid in self._id[: self._n]]

    def nbytes(self) -> int:
        """Bytes held by the columns (capacity included)."""
        return (sum(int(a.nbytes) for a in self._arrays())
                + sum(int(c.nbytes) for c in self._attested.values()) + self._row_of.nbytes()
                + self._parts.nbytes() + self._owner_sums.nbytes())

    # ------------------------------------------------------------------ writing

    def upsert(self, provider: ProviderView) -> None:
        """Insert the listing or overwrite every field of its row (attestations included)."""
        _validate(provider)
        with self._writing():
            row = self._row_of.get(provider.provider_id)
            if row is None:
                if self._n == self._id.shape[0]:
                    self._grow(2 * self._n)
                row = self._n
                self._id[row] = provider.provider_id
                self._row_of.set(provider.provider_id, row)
                self._n += 1
            else:
                self._count_owner(row, -1)
            self._owner[row] = self._code_of(provider.owner)
            self._category[row] = provider.category
            self._region[row] = provider.region
            self._attributes[row] = provider.attributes
            self._currency[row] = provider.currency
            self._active[row] = provider.active
            self._set_price(row, provider.price)
            self._set_rating(row, provider.rating_weight, provider.weighted_stars)
            self._set_outcomes(row, provider.completed, provider.failures)
            for attestor, column in self._attested.items():
                if attestor not in provider.attestations:
                    column[row] = 0
            for attestor, bits in provider.attestations.items():
                self._attest(row, attestor, bits)
            self._count_owner(row, 1)
            self._sync(row)

    def update_listing(
        self,
        provider_id: int,
        *,
        region: int | None = None,
        attributes: int | None = None,
        currency: int | None = None,
        price: int | None = None,
    ) -> None:
        """Change the fields a listing update may change; None keeps a field."""
        with self._writing():
            current = self.view(provider_id)
            self.upsert(ProviderView(
                provider_id=provider_id, owner=current.owner, category=current.category,
                region=current.region if region is None else region,
                attributes=current.attributes if attributes is None else attributes,
                currency=current.currency if currency is None else currency,
                price=current.price if price is None else price,
                active=current.active, rating_weight=current.rating_weight,
                weighted_stars=current.weighted_stars, completed=current.completed,
                failures=current.failures, attestations=current.attestations))

    def set_active(self, provider_id: int, active: bool) -> None:
        """Record a deactivation or reactivation."""
        with self._writing():
            row = self._row(provider_id)
            self._active[row] = active
            self._sync(row)

    def set_rating(self, provider_id: int, rating_weight: int, weighted_stars: int) -> None:
        """Set the rating aggregate (sum of weights, sum of stars x weight; lost disputes too)."""
        _check_rating(provider_id, rating_weight, weighted_stars)
        with self._writing():
            row = self._row(provider_id)
            with self._owner_counted(row):
                self._set_rating(row, rating_weight, weighted_stars)
            self._sync(row)

    def add_rating(self, provider_id: int, stars: int, weight: int) -> None:
        """Add one rating (or, with 1 star, one lost dispute) of `weight` to the aggregate."""
        if not 1 <= stars <= 5:
            raise InvalidProvider(f"a rating has 1 to 5 stars, not {stars}")
        with self._writing():
            row = self._row(provider_id)
            total, weighted = domain_add_rating(int(self._weight[row]), int(self._stars[row]),
                                                stars, weight)
            self.set_rating(provider_id, total, weighted)

    def set_outcomes(self, provider_id: int, completed: int, failures: int) -> None:
        """Set the reliability counters."""
        with self._writing():
            row = self._row(provider_id)
            with self._owner_counted(row):
                self._set_outcomes(row, completed, failures)
            self._sync(row)

    def record_outcome(self, provider_id: int, *, failure: bool) -> None:
        """One more completed booking or failure (halving both counters as the contract does)."""
        with self._writing():
            row = self._row(provider_id)
            with self._owner_counted(row):
                self._set_outcomes(row, *count_outcome(int(self._completed[row]),
                                                       int(self._failures[row]), failure=failure))
            self._sync(row)

    def attest(self, provider_id: int, attestor_id: int, bits: int) -> None:
        """Record an attestor's latest attestation of a listing (0 revokes)."""
        with self._writing():
            row = self._row(provider_id)
            self._attest(row, attestor_id, bits)
            self._parts.set_attested(row, self._attestors_of(row))

    def set_attestor(self, attestor_id: int, account: str | None, named: bool) -> None:
        """Name (or remove) an attestor; its attestations count only while it is named."""
        if not 1 <= attestor_id <= MAX_ATTESTORS:
            raise InvalidProvider(f"attestor id {attestor_id} is not in 1..{MAX_ATTESTORS}")
        with self._writing():
            if account is not None:
                self._attestor_accounts[attestor_id] = account.lower()
            if named:
                self._named.add(attestor_id)
            else:
                self._named.discard(attestor_id)

    def set_currency(self, currency: Currency) -> None:
        """Record a currency's symbol and decimals (for amounts in explanations)."""
        with self._writing():
            self._currencies[currency.id] = currency

    # ------------------------------------------------------------------ internals

    def _row(self, provider_id: int) -> int:
        row = self._row_of.get(provider_id)
        if row is None:
            raise ProviderNotIndexed(f"provider {provider_id} is not in the index")
        return row

    def _sync(self, row: int) -> None:
        """Copy the row's matching fields into its partition (moving it if it changed)."""
        key = ((int(self._category[row]), int(self._currency[row]))
               if self._active[row] else None)
        self._parts.sync(row, key, (
            row, int(self._id[row]), int(self._score[row]), int(self._price[row]),
            float(self._price_float[row]), int(self._attributes[row]), int(self._region[row]),
            int(self._weight[row]), int(self._reliability[row]), int(self._owner[row]),
            self._attestors_of(row)))

    def _attestors_of(self, row: int) -> int:
        """The attestors (bit id - 1) that attested an attribute the row's listing claims."""
        claimed = int(self._attributes[row])
        return sum(1 << (attestor - 1) for attestor, column in self._attested.items()
                   if int(column[row]) & claimed)

    def _code_of(self, owner: str) -> int:
        key = owner.lower()
        code = self._owner_code.get(key)
        if code is None:
            code = len(self._owners)
            self._owners.append(key)
            self._owner_code[key] = code
            self._owner_sums.grow(code + 1)
        return code

    def _count_owner(self, row: int, sign: int) -> None:
        """Add (1) or take away (-1) the row's listing from its owner's sums."""
        self._owner_sums.add(int(self._owner[row]), sign, int(self._weight[row]),
                             int(self._stars[row]), int(self._completed[row]),
                             int(self._failures[row]))

    @contextmanager
    def _owner_counted(self, row: int) -> Iterator[None]:
        """Keep the owner's sums in step while the row's counters are rewritten (also when
        the rewrite is refused half-way)."""
        self._count_owner(row, -1)
        try:
            yield
        finally:
            self._count_owner(row, 1)

    def _sum_owners(self) -> None:
        """Every owner's sums from the columns (a bulk load)."""
        n = self._n
        self._owner_sums.grow(len(self._owners))
        if n == 0:
            return
        codes = self._owner[:n]
        order = np.argsort(codes, kind="stable")
        starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
        self._owner_sums.load(codes[order][starts], np.diff(np.r_[starts, n]),
                              *(np.add.reduceat(part[order], starts) for part in (
                                  self._weight[:n] >> np.uint64(32),
                                  self._weight[:n] & np.uint64(_LOW),
                                  self._stars[:n] >> np.uint64(32),
                                  self._stars[:n] & np.uint64(_LOW),
                                  self._completed[:n].astype(np.int64),
                                  self._failures[:n].astype(np.int64))))

    def _attest(self, row: int, attestor_id: int, bits: int) -> None:
        if not 1 <= attestor_id <= MAX_ATTESTORS:
            raise InvalidProvider(f"attestor id {attestor_id} is not in 1..{MAX_ATTESTORS}")
        if not 0 <= bits <= UINT64_MAX:
            raise InvalidProvider(f"attested bits {bits} outside 0..{UINT64_MAX}")
        column = self._attested.get(attestor_id)
        if column is None:
            if not bits:
                return
            column = np.zeros(self._id.shape[0], np.uint64)
            self._attested[attestor_id] = column
        column[row] = bits

    def _set_price(self, row: int, price: int) -> None:
        if price < PRICE_CAP:
            self._big.pop(row, None)
            self._price[row] = price
        else:
            self._big[row] = price
            self._price[row] = PRICE_CAP
        self._price_float[row] = float(price)

    def _set_rating(self, row: int, total: int, weighted: int) -> None:
        self._weight[row] = total
        self._stars[row] = weighted
        self._score[row] = weighted_score(total, weighted)

    def _set_outcomes(self, row: int, completed: int, failures: int) -> None:
        for name, value in (("completed", completed), ("failures", failures)):
            if not 0 <= value <= UINT16_MAX:
                raise InvalidProvider(f"{name} {value} outside 0..{UINT16_MAX}")
        self._completed[row] = completed
        self._failures[row] = failures
        self._reliability[row] = reliability(completed, failures)

    def _allocate(self, capacity: int) -> None:
        self._id = np.zeros(capacity, np.uint32)
        self._owner = np.zeros(capacity, np.int32)
        self._category = np.zeros(capacity, np.uint16)
        self._region = np.zeros(capacity, np.uint16)
        self._attributes = np.zeros(capacity, np.uint64)
        self._currency = np.zeros(capacity, np.uint8)
        self._price = np.zeros(capacity, np.int64)
        self._price_float = np.zeros(capacity, np.float64)
        self._active = np.zeros(capacity, np.bool_)
        self._weight = np.zeros(capacity, np.uint64)
        self._stars = np.zeros(capacity, np.uint64)
        self._completed = np.zeros(capacity, np.uint16)
        self._failures = np.zeros(capacity, np.uint16)
        self._score = np.zeros(capacity, np.int32)
        self._reliability = np.zeros(capacity, np.int16)

    def _arrays(self) -> tuple[npt.NDArray[Any], ...]:
        return tuple(getattr(self, name) for name in _COLUMN_NAMES)

    def _grow(self, capacity: int) -> None:
        old = self._arrays()
        self._allocate(max(capacity, 1))
        self._parts.grow(self._id.shape[0])
        for source, target in zip(old, self._arrays(), strict=True):
            target[: self._n] = source[: self._n]
        for attestor, column in list(self._attested.items()):
            grown = np.zeros(self._id.shape[0], np.uint64)
            grown[: self._n] = column[: self._n]
            self._attested[attestor] = grown


_COLUMN_NAMES = ("_id", "_owner", "_category", "_region", "_attributes", "_currency", "_price",
                 "_price_float", "_active", "_weight", "_stars", "_completed", "_failures",
                 "_score", "_reliability")


def _scores(weights: npt.NDArray[np.uint64], stars: npt.NDArray[np.uint64]
            ) -> npt.NDArray[np.int32]:
    """`weighted_score` over arrays: int64 where that is exact, Python integers beyond."""
    out = np.empty(weights.shape[0], np.int32)
    fast = stars <= np.uint64(_FAST_SCORE_LIMIT)
    numerator = PRIOR_WEIGHT * PRIOR_SCORE + STAR * stars[fast].astype(np.int64)
    out[fast] = numerator // (PRIOR_WEIGHT + weights[fast].astype(np.int64))  # weights < 2**62
    for i in np.flatnonzero(~fast).tolist():
        out[i] = weighted_score(int(weights[i]), int(stars[i]))
    return out


def _reliabilities(completed: npt.NDArray[np.uint16], failures: npt.NDArray[np.uint16]
                   ) -> npt.NDArray[np.int16]:
    """`reliability` over arrays (int64 maths, as exact as the contract's)."""
    c = completed.astype(np.int64)
    f = failures.astype(np.int64)
    return ((c + 9) * BPS // (c + f + 10)).astype(np.int16)


def _checked(name: str, values: npt.ArrayLike, dtype: type[Any], limit: int) -> npt.NDArray[Any]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidProvider(f"{name} must be one-dimensional")
    if array.size and (int(array.min()) < 0 or int(array.max()) > limit):
        raise InvalidProvider(f"{name} outside 0..{limit}")
    return array.astype(dtype)


def _check_rating(provider_id: int, total: int, weighted: int) -> None:
    if not 0 <= total <= UINT64_MAX // 5 or not 0 <= weighted <= 5 * total:
        raise InvalidProvider(f"provider {provider_id}: rating weight {total} and weighted "
                              f"stars {weighted} are not a valid aggregate")


def _validate(p: ProviderView) -> None:
    limits = (
        ("provider_id", p.provider_id, _UINT32_MAX),
        ("category", p.category, UINT16_MAX),
        ("region", p.region, UINT16_MAX),
        ("attributes", p.attributes, UINT64_MAX),
        ("currency", p.currency, UINT8_MAX),
        ("price", p.price, UINT96_MAX),
        ("completed", p.completed, UINT16_MAX),
        ("failures", p.failures, UINT16_MAX),
    )
    for name, value, limit in limits:
        if not 0 <= value <= limit:
            raise InvalidProvider(f"provider {p.provider_id}: {name} {value} outside 0..{limit}")
    if p.provider_id == 0:
        raise InvalidProvider("provider id 0 does not exist")
    _check_rating(p.provider_id, p.rating_weight, p.weighted_stars)
    for attestor, bits in p.attestations.items():
        if not 1 <= attestor <= MAX_ATTESTORS or not 0 <= bits <= UINT64_MAX:
            raise InvalidProvider(f"provider {p.provider_id}: attestation {attestor}: {bits}")

