"""Rebuild a deployment's history from `eth_getLogs` and check it, block by block, against the node.

The auditor trusts nothing but the node it is pointed at and the compiled ABI: not the app's
store, not the indexer. It checks the chain id against the deployment record and that there is
code at the address, scans the logs in adaptive chunks (a second thread fetches, decodes and
reads the balances of the next chunk while this one is replayed; over a long range a worker
process fetches and decodes, `marketplace.chain.logstream`), feeds them to
`Replay`, and compares the ledger rebuilt at the end of every block that has marketplace events
(and at the last audited block) with `eth_getBalance` at that block. Where a difference appears
between two checked blocks, a binary search over `eth_getBalance` finds the block where the
balance moved.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tqdm import tqdm  # type: ignore[import-untyped]

from marketplace.audit.model import AuditError, Checkpoint, Invariant, Violation
from marketplace.audit.replay import Replay
from marketplace.chain.deployment import Deployment
from marketplace.chain.evm import artifact_evm_version, probe_rpc
from marketplace.chain.logs import EventDecoder
from marketplace.chain.logstream import LogChunk, LogStream, read_chunks
from marketplace.chain.rpc import NodeRefused, NodeUnavailable, RpcClient, RpcError
from marketplace.chain.scan import CONTRACT_NAME, ChunkSizer, Target, marketplace_decoder
from marketplace.gc_pause import cyclic_gc_paused
from marketplace.handoff import put_unless_stopped

AuditTarget = Target  # the auditor's name for what it audits (one class: marketplace.chain.scan)

BALANCE_BATCH = 200


class Rpc(Protocol):
    """The JSON-RPC calls the auditor makes (`marketplace.chain.rpc.RpcClient` has them)."""

    url: str

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One call's result."""

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several calls' results, in order."""


class WrongChain(AuditError):
    """The node serves another chain than the deployment record's."""


class NoContract(AuditError):
    """There is no contract code at the deployment's address."""


class ChainReorganised(AuditError):
    """Blocks already audited changed while (or since) they were read."""


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


@dataclass
class _Chunk:
    read: LogChunk
    balances: dict[tuple[int, int], int | None]  # (block, currency) -> balance


BALANCE_OF = "0x70a08231"  # balanceOf(address)
WINDOWS = "0x2713f36e"  # windows()
CHANGE_DELAY = "0xc55e4af8"  # changeDelay()
SYMBOL = "0x95d89b41"  # symbol()
GET_LISTING = "0xfdba6ac3"  # getListing(uint32)
LISTING_FIELDS = (
    "owner", "offerVersion", "lockedUntil", "completed", "failures", "price", "attributes",
    "category", "region", "currency", "active", "instant", "freeCancelHours", "lateCancelPct",
    "ratingWeight", "weightedStars", "stake",
)
"""`IProviderRegistry.Listing`, in its field order (every field static: one word each)."""
_FIELD_INVARIANT = {
    "completed": Invariant.RELIABILITY, "failures": Invariant.RELIABILITY,
    "lockedUntil": Invariant.RELIABILITY, "ratingWeight": Invariant.RATINGS,
    "weightedStars": Invariant.RATINGS, "stake": Invariant.SOLVENCY,
}
DECIMALS = "0x313ce567"  # decimals()


def _words(data: Any) -> list[int]:
    """The 32-byte words of an eth_call result."""
    if not isinstance(data, str) or not data.startswith("0x"):
        raise ValueError(f"not call data: {data!r}")
    raw = data[2:]
    return [int(raw[i : i + 64], 16) for i in range(0, len(raw) - len(raw) % 64, 64)]


def _abi_string(data: Any) -> str | None:
    """A string an eth_call returned (ABI-encoded, or a bytes32 as some old tokens do)."""
    try:
        words = _words(data)
        raw = bytes.fromhex(str(data)[2:])
    except ValueError:
        return None
    if len(words) >= 2 and words[0] == 32 and 64 + words[1] <= len(raw):
        return raw[64 : 64 + words[1]].decode("utf-8", "replace")
    if len(raw) == 32:
        return raw.rstrip(b"\0").decode("utf-8", "replace") or None
    return None


_DONE = object()


