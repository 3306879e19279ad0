"""The matching index of one web process, built from the store and refreshed incrementally.

Each worker process holds its own `ProviderIndex` (numpy columns) and keeps it in step with the
store, which the single indexer process writes. A refresh costs one query when nothing changed:
it reads the indexer's checkpoint, and if it moved, the ids of the providers touched by events
in the blocks since (plus the provisional window, which a reorg may rewrite), and upserts those
rows from the `providers` projection. Re-reading rows (instead of replaying events) makes a
refresh idempotent and correct across reorg rollbacks; ids touched by events that a rollback
deleted are remembered and re-read too. Nothing is shared between processes but the store.

Within a process, the request threads read a published index that nothing writes (frozen, so
its reads take no lock); a refresh that finds changes applies them to a copy and publishes the
copy whole, so a query sees the index before or after a refresh, never half of one. A reader
keeps the snapshot it was given until it is done with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, select

from marketplace.matching.eligibility import ProviderView
from marketplace.matching.index import PRICE_CAP, ProviderIndex
from marketplace.store import schema
from marketplace.units import ETHER_CURRENCY, Currency
from marketplace.web.money import currencies as store_currencies

_COLUMNS = (
    schema.providers.c.provider_id,  # 0
    schema.providers.c.category,
    schema.providers.c.region,
    schema.providers.c.attributes,
    schema.providers.c.price,
    schema.providers.c.active,  # 5
    schema.providers.c.rating_weight,
    schema.providers.c.weighted_stars,
    schema.providers.c.owner,
    schema.providers.c.metadata_hash,
    schema.providers.c.currency,  # 10
    schema.providers.c.completed,
    schema.providers.c.failures,
)


@dataclass(frozen=True)
class Listing:
    """What a match shows beyond the index columns: the owner and the metadata hash."""

    owner: str
    metadata_hash: str


@dataclass(frozen=True)
class Checkpoint:
    """How far the store is indexed: deployment, last block and its hash."""

    chain_id: int
    address: str
    last_block: int
    last_hash: str | None
    confirmations: int


def read_checkpoint(conn: Connection) -> Checkpoint | None:
    """The indexer's checkpoint, or None before the indexer ever ran."""
    table = schema.indexer_state
    row = conn.execute(
        select(table.c.chain_id, table.c.address, table.c.last_block, table.c.last_hash,
               table.c.confirmations).where(table.c.id == 1)
    ).first()
    if row is None:
        return None
    return Checkpoint(int(row[0]), str(row[1]), int(row[2]), row[3], int(row[4]))


def _view(row: Any, attestations: dict[int, int] | None = None) -> ProviderView:
    return ProviderView(
        provider_id=int(row[0]), owner=str(row[8]), category=int(row[1]), region=int(row[2]),
        attributes=int(row[3]), currency=int(row[10]), price=int(row[4]), active=bool(row[5]),
        rating_weight=int(row[6]), weighted_stars=int(row[7]), completed=int(row[11]),
        failures=int(row[12]), attestations=attestations or {},
    )


def _attestations(conn: Connection, ids: list[int] | None = None) -> dict[int, dict[int, int]]:
    """provider id -> {attestor id: attested bits} (every record; the index checks naming)."""
    table = schema.attestations
    query = select(table.c.provider_id, table.c.attestor_id, table.c.attributes)
    if ids is not None:
        query = query.where(table.c.provider_id.in_(ids))
    out: dict[int, dict[int, int]] = {}
    for pid, attestor, bits in conn.execute(query):
        out.setdefault(int(pid), {})[int(attestor)] = int(bits)
    return out


def _name_attestors(conn: Connection, index: ProviderIndex) -> None:
    """Tell the index which attestors are named now (an attestation counts only then)."""
    table = schema.attestors
    for ident, account, allowed in conn.execute(
            select(table.c.attestor_id, table.c.attestor, table.c.allowed)):
        index.set_attestor(int(ident), str(account), bool(allowed))


def load_index(conn: Connection) -> tuple[ProviderIndex, dict[int, Listing]]:
    """A fresh index of every provider in the store (bulk-loaded column by column), and the
    listings' owners and metadata hashes."""
    rows = conn.execute(select(*_COLUMNS).order_by(schema.providers.c.provider_id)).all()
    listings = {int(r[0]): Listing(str(r[8]), str(r[9])) for r in rows}
    small = [r for r in rows if int(r[4]) < PRICE_CAP]
    big = [r for r in rows if int(r[4]) >= PRICE_CAP]
    index = ProviderIndex.from_columns(
        provider_id=np.array([int(r[0]) for r in small], np.int64),
        owner=[str(r[8]) for r in small],
        category=np.array([int(r[1]) for r in small], np.int64),
        region=np.array([int(r[2]) for r in small], np.int64),
        attributes=np.array([int(r[3]) for r in small], np.uint64),
        currency=np.array([int(r[10]) for r in small], np.int64),
        price=np.array([int(r[4]) for r in small], np.int64),
        active=np.array([bool(r[5]) for r in small], np.bool_),
        rating_weight=np.array([int(r[6]) for r in small], np.uint64),
        weighted_stars=np.array([int(r[7]) for r in small], np.uint64),
        completed=np.array([int(r[11]) for r in small], np.int64),
        failures=np.array([int(r[12]) for r in small], np.int64),
    )
    attested = _attestations(conn)
    for row in big:
        index.upsert(_view(row, attested.get(int(row[0]))))
    _name_attestors(conn, index)
    for pid, records in attested.items():
        if pid in index:
            for attestor, bits in records.items():
                index.attest(pid, attestor, bits)
    return index, listings


