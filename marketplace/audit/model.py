"""What the auditor reports: the invariants it checks and the violations it finds."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from marketplace.errors import MarketplaceError


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
    ROLES = "roles"
    EVENTS = "events"
    PAYOUTS = "payouts"

    @property
    def rule(self) -> str:
        """One line saying what the invariant demands."""
        return INVARIANT_TITLES[self]


INVARIANT_TITLES: dict[Invariant, str] = {
    Invariant.SOLVENCY: "contract balance == open escrows + unwithdrawn credits + accrued fees "
    "+ stakes, at every checked block; withdrawals, fee collections and stake releases never "
    "exceed what is owed",
    Invariant.CONSERVATION: "per booking: payout + fee + refund == price, paid exactly once",
    Invariant.TRANSITIONS: "only legal state transitions, at the right time; terminal states stay "
    "terminal; nothing new while paused",
    Invariant.COMPLIANCE: "every booking met its customer's criteria version for the provider's "
    "category and the provider's state (price, score, attributes, region, active) at that point",
    Invariant.RATINGS: "at most one rating per booking, by its customer, only after settlement or "
    "resolution; each provider's score equals its rating events plus lost disputes",
    Invariant.FEE_CAP: "fee rate <= 10% everywhere; each booking pays exactly the fee rate "
    "snapshotted when it was made",
    Invariant.ROLES: "only allowed, independent arbiters resolve disputes; the default split only "
    "after the arbitration deadline; settlement by anyone but the customer only after the window",
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
        """JSON-ready: booking ids as decimal strings (they exceed every float), amounts as ints."""
        return {
            "invariant": self.invariant.value,
            "block": self.block,
            "tx_hash": self.tx_hash,
            "log_index": self.log_index,
            "event": self.event,
            "booking_id": None if self.booking_id is None else str(self.booking_id),
            "provider_id": self.provider_id,
            "account": self.account,
            "message": self.message,
            "details": dict(self.details),
        }


@dataclass(slots=True)
class Checkpoint:
    """The ledger rebuilt from events at the end of one block, and the balance the node reports."""

    block: int
    timestamp: int | None
    escrow: int
    credits: int
    accrued_fees: int
    stakes: int
    last_tx: str | None
    actual: int | None = None

    @property
    def expected(self) -> int:
        """What the contract owes: its balance must equal this."""
        return self.escrow + self.credits + self.accrued_fees + self.stakes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "block": self.block,
            "timestamp": self.timestamp,
            "escrow": self.escrow,
            "credits": self.credits,
            "accrued_fees": self.accrued_fees,
            "stakes": self.stakes,
            "expected": self.expected,
            "actual": self.actual,
        }
