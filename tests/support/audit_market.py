"""Crafted v2 histories for the auditor's tests: a chain with tokens, and a model of contract v2.

`TokenChain` is `tests.support.crafted_chain.CraftedChain` (an in-memory chain answering the
auditor's JSON-RPC calls) plus ERC-20 balances of the marketplace per block (`eth_call`
balanceOf), the token's symbol and decimals, and the contract's `windows()` and `changeDelay()`.

`V2Market` emits what contract v2 would (docs/contract-v2.md), with the amounts, versions,
deadlines, weights and scores of `marketplace.domain`, and moves the ether and tokens the
contract would move. Keyword overrides replace any event argument, which is how a test breaks
exactly one rule; `extra=[...]` adds events to the same transaction.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from marketplace.chain.rpc import RpcError
from marketplace.domain import (
    DEFAULT_REFUND_BPS,
    LOST_DISPUTE_STARS,
    CancelTerms,
    ChangeKind,
    Status,
    Windows,
    arbitrate_by,
    booking_fee,
    booking_id,
    cancellation_split,
    confirm_by,
    count_outcome,
    count_resolution,
    lost_dispute,
    no_show_slash,
    rating_weight,
    resolution_split,
    respond_by,
    service_by,
    weighted_score,
)
from tests.support.crafted_chain import ZERO, CraftedChain, Event

DAY = 86_400
HOUR = 3_600
TOKEN = "0x" + "7e" * 20
WINDOWS = Windows(respond=DAY, service_grace=DAY, confirm=3 * DAY, arbitration=7 * DAY,
                  stake_cooldown=7 * DAY)


def _word(value: int) -> str:
    return format(value % (1 << 256), "064x")


class TokenChain(CraftedChain):
    """A crafted chain whose contract also holds ERC-20 tokens and answers its setup getters."""

    def __init__(self, *args: Any, windows: Windows | None = WINDOWS,
                 change_delay: int = 2 * DAY, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.windows = windows
        self.change_delay = change_delay
        self.token_changes: dict[str, list[tuple[int, int]]] = {}  # token -> (block, balance)
        self.token_meta: dict[str, tuple[str, int]] = {}

    def add_token(self, token: str, symbol: str = "DUSD", decimals: int = 6) -> None:
        """A token the chain knows (balanceOf, symbol, decimals)."""
        self.token_meta[token.lower()] = (symbol, decimals)
        self.token_changes.setdefault(token.lower(), [(0, 0)])

    def token_balance(self, token: str, block: int | None = None) -> int:
        """The marketplace's balance of `token` at the end of `block` (default: the head)."""
        number = self.head if block is None else block
        changes = self.token_changes.get(token.lower())
        if not changes:
            return 0
        index = bisect.bisect_right(changes, (number, 1 << 256)) - 1
        return changes[index][1] if index >= 0 else 0

    def move_token(self, token: str, delta: int, block: int | None = None) -> None:
        """The marketplace's token balance changes by `delta` from `block` (default: head) on."""
        number = self.head if block is None else block
        changes = self.token_changes.setdefault(token.lower(), [(0, 0)])
        new = self.token_balance(token, number) + delta
        if changes[-1][0] < number:  # the usual case: a change at the head
            changes.append((number, new))
            return
        later = [(at, value + delta) for at, value in changes if at > number]
        kept = [(at, value) for at, value in changes if at < number]
        self.token_changes[token.lower()] = [*kept, (number, new), *later]

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """As CraftedChain, plus eth_call of balanceOf, symbol, decimals, windows, changeDelay."""
        if method != "eth_call":
            return super().call(method, params)
        query, tag = params[0], params[1] if len(params) > 1 else "latest"
        to, data = str(query.get("to")).lower(), str(query.get("data"))
        number = self._number(tag)
        self.calls.append(method)
        if to in self.token_meta:
            symbol, decimals = self.token_meta[to]
            if data.startswith("0x70a08231"):
                if str(data[10:]).lstrip("0") != self.address.removeprefix("0x").lstrip("0"):
                    return "0x" + _word(0)
                return "0x" + _word(self.token_balance(to, number))
            if data == "0x313ce567":
                return "0x" + _word(decimals)
            if data == "0x95d89b41":
                raw = symbol.encode()
                return "0x" + _word(32) + _word(len(raw)) + raw.hex().ljust(64, "0")
        if to == self.address and self.windows is not None:
            w = self.windows
            if data == "0x2713f36e":
                return "0x" + "".join(_word(x) for x in (w.respond, w.service_grace, w.confirm,
                                                         w.arbitration, w.stake_cooldown))
            if data == "0xc55e4af8":
                return "0x" + _word(self.change_delay)
        if to in self.token_meta or to == self.address:
            raise RpcError(method, 3, "execution reverted")
        return super().call(method, params)  # anything else: no such method, as CraftedChain


