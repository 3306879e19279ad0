"""The indexer: chunked eth_getLogs, one DB transaction per chunk, reorg-safe confirmation window.

Each chunk's events, projection changes and checkpoint are committed together, so a killed
indexer resumes exactly where the last commit left it: no duplicate, no gap. Blocks within
`confirmations` of the head are provisional: their hashes are kept and every row they change
gets an undo record. Before each pass the stored tip's hash is compared with the node's; on a
mismatch the indexer walks back to the newest block both agree on, undoes everything above it
and reads again. A reorg deeper than the window stops the indexer (`DeepReorgError`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, insert, select, update
from tqdm import tqdm  # type: ignore[import-untyped]

from marketplace.chain.logs import DecodedEvent, EventDecoder, SkippedLog
from marketplace.chain.rpc import NodeRefused, NodeUnavailable, RpcClient, RpcError
from marketplace.chain.scan import ChunkSizer, Target
from marketplace.errors import MarketplaceError
from marketplace.gc_pause import cyclic_gc_paused
from marketplace.handoff import put_unless_stopped
from marketplace.indexer.batch import ApplyStats, apply_events, event_counts, skipped_rows
from marketplace.indexer.retry import with_retry
from marketplace.indexer.state import RowCache, UnitOfWork, rollback_to, upsert
from marketplace.store import schema
from marketplace.store.engine import init_db

log = logging.getLogger("marketplace.indexer")
T = TypeVar("T")
STATE_KEY = 1


class IndexerError(MarketplaceError):
    """The indexer cannot go on without a human decision."""


class DeepReorgError(IndexerError):
    """The chain reorganised below the confirmation window; the store cannot roll back safely."""


class DeploymentMismatch(IndexerError):
    """The store already holds another deployment (chain id or contract address)."""


class CheckpointMoved(IndexerError):
    """Another writer moved the store's checkpoint while this indexer was writing a chunk."""


class _ReorgDuringScan(IndexerError):
    """Headers and logs of one chunk disagree: the chain moved while it was read."""


@dataclass
class SyncStats:
    """What one `sync` did."""

    events: int = 0
    skipped: int = 0
    gaps: int = 0
    chunks: int = 0  # ranges read with eth_getLogs
    commits: int = 0  # transactions (a transaction takes the chunks fetched by then)
    blocks: int = 0
    reorgs: int = 0
    refusals: int = 0
    seconds: float = 0.0
    by_name: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        """Events committed per second of wall time."""
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "events": self.events,
            "skipped": self.skipped,
            "gaps": self.gaps,
            "chunks": self.chunks,
            "commits": self.commits,
            "blocks": self.blocks,
            "reorgs": self.reorgs,
            "refusals": self.refusals,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.events_per_second, 1),
        }


@dataclass
class _Chunk:
    start: int
    end: int
    undo_from: int | None
    hashes: dict[int, str]
    events: list[DecodedEvent]
    skipped: list[SkippedLog]
    tokens: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    pieces: int = 1  # the fetched ranges it holds (several when merged)


_AHEAD = 2  # chunks fetched ahead of the one being committed
_MERGE_LOGS = 4  # a transaction takes fetched chunks up to this many times the target log count


def _mergeable(batch: list[_Chunk], more: _Chunk) -> bool:
    """Whether `more` may join the chunks of `batch` in one transaction: it follows them and
    names no token they name (each chunk asks a token's symbol at its own CurrencySet block)."""
    return more.start == batch[-1].end + 1 and not any(
        token in chunk.tokens for chunk in batch for token in more.tokens
    )


def _merge(chunks: list[_Chunk]) -> _Chunk:
    """Consecutive chunks as one, for one transaction: its events in chain order, every block
    hash read, undo records from the first provisional block. The store after it is the store
    after committing them one by one."""
    if len(chunks) == 1:
        return chunks[0]
    hashes: dict[int, str] = {}
    tokens: dict[str, tuple[str | None, int | None]] = {}
    events: list[DecodedEvent] = []
    skipped: list[SkippedLog] = []
    for chunk in chunks:
        hashes.update(chunk.hashes)
        tokens.update(chunk.tokens)
        events.extend(chunk.events)
        skipped.extend(chunk.skipped)
    undo_from = next((c.undo_from for c in chunks if c.undo_from is not None), None)
    return _Chunk(
        chunks[0].start, chunks[-1].end, undo_from, hashes, events, skipped, tokens,
        pieces=sum(c.pieces for c in chunks),
    )


_SYMBOL = "0x95d89b41"  # symbol()
_DECIMALS = "0x313ce567"  # decimals()


