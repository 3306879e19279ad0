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
    ETHER,
    ZERO_ADDRESS,
    BookingState,
    CriteriaState,
    CurrencyState,
    CustomerState,
    ProviderState,
    short_id,
)
from marketplace.chain.logs import DecodedEvent, SkippedLog
from marketplace.domain import Windows, provider_of

Handler = Callable[[DecodedEvent], object]


class Replay:
    """The contract's state rebuilt from events, with every violation found on the way.

    Feed `apply` whole blocks in chain order. Events before `from_block` rebuild state but are
    neither reported nor counted in the figures. With `keep_events`, every event is kept (the web
    explorer and booking timelines read them).
    """

    def __init__(self, from_block: int = 0, keep_events: bool = False,
                 address: str = "") -> None:
        self.from_block = from_block
        self.address = address.lower()  # the marketplace's own address
        self.keep_events = keep_events
        self.events: list[DecodedEvent] = []
        self.violations: list[Violation] = []
        self.providers: dict[int, ProviderState] = {}
        self.customers: dict[str, CustomerState] = {}
        self.criteria: dict[tuple[str, int], CriteriaState] = {}
        self.bookings: dict[int, BookingState] = {}
        self.currencies: dict[int, CurrencyState] = {
            ETHER: CurrencyState(ETHER, ZERO_ADDRESS, True)
        }
        self.currency_of_token: dict[str, int] = {ZERO_ADDRESS: ETHER}
        self.token_min_fees: dict[str, int] = {}  # set before the token was a currency
        self.credits: dict[tuple[str, int], int] = {}  # (account, currency) -> credit
        self.arbiters: dict[int, tuple[str, bool]] = {}  # id -> (account, allowed)
        self.attestors: dict[int, tuple[str, bool]] = {}  # changed by `set_attestor`
        self._named_attestors: frozenset[int] | None = None
        self.default_arbiter = 0
        # The transaction whose ArbiterSet removed the default arbiter: the contract then emits
        # ChangeApplied(DefaultArbiter, 0x0, 0) itself, in the same transaction, unscheduled.
        self.default_arbiter_reset_tx: str | None = None
        self.pending: dict[tuple[int, str, int], tuple[int, DecodedEvent]] = {}
        self.constructor_tx: str | None = None  # the deployment's: its changes apply at once
        self.windows: Windows | None = None  # the contract's timing windows (Setup), if known
        self.change_delay: int | None = None
        self.slashes: dict[int, list[tuple[str, int]]] = {}  # booking -> StakeSlashed (to, amount)
        self._deferred: list[Callable[[], None]] = []  # checks run when the transaction ends
        self._tx: str | None = None
        self.fee_bps: int | None = None
        self.min_stake = 0
        self.dispute_bond = 0
        self.paused = False
        self.owner: str | None = None
        self.stakes = 0
        self.bonds = 0
        self.fees_collected = 0
        self.withdrawn = 0
        self.checkpoints: list[Checkpoint] = []
        self.events_seen = 0
        self.events_in_scope = 0
        self.skipped_logs = 0
        self.by_name: dict[str, int] = {}
        # (day, currency) -> [bookings, volume, fees, refunds, payouts]
        self.daily: dict[tuple[int, int], list[int]] = {}
        self.totals: dict[str, int] = dict.fromkeys(
            (
                "disputes", "disputes_resolved", "disputes_by_default", "disputes_lost",
                "ratings", "stakes_released", "no_shows", "slashed", "bonds_paid",
                "arbiter_paid", "changes_applied",
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
                if ev.tx_hash != last_tx:
                    if self._deferred:
                        self._run_deferred()
                    if self.constructor_tx is None and self.events_seen + seen == 0:
                        self.constructor_tx = ev.tx_hash
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
        if self._deferred:
            self._run_deferred()
        if self._block is not None:
            self._close_block(last_tx)
        return self.checkpoints[start:]

    def defer(self, check: Callable[[], None]) -> None:
        """Run `check` when the current transaction's events are all applied (a rule that spans
        several events of one transaction, such as a no-show and its slash)."""
        self._deferred.append(check)

    def _run_deferred(self) -> None:
        checks, self._deferred = self._deferred, []
        for check in checks:
            check()

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

    def checkpoint_at(self, block: int, timestamp: int | None = None) -> list[Checkpoint]:
        """Checkpoints of the current ledger at a block without events (e.g. the audit's end)."""
        checkpoints = self._checkpoints(block, timestamp, None)
        self.checkpoints.extend(checkpoints)
        self.last_block = block
        return checkpoints

    def _checkpoints(self, block: int, timestamp: int | None, tx: str | None) -> list[Checkpoint]:
        """One checkpoint per currency: ether carries the stakes and the dispute bonds."""
        out = []
        for cid, c in self.currencies.items():
            ether = cid == ETHER
            out.append(Checkpoint(
                block, timestamp, c.escrow, c.credits, c.accrued_fees,
                self.stakes if ether else 0, tx, currency=cid,
                bonds=self.bonds if ether else 0,
            ))
        return out

    def _close_block(self, last_tx: str | None) -> None:
        assert self._block is not None
        self.checkpoints.extend(self._checkpoints(self._block, self._block_ts, last_tx))
        self.last_block = self._block
        self._block = None

    def owed(self, currency: int) -> int:
        """What the contract owes now in `currency`."""
        c = self.currencies[currency]
        extra = self.stakes + self.bonds if currency == ETHER else 0
        return c.escrow + c.credits + c.accrued_fees + extra

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

    def set_attestor(self, attestor_id: int, account: str, allowed: bool) -> None:
        """An attestor id named (or removed) by the operator."""
        self.attestors[attestor_id] = (account, allowed)
        self._named_attestors = None

    def named_attestors(self) -> frozenset[int]:
        """The attestor ids the operator names now (kept until the next AttestorSet)."""
        named = self._named_attestors
        if named is None:
            named = self._named_attestors = frozenset(
                i for i, (_, allowed) in self.attestors.items() if allowed
            )
        return named

    def credit(self, account: str, amount: int, currency: int = ETHER) -> None:
        """Owe `account` `amount` more of `currency` (a withdrawable credit)."""
        if amount:
            key = (account, currency)
            self.credits[key] = self.credits.get(key, 0) + amount
            self.currency(currency).credits += amount

    def currency(self, currency: int) -> CurrencyState:
        """A currency's record (created on first sight: a booking in an unnamed currency is a
        violation elsewhere, but its money is still counted)."""
        c = self.currencies.get(currency)
        if c is None:
            c = self.currencies[currency] = CurrencyState(currency, ZERO_ADDRESS, False)
        return c

    def customer(self, address: str) -> CustomerState:
        """The customer's record, created on first sight."""
        state = self.customers.get(address)
        if state is None:
            state = self.customers[address] = CustomerState(address)
        return state

    def day(self, ev: DecodedEvent, currency: int) -> list[int] | None:
        """The daily figures row of the event's day and currency; None out of scope or without
        a time."""
        if ev.block_timestamp is None or not self.scope:
            return None
        key = (ev.block_timestamp // DAY, currency)
        row = self.daily.get(key)
        if row is None:
            row = self.daily[key] = [0, 0, 0, 0, 0]
        return row

    def booking(self, ev: DecodedEvent, invariant: Invariant) -> BookingState | None:
        """The event's booking, checking that it exists (its parties are in its id)."""
        a = ev.args
        booking_id = a["bookingId"]
        b = self.bookings.get(booking_id)
        if b is None:
            self.violate(
                invariant,
                ev,
                f"{ev.name} for booking {short_id(booking_id)}, which was never requested",
                booking=booking_id,
                provider=provider_of(booking_id),
            )
            return None
        if self.keep_events:
            b.events.append(len(self.events) - 1)
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