class Auditor:
    """Audits one deployment; `run()` once, or `advance()` again and again to follow the chain."""

    def __init__(
        self,
        rpc: Rpc,
        target: Target,
        *,
        from_block: int | None = None,
        decoder: EventDecoder | None = None,
        keep_events: bool = False,
        progress: bool = False,
        chunk_blocks: int = 4,
        max_chunk_blocks: int = 10_000,
        target_logs: int = 2_000,
        evm_version: str | None = None,
        worker_after_logs: int | None = 5_000,
        worker_from_blocks: int = 100,
    ) -> None:
        self.rpc = rpc
        self.target = target
        self.from_block = max(target.start_block, from_block or 0)
        self.decoder = decoder or marketplace_decoder()
        self.progress = progress
        self.progress_delay = 0.5  # seconds before the bar appears: short scans stay quiet
        self.replay = Replay(from_block=self.from_block, keep_events=keep_events,
                             address=target.address)
        self.sizer = ChunkSizer(chunk_blocks, max_chunk_blocks, target_logs)
        self.next_block = target.start_block  # first block not yet scanned
        self.head: int | None = None
        self.anchor: tuple[int, str] | None = None  # last audited block and its hash
        self.logs = 0
        self.seconds = 0.0
        self.balance_calls = 0
        self._diff: dict[int, int] = {}  # per currency: balance - liabilities, last checked
        self._last_checked: dict[int, Checkpoint] = {}
        self.tokens_info: dict[int, tuple[str | None, int | None]] = {}  # symbol, decimals
        self.listings_checked: int | None = None  # listings compared with getListing; None: no view
        self._listing_findings: set[tuple[int, str, int, int]] = set()
        self._last_event: tuple[int, str] | None = None  # block and hash of the newest event
        self._state_from = 0  # the node has no state before this block (not an archive node)
        self.unchecked: list[int] = []  # blocks whose balance the node could not give
        self.evm_version = evm_version  # None: the compiled artifact's
        # Logs one `advance` reads in this process before a worker process (`LogStream`) reads
        # the rest of its range; None: never. Only with an `RpcClient` (the worker needs a URL).
        self.worker_after_logs = worker_after_logs
        # An advance over this many blocks or more (a first audit, a long catch-up) is read by
        # a worker from its first block.
        self.worker_from_blocks = worker_from_blocks

    # ------------------------------------------------------------ checks before scanning

    def check_target(self, to_block: int | None = None) -> int:
        """Check the chain id and the code at the address; returns the block to audit up to.

        Raises WrongChain, NoContract, AuditError (bad range) or NodeUnavailable.
        """
        chain_id = _int(self.rpc.call("eth_chainId"))
        if chain_id != self.target.chain_id:
            raise WrongChain(
                f"the node at {self.rpc.url} serves chain {chain_id}, but the deployment record "
                f"is for chain {self.target.chain_id}: point --rpc and --deployment at the same "
                "chain"
            )
        head = _int(self.rpc.call("eth_blockNumber"))
        self.head = head
        end = head if to_block is None else to_block
        if end > head:
            raise AuditError(f"--to-block {end} is beyond the node's latest block {head}")
        if end < self.target.start_block:
            raise AuditError(
                f"block {end} is before the deployment at block {self.target.start_block}"
            )
        if self.from_block > end:
            raise AuditError(f"--from-block {self.from_block} is after --to-block {end}")
        code = self.rpc.call("eth_getCode", [self.target.address, hex(end)])
        if not isinstance(code, str) or code in ("0x", "0x0", ""):
            raise NoContract(
                f"there is no contract code at {self.target.address} on chain {chain_id} at "
                f"block {end}: wrong address, wrong chain, or the node was restarted without "
                "its state"
            )
        self._check_payouts(chain_id, end)
        self._read_setup(end)
        return end

    def _read_setup(self, block: int) -> None:
        """The timing windows and the change delay, fixed at deployment (the constructor's
        Setup emits no event for them): read once with eth_call so that every deadline can be
        checked to the second. A node or contract that does not answer leaves them unknown,
        and the deadline checks fall back to ordering (deadline after now, before start)."""
        from marketplace.domain import Windows

        address = self.target.address
        try:
            words = _words(self.rpc.call("eth_call", [{"to": address, "data": WINDOWS},
                                                      hex(block)]))
            delay = _words(self.rpc.call("eth_call", [{"to": address, "data": CHANGE_DELAY},
                                                      hex(block)]))
        except (RpcError, ValueError):
            return
        if len(words) >= 5 and delay:
            self.replay.windows = Windows(*words[:5])
            self.replay.change_delay = delay[0]

    def _check_payouts(self, chain_id: int, block: int) -> None:
        """A violation when the node lacks an EVM feature the contract is compiled for: its
        payouts (withdraw, releaseStake, book) would fail with an invalid opcode, for ever."""
        version = self.evm_version
        if version is None:
            from marketplace.artifacts import load_artifact

            version = artifact_evm_version(load_artifact(CONTRACT_NAME))
        support = probe_rpc(self.rpc, version)
        if not support.ok:
            self.replay.add_violation(Violation(
                Invariant.PAYOUTS, max(block, self.from_block), support.sentence(chain_id),
                details=support.to_dict(),
            ))

    # ------------------------------------------------------------ scanning

    def run(self, to_block: int | None = None) -> Replay:
        """Check the target, then audit every block from the deployment up to `to_block`."""
        end = self.check_target(to_block)
        self.advance(end)
        return self.replay

    def advance(self, to_block: int) -> int:
        """Audit blocks `next_block..to_block`; returns the number of events replayed.

        Raises ChainReorganised when the blocks audited before have changed.
        """
        self._check_anchor()
        if to_block < self.next_block:
            return 0
        started = time.monotonic()
        before = self.replay.events_seen
        stop = threading.Event()
        chunks: queue.Queue[Any] = queue.Queue(maxsize=2)
        streams: list[LogStream] = []  # the worker process reading, if one does
        worker = threading.Thread(
            target=self._produce,
            args=(self.next_block, to_block, chunks, stop, streams),
            name="audit-fetch",
            daemon=True,
        )
        bar = tqdm(
            total=to_block - self.next_block + 1,
            unit="block",
            desc="audit",
            disable=not self.progress,
            file=sys.stderr,
            delay=self.progress_delay,
            mininterval=0.25,
            dynamic_ncols=True,
        )
        with cyclic_gc_paused():
            worker.start()
            try:
                while True:
                    item = chunks.get()
                    if item is _DONE:
                        break
                    if isinstance(item, BaseException):
                        raise item
                    chunk: LogChunk = item.read
                    self.logs += chunk.logs
                    self.replay.skip(chunk.skipped)
                    events = chunk.events
                    checkpoints = self.replay.apply(events)
                    if events:
                        newest = events[-1]
                        self._last_event = (newest.block_number, newest.block_hash)
                    self._check_solvency(checkpoints, item.balances)
                    self.next_block = chunk.end + 1
                    bar.update(chunk.end - chunk.start + 1)
                    bar.set_postfix(events=f"{self.replay.events_seen:,}", refresh=False)
            finally:
                stop.set()
                for stream in streams:  # its worker process, wherever it is: killed
                    stream.cancel()
                bar.close()
                while worker.is_alive():  # unblock a producer waiting on the full queue
                    try:
                        chunks.get(timeout=0.05)
                    except queue.Empty:
                        pass
                worker.join()
        if self.replay.last_block != to_block:
            self._check_solvency(self.replay.checkpoint_at(to_block, None), {})
        self.anchor = (to_block, self._block_hash(to_block))
        self._check_events_still_canonical()
        self.token_info()  # symbols and decimals of new token currencies, for the report
        if self.replay.events_seen > before:
            self._check_listings(to_block)
        self.seconds += time.monotonic() - started
        return self.replay.events_seen - before

    def _produce(
        self, start: int, end: int, out: queue.Queue[Any], stop: threading.Event,
        streams: list[LogStream],
    ) -> None:
        try:
            for chunk in self._read(start, end, stop, streams):
                checked = [n for n in chunk.blocks if n >= self.from_block]
                put_unless_stopped(
                    out, _Chunk(chunk, self._balances(checked, self._tokens())), stop)
                if stop.is_set():
                    return
            put_unless_stopped(out, _DONE, stop)
        except BaseException as exc:  # handed to the consuming thread, which raises it
            put_unless_stopped(out, exc, stop)

    def _read(
        self, start: int, end: int, stop: threading.Event, streams: list[LogStream]
    ) -> Iterator[LogChunk]:
        """The decoded logs of blocks `start..end`, chunk by chunk, read by a worker process
        (`LogStream`, which parses and decodes them outside this process's GIL) from the first
        block when the range spans `worker_from_blocks` blocks; else on this thread until
        `worker_after_logs` logs have been read, then, if blocks are left, by the worker
        (started at half that many logs, to start up while this thread reads on). Which chunks
        each reads depends on the range and the logs only; the chunks are the same either way.
        With `worker_after_logs` None, this thread reads everything."""
        address = self.target.address
        # A worker needs the node's URL (a plain RpcClient: a subclass may answer otherwise).
        worker = type(self.rpc) is RpcClient and LogStream.available()
        limit = self.worker_after_logs if worker else None
        if limit is not None and end - start + 1 >= self.worker_from_blocks:
            limit = 0
        block, read = start, 0
        stream: LogStream | None = None

        def start_worker() -> LogStream:
            assert isinstance(self.rpc, RpcClient)
            started = LogStream(self.rpc, address, self.decoder)
            streams.append(started)  # for the consuming thread to cancel
            return started

        try:
            if limit is None or limit > 0:
                for chunk in read_chunks(self.rpc, address, start, end, self.sizer,
                                         self.decoder, stop.is_set):
                    yield chunk
                    block, read = chunk.end + 1, read + chunk.logs
                    if limit is None or block > end:
                        continue
                    if stream is None and 2 * read >= limit:
                        stream = start_worker()
                    if read >= limit:
                        break
            if block > end or stop.is_set():
                return
            if stream is None:
                stream = start_worker()
            if not stop.is_set():
                yield from stream.read(block, end, self.sizer)
        finally:
            if stream is not None:
                stream.close()

    def _tokens(self) -> dict[int, str]:
        """The token of every currency the replay knows so far (read from the other thread: a
        copy; a currency named later in the chunk is read when it is checked)."""
        return {cid: c.token for cid, c in list(self.replay.currencies.items()) if cid != 0}

    def _balances(
        self, blocks: list[int], tokens: dict[int, str] | None = None
    ) -> dict[tuple[int, int], int | None]:
        """Balances at the end of `blocks`, of ether and of each token; None where the node no
        longer has the state (a node that is not an archive node keeps only recent states)."""
        balances: dict[tuple[int, int], int | None] = {}
        for i in range(0, len(blocks), BALANCE_BATCH):
            part = blocks[i : i + BALANCE_BATCH]
            for block, balance in self._balance_batch(part).items():
                balances[(block, 0)] = balance
        for cid, token in (tokens or {}).items():
            for block in blocks:
                # Where the node has no state for ether, it has none for the token either.
                balances[(block, cid)] = (
                    self._token_balance(token, block)
                    if balances.get((block, 0)) is not None
                    else None
                )
        return balances

    def _token_balance(self, token: str, block: int) -> int | None:
        data = BALANCE_OF + self.target.address.removeprefix("0x").rjust(64, "0")
        self.balance_calls += 1
        try:
            words = _words(self.rpc.call("eth_call", [{"to": token, "data": data}, hex(block)]))
        except NodeRefused:
            raise
        except (RpcError, ValueError):
            return None
        return words[0] if words else None

    def _balance_batch(self, blocks: list[int]) -> dict[int, int | None]:
        floor = self._state_from
        unavailable: dict[int, int | None] = {n: None for n in blocks if n < floor}
        blocks = [n for n in blocks if n >= floor]
        if not blocks:
            return unavailable
        address = self.target.address
        try:
            results = self.rpc.batch([("eth_getBalance", [address, hex(n)]) for n in blocks])
        except NodeRefused:
            if len(blocks) == 1:
                raise
            half = len(blocks) // 2
            return {**unavailable, **self._balance_batch(blocks[:half]),
                    **self._balance_batch(blocks[half:])}
        except RpcError:
            # Some of these states are gone; states are kept for the newest blocks, so find
            # the oldest block that still has one and read from there on.
            first = self._oldest_with_state(blocks)
            self._state_from = max(self._state_from, blocks[first] if first < len(blocks)
                                   else blocks[-1] + 1)
            return {**unavailable, **{n: None for n in blocks[:first]},
                    **self._balance_batch(blocks[first:])}
        self.balance_calls += len(blocks)
        return {**unavailable, **dict(zip(blocks, (_int(r) for r in results), strict=True))}

    def _oldest_with_state(self, blocks: list[int]) -> int:
        """Index of the first block in `blocks` whose state the node still has (len if none)."""
        low, high = 0, len(blocks)
        while low < high:
            middle = (low + high) // 2
            if self.balance_at(blocks[middle]) is None:
                low = middle + 1
            else:
                high = middle
        return low

    def balance_at(self, block: int, currency: int = 0) -> int | None:
        """The contract's balance of `currency` at the end of `block`; None if the node has no
        state for it (or the currency has no token yet)."""
        if currency != 0:
            c = self.replay.currencies.get(currency)
            if c is None:
                return None
            return self._token_balance(c.token, block)
        self.balance_calls += 1
        try:
            return _int(self.rpc.call("eth_getBalance", [self.target.address, hex(block)]))
        except NodeRefused:
            raise
        except RpcError:
            return None

    def _check_listings(self, block: int) -> None:
        """At the last audited block, every listing as the contract stores it (`getListing`)
        must be the listing rebuilt from events: reliability counters, rating weight and
        weighted stars, stake and its lock, the offer. A node or chain without the view gets no
        verdict (`listings_checked` stays None)."""
        if block < self.from_block:
            return
        providers = [self.replay.providers[k] for k in sorted(self.replay.providers)]
        address = self.target.address
        stored: list[list[int]] = []
        for i in range(0, len(providers), BALANCE_BATCH):
            part = providers[i : i + BALANCE_BATCH]
            calls = [("eth_call", [{"to": address,
                                    "data": GET_LISTING + format(p.provider_id, "064x")},
                                   hex(block)]) for p in part]
            try:
                stored += [_words(result) for result in self.rpc.batch(calls)]
            except (RpcError, ValueError):
                return
        for p, words in zip(providers, stored, strict=True):
            if len(words) < len(LISTING_FIELDS):
                return
            self._compare_listing(p, dict(zip(LISTING_FIELDS, words, strict=False)), block)
        self.listings_checked = len(providers)

    def _compare_listing(self, p: Any, chain: dict[str, int], block: int) -> None:
        o = p.offer
        rebuilt = {
            "owner": int(p.owner, 16), "offerVersion": o.version, "lockedUntil": p.locked_until,
            "completed": p.completed, "failures": p.failures, "price": o.price,
            "attributes": o.attributes, "category": p.category, "region": o.region,
            "currency": o.currency, "active": int(p.active), "instant": int(o.instant),
            "freeCancelHours": o.free_cancel_hours, "lateCancelPct": o.late_cancel_pct,
            "ratingWeight": p.rating_weight, "weightedStars": p.weighted_stars,
            "stake": p.stake,
        }
        for name, expected in rebuilt.items():
            actual = chain[name]
            key = (p.provider_id, name, actual, expected)
            if actual == expected or key in self._listing_findings:
                continue
            self._listing_findings.add(key)
            self.replay.add_violation(Violation(
                _FIELD_INVARIANT.get(name, Invariant.TRANSITIONS), block,
                f"listing {p.provider_id}'s {name} is {actual} in the contract at block {block}, "
                f"but its events make it {expected}",
                provider_id=p.provider_id,
                details={"field": name, "contract": actual, "events": expected},
            ))

    def token_info(self) -> dict[int, tuple[str | None, int | None]]:
        """Symbol and decimals of every token currency (read once; None where the token does
        not say)."""
        for cid, c in self.replay.currencies.items():
            if cid == 0 or cid in self.tokens_info:
                continue
            symbol = decimals = None
            try:
                symbol = _abi_string(self.rpc.call("eth_call", [{"to": c.token, "data": SYMBOL},
                                                                "latest"]))
                words = _words(self.rpc.call("eth_call", [{"to": c.token, "data": DECIMALS},
                                                          "latest"]))
                decimals = words[0] if words and words[0] <= 77 else None
            except (RpcError, ValueError):
                pass
            self.tokens_info[cid] = (symbol, decimals)
            c.symbol, c.decimals = symbol, decimals
        return self.tokens_info

    def _block_hash(self, block: int) -> str:
        header = self.rpc.call("eth_getBlockByNumber", [hex(block), False])
        if not isinstance(header, dict) or not isinstance(header.get("hash"), str):
            raise ChainReorganised(f"block {block} is no longer on the node's chain")
        return str(header["hash"]).lower()

    def _check_anchor(self) -> None:
        if self.anchor is None:
            return
        block, expected = self.anchor
        if self._block_hash(block) != expected:
            raise ChainReorganised(
                f"block {block}, already audited, has changed: the chain reorganised; audit "
                "again from the start"
            )

    def _check_events_still_canonical(self) -> None:
        if self._last_event is None:
            return
        block, expected = self._last_event
        if self._block_hash(block) != expected:
            raise ChainReorganised(
                f"block {block} changed while it was audited: the chain reorganised; run the "
                "audit again"
            )

    # ------------------------------------------------------------ solvency

    def _check_solvency(
        self, checkpoints: list[Checkpoint], balances: dict[tuple[int, int], int | None]
    ) -> None:
        from_block = self.from_block
        for checkpoint in checkpoints:
            if checkpoint.block < from_block:
                continue
            key = (checkpoint.block, checkpoint.currency)
            if key in balances:
                actual = balances[key]
            else:
                actual = self.balance_at(checkpoint.block, checkpoint.currency)
            if actual is None:
                if checkpoint.currency == 0:
                    self.unchecked.append(checkpoint.block)
                continue
            checkpoint.actual = actual
            diff = actual - checkpoint.expected
            currency = checkpoint.currency
            if diff != self._diff.get(currency, 0):
                if diff != 0:
                    self.replay.add_violation(self._drift(checkpoint, diff))
                self._diff[currency] = diff
            self._last_checked[currency] = checkpoint

    def _drift(self, checkpoint: Checkpoint, diff: int) -> Violation:
        """A solvency violation, placed at the block where the balance moved unexpectedly."""
        currency = checkpoint.currency
        previous = self._last_checked.get(currency)
        block, tx = checkpoint.block, checkpoint.last_tx
        moved_at: int | None = None
        if previous is not None and previous.actual is not None and (
            checkpoint.block - previous.block > 1
        ):
            # No marketplace event between the two checked blocks: the balance should not move.
            moved_at = self._first_change(previous.block, checkpoint.block - 1, previous.actual,
                                          currency)
            if moved_at is not None:
                block, tx = moved_at, None
        kind = "deficit" if diff < 0 else "surplus"
        where = (
            f"the balance moved at block {moved_at}, where the marketplace emitted no event"
            if moved_at is not None
            else f"in block {checkpoint.block}"
            + (f" (checked after tx {tx})" if tx else "")
        )
        what = "ether" if currency == 0 else f"currency {currency}"
        extra = (f" + stakes {checkpoint.stakes} + dispute bonds {checkpoint.bonds}"
                 if currency == 0 else "")
        message = (
            f"{what}: contract balance {checkpoint.actual} != {checkpoint.expected} owed "
            f"(escrow {checkpoint.escrow} + credits {checkpoint.credits} + accrued fees "
            f"{checkpoint.accrued_fees}{extra}) at block {checkpoint.block}: a {kind} of "
            f"{abs(diff)} appeared {where}"
        )
        return Violation(
            Invariant.SOLVENCY,
            block,
            message,
            tx_hash=tx,
            details={
                "currency": currency,
                "checked_block": checkpoint.block,
                "balance": checkpoint.actual,
                "owed": checkpoint.expected,
                "difference": diff,
                "moved_at_block": moved_at,
            },
        )

    def _first_change(self, low: int, high: int, balance: int, currency: int = 0) -> int | None:
        """The first block in (low, high] whose balance differs from `balance` (at `low`);
        None when it did not change there, or the node lacks the states to tell."""
        if self.balance_at(high, currency) in (balance, None):
            return None
        while high - low > 1:
            middle = (low + high) // 2
            found = self.balance_at(middle, currency)
            if found is None:
                return None
            if found == balance:
                low = middle
            else:
                high = middle
        return high


def audit_deployment(
    rpc: Rpc,
    deployment: Deployment,
    *,
    from_block: int | None = None,
    to_block: int | None = None,
    progress: bool = False,
    keep_events: bool = False,
) -> Auditor:
    """Audit a deployment from its start block to `to_block` (default: the head).

    Raises AuditError (WrongChain, NoContract, ChainReorganised, bad range), NodeUnavailable
    or RpcError.
    """
    auditor = Auditor(
        rpc,
        Target.from_deployment(deployment),
        from_block=from_block,
        keep_events=keep_events,
        progress=progress,
    )
    auditor.run(to_block)
    return auditor


__all__ = [
    "AuditTarget",
    "Auditor",
    "ChainReorganised",
    "NoContract",
    "NodeUnavailable",
    "Rpc",
    "WrongChain",
    "audit_deployment",
    "marketplace_decoder",
]