def token_metadata(rpc: RpcClient, token: str, block: int) -> tuple[str | None, int | None]:
    """A token's symbol and decimals as of `block` (None for what it does not answer sensibly:
    both are optional in ERC-20). A failing node call fails the chunk, which is retried."""
    results = []
    for selector in (_SYMBOL, _DECIMALS):
        try:
            results.append(rpc.call("eth_call", [{"to": token, "data": selector}, hex(block)]))
        except RpcError:  # the token reverted: it has no such function
            results.append(None)
    return _abi_string(results[0]), _abi_small_uint(results[1])


def _abi_string(data: Any) -> str | None:
    """An ABI-encoded string (or a bytes32 symbol, as old tokens return), printable, <= 32."""
    try:
        raw = bytes.fromhex(str(data)[2:])
        if len(raw) == 32:
            text = raw.rstrip(b"\0").decode()
        else:
            offset = int.from_bytes(raw[:32], "big")
            length = int.from_bytes(raw[offset : offset + 32], "big")
            text = raw[offset + 32 : offset + 32 + length].decode()
    except (ValueError, UnicodeDecodeError, TypeError):
        return None
    return text if text and len(text) <= 32 and text.isprintable() else None


def _abi_small_uint(data: Any) -> int | None:
    try:
        value = int(str(data), 16)
    except (ValueError, TypeError):
        return None
    return value if 0 <= value <= 77 else None


