"""What the auditor reports: the invariants it checks and the violations it finds."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from marketplace.errors import MarketplaceError


def hex_id(booking_id: int) -> str:
    """A booking id as people and explorers read it: 0x and 64 hex digits (the customer's
    address is its high 160 bits)."""
    return f"0x{booking_id:064x}"


class AuditError(MarketplaceError):
    """The audit could not run (node unreachable, wrong chain, no contract at the address, ...)."""


class Invariant(StrEnum):
    """The rules the auditor checks; the value is the stable code used in reports and exports."""

    SOLVENCY = "solvency"
    CONSERVATION = "conservation"
    TRANSITIONS = "transitions"
    COMPLIANCE = "compliance"
    RATINGS = "ratings"
    FEE_CAP = "fee_cap"
    RELIABILITY = "reliability"
    DISPUTES = "disputes"
    ROLES = "roles"
    TIMELOCK = "timelock"
    EVENTS = "events"
    PAYOUTS = "payouts"

    @property
    def rule(self) -> str:
        """One line saying what the invariant demands."""
        return INVARIANT_TITLES[self]


INVARIANT_TITLES: dict[Invariant, str] = {
    Invariant.SOLVENCY: "per currency, at every checked block: the contract's balance (ether, or "
    "the token's balanceOf) == open escrows + unwithdrawn credits + accrued fees (+ stakes and "
    "open dispute bonds in ether); withdrawals, fee collections and stake releases never exceed "
    "what is owed",
    Invariant.CONSERVATION: "per booking: refund + compensation + payout + fee == price, paid "
    "exactly once; refunds and cancellation compensation as the locked terms say",
    Invariant.TRANSITIONS: "only legal state transitions, at the right time (complete not before "
    "start, confirm not after confirmBy, timed exits only after the deadline); terminal states "
    "stay terminal; nothing new while paused; booking ids encode their customer and slot",
    Invariant.COMPLIANCE: "every booking: not the listing's owner, the offer version and criteria "
    "version in force at its block, eligible under the customer's criteria (blocks, owner blocks, "
    "attestations, score, track record, reliability, price) as things stood then",
    Invariant.RATINGS: "one rating per booking, by its customer, after settlement or resolution; "
    "each rating's weight is min(fee x 1000 / minFee, 2^40); each newScore is the weighted "
    "Bayesian score of the rating events and lost disputes",
    Invariant.FEE_CAP: "fee rate <= 10% everywhere; each booking's fee == max(ceil(price x rate), "
    "minFee) at the rate and minimum fee in force at its block, and is what it pays",
    Invariant.RELIABILITY: "completed and failure counters follow settlements, resolutions, "
    "declines and cancellations after acceptance, no-shows and lost disputes; a no-show slashes "
    "10% of the stake to the customer",
    Invariant.DISPUTES: "a dispute costs exactly the bond; the split refunds (price - fee) x "
    "refundBps; bond and arbiter pay go where the ruling says; the default is 50/50 and pays no "
    "arbiter",
    Invariant.ROLES: "only the arbiter fixed at booking resolves, never a party; the default split "
    "only after the arbitration deadline; settlement by anyone but the customer only after the "
    "window",
    Invariant.TIMELOCK: "every applied change was scheduled, not cancelled, and applied after its "
    "eta; the parameters in force are the applied ones",
    Invariant.EVENTS: "every log at the contract address is a well-formed marketplace event",
    Invariant.PAYOUTS: "the chain runs every EVM feature the contract is compiled for (Cancun: "
    "transient storage, MCOPY), so withdrawals, stake releases and bookings can execute",
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule, where it broke (block, transaction, log) and what was seen."""

    invariant: Invariant
    block: int
    message: str
    tx_hash: str | None = None
    log_index: int | None = None
    event: str | None = None
    booking_id: int | None = None
    provider_id: int | None = None
    account: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: booking ids as 0x hex (they exceed every float), amounts as ints."""
        return {
            "invariant": self.invariant.value,
            "block": self.block,
            "tx_hash": self.tx_hash,
            "log_index": self.log_index,
            "event": self.event,
            "booking_id": None if self.booking_id is None else hex_id(self.booking_id),
            "provider_id": self.provider_id,
            "account": self.account,
            "message": self.message,
            "details": dict(self.details),
        }


@dataclass(slots=True)
class Checkpoint:
    """One currency's ledger rebuilt from events at the end of one block, and the balance the
    node reports (ether: eth_getBalance; a token: its balanceOf the marketplace)."""

    block: int
    timestamp: int | None
    escrow: int
    credits: int
    accrued_fees: int
    stakes: int
    last_tx: str | None
    actual: int | None = None
    currency: int = 0
    bonds: int = 0

    @property
    def expected(self) -> int:
        """What the contract owes in this currency: its balance must equal this."""
        return self.escrow + self.credits + self.accrued_fees + self.stakes + self.bonds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "block": self.block,
            "timestamp": self.timestamp,
            "currency": self.currency,
            "escrow": self.escrow,
            "credits": self.credits,
            "accrued_fees": self.accrued_fees,
            "stakes": self.stakes,
            "bonds": self.bonds,
            "expected": self.expected,
            "actual": self.actual,
        }