@dataclass
class Listing:
    owner: str
    category: int
    region: int
    attributes: int
    currency: int
    price: int
    instant: bool
    free_cancel_hours: int
    late_cancel_pct: int
    stake: int
    version: int = 1
    active: bool = True
    weight: int = 0
    stars: int = 0
    completed: int = 0
    failures: int = 0
    locked_until: int = 0
    metadata: str = "0x" + "ab" * 32

    def as_input(self) -> dict[str, Any]:
        return {
            "category": self.category, "region": self.region, "attributes": self.attributes,
            "currency": self.currency, "price": self.price, "metadataHash": self.metadata,
            "instant": self.instant, "freeCancelHours": self.free_cancel_hours,
            "lateCancelPct": self.late_cancel_pct,
        }


@dataclass
class Booking:
    customer: str
    provider_id: int
    currency: int
    price: int
    fee: int
    min_fee: int
    start: int
    duration: int
    arbiter_id: int
    terms: CancelTerms
    status: Status = Status.REQUESTED
    bond: int = 0


@dataclass
class Criteria:
    values: dict[str, Any] = field(default_factory=dict)
    version: int = 0


class V2Market:
    """Emits what contract v2 would, on a `TokenChain`; `**overrides` replace event args."""

    def __init__(
        self, chain: TokenChain, owner: str, *, fee_bps: int = 250, min_stake: int = 10**16,
        dispute_bond: int = 10**15, min_fee: int = 10**12, arbiter: str = ZERO,
        attestor: str = ZERO, token: str | None = TOKEN, token_min_fee: int = 10_000,
    ) -> None:
        self.chain = chain
        self.owner = owner.lower()
        self.fee_bps = fee_bps
        self.min_stake = min_stake
        self.dispute_bond = dispute_bond
        self.min_fees: dict[int, int] = {0: min_fee}
        self.tokens: dict[int, str] = {}
        self.arbiters: dict[int, str] = {}
        self.default_arbiter = 0
        self.attestors: dict[int, str] = {}
        self.listings: dict[int, Listing] = {}
        self.bookings: dict[int, Booking] = {}
        self.criteria: dict[tuple[str, int], Criteria] = {}
        self.versions: dict[str, int] = {}
        self.credits: dict[tuple[str, int], int] = {}
        self.fees: dict[int, int] = {}
        events: list[Event] = [
            ("OwnershipTransferred", {"previousOwner": ZERO, "newOwner": self.owner}),
            self._applied(ChangeKind.FEE_RATE, ZERO, fee_bps),
            self._applied(ChangeKind.MIN_STAKE, ZERO, min_stake),
            self._applied(ChangeKind.DISPUTE_BOND, ZERO, dispute_bond),
            self._applied(ChangeKind.MIN_FEE, ZERO, min_fee),
        ]
        if arbiter != ZERO:
            events += self._name_arbiter(arbiter) + [
                self._applied(ChangeKind.DEFAULT_ARBITER, arbiter.lower(), 1)]
            self.default_arbiter = 1
        if attestor != ZERO:
            events += self._name_attestor(attestor)
        if token is not None:  # an id on the first minimum fee, then enabled (the contract's order)
            chain.add_token(token)
            self.tokens[1] = token.lower()
            events += [
                ("CurrencySet", {"id": 1, "token": token.lower(), "enabled": False}),
                self._applied(ChangeKind.MIN_FEE, token.lower(), token_min_fee),
                ("CurrencySet", {"id": 1, "token": token.lower(), "enabled": True}),
                self._applied(ChangeKind.CURRENCY, token.lower(), 1),
            ]
            self.min_fees[1] = token_min_fee
        chain.send(events)

    # ------------------------------------------------------------ plumbing

    def send(self, name: str, args: Mapping[str, Any], overrides: Mapping[str, Any],
             value: int = 0, pay_to: str = ZERO, pay_amount: int = 0,
             token_delta: tuple[int, int] | None = None,
             extra: Sequence[Event] = ()) -> str:
        more = dict(overrides)
        value = int(more.pop("value", value))
        after = list(more.pop("extra", ()))
        tx = self.chain.send([(name, {**args, **more}), *extra, *after], value, pay_to,
                             pay_amount)
        if token_delta is not None and token_delta[0] != 0:
            self.chain.move_token(self.tokens[token_delta[0]], token_delta[1])
        return tx

    def _credit(self, account: str, amount: int, currency: int = 0) -> None:
        key = (account, currency)
        self.credits[key] = self.credits.get(key, 0) + amount

    @staticmethod
    def _applied(kind: ChangeKind, account: str, value: int) -> Event:
        return ("ChangeApplied", {"kind": int(kind), "account": account, "value": value})

    def _name_arbiter(self, arbiter: str) -> list[Event]:
        i = len(self.arbiters) + 1
        self.arbiters[i] = arbiter.lower()
        return [("ArbiterSet", {"id": i, "account": arbiter.lower(), "allowed": True}),
                self._applied(ChangeKind.ARBITER, arbiter.lower(), 1)]

    def _name_attestor(self, attestor: str) -> list[Event]:
        i = len(self.attestors) + 1
        self.attestors[i] = attestor.lower()
        return [("AttestorSet", {"id": i, "account": attestor.lower(), "allowed": True}),
                self._applied(ChangeKind.ATTESTOR, attestor.lower(), 1)]

    def _enable_token(self, token: str) -> list[Event]:
        i = len(self.tokens) + 1
        self.tokens[i] = token.lower()
        return [("CurrencySet", {"id": i, "token": token.lower(), "enabled": True}),
                self._applied(ChangeKind.CURRENCY, token.lower(), 1)]

    # ------------------------------------------------------------ operator

    def schedule(self, kind: ChangeKind, account: str = ZERO, value: int = 0,
                 **overrides: Any) -> int:
        """ChangeScheduled; returns the eta."""
        eta = self.chain.now() + self.chain.change_delay
        self.send("ChangeScheduled", {"kind": int(kind), "account": account.lower(),
                                      "value": value, "eta": eta}, overrides)
        return eta

    def cancel_change(self, kind: ChangeKind, account: str = ZERO, value: int = 0) -> str:
        """ChangeCancelled."""
        return self.send("ChangeCancelled", {"kind": int(kind), "account": account.lower(),
                                             "value": value}, {})

    def apply(self, kind: ChangeKind, account: str = ZERO, value: int = 0,
              **overrides: Any) -> str:
        """ChangeApplied (with ArbiterSet, AttestorSet or CurrencySet where it names one)."""
        account = account.lower()
        extra: list[Event] = []
        if kind == ChangeKind.FEE_RATE:
            self.fee_bps = value
        elif kind == ChangeKind.MIN_FEE:
            currency = next((i for i, t in self.tokens.items() if t == account), 0)
            self.min_fees[currency] = value
        elif kind == ChangeKind.DISPUTE_BOND:
            self.dispute_bond = value
        elif kind == ChangeKind.MIN_STAKE:
            self.min_stake = value
        elif kind == ChangeKind.ARBITER:
            extra = self._name_arbiter(account)[:1]
        elif kind == ChangeKind.DEFAULT_ARBITER:
            self.default_arbiter = next(i for i, a in self.arbiters.items() if a == account)
        elif kind == ChangeKind.ATTESTOR:
            extra = self._name_attestor(account)[:1]
        elif kind == ChangeKind.CURRENCY:
            extra = self._enable_token(account)[:1]
            self.chain.add_token(account)
        return self.send("ChangeApplied", {"kind": int(kind), "account": account,
                                           "value": value}, overrides, extra=extra)

    def change(self, kind: ChangeKind, account: str = ZERO, value: int = 0) -> str:
        """Schedule, wait for the eta, apply."""
        eta = self.schedule(kind, account, value)
        self.chain.advance(max(1, eta - self.chain.now()))
        return self.apply(kind, account, value)

    def pause(self, paused: bool = True) -> str:
        """PauseChanged."""
        return self.send("PauseChanged", {"paused": paused, "by": self.owner}, {})

    def collect_fees(self, to: str, currency: int = 0, amount: int | None = None,
                     **overrides: Any) -> str:
        """FeesCollected: accrued fees become `to`'s credit."""
        amount = self.fees.get(currency, 0) if amount is None else amount
        self.fees[currency] = self.fees.get(currency, 0) - amount
        self._credit(to.lower(), amount, currency)
        return self.send("FeesCollected", {"currency": currency, "to": to.lower(),
                                           "amount": amount}, overrides)

    def withdraw(self, account: str, currency: int = 0, amount: int | None = None,
                 **overrides: Any) -> str:
        """Withdrawn: the account's whole credit of `currency` leaves the contract."""
        account = account.lower()
        key = (account, currency)
        amount = self.credits.get(key, 0) if amount is None else amount
        self.credits[key] = self.credits.get(key, 0) - amount
        if currency == 0:
            return self.send("Withdrawn", {"account": account, "to": account,
                                           "currency": currency, "amount": amount}, overrides,
                             pay_to=account, pay_amount=amount)
        return self.send("Withdrawn", {"account": account, "to": account, "currency": currency,
                                       "amount": amount}, overrides,
                         token_delta=(currency, -amount))

    # ------------------------------------------------------------ listings

    def register(self, owner: str, category: int = 1, region: int = 1, attributes: int = 0,
                 currency: int = 0, price: int = 10**16, instant: bool = False,
                 free_cancel_hours: int = 24, late_cancel_pct: int = 50,
                 stake: int | None = None, **overrides: Any) -> int:
        """ListingRegistered with the stake sent; returns the listing id."""
        provider_id = len(self.listings) + 1
        stake = self.min_stake if stake is None else stake
        listing = Listing(owner.lower(), category, region, attributes, currency, price, instant,
                          free_cancel_hours, late_cancel_pct, stake)
        self.listings[provider_id] = listing
        self.send("ListingRegistered", {
            "providerId": provider_id, "owner": listing.owner, "category": category,
            "listing": listing.as_input(), "offerVersion": 1, "stake": stake,
        }, overrides, value=stake)
        return provider_id

    def update(self, provider_id: int, **changes: Any) -> int:
        """ListingUpdated at the next offer version; returns it."""
        listing = self.listings[provider_id]
        for name, value in changes.items():
            setattr(listing, name, value)
        listing.version += 1
        self.send("ListingUpdated", {"providerId": provider_id, "offerVersion": listing.version,
                                     "listing": listing.as_input()}, {})
        return listing.version

    def deactivate(self, provider_id: int) -> str:
        """ListingDeactivated: the stake unlocks at max(lockedUntil, now + cooldown)."""
        listing = self.listings[provider_id]
        listing.active = False
        cooldown = (self.chain.windows or WINDOWS).stake_cooldown
        listing.locked_until = max(listing.locked_until, self.chain.now() + cooldown)
        return self.send("ListingDeactivated", {"providerId": provider_id,
                                                "unlockAt": listing.locked_until}, {})

    def top_up(self, provider_id: int, amount: int, **overrides: Any) -> str:
        """StakeToppedUp."""
        listing = self.listings[provider_id]
        listing.stake += amount
        return self.send("StakeToppedUp", {"providerId": provider_id, "by": listing.owner,
                                           "amount": amount, "stake": listing.stake},
                         overrides, value=amount)

    def release_stake(self, provider_id: int, **overrides: Any) -> str:
        """StakeReleased: the stake becomes the owner's credit."""
        listing = self.listings[provider_id]
        amount, listing.stake = listing.stake, 0
        self._credit(listing.owner, amount)
        return self.send("StakeReleased", {"providerId": provider_id, "owner": listing.owner,
                                           "amount": amount}, overrides)

    def attest(self, attestor_id: int, provider_id: int, attributes: int,
               **overrides: Any) -> str:
        """AttributesAttested."""
        return self.send("AttributesAttested", {
            "providerId": provider_id, "attestor": self.attestors[attestor_id],
            "attestorId": attestor_id, "attributes": attributes}, overrides)

    # ------------------------------------------------------------ criteria

    def _version(self, customer: str) -> int:
        self.versions[customer] = self.versions.get(customer, 0) + 1
        return self.versions[customer]

    def set_criteria(self, customer: str, category: int = 1, currency: int = 0,
                     max_price: int = 10**17, **values: Any) -> int:
        """CriteriaSet; returns the customer's new version. `values`: CriteriaInput fields."""
        customer = customer.lower()
        version = self._version(customer)
        criteria = {
            "category": category, "region": 0, "currency": currency, "minScore": 0,
            "maxPrice": max_price, "premiumPerStar": 0, "requiredAttributes": 0,
            "refusedAttributes": 0, "verifiedAttributes": 0, "trustedAttestors": 0,
            "minRatingWeight": 0, "minReliability": 0, "scoreWeight": 5_000,
            "priceWeight": 5_000, **values,
        }
        self.criteria[(customer, category)] = Criteria(criteria, version)
        self.send("CriteriaSet", {"customer": customer, "category": category,
                                  "version": version, "criteria": criteria}, {})
        return version

    def set_blocked(self, customer: str, provider_id: int, blocked: bool = True) -> int:
        """ProviderBlockChanged; returns the customer's new version."""
        customer = customer.lower()
        version = self._version(customer)
        category = self.listings[provider_id].category
        self.criteria.setdefault((customer, category), Criteria()).version = version
        self.send("ProviderBlockChanged", {"customer": customer, "providerId": provider_id,
                                           "category": category, "blocked": blocked,
                                           "version": version}, {})
        return version

    def set_owner_blocked(self, customer: str, owner: str, blocked: bool = True) -> int:
        """OwnerBlockChanged; returns the customer's new version."""
        customer = customer.lower()
        version = self._version(customer)
        self.send("OwnerBlockChanged", {"customer": customer, "owner": owner.lower(),
                                        "blocked": blocked, "version": version}, {})
        return version

    # ------------------------------------------------------------ bookings

    def _ids(self, booking: int) -> dict[str, Any]:
        b = self.bookings[booking]
        return {"bookingId": booking, "customer": b.customer, "providerId": b.provider_id}

    def book(self, customer: str, provider_id: int, start: int | None = None,
             duration: int = 60, salt: int = 0, **overrides: Any) -> int:
        """BookingRequested with the price escrowed (and BookingAccepted for an instant
        listing); returns the booking id. The slot starts two days ahead unless given."""
        customer = customer.lower()
        listing = self.listings[provider_id]
        now = self.chain.now()
        start = now + 2 * DAY if start is None else start
        booking = booking_id(customer, provider_id, start, duration, salt)
        min_fee = self.min_fees[listing.currency]
        fee = booking_fee(listing.price, self.fee_bps, min_fee)
        b = self.bookings[booking] = Booking(
            customer, provider_id, listing.currency, listing.price, fee, min_fee, start,
            duration, self.default_arbiter,
            CancelTerms(listing.free_cancel_hours, listing.late_cancel_pct))
        windows = self.chain.windows or WINDOWS
        criteria = self.criteria.get((customer, listing.category), Criteria())
        extra: list[Event] = []
        if listing.instant:  # accepted in the same transaction; respondBy is the booking time
            extra.append(self._accepted(booking, now))
        deadline = now if listing.instant else respond_by(now, start, windows.respond)
        self.send("BookingRequested", {
            **self._ids(booking), "currency": b.currency, "price": b.price, "fee": fee,
            "offerVersion": listing.version, "criteriaVersion": criteria.version,
            "arbiterId": b.arbiter_id, "respondBy": deadline,
        }, overrides, value=b.price if b.currency == 0 else 0,
            token_delta=(b.currency, b.price), extra=extra)
        return booking

    def _accepted(self, booking: int, now: int, **overrides: Any) -> Event:
        b = self.bookings[booking]
        b.status = Status.ACCEPTED
        windows = self.chain.windows or WINDOWS
        deadline = service_by(b.start, b.duration, windows.service_grace)
        listing = self.listings[b.provider_id]
        locked = max(listing.locked_until, deadline + windows.confirm + windows.arbitration)
        listing.locked_until = locked
        return ("BookingAccepted", {**self._ids(booking), "serviceBy": deadline,
                                    "stakeLockedUntil": locked, **overrides})

    def accept(self, booking: int, **overrides: Any) -> str:
        """BookingAccepted."""
        name, args = self._accepted(booking, self.chain.now(), **overrides)
        return self.chain.send([(name, args)])

    def to_start(self, booking: int) -> None:
        """Let time pass until the booking's slot has started."""
        b = self.bookings[booking]
        if self.chain.now() < b.start:
            self.chain.advance(b.start - self.chain.now() + 1)

    def complete(self, booking: int, **overrides: Any) -> str:
        """BookingCompleted (call `to_start` first to respect the slot)."""
        b = self.bookings[booking]
        b.status = Status.COMPLETED
        windows = self.chain.windows or WINDOWS
        return self.send("BookingCompleted", {
            **self._ids(booking), "confirmBy": confirm_by(self.chain.now(), windows.confirm)},
            overrides)

    def _outcome(self, b: Booking, *, failure: bool) -> None:
        listing = self.listings[b.provider_id]
        listing.completed, listing.failures = count_outcome(listing.completed, listing.failures,
                                                            failure=failure)

    def _settled(self, booking: int, by: str | None, **overrides: Any) -> Event:
        b = self.bookings[booking]
        b.status = Status.SETTLED
        self._credit(self.listings[b.provider_id].owner, b.price - b.fee, b.currency)
        self.fees[b.currency] = self.fees.get(b.currency, 0) + b.fee
        self._outcome(b, failure=False)
        return ("BookingSettled", {**self._ids(booking), "payout": b.price - b.fee, "fee": b.fee,
                                   "by": (by or b.customer).lower(), **overrides})

    def confirm(self, booking: int, by: str | None = None, **overrides: Any) -> str:
        """BookingSettled: payout to the listing's owner, the booking's fee accrued."""
        return self.chain.send([self._settled(booking, by, **overrides)])

    def _rated(self, booking: int, stars: int, **overrides: Any) -> Event:
        b = self.bookings[booking]
        listing = self.listings[b.provider_id]
        weight = rating_weight(b.fee, self.min_fees[b.currency])  # the minimum fee of now
        listing.weight += weight
        listing.stars += stars * weight
        return ("BookingRated", {**self._ids(booking), "stars": stars, "complaintTags": 0,
                                 "weight": weight,
                                 "newScore": weighted_score(listing.weight, listing.stars),
                                 **overrides})

    def rate(self, booking: int, stars: int = 5, **overrides: Any) -> str:
        """BookingRated with its weight and the listing's new score."""
        return self.chain.send([self._rated(booking, stars, **overrides)])

    def confirm_and_rate(self, booking: int, stars: int = 5) -> str:
        """confirmAndRate: BookingSettled then BookingRated in one transaction."""
        return self.chain.send([self._settled(booking, None), self._rated(booking, stars)])

    def dispute(self, booking: int, **overrides: Any) -> str:
        """BookingDisputed, paying the bond in ether."""
        b = self.bookings[booking]
        b.status = Status.DISPUTED
        b.bond = int(overrides.pop("bond", self.dispute_bond))
        windows = self.chain.windows or WINDOWS
        return self.send("BookingDisputed", {
            **self._ids(booking), "bond": b.bond,
            "arbitrateBy": arbitrate_by(self.chain.now(), windows.arbitration)},
            overrides, value=b.bond)

    def resolve(self, booking: int, refund_bps: int, arbiter: str | None = None,
                slash: int | None = None, **overrides: Any) -> str:
        """DisputeResolved by the booking's arbiter; a provider who lost also pays the arbiter
        min(bond, stake) from its stake (StakeSlashed)."""
        b = self.bookings[booking]
        listing = self.listings[b.provider_id]
        who = (arbiter or self.arbiters[b.arbiter_id]).lower()
        refund, payout, fee = resolution_split(b.price, b.fee, refund_bps)
        lost = lost_dispute(refund_bps)
        weight = rating_weight(b.fee, self.min_fees[b.currency]) if lost else 0
        self._credit(b.customer, refund, b.currency)
        self._credit(listing.owner, payout, b.currency)
        self.fees[b.currency] = self.fees.get(b.currency, 0) + fee
        self._credit(b.customer if lost else who, b.bond)
        extra: list[Event] = []
        pay = min(b.bond, listing.stake) if lost else 0
        pay = pay if slash is None else slash
        if pay:
            listing.stake -= pay
            self._credit(who, pay)
            extra.append(("StakeSlashed", {"providerId": b.provider_id, "bookingId": booking,
                                           "to": who, "amount": pay}))
        if lost:
            listing.weight += weight
            listing.stars += LOST_DISPUTE_STARS * weight
        listing.completed, listing.failures = count_resolution(
            listing.completed, listing.failures, provider_lost=lost)
        b.status = Status.RESOLVED
        return self.send("DisputeResolved", {
            **self._ids(booking), "arbiter": who, "refundBps": refund_bps, "refund": refund,
            "payout": payout, "fee": fee, "bond": b.bond, "providerLost": lost,
            "weight": weight}, overrides, extra=extra)

    def resolve_by_default(self, booking: int, **overrides: Any) -> str:
        """DisputeResolved after arbitrateBy: 50/50 of price - fee, the bond back, no arbiter."""
        b = self.bookings[booking]
        refund, payout, fee = resolution_split(b.price, b.fee, DEFAULT_REFUND_BPS)
        self._credit(b.customer, refund, b.currency)
        self._credit(self.listings[b.provider_id].owner, payout, b.currency)
        self.fees[b.currency] = self.fees.get(b.currency, 0) + fee
        self._credit(b.customer, b.bond)
        b.status = Status.RESOLVED
        return self.send("DisputeResolved", {
            **self._ids(booking), "arbiter": ZERO, "refundBps": DEFAULT_REFUND_BPS,
            "refund": refund, "payout": payout, "fee": fee, "bond": b.bond,
            "providerLost": False, "weight": 0}, overrides)

    def cancel(self, booking: int, **overrides: Any) -> str:
        """BookingCancelled by the customer, split by the locked terms."""
        b = self.bookings[booking]
        refund, compensation = cancellation_split(b.price, b.status, self.chain.now(), b.start,
                                                  b.terms)
        self._credit(b.customer, refund, b.currency)
        self._credit(self.listings[b.provider_id].owner, compensation, b.currency)
        b.status = Status.CANCELLED
        return self.send("BookingCancelled", {**self._ids(booking), "refund": refund,
                                              "compensation": compensation}, overrides)

    def decline(self, booking: int, **overrides: Any) -> str:
        """BookingDeclined: full refund; after acceptance a failure."""
        b = self.bookings[booking]
        after = b.status == Status.ACCEPTED
        if after:
            self._outcome(b, failure=True)
        self._credit(b.customer, b.price, b.currency)
        b.status = Status.DECLINED
        return self.send("BookingDeclined", {**self._ids(booking), "refund": b.price,
                                             "afterAcceptance": after}, overrides)

    def expire(self, booking: int, slash: int | None = None, **overrides: Any) -> str:
        """BookingExpired (let the deadline pass first): full refund; a no-show also slashes
        10% of the stake to the customer (StakeSlashed)."""
        b = self.bookings[booking]
        listing = self.listings[b.provider_id]
        no_show = b.status == Status.ACCEPTED
        self._credit(b.customer, b.price, b.currency)
        extra: list[Event] = []
        amount = no_show_slash(listing.stake) if no_show else 0
        amount = amount if slash is None else slash
        if amount:
            listing.stake -= amount
            self._credit(b.customer, amount)
            extra.append(("StakeSlashed", {"providerId": b.provider_id, "bookingId": booking,
                                           "to": b.customer, "amount": amount}))
        if no_show:
            self._outcome(b, failure=True)
        b.status = Status.EXPIRED
        return self.send("BookingExpired", {**self._ids(booking), "refund": b.price,
                                            "noShow": no_show}, overrides, extra=extra)

    def lifecycle(self, customer: str, provider_id: int, stars: int | None = 5) -> int:
        """Book, accept, complete from the start, confirm (and rate): a clean booking."""
        booking = self.book(customer, provider_id)
        if not self.listings[provider_id].instant:
            self.accept(booking)
        self.to_start(booking)
        self.complete(booking)
        self.confirm(booking)
        if stars is not None:
            self.rate(booking, stars)
        return booking