class Indexer:
    """Indexes one marketplace deployment into the store. One writer per store."""

    def __init__(
        self,
        engine: Engine,
        rpc: RpcClient,
        decoder: EventDecoder,
        target: Target,
        *,
        confirmations: int = 12,
        chunk_blocks: int = 20,
        max_chunk_blocks: int = 10_000,
        target_logs: int = 5_000,
        poll_interval: float = 0.25,
        retry_for: float | None = 60.0,
        progress: bool = False,
        on_commit: Callable[[int, float], None] | None = None,
    ) -> None:
        self.engine = engine
        self.rpc = rpc
        self.decoder = decoder
        self.target = target
        self.confirmations = confirmations
        self.sizer = ChunkSizer(chunk_blocks, max_chunk_blocks, target_logs)
        self.poll_interval = poll_interval
        self.retry_for = retry_for
        self.progress = progress
        self.on_commit = on_commit
        self.skipped_total = 0
        self.stopping = threading.Event()  # set it to stop after the chunk being committed
        self._opened = False
        # projection rows as committed, read by the next chunks instead of the store (this
        # indexer is the projections' one writer); cleared whenever the store changes otherwise
        self._rows = RowCache()

    # ------------------------------------------------------------ setup

    def close(self) -> None:
        """Close the node connections and the store's pooled connections (the Indexer owns both)."""
        self.rpc.close()
        self.engine.dispose()

    def open(self) -> None:
        """Create missing tables and check that the store holds this deployment (or nothing)."""
        self._retry(lambda: init_db(self.engine), "open the store")
        chain_id = self._retry(self.rpc.chain_id, "read the chain id")
        if chain_id != self.target.chain_id:
            raise DeploymentMismatch(
                f"the node at {self.rpc.url} serves chain {chain_id}, but the deployment is on "
                f"chain {self.target.chain_id}: point --rpc and --deployment at the same chain"
            )
        self._retry(self._record_deployment, "record the deployment in the store")
        self._opened = True

    def _record_deployment(self) -> None:
        """The state row for this deployment: created, or checked and updated (idempotent)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(schema.indexer_state).where(schema.indexer_state.c.id == STATE_KEY)
            ).mappings().first()
            if row is None:
                conn.execute(
                    insert(schema.indexer_state).values(
                        id=STATE_KEY,
                        chain_id=self.target.chain_id,
                        address=self.target.address,
                        start_block=self.target.start_block,
                        last_block=self.target.start_block - 1,
                        last_hash=None,
                        confirmations=self.confirmations,
                        updated_at=time.time(),
                    )
                )
            elif row["chain_id"] != self.target.chain_id or row["address"] != self.target.address:
                raise DeploymentMismatch(
                    f"the store holds {row['address']} on chain {row['chain_id']}, not "
                    f"{self.target.address} on chain {self.target.chain_id}: use another "
                    "DATABASE_URL, or `marketplace db init --reset` to start over"
                )
            else:
                conn.execute(
                    update(schema.indexer_state)
                    .where(schema.indexer_state.c.id == STATE_KEY)
                    .values(confirmations=self.confirmations)
                )

    def checkpoint(self) -> tuple[int, str | None]:
        """The last block committed and its hash."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(schema.indexer_state.c.last_block, schema.indexer_state.c.last_hash).where(
                    schema.indexer_state.c.id == STATE_KEY
                )
            ).first()
        if row is None:
            return self.target.start_block - 1, None
        return int(row[0]), row[1]

    # ------------------------------------------------------------ retries

    def _retry(self, action: Callable[[], T], what: str) -> T:
        return with_retry(action, what, self.retry_for, self.stopping)

    # ------------------------------------------------------------ reorgs

    def _check_reorg(self, stats: SyncStats) -> None:
        tip, tip_hash = self.checkpoint()
        if tip_hash is None:
            return
        node = self._retry(lambda: self.rpc.block_headers([tip]), "read the tip block")[tip]
        if node is not None and node["hash"] == tip_hash:
            return
        recent_table = schema.indexer_recent_blocks
        with self.engine.connect() as conn:
            recent = dict(
                conn.execute(
                    select(recent_table.c.number, recent_table.c.hash).where(
                        recent_table.c.number >= tip - self.confirmations,
                        recent_table.c.number < tip,
                    )
                ).all()
            )
        candidates = sorted(recent, reverse=True)
        node_hashes = self._retry(
            lambda: self.rpc.block_headers(candidates), "read the blocks below the tip"
        )
        fork: int | None = None
        for number in range(tip - 1, tip - self.confirmations - 1, -1):
            if number not in recent:
                break
            header = node_hashes.get(number)
            if header is not None and header["hash"] == recent[number]:
                fork = number
                break
        if fork is None:
            raise DeepReorgError(
                f"the chain reorganised deeper than the confirmation window of "
                f"{self.confirmations} blocks: the store's block {tip} ({tip_hash[:12]}...) is "
                f"no longer on the node's chain and no block from {tip - self.confirmations} up "
                "matches. The indexer stopped instead of guessing; re-index from scratch "
                "(`marketplace db init --reset`, then `marketplace index`) or raise "
                "--confirmations if such reorgs are expected"
            )
        self._rows.clear()
        with self.engine.begin() as conn:
            restored = rollback_to(conn, fork)
            conn.execute(
                update(schema.indexer_state)
                .where(schema.indexer_state.c.id == STATE_KEY)
                .values(last_block=fork, last_hash=recent[fork], updated_at=time.time())
            )
        stats.reorgs += 1
        log.warning(
            "reorg: blocks %d..%d were replaced; rolled back to block %d (%d rows restored), "
            "reading again",
            fork + 1, tip, fork, restored,
        )

    # ------------------------------------------------------------ one chunk

    def _fetch(self, start: int, end: int, head: int, previous_hash: str | None) -> _Chunk:
        undo_from = max(start, head - self.confirmations + 1)
        provisional = undo_from <= end
        numbers = list(range(max(undo_from - 1, 0), end + 1)) if provisional else [end]
        headers = self.rpc.block_headers(numbers)
        hashes: dict[int, str] = {}
        for number, header in headers.items():
            if header is None:
                raise _ReorgDuringScan(f"block {number} vanished")
            hashes[number] = str(header["hash"])
        if previous_hash is not None and hashes.get(start - 1, previous_hash) != previous_hash:
            raise _ReorgDuringScan(f"block {start - 1}, the last one indexed, was replaced")
        raw = self.rpc.get_logs(self.target.address, start, end)
        events, skipped = self.decoder.decode_many(raw)
        for ev in events:
            known = hashes.get(ev.block_number)
            if known is not None and known != ev.block_hash:
                raise _ReorgDuringScan(f"block {ev.block_number} changed while it was read")
        if any(ev.block_timestamp is None for ev in events):
            events = self._fill_timestamps(events)
        tokens = {
            ev.args["token"]: token_metadata(self.rpc, ev.args["token"], ev.block_number)
            for ev in events
            if ev.name == "CurrencySet"
        }
        return _Chunk(
            start, end, undo_from if provisional else None, hashes, events, skipped, tokens
        )

    def _fill_timestamps(self, events: list[DecodedEvent]) -> list[DecodedEvent]:
        """Timestamps from block headers, for nodes whose logs lack `blockTimestamp`."""
        numbers = sorted({ev.block_number for ev in events if ev.block_timestamp is None})
        headers = self.rpc.block_headers(numbers)
        stamps: dict[int, int] = {}
        for number, header in headers.items():
            if header is None:
                raise _ReorgDuringScan(f"block {number} vanished")
            stamps[number] = int(header["timestamp"], 16)
        out = []
        for ev in events:
            if ev.block_timestamp is None:
                header = headers[ev.block_number]
                if header is not None and header["hash"] != ev.block_hash:
                    raise _ReorgDuringScan(f"block {ev.block_number} changed while it was read")
                ev = ev.with_timestamp(stamps[ev.block_number])
            out.append(ev)
        return out

    def _commit(self, chunk: _Chunk, stats: SyncStats) -> None:
        """Write the chunk in one transaction; safe to retry after any failure, including a
        commit whose outcome the store never reported (the lost reply of a COMMIT)."""
        try:
            uow, applied = self._write_chunk(chunk)
        except CheckpointMoved:
            self._rows.clear()  # what the failed transaction read or changed is not known
            if self.checkpoint() != (chunk.end, chunk.hashes[chunk.end]):
                raise
            # An earlier attempt committed this very chunk but its reply was lost: count its
            # events as that attempt did (its gaps are not known here).
            log.warning("blocks %d..%d were already committed; going on", chunk.start,
                        chunk.end)
            applied = event_counts(chunk.events)
        except BaseException:
            self._rows.clear()  # what the failed transaction read or changed is not known
            raise
        else:
            self._rows.remember(uow)
        stats.events += applied.events
        stats.gaps += applied.gaps
        stats.skipped += len(chunk.skipped)
        stats.chunks += chunk.pieces
        stats.commits += 1
        stats.blocks += chunk.end - chunk.start + 1
        for name, count in applied.by_name.items():
            stats.by_name[name] = stats.by_name.get(name, 0) + count
        if chunk.skipped:
            self.skipped_total += len(chunk.skipped)
            for s in chunk.skipped[:5]:
                log.warning(
                    "skipped a log at block %s index %s (tx %s): %s",
                    s.block_number, s.log_index, s.tx_hash, s.reason,
                )
        if self.on_commit is not None:
            self.on_commit(chunk.end, time.time())

    def _write_chunk(self, chunk: _Chunk) -> tuple[UnitOfWork, ApplyStats]:
        """The chunk's events, projections, undo records and checkpoint in one transaction."""
        recent = schema.indexer_recent_blocks
        undo = schema.indexer_undo
        horizon = chunk.end - self.confirmations
        with self.engine.begin() as conn:
            # The checkpoint moves first, and only from the block before this chunk: a retry of
            # a chunk already committed, or a second writer, changes nothing and is told so.
            # On PostgreSQL the row lock this takes also queues a concurrent writer behind us.
            state = schema.indexer_state.c
            moved = conn.execute(
                update(schema.indexer_state)
                .where(state.id == STATE_KEY, state.last_block == chunk.start - 1)
                .values(
                    last_block=chunk.end,
                    last_hash=chunk.hashes[chunk.end],
                    updated_at=time.time(),
                )
            )
            if moved.rowcount != 1:
                raise CheckpointMoved(
                    f"the store's checkpoint is no longer block {chunk.start - 1}, where blocks "
                    f"{chunk.start}..{chunk.end} follow: another indexer writes to this store; "
                    "run one indexer per store"
                )
            uow = UnitOfWork(conn, chunk.undo_from, self._rows)
            uow.tokens = chunk.tokens
            applied = apply_events(uow, chunk.events)
            for row in skipped_rows(chunk.skipped):
                uow.append("indexer_skipped_logs", row)
            uow.flush()
            if chunk.undo_from is None:
                # Final blocks have no undo records, so no older block is a fork point any more.
                conn.execute(delete(recent))
                conn.execute(delete(undo))
            else:
                if chunk.undo_from > chunk.start:  # same, for the final part of this chunk
                    conn.execute(delete(recent))
                    conn.execute(delete(undo).where(undo.c.block_number < chunk.undo_from))
                upsert(
                    conn,
                    recent,
                    [{"number": n, "hash": h} for n, h in sorted(chunk.hashes.items())],
                )
                conn.execute(delete(recent).where(recent.c.number < horizon))
                conn.execute(delete(undo).where(undo.c.block_number <= horizon))
        return uow, applied

    # ------------------------------------------------------------ passes

    def sync(self, until: int | None = None) -> SyncStats:
        """Index up to the node's head (or `until`), handling reorgs; returns what was done."""
        if not self._opened:
            self.open()
        stats = SyncStats()
        started = time.monotonic()
        while not self.stopping.is_set():
            head = self._retry(self.rpc.block_number, "read the head block")
            if until is not None:
                head = min(head, until)
            self._retry(lambda: self._check_reorg(stats), "check for reorgs")
            last, last_hash = self._retry(self.checkpoint, "read the checkpoint")
            start = last + 1
            if start > head:
                break
            with self._progress(head - start + 1, stats, started) as advance, cyclic_gc_paused():
                restart = self._scan(start, last_hash, head, stats, advance)
            if not restart and until is not None and head >= until:
                break
        stats.seconds = time.monotonic() - started
        return stats

    def _produce(
        self,
        start: int,
        last_hash: str | None,
        head: int,
        stats: SyncStats,
        out: queue.Queue[_Chunk | BaseException | None],
        done: threading.Event,
    ) -> None:
        """Fetch the chunks from `start` to `head` in order into `out` (a thread of its own, so
        the node works while the scanner commits); then None, or the error that ended it.

        Each range is sized after the previous one's log count, as a lone fetcher would size
        it; a range the node refuses is halved and read again. Ends early once `done` is set.
        """
        try:
            while start <= head and not done.is_set() and not self.stopping.is_set():
                end = min(head, start + self.sizer.size - 1)
                fetch = partial(self._fetch, start, end, head, last_hash)
                try:
                    chunk = self._retry(fetch, "read logs")
                except NodeRefused as exc:
                    stats.refusals += 1
                    if not self.sizer.shrink():
                        raise
                    log.info("node refused %d blocks (%s); trying %d", end - start + 1,
                             exc.message, self.sizer.size)
                    continue
                self.sizer.observe(end - start + 1, len(chunk.events) + len(chunk.skipped))
                put_unless_stopped(out, chunk, done)
                start, last_hash = end + 1, chunk.hashes[end]
        except BaseException as exc:  # handed to the scanning thread
            put_unless_stopped(out, exc, done)
        else:
            put_unless_stopped(out, None, done)

    def _scan(
        self,
        start: int,
        last_hash: str | None,
        head: int,
        stats: SyncStats,
        advance: Callable[[int], None],
    ) -> bool:
        """Commit chunks from `start` to `head`; True if a reorg interrupted the scan.

        While chunks are being committed, the next ones are already being fetched; the chunks
        fetched by then (at most `_AHEAD`, and `_MERGE_LOGS` times the target log count) are
        committed together in one transaction (`_merge`): fewer, larger transactions, and never
        a wait for a chunk that has not arrived.
        """
        fetched: queue.Queue[_Chunk | BaseException | None] = queue.Queue(maxsize=_AHEAD)
        done = threading.Event()
        threading.Thread(
            target=self._produce,
            args=(start, last_hash, head, stats, fetched, done),
            name=f"fetch-{start}",
            daemon=True,
        ).start()
        limit = _MERGE_LOGS * self.sizer.target_logs
        held: list[_Chunk | BaseException | None] = []  # taken from `fetched`, not merged
        try:
            while not self.stopping.is_set():
                item = held.pop() if held else fetched.get()
                if item is None:
                    return False
                if isinstance(item, _ReorgDuringScan):
                    log.warning("the chain moved while reading: %s; checking for a reorg", item)
                    return True
                if isinstance(item, BaseException):
                    raise item
                batch = [item]
                size = len(item.events)
                while size < limit:
                    try:
                        more = fetched.get_nowait()
                    except queue.Empty:
                        break
                    if not isinstance(more, _Chunk) or not _mergeable(batch, more):
                        held.append(more)
                        break
                    batch.append(more)
                    size += len(more.events)
                chunk = _merge(batch)
                self._retry(partial(self._commit, chunk, stats), "write to the store")
                advance(chunk.end - chunk.start + 1)
            return False
        finally:
            done.set()

    @contextmanager
    def _progress(
        self, total: int, stats: SyncStats, started: float
    ) -> Iterator[Callable[[int], None]]:
        if not self.progress or total < 2:
            yield lambda _n: None
            return
        bar = tqdm(total=total, unit="block", desc="index", dynamic_ncols=True)

        def advance(n: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-9)
            bar.set_postfix(events=stats.events, ev_s=f"{stats.events / elapsed:,.0f}",
                            refresh=False)
            bar.update(n)

        try:
            yield advance
        finally:
            bar.close()

    def follow(self, stop: threading.Event | None = None) -> None:
        """Sync, then poll the head every `poll_interval` seconds until `stop` is set.

        `stop` becomes `self.stopping`: setting it also ends a long catch-up after the chunk
        being committed, or a wait for the node or the store to come back (the next run goes on
        from the checkpoint).
        """
        if stop is not None:
            self.stopping = stop
        try:
            if not self._opened:
                self.open()
            while not self.stopping.is_set():
                stats = self.sync()
                if stats.chunks == 0:
                    self.stopping.wait(self.poll_interval)
        except NodeUnavailable as exc:
            if not self.stopping.is_set():
                raise
            log.info("stopped while waiting: %s", exc)
