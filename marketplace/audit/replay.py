"""Replay marketplace events in chain order and check every rule the events themselves can prove.

`Replay` rebuilds the contract's state from its events alone (providers, criteria with their
versions and blocks, bookings, credits, accrued fees, stakes, the fee rate, arbiters, the pause)
and checks each event against the contract's rules before applying it. Amounts are applied as the
events state them, so one broken rule shows up as one violation rather than a cascade: a second
payout of a booking is a conservation violation and credits what it claims, while the escrow it
cannot release again stays released. At the end of every block the rebuilt ledger is recorded as
a `Checkpoint`; comparing those with the node's balances (solvency) is the `Auditor`'s job, since
it needs the node.

This module feeds events and keeps the ledger; the records are in `state`, what each event does
in `booking_events` and `market_events`, and the rules that find violations in `checks`.
Rules that need more than events (who sent a transaction) are out of reach: see docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from marketplace.audit import booking_events, market_events
from marketplace.audit.model import Checkpoint, Invariant, Violation
from marketplace.audit.state import (
    DAY,
    BookingState,
    CriteriaState,
    CustomerState,
    ProviderState,
    short_id,
)
from marketplace.chain.logs import DecodedEvent, SkippedLog

Handler = Callable[[DecodedEvent], object]


class Replay:
    """The contract's state rebuilt from events, with every violation found on the way.

    Feed `apply` whole blocks in chain order. Events before `from_block` rebuild state but are
    neither reported nor counted in the figures. With `keep_events`, every event is kept (the web
    explorer and booking timelines read them).
    """

    def __init__(self, from_block: int = 0, keep_events: bool = False) -> None:
        self.from_block = from_block
        self.keep_events = keep_events
        self.events: list[DecodedEvent] = []
        self.violations: list[Violation] = []
        self.providers: dict[int, ProviderState] = {}
        self.customers: dict[str, CustomerState] = {}
        self.criteria: dict[tuple[str, int], CriteriaState] = {}
        self.bookings: dict[int, BookingState] = {}
        self.credits: dict[str, int] = {}
        self.arbiters: set[str] = set()
        self.fee_bps: int | None = None
        self.min_stake = 0
        self.paused = False
        self.owner: str | None = None
        self.escrow = 0
        self.total_credits = 0
        self.accrued_fees = 0
        self.stakes = 0
        self.fees_collected = 0
        self.withdrawn = 0
        self.checkpoints: list[Checkpoint] = []
        self.events_seen = 0
        self.events_in_scope = 0
        self.skipped_logs = 0
        self.by_name: dict[str, int] = {}
        self.daily: dict[int, list[int]] = {}  # day -> [bookings, volume, fees, refunds, payouts]
        self.totals: dict[str, int] = dict.fromkeys(
            (
                "volume", "fees", "refunds", "payouts", "disputes", "disputes_resolved",
                "disputes_by_default", "disputes_lost", "ratings", "withdrawn", "fees_collected",
                "stakes_released",
            ),
            0,
        )
        self.first_block: int | None = None
        self.last_block: int | None = None
        self.scope = False  # whether the event being applied is reported (block >= from_block)
        self._block: int | None = None
        self._block_ts: int | None = None
        self._handlers: dict[str, Handler] = {
            name: partial(handle, self)
            for table in (booking_events.HANDLERS, market_events.HANDLERS)
            for name, handle in table.items()
        }

    # ------------------------------------------------------------ feeding

    def apply(self, events: Iterable[DecodedEvent]) -> list[Checkpoint]:
        """Apply whole blocks of events in chain order; returns the checkpoints of those blocks."""
        handlers = self._handlers
        by_name = self.by_name
        keep, kept = self.keep_events, self.events
        start = len(self.checkpoints)
        from_block = self.from_block
        scope = self.scope
        seen = in_scope = 0
        last_tx: str | None = None  # of the event before: the block's last when it closes
        try:  # counters in locals: this loop runs for every event of the chain
            for ev in events:
                block = ev.block_number
                if block != self._block:
                    if self._block is not None:
                        self._close_block(last_tx)
                    if self.first_block is None:
                        self.first_block = block
                    self._block = block
                    self._block_ts = ev.block_timestamp
                    scope = self.scope = block >= from_block
                last_tx = ev.tx_hash
                seen += 1
                if keep:
                    kept.append(ev)
                name = ev.name
                if scope:
                    in_scope += 1
                    by_name[name] = by_name.get(name, 0) + 1
                handler = handlers.get(name)
                if handler is not None:
                    handler(ev)
        finally:
            self.events_seen += seen
            self.events_in_scope += in_scope
        if self._block is not None:
            self._close_block(last_tx)
        return self.checkpoints[start:]

    def skip(self, logs: Sequence[SkippedLog]) -> None:
        """Logs at the contract address that are not marketplace events: each is a violation."""
        for log in logs:
            self.skipped_logs += 1
            block = log.block_number if log.block_number is not None else -1
            if block >= self.from_block:
                self.violations.append(
                    Violation(
                        Invariant.EVENTS,
                        block,
                        f"a log that is not a marketplace event: {log.reason}",
                        tx_hash=log.tx_hash,
                        log_index=log.log_index,
                        details={"topic0": log.topic0},
                    )
                )

    def checkpoint_at(self, block: int, timestamp: int | None = None) -> Checkpoint:
        """A checkpoint of the current ledger at a block without events (e.g. the audit's end)."""
        checkpoint = self._checkpoint(block, timestamp, None)
        self.checkpoints.append(checkpoint)
        self.last_block = block
        return checkpoint

    def _checkpoint(self, block: int, timestamp: int | None, tx: str | None) -> Checkpoint:
        return Checkpoint(
            block, timestamp, self.escrow, self.total_credits, self.accrued_fees, self.stakes, tx
        )

    def _close_block(self, last_tx: str | None) -> None:
        assert self._block is not None
        self.checkpoints.append(self._checkpoint(self._block, self._block_ts, last_tx))
        self.last_block = self._block
        self._block = None

    def add_violation(self, violation: Violation) -> None:
        """Record a violation found outside the replay (solvency), if it is in scope."""
        if violation.block >= self.from_block:
            self.violations.append(violation)

    # ------------------------------------------------------------ what the event rules use

    def violate(
        self,
        invariant: Invariant,
        ev: DecodedEvent,
        message: str,
        *,
        booking: int | None = None,
        provider: int | None = None,
        account: str | None = None,
        **details: Any,
    ) -> None:
        """Record that `ev` broke `invariant` (only for events in scope)."""
        if not self.scope:
            return
        self.violations.append(
            Violation(
                invariant, ev.block_number, message,
                tx_hash=ev.tx_hash, log_index=ev.log_index, event=ev.name,
                booking_id=booking, provider_id=provider, account=account, details=details,
            )
        )

    def credit(self, account: str, amount: int) -> None:
        """Owe `account` `amount` more wei (a withdrawable credit)."""
        if amount:
            self.credits[account] = self.credits.get(account, 0) + amount
            self.total_credits += amount

    def customer(self, address: str) -> CustomerState:
        """The customer's record, created on first sight."""
        state = self.customers.get(address)
        if state is None:
            state = self.customers[address] = CustomerState(address)
        return state

    def day(self, ev: DecodedEvent) -> list[int] | None:
        """The daily figures row of the event's day; None out of scope or without a time."""
        if ev.block_timestamp is None or not self.scope:
            return None
        day = ev.block_timestamp // DAY
        row = self.daily.get(day)
        if row is None:
            row = self.daily[day] = [0, 0, 0, 0, 0]
        return row

    def booking(self, ev: DecodedEvent, invariant: Invariant) -> BookingState | None:
        """The event's booking, checking that it exists and that the event names its parties."""
        a = ev.args
        booking_id = a["bookingId"]
        b = self.bookings.get(booking_id)
        if b is None:
            self.violate(
                invariant,
                ev,
                f"{ev.name} for booking {short_id(booking_id)}, which was never requested",
                booking=booking_id,
                provider=a["providerId"],
            )
            return None
        if self.keep_events:
            b.events.append(len(self.events) - 1)
        if a["customer"] != b.customer or a["providerId"] != b.provider_id:
            self.violate(
                Invariant.RATINGS if invariant is Invariant.RATINGS else Invariant.TRANSITIONS,
                ev,
                f"{ev.name} names customer {a['customer']} and provider {a['providerId']}, but "
                f"booking {short_id(booking_id)} is customer {b.customer}'s with provider "
                f"{b.provider_id}",
                booking=booking_id,
                provider=b.provider_id,
                account=a["customer"],
            )
        return b

    def provider(self, ev: DecodedEvent) -> ProviderState | None:
        """The event's provider, checking that it was registered."""
        provider_id = ev.args["providerId"]
        p = self.providers.get(provider_id)
        if p is None:
            self.violate(
                Invariant.TRANSITIONS,
                ev,
                f"{ev.name} for provider {provider_id}, which was never registered",
                provider=provider_id,
            )
        return p
