"""Active listings grouped by (category, currency): the columns a matching query scans.

Every search names one category and one currency, and only active listings can be eligible
(`domain.first_failed_criterion` checks these first), so a query never needs the other rows.
`Partitions` keeps, per (category, currency), a contiguous copy of the fields the eligibility
rule and the ranking read for the active listings in it (row, id, score, capped price, the price
as a float, attributes, region, rating weight, reliability, owner code, and which attestors
attested an attribute it claims). A query scans those few arrays without gathering from the full
columns; a 1M-listing index with 40% of the listings in one category scans a third of the rows,
contiguously.

`get` hands out a partition in ascending score order, so a score minimum is a slice of it (a
binary search, not a test of every row): the eligibility rule's own minimum, and the one the
ranking's pruning derives. `ProviderIndex` calls `sync` after each write to a row: the row moves
between partitions when its category, currency or activity changes (swap-remove, then append,
O(1)) and its copy is rewritten otherwise; a write that leaves the row out of score order marks
its partition for sorting, which the next `get` (or `order`, when an index is frozen) does once,
so a burst of writes costs one sort, on nearly sorted data. Order among equal scores is arbitrary
(ranking breaks ties by provider id).

Each partition also keeps its `front`: the positions of the listings that fewer than
`FRONT_DEPTH` others beat on both score and price (a higher or equal score at a lower or equal
price), a few hundred of tens of thousands. Any ranking that prefers a higher score and a lower
price finds its best among them, so the k-th best utility among the eligible listings of the
front is, for k up to `FRONT_DEPTH`, a close lower bound of the true k-th best: the ranking's
pruning starts from it. It is only ever that, a subset of the listings whose utilities bound
the k-th best from below, so it may lag behind writes (it is recomputed when the partition is
sorted, and for every partition a write touched when the index is frozen) without changing any
answer.
Attested bits stay in the index's own columns: a query that asks for verified attributes
reads them only for the rows that pass everything else, among them only those that one of its
trusted attestors attested at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PartColumns", "PartKey", "Partitions", "RowFields"]

PartKey = tuple[int, int]  # (category, currency)
# (row, provider id, score, capped price, float(exact price), attributes, region, rating weight,
#  reliability, owner, attestors mask: bit a - 1 when attestor a attested a bit of the listing's
#  attributes)
RowFields = tuple[int, int, int, int, float, int, int, int, int, int, int]

_DTYPES: tuple[tuple[str, type[Any]], ...] = (
    ("row", np.int32),
    ("provider_id", np.uint32),
    ("score", np.int64),  # int64: compared with Python ints and multiplied without a cast
    ("price", np.int64),
    ("price_float", np.float64),
    ("attributes", np.uint64),
    ("region", np.uint16),
    ("rating_weight", np.uint64),
    ("reliability", np.int16),
    ("owner", np.int32),
    ("attested", np.uint32),
)
_SCORE = 2
_PRICE = 3
_ATTESTED = len(_DTYPES) - 1
FRONT_DEPTH = 32  # a front listing is beaten on both score and price by fewer than this many
_FRONT_BLOCK = 64  # listings compared with the front's threshold at a time


@dataclass(frozen=True)
class PartColumns:
    """A read view of one partition: equal-length arrays, position i one active listing, in
    ascending score order."""

    row: npt.NDArray[np.int32]  # the listing's row in the index's columns
    provider_id: npt.NDArray[np.uint32]
    score: npt.NDArray[np.int64]  # ascending
    price: npt.NDArray[np.int64]  # capped at PRICE_CAP as in `Columns.price`
    price_float: npt.NDArray[np.float64]  # as `Columns.price_float` (exact price, rounded)
    attributes: npt.NDArray[np.uint64]
    region: npt.NDArray[np.uint16]
    rating_weight: npt.NDArray[np.uint64]
    reliability: npt.NDArray[np.int16]
    owner: npt.NDArray[np.int32]
    attested: npt.NDArray[np.uint32]  # attestors (bit id - 1) that attested a claimed attribute
    slot_of: npt.NDArray[np.int32]  # index row -> position in its partition
    part_of: npt.NDArray[np.int32]  # index row -> partition number (-1: none)
    number: int  # this partition's number
    front: npt.NDArray[np.intp]  # ascending positions, see the module's docstring

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def positions(self, rows: list[int]) -> npt.NDArray[np.intp]:
        """Positions in this partition of those index `rows` that are in it."""
        found = [int(self.slot_of[r]) for r in rows if int(self.part_of[r]) == self.number]
        return np.asarray(found, np.intp)

    def first_with_score(self, score: int) -> int:
        """The first position whose score is at least `score` (every later one's is too)."""
        return int(np.searchsorted(self.score, score))


class _Partition:
    """One (category, currency) group: growable arrays, filled up to `n`; `ordered` while they
    are in ascending score order."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self.arrays = [np.zeros(capacity, dtype) for _, dtype in _DTYPES]
        self.ordered = True
        self.front = np.zeros(0, np.intp)
        self.fresh = True  # `front` was computed after the last write

    def append(self, fields: RowFields) -> int:
        if self.n == self.arrays[0].shape[0]:
            for i, array in enumerate(self.arrays):
                grown = np.zeros(max(2 * self.n, 16), array.dtype)
                grown[: self.n] = array[: self.n]
                self.arrays[i] = grown
        slot = self.n
        self.n += 1
        self.write(slot, fields)
        return slot

    def write(self, slot: int, fields: RowFields) -> None:
        for array, value in zip(self.arrays, fields, strict=True):
            array[slot] = value
        self._check_order(slot)
        self.fresh = False

    def remove(self, slot: int) -> int | None:
        """Drop `slot` by moving the last entry into it; the moved entry's index row, if any."""
        self.n -= 1
        self.fresh = False
        last = self.n
        if slot == last:
            return None
        for array in self.arrays:
            array[slot] = array[last]
        self._check_order(slot)
        return int(self.arrays[0][slot])

    def _check_order(self, slot: int) -> None:
        """Clear `ordered` if `slot`'s score is out of order with its neighbours'."""
        if self.ordered:
            score = self.arrays[_SCORE]
            value = score[slot]
            if (slot > 0 and score[slot - 1] > value) or (
                    slot + 1 < self.n and value > score[slot + 1]):
                self.ordered = False

    def sort(self, slot_of: npt.NDArray[np.int32]) -> None:
        """Put the rows in ascending score order (new arrays: views handed out before keep
        theirs) and record their new positions in `slot_of`."""
        n = self.n
        order = np.argsort(self.arrays[_SCORE][:n], kind="stable")
        self.arrays = [array[:n][order] for array in self.arrays]
        slot_of[self.arrays[0]] = np.arange(n, dtype=np.int32)
        self.ordered = True
        self.find_front()

    def find_front(self) -> None:
        """Compute `front` (the module's docstring says what it is) from the current rows.

        Over the listings by ascending price (descending score among equal prices), a listing
        is in the front unless FRONT_DEPTH listings before it (no dearer) have a strictly
        higher score; the threshold is the FRONT_DEPTH-th best score seen, updated a block of
        listings at a time (which keeps a few more listings than necessary, never fewer)."""
        n = self.n
        score = self.arrays[_SCORE][:n]
        order = np.lexsort((-score, self.arrays[_PRICE][:n]))
        ranked = score[order]
        keep = np.ones(n, np.bool_)
        best = ranked[:0]  # the FRONT_DEPTH best scores so far, ascending
        for start in range(0, n, _FRONT_BLOCK):
            block = ranked[start:start + _FRONT_BLOCK]
            if best.shape[0] == FRONT_DEPTH:
                keep[start:start + _FRONT_BLOCK] = block >= best[0]
            best = np.concatenate((best, block))
            if best.shape[0] > FRONT_DEPTH:
                best = np.sort(np.partition(best, -FRONT_DEPTH)[-FRONT_DEPTH:])
        self.front = np.sort(order[keep]).astype(np.intp)
        self.fresh = True


class Partitions:
    """Every partition, and where each index row sits (`sync` keeps it current)."""

    def __init__(self, capacity: int) -> None:
        self._numbers: dict[PartKey, int] = {}
        self._parts: list[_Partition] = []
        self._part_of = np.full(capacity, -1, np.int32)
        self._slot_of = np.zeros(capacity, np.int32)

    def grow(self, capacity: int) -> None:
        """Room for index rows up to `capacity`."""
        old = self._part_of.shape[0]
        if capacity > old:
            part_of = np.full(capacity, -1, np.int32)
            part_of[:old] = self._part_of
            slot_of = np.zeros(capacity, np.int32)
            slot_of[:old] = self._slot_of
            self._part_of, self._slot_of = part_of, slot_of

    def sync(self, row: int, key: PartKey | None, fields: RowFields) -> None:
        """Index row `row` now belongs to partition `key` (None: to none, it is inactive) with
        `fields` (`fields[0]` is `row`)."""
        number = int(self._part_of[row])
        if number >= 0 and key is not None and self._numbers.get(key) == number:
            self._parts[number].write(int(self._slot_of[row]), fields)
            return
        if number >= 0:
            moved = self._parts[number].remove(int(self._slot_of[row]))
            if moved is not None:
                self._slot_of[moved] = self._slot_of[row]
            self._part_of[row] = -1
        if key is not None:
            number = self._number(key)
            self._slot_of[row] = self._parts[number].append(fields)
            self._part_of[row] = number

    def set_attested(self, row: int, attestors: int) -> None:
        """Index row `row`'s attestors mask changed (an attestation), nothing else."""
        number = int(self._part_of[row])
        if number >= 0:
            self._parts[number].arrays[_ATTESTED][int(self._slot_of[row])] = attestors

    def load(self, key: npt.NDArray[np.int64], active: npt.NDArray[np.bool_],
             columns: tuple[npt.NDArray[Any], ...]) -> None:
        """Fill from scratch (an empty store): rows 0..n-1 with partition `key` (an int64
        category << 8 | currency per row), `active`, and their fields as `columns` (without the
        row, in `RowFields` order after it)."""
        n = key.shape[0]
        rows = np.flatnonzero(active)
        keys = key[rows]
        order = np.lexsort((columns[1][:n][rows], keys))  # by partition, then by score
        rows, keys = rows[order], keys[order]
        starts: list[int] = (np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]).tolist()
                             if rows.size else [])
        bounds = [*starts, int(rows.shape[0])]
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            members = rows[start:end]
            packed = int(keys[start])
            number = self._number((packed >> 8, packed & 0xFF))
            part = self._parts[number]
            part.arrays = [np.asarray(members, np.int32)] + [
                np.ascontiguousarray(column[:n][members], dtype)
                for column, (_, dtype) in zip(columns, _DTYPES[1:], strict=True)]
            part.n = int(members.shape[0])
            part.ordered = True
            part.find_front()
            self._part_of[members] = number
            self._slot_of[members] = np.arange(part.n, dtype=np.int32)

    def get(self, key: PartKey) -> PartColumns | None:
        """The partition's current rows in ascending score order (sorted first if a write
        disordered them: call it where writes are excluded, as every index read is), or None
        when no active listing ever had this key."""
        number = self._numbers.get(key)
        if number is None:
            return None
        part = self._parts[number]
        if not part.ordered:
            part.sort(self._slot_of)
        n = part.n
        front = part.front if part.fresh else part.front[part.front < n]
        (row, pid, score, price, price_float, attributes, region, weight, reliability, owner,
         attested) = part.arrays
        return PartColumns(
            row=row[:n], provider_id=pid[:n], score=score[:n], price=price[:n],
            price_float=price_float[:n], attributes=attributes[:n], region=region[:n],
            rating_weight=weight[:n], reliability=reliability[:n], owner=owner[:n],
            attested=attested[:n], slot_of=self._slot_of, part_of=self._part_of,
            number=number, front=front)

    def order(self) -> None:
        """Sort every partition a write disordered and find the front of every one a write
        touched (before an index is frozen: its readers, which take no lock, must find nothing
        left to sort)."""
        for part in self._parts:
            if not part.ordered:
                part.sort(self._slot_of)
            elif not part.fresh:
                part.find_front()

    def copy(self) -> Partitions:
        """An independent copy."""
        other = Partitions(0)
        other._numbers = dict(self._numbers)
        for part in self._parts:
            twin = _Partition(0)
            twin.n, twin.arrays = part.n, [array.copy() for array in part.arrays]
            twin.ordered, twin.front, twin.fresh = part.ordered, part.front, part.fresh
            other._parts.append(twin)
        other._part_of, other._slot_of = self._part_of.copy(), self._slot_of.copy()
        return other

    def nbytes(self) -> int:
        """Bytes held (capacity included)."""
        return (int(self._part_of.nbytes) + int(self._slot_of.nbytes)
                + sum(int(a.nbytes) for p in self._parts for a in p.arrays))

    def _number(self, key: PartKey) -> int:
        number = self._numbers.get(key)
        if number is None:
            number = len(self._parts)
            self._numbers[key] = number
            self._parts.append(_Partition(16))
        return number