class LiveIndex:
    """A ProviderIndex that follows the store; `current()` refreshes at most every `interval`."""

    def __init__(self, engine: Engine, interval: float = 0.25) -> None:
        """Follow the store behind `engine`, checking for changes at most every `interval` s."""
        self.engine = engine
        self.interval = interval
        self._lock = threading.Lock()
        self._index: ProviderIndex | None = None
        self._listings: dict[int, Listing] = {}
        self._checkpoint: Checkpoint | None = None
        self._recent: dict[int, set[int]] = {}  # block -> provider ids, provisional window
        self._currencies: dict[int, Currency] = {ETHER_CURRENCY.id: ETHER_CURRENCY}
        self._checked_at = 0.0
        self.refreshes = 0
        self.rebuilds = 0

    @property
    def checkpoint(self) -> Checkpoint | None:
        """The store checkpoint the index reflects."""
        return self._checkpoint

    def listing(self, provider_id: int) -> Listing | None:
        """Owner and metadata hash of an indexed provider."""
        return self._listings.get(provider_id)

    def currencies(self) -> Mapping[int, Currency]:
        """Every currency the store knows (ether always), by id, as of the index's checkpoint
        (refreshed with the index: only the indexer writes them)."""
        self.current()
        return self._currencies

    def current(self) -> ProviderIndex:
        """The index, refreshed first if the interval has passed."""
        now = time.monotonic()
        if self._index is not None and now - self._checked_at < self.interval:
            return self._index
        with self._lock:
            if self._index is None or time.monotonic() - self._checked_at >= self.interval:
                self._refresh()
                self._checked_at = time.monotonic()
            return self._loaded()

    def refresh(self) -> ProviderIndex:
        """The index after checking the store now, whatever the interval."""
        with self._lock:
            self._refresh()
            self._checked_at = time.monotonic()
            return self._loaded()

    def _loaded(self) -> ProviderIndex:
        if self._index is None:
            raise RuntimeError("the matching index failed to load")
        return self._index

    def rebuild(self) -> ProviderIndex:
        """Drop the index and load it again from the store."""
        with self._lock:
            self._index = None
            self._refresh()
            self._checked_at = time.monotonic()
            return self._loaded()

    def _refresh(self) -> None:
        with self.engine.connect() as conn:
            checkpoint = read_checkpoint(conn)
            old = self._checkpoint
            if self._index is None or checkpoint is None or old is None or (
                checkpoint.chain_id, checkpoint.address) != (old.chain_id, old.address):
                self._load(conn, checkpoint)
                return
            if (checkpoint.last_block, checkpoint.last_hash) == (old.last_block, old.last_hash):
                return
            low = min(old.last_block, checkpoint.last_block) - checkpoint.confirmations
            events = schema.events
            touched = conn.execute(
                select(events.c.block_number, events.c.provider_id).where(
                    events.c.block_number > low, events.c.provider_id.is_not(None))
            ).all()
            ids: set[int] = set()
            recent: dict[int, set[int]] = {}
            for block, pid in touched:
                ids.add(int(pid))
                recent.setdefault(int(block), set()).add(int(pid))
            for block, remembered in self._recent.items():
                if block > low:
                    ids |= remembered  # touched by events a rollback may have deleted
            staged = self._loaded().copy()
            self._upsert(conn, staged, sorted(ids))
            _name_attestors(conn, staged)  # AttestorSet events name no listing
            self._read_currencies(conn, staged)  # CurrencySet events name no listing either
            horizon = checkpoint.last_block - checkpoint.confirmations
            self._recent = {b: s for b, s in recent.items() if b > horizon}
            self._publish(staged)
            self._checkpoint = checkpoint
            self.refreshes += 1

    def _publish(self, index: ProviderIndex) -> None:
        """Freeze `index` and make it the one queries read (one reference swap)."""
        index.freeze()
        self._index = index

    def _load(self, conn: Connection, checkpoint: Checkpoint | None) -> None:
        index, self._listings = load_index(conn)
        self._read_currencies(conn, index)
        self._publish(index)
        self._checkpoint = checkpoint
        self._recent = {}
        if checkpoint is not None:
            horizon = checkpoint.last_block - checkpoint.confirmations
            events = schema.events
            for block, pid in conn.execute(
                select(events.c.block_number, events.c.provider_id).where(
                    events.c.block_number > horizon, events.c.provider_id.is_not(None))
            ).all():
                self._recent.setdefault(int(block), set()).add(int(pid))
        self.rebuilds += 1

    def _read_currencies(self, conn: Connection, index: ProviderIndex) -> None:
        known = store_currencies(conn)
        for currency in known.values():
            index.set_currency(currency)
        self._currencies = known  # replaced whole: a reader keeps the mapping it was given

    def _upsert(self, conn: Connection, index: ProviderIndex, ids: list[int]) -> None:
        found: set[int] = set()
        table = schema.providers
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            attested = _attestations(conn, chunk)
            for row in conn.execute(select(*_COLUMNS).where(table.c.provider_id.in_(chunk))):
                view = _view(row, attested.get(int(row[0])))
                found.add(view.provider_id)
                index.upsert(view)
                self._listings[view.provider_id] = Listing(str(row[8]), str(row[9]))
        for pid in ids:
            if pid not in found and pid in index:
                index.set_active(pid, False)  # its registration was rolled back
