"""Craft marketplace histories: raw logs of any event, an in-memory chain, a model of the contract.

For tests and what-if analyses of the auditor, without a node:

- `LogCrafter` encodes any marketplace event (by name, with any arguments, legal or not) into the
  topics and data of a raw log, exactly as the contract would emit it.
- `CraftedChain` is an in-memory chain that answers the JSON-RPC calls the auditor makes
  (`eth_chainId`, `eth_blockNumber`, `eth_getCode`, `eth_getLogs`, `eth_getBalance`,
  `eth_getBlockByNumber`), with one transaction per block and a balance per block.
- `CraftedMarket` drives a sink (a `CraftedChain`, or a forging contract on a real node) through
  the v2 contract's rules: every method emits what the real contract would, with the right
  amounts, fees, weights, scores, reliability, versions and deadlines, and moves the ether the
  contract would move (token amounts are ledgered per currency, not held). Keyword overrides
  replace any event argument, which is how a test breaks exactly one rule.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from marketplace.chain.rpc import NodeRefused, RpcError
from marketplace.domain import (
    DEFAULT_REFUND_BPS,
    ETHER,
    LOST_DISPUTE_STARS,
    CancelTerms,
    ChangeKind,
    Status,
    add_rating,
    booking_fee,
    booking_id,
    cancellation_split,
    count_outcome,
    count_resolution,
    no_show_slash,
    rating_weight,
    resolution_split,
    resolve_dispute,
    respond_by,
    service_by,
    weighted_score,
)

DAY = 86_400
ZERO = "0x" + "0" * 40
Event = tuple[str, dict[str, Any]]


def _word(kind: str, value: Any, components: Sequence[Mapping[str, Any]] = ()) -> str:
    """The 32-byte hex word(s) of a static ABI value (no range checks: crafted values may lie)."""
    if kind == "tuple":
        if isinstance(value, Mapping):
            value = [value[c["name"]] for c in components]
        return "".join(
            _word(str(c["type"]), v, c.get("components", ()))
            for c, v in zip(components, value, strict=True)
        )
    if kind == "address":
        return str(value).lower().removeprefix("0x").rjust(64, "0")
    if kind == "bool":
        return format(int(bool(value)), "064x")
    if kind.startswith("bytes"):
        raw = value.hex() if isinstance(value, bytes) else str(value).removeprefix("0x")
        return raw.ljust(64, "0")
    number = int(value)
    return format(number % (1 << 256), "064x")


class LogCrafter:
    """Encodes marketplace events into raw log topics and data."""

    def __init__(self, abi: Iterable[Mapping[str, Any]]) -> None:
        from marketplace.chain.logs import EventSpec

        self._entries: dict[str, Mapping[str, Any]] = {}
        self._topic0: dict[str, str] = {}
        for entry in abi:
            if entry.get("type") == "event" and not entry.get("anonymous"):
                name = str(entry["name"])
                self._entries[name] = entry
                self._topic0[name] = EventSpec.from_abi(entry).topic0

    @classmethod
    def for_marketplace(cls) -> LogCrafter:
        """A crafter for the compiled Marketplace ABI."""
        from marketplace.chain.scan import marketplace_abi

        return cls(marketplace_abi())

    def encode(self, name: str, args: Mapping[str, Any]) -> tuple[list[str], str]:
        """(topics, data) of event `name` with `args` (every ABI parameter must be given)."""
        entry = self._entries[name]
        topics = [self._topic0[name]]
        data = []
        for param in entry["inputs"]:
            word = _word(str(param["type"]), args[param["name"]], param.get("components", ()))
            if param.get("indexed"):
                topics.append("0x" + word)
            else:
                data.append(word)
        return topics, "0x" + "".join(data)


# ---------------------------------------------------------------- sinks


class Sink(Protocol):
    """Where crafted transactions go: an in-memory chain or a forging contract on a node."""

    def now(self) -> int:
        """Timestamp the next transaction's block will (at least) have."""

    def send(self, events: Sequence[Event], value: int = 0, pay_to: str = ZERO,
             pay_amount: int = 0) -> str:
        """Emit `events` in one transaction that receives `value` and pays `pay_amount` wei
        to `pay_to`; returns the transaction hash."""


@dataclass
class _Block:
    number: int
    timestamp: int
    hash: str
    balance: int
    logs: list[dict[str, Any]] = field(default_factory=list)


def _hash(*parts: object) -> str:
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()


class CraftedChain:
    """An in-memory chain holding one contract: blocks, logs and the contract's balance."""

    url = "crafted://memory"

    def __init__(
        self,
        address: str = "0x" + "5f" * 20,
        chain_id: int = 31337,
        start_block: int = 1,
        start_time: int = 1_700_000_000,
        block_time: int = 12,
        timestamps_in_logs: bool = True,
        crafter: LogCrafter | None = None,
    ) -> None:
        self.address = address.lower()
        self.chain_id = chain_id
        self.start_block = start_block
        self.block_time = block_time
        self.timestamps_in_logs = timestamps_in_logs
        self.crafter = crafter or LogCrafter.for_marketplace()
        self.code = "0x6080"
        self.calls: list[str] = []
        self.state_from = 0  # like a pruned node: no balances before this block
        self.max_log_range: int | None = None  # like a provider: refuse wider eth_getLogs
        self._blocks: list[_Block] = [
            _Block(n, start_time + n * block_time, _hash("block", n), 0)
            for n in range(start_block + 1)
        ]
        self._tx_count = 0

    # ------------------------------------------------------------ building

    @property
    def head(self) -> int:
        """The latest block number."""
        return self._blocks[-1].number

    def now(self) -> int:
        """Timestamp of the next block."""
        return self._blocks[-1].timestamp + self.block_time

    def mine(self, seconds: int | None = None) -> int:
        """An empty block `seconds` (default: the block time) after the last; returns its number."""
        last = self._blocks[-1]
        number = last.number + 1
        block = _Block(number, last.timestamp + (seconds or self.block_time),
                       _hash("block", number), last.balance)
        self._blocks.append(block)
        return number

    def advance(self, seconds: int) -> None:
        """Let time pass: the next block is `seconds` later."""
        self.mine(seconds)

    def send(self, events: Sequence[Event], value: int = 0, pay_to: str = ZERO,
             pay_amount: int = 0) -> str:
        """Emit `events` in one new block; the balance changes by value - pay_amount."""
        number = self.mine()
        block = self._blocks[-1]
        self._tx_count += 1
        tx_hash = _hash("tx", self._tx_count)
        block.balance += value - pay_amount
        for name, args in events:
            topics, data = self.crafter.encode(name, args)
            self.raw_log(topics, data, tx_hash=tx_hash, block=number)
        return tx_hash

    def raw_log(self, topics: list[str], data: str, *, tx_hash: str | None = None,
                block: int | None = None) -> None:
        """Append a raw log (anything at all) to `block` (default: the latest)."""
        target = self._blocks[block if block is not None else -1]
        log: dict[str, Any] = {
            "address": self.address,
            "topics": topics,
            "data": data,
            "blockNumber": hex(target.number),
            "blockHash": target.hash,
            "transactionHash": tx_hash or _hash("raw", target.number, len(target.logs)),
            "transactionIndex": "0x0",
            "logIndex": hex(len(target.logs)),
            "removed": False,
        }
        if self.timestamps_in_logs:
            log["blockTimestamp"] = hex(target.timestamp)
        target.logs.append(log)

    def set_balance(self, wei: int, block: int | None = None) -> None:
        """Force the contract's balance from `block` (default: the latest) on, like
        `anvil_setBalance`: a drift no event explains."""
        start = block if block is not None else self.head
        delta = wei - self._blocks[start].balance
        for b in self._blocks[start:]:
            b.balance += delta

    def balance(self, block: int | None = None) -> int:
        """The contract's balance at the end of `block` (default: the latest)."""
        return self._blocks[block if block is not None else -1].balance

    def reorganise(self, block: int) -> None:
        """Give `block` and every later block a new hash (their contents stay)."""
        for b in self._blocks[block:]:
            b.hash = _hash("reorg", b.number, b.hash)
            for log in b.logs:
                log["blockHash"] = b.hash

    # ------------------------------------------------------------ JSON-RPC

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """Answer one JSON-RPC call the auditor makes."""
        self.calls.append(method)
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getCode":
            return self.code if str(params[0]).lower() == self.address else "0x"
        if method == "eth_getBalance":
            if str(params[0]).lower() != self.address:
                return "0x0"
            number = self._number(params[1])
            if number < self.state_from:
                raise RpcError(method, -32000, f"missing trie node for block {number}")
            return hex(self._blocks[number].balance)
        if method == "eth_getBlockByNumber":
            number = self._number(params[0])
            if number > self.head:
                return None
            b = self._blocks[number]
            return {"number": hex(b.number), "hash": b.hash, "timestamp": hex(b.timestamp)}
        if method == "eth_getLogs":
            query = params[0]
            start = self._number(query.get("fromBlock", "0x0"))
            end = min(self._number(query.get("toBlock", "latest")), self.head)
            if self.max_log_range is not None and end - start + 1 > self.max_log_range:
                raise NodeRefused(method, -32005, f"block range limit {self.max_log_range}")
            if str(query.get("address", self.address)).lower() != self.address:
                return []
            return [dict(log) for b in self._blocks[start : end + 1] for log in b.logs]
        raise RpcError(method, -32601, f"the method {method} does not exist")

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Answer several calls."""
        return [self.call(method, params) for method, params in calls]

    def _number(self, tag: Any) -> int:
        if tag in ("latest", "pending", "safe", "finalized"):
            return self.head
        if tag == "earliest":
            return 0
        return int(tag, 16) if isinstance(tag, str) else int(tag)


# ---------------------------------------------------------------- the contract, modelled


@dataclass
class _Provider:
    owner: str
    category: int
    price: int
    stake: int
    region: int = 0
    attributes: int = 0
    currency: int = ETHER
    instant: bool = False
    free_cancel_hours: int = 0
    late_cancel_pct: int = 0
    active: bool = True
    offer_version: int = 1
    rating_weight: int = 0
    weighted_stars: int = 0
    completed: int = 0
    failures: int = 0
    locked_until: int = 0

    def listing(self, metadata: str) -> dict[str, Any]:
        """The ListingInput tuple of the current offer."""
        return {
            "category": self.category, "region": self.region, "attributes": self.attributes,
            "currency": self.currency, "price": self.price, "metadataHash": metadata,
            "instant": self.instant, "freeCancelHours": self.free_cancel_hours,
            "lateCancelPct": self.late_cancel_pct,
        }


@dataclass
class _Booking:
    customer: str
    provider_id: int
    price: int
    fee: int
    currency: int
    start: int
    duration_minutes: int
    arbiter_id: int
    status: Status = Status.REQUESTED
    deadline: int = 0
    bond: int = 0


class CraftedMarket:
    """Emits what the real v2 contract would, through a sink; `**overrides` replace event args.

    Ether moves with the transactions (stakes, ether prices, bonds, ether withdrawals); token
    amounts are only ledgered (`credits`, `fees` per currency), the crafted chain holds no token.
    """

    respond = DAY
    service_grace = DAY
    confirm_window = 3 * DAY
    arbitration = 7 * DAY
    cooldown = 7 * DAY
    change_delay = 2 * DAY

    def __init__(self, sink: Sink, owner: str, fee_bps: int = 250, min_stake: int = 10**15,
                 constructor: bool = True, *, dispute_bond: int = 10**15, min_fee: int = 10**12,
                 arbiter: str | None = None, attestor: str | None = None,
                 token: str | None = None, token_min_fee: int = 10**4) -> None:
        self.sink = sink
        self.owner = owner.lower()
        self.fee_bps = fee_bps
        self.min_stake = min_stake
        self.dispute_bond = dispute_bond
        self.min_fees: dict[int, int] = {ETHER: min_fee}
        self.tokens: dict[int, str] = {}
        self.arbiters: dict[str, int] = {}
        self.default_arbiter = 0
        self.attestors: dict[str, int] = {}
        self.providers: dict[int, _Provider] = {}
        self.bookings: dict[int, _Booking] = {}
        self.versions: dict[str, int] = {}
        self.category_versions: dict[tuple[str, int], int] = {}
        self.salts: dict[str, int] = {}
        self.credits: dict[tuple[str, int], int] = {}
        self.fees: dict[int, int] = {}
        if not constructor:
            return
        events: list[Event] = [
            ("OwnershipTransferred", {"previousOwner": ZERO, "newOwner": self.owner}),
            self._applied(ChangeKind.FEE_RATE, ZERO, fee_bps),
            self._applied(ChangeKind.MIN_STAKE, ZERO, min_stake),
            self._applied(ChangeKind.DISPUTE_BOND, ZERO, dispute_bond),
            self._applied(ChangeKind.MIN_FEE, ZERO, min_fee),
        ]
        if arbiter:
            events += self._arbiter_events(arbiter, True)
            events += self._default_arbiter_events(arbiter)
        if attestor:
            events += self._attestor_events(attestor, True)
        if token:
            events += self._min_fee_events(token, token_min_fee)
            events += self._currency_events(token, True)
        self.sink.send(events)

    # ------------------------------------------------------------ plumbing

    def _send(self, name: str, args: dict[str, Any], overrides: Mapping[str, Any],
              value: int = 0, pay_to: str = ZERO, pay_amount: int = 0,
              more: Sequence[Event] = ()) -> str:
        extra = dict(overrides)
        value = int(extra.pop("value", value))
        return self.sink.send([(name, {**args, **extra}), *more], value, pay_to, pay_amount)

    def _credit(self, account: str, amount: int, currency: int = ETHER) -> None:
        key = (account.lower(), currency)
        self.credits[key] = self.credits.get(key, 0) + amount

    def credit(self, account: str, currency: int = ETHER) -> int:
        """The account's modelled credit in `currency`."""
        return self.credits.get((account.lower(), currency), 0)

    def _fee(self, currency: int, amount: int) -> None:
        self.fees[currency] = self.fees.get(currency, 0) + amount

    @staticmethod
    def _applied(kind: ChangeKind, account: str, value: int) -> Event:
        return ("ChangeApplied", {"kind": int(kind), "account": account.lower(), "value": value})

    # ------------------------------------------------------------ operator

    def _arbiter_events(self, arbiter: str, allowed: bool) -> list[Event]:
        arbiter = arbiter.lower()
        arbiter_id = self.arbiters.setdefault(arbiter, len(self.arbiters) + 1)
        events: list[Event] = [("ArbiterSet", {"id": arbiter_id, "account": arbiter,
                                               "allowed": allowed})]
        if not allowed and self.default_arbiter == arbiter_id:
            self.default_arbiter = 0
            events.append(self._applied(ChangeKind.DEFAULT_ARBITER, ZERO, 0))
        return events + [self._applied(ChangeKind.ARBITER, arbiter, int(allowed))]

    def _default_arbiter_events(self, arbiter: str) -> list[Event]:
        self.default_arbiter = self.arbiters[arbiter.lower()]
        return [self._applied(ChangeKind.DEFAULT_ARBITER, arbiter, 0)]

    def _attestor_events(self, attestor: str, allowed: bool) -> list[Event]:
        attestor = attestor.lower()
        attestor_id = self.attestors.setdefault(attestor, len(self.attestors) + 1)
        return [("AttestorSet", {"id": attestor_id, "account": attestor, "allowed": allowed}),
                self._applied(ChangeKind.ATTESTOR, attestor, int(allowed))]

    def _min_fee_events(self, token: str, min_fee: int) -> list[Event]:
        token = token.lower()
        events: list[Event] = []
        if token not in self.tokens.values():
            currency = len(self.tokens) + 1
            self.tokens[currency] = token
            events.append(("CurrencySet", {"id": currency, "token": token, "enabled": False}))
        self.min_fees[self.currency_of(token)] = min_fee
        return events + [self._applied(ChangeKind.MIN_FEE, token, min_fee)]

    def _currency_events(self, token: str, enabled: bool) -> list[Event]:
        token = token.lower()
        return [("CurrencySet", {"id": self.currency_of(token), "token": token,
                                 "enabled": enabled}),
                self._applied(ChangeKind.CURRENCY, token, int(enabled))]

    def currency_of(self, token: str) -> int:
        """The currency id of a token the model knows."""
        return next(i for i, t in self.tokens.items() if t == token.lower())

    def schedule(self, kind: ChangeKind, account: str = ZERO, value: int = 0,
                 **overrides: Any) -> str:
        """ChangeScheduled with eta = now + changeDelay."""
        return self._send("ChangeScheduled", {
            "kind": int(kind), "account": account.lower(), "value": value,
            "eta": self.sink.now() + self.change_delay}, overrides)

    def cancel_change(self, kind: ChangeKind, account: str = ZERO, value: int = 0) -> str:
        """ChangeCancelled."""
        return self._send("ChangeCancelled", {"kind": int(kind), "account": account.lower(),
                                              "value": value}, {})

    def apply(self, kind: ChangeKind, account: str = ZERO, value: int = 0,
              **overrides: Any) -> str:
        """ChangeApplied (with ArbiterSet/AttestorSet/CurrencySet as the contract emits them)
        and the model's state updated; does not check the eta (let time pass first)."""
        events: list[Event]
        if kind is ChangeKind.ARBITER:
            events = self._arbiter_events(account, value == 1)
        elif kind is ChangeKind.DEFAULT_ARBITER:
            events = self._default_arbiter_events(account)
        elif kind is ChangeKind.ATTESTOR:
            events = self._attestor_events(account, value == 1)
        elif kind is ChangeKind.MIN_FEE and account.lower() != ZERO:
            events = self._min_fee_events(account, value)
        elif kind is ChangeKind.CURRENCY:
            events = self._currency_events(account, value == 1)
        else:
            if kind is ChangeKind.FEE_RATE:
                self.fee_bps = value
            elif kind is ChangeKind.MIN_STAKE:
                self.min_stake = value
            elif kind is ChangeKind.DISPUTE_BOND:
                self.dispute_bond = value
            elif kind is ChangeKind.MIN_FEE:
                self.min_fees[ETHER] = value
            events = [self._applied(kind, account, value)]
        last_name, last_args = events[-1]
        return self.sink.send([*events[:-1], (last_name, {**last_args, **overrides})])

    def change(self, kind: ChangeKind, account: str = ZERO, value: int = 0,
               **overrides: Any) -> str:
        """Schedule, let the delay pass (on a chain that can), apply."""
        self.schedule(kind, account, value)
        advance = getattr(self.sink, "advance", None)
        if advance is not None:
            advance(self.change_delay)
        return self.apply(kind, account, value, **overrides)

    def set_fee(self, fee_bps: int, **overrides: Any) -> str:
        """A FeeRate change, scheduled and applied (the model does not enforce the cap)."""
        return self.change(ChangeKind.FEE_RATE, ZERO, fee_bps, **overrides)

    def set_arbiter(self, arbiter: str, allowed: bool = True) -> str:
        """An Arbiter change, scheduled and applied."""
        return self.change(ChangeKind.ARBITER, arbiter, int(allowed))

    def set_default_arbiter(self, arbiter: str) -> str:
        """A DefaultArbiter change, scheduled and applied."""
        return self.change(ChangeKind.DEFAULT_ARBITER, arbiter, 0)

    def set_attestor(self, attestor: str, allowed: bool = True) -> str:
        """An Attestor change, scheduled and applied."""
        return self.change(ChangeKind.ATTESTOR, attestor, int(allowed))

    def enable_currency(self, token: str, min_fee: int) -> int:
        """MinFee then Currency changes for a token; returns its currency id."""
        self.change(ChangeKind.MIN_FEE, token, min_fee)
        self.change(ChangeKind.CURRENCY, token, 1)
        return self.currency_of(token)

    def pause(self, paused: bool = True) -> str:
        """PauseChanged."""
        return self._send("PauseChanged", {"paused": paused, "by": self.owner}, {})

    def collect_fees(self, to: str, amount: int | None = None, currency: int = ETHER,
                     **overrides: Any) -> str:
        """FeesCollected: accrued fees of `currency` become `to`'s credit."""
        amount = self.fees.get(currency, 0) if amount is None else amount
        self.fees[currency] = self.fees.get(currency, 0) - amount
        self._credit(to, amount, currency)
        return self._send("FeesCollected", {"currency": currency, "to": to.lower(),
                                            "amount": amount}, overrides)

    def withdraw(self, account: str, amount: int | None = None, currency: int = ETHER,
                 **overrides: Any) -> str:
        """Withdrawn: the account's whole credit in `currency` leaves the contract."""
        account = account.lower()
        amount = self.credit(account, currency) if amount is None else amount
        self.credits[(account, currency)] = self.credit(account, currency) - amount
        paid = amount if currency == ETHER else 0
        return self._send("Withdrawn", {"account": account, "to": account,
                                        "currency": currency, "amount": amount},
                          overrides, pay_to=account, pay_amount=paid)

    # ------------------------------------------------------------ listings

    @staticmethod
    def _metadata(provider_id: int, version: int = 1) -> str:
        return "0x" + format(provider_id << 32 | version, "064x")

    def register(self, owner: str, category: int = 1, region: int = 1, attributes: int = 0,
                 price: int = 10**16, stake: int | None = None, *, currency: int = ETHER,
                 instant: bool = False, free_cancel_hours: int = 0, late_cancel_pct: int = 0,
                 **overrides: Any) -> int:
        """ListingRegistered (offer version 1) with the stake sent; returns the provider id."""
        provider_id = len(self.providers) + 1
        stake = self.min_stake if stake is None else stake
        p = self.providers[provider_id] = _Provider(
            owner.lower(), category, price, stake, region, attributes, currency, instant,
            free_cancel_hours, late_cancel_pct)
        self._send("ListingRegistered", {
            "providerId": provider_id, "owner": p.owner, "category": category,
            "listing": p.listing(self._metadata(provider_id)), "offerVersion": 1,
            "stake": stake,
        }, overrides, value=stake)
        return provider_id

    def update_listing(self, provider_id: int, **changes: Any) -> int:
        """ListingUpdated with the whole new offer (fields of the listing by snake_case name:
        price, region, attributes, currency, instant, free_cancel_hours, late_cancel_pct);
        returns the new offer version."""
        p = self.providers[provider_id]
        for name, value in changes.items():
            setattr(p, name, value)
        p.offer_version += 1
        self._send("ListingUpdated", {
            "providerId": provider_id, "offerVersion": p.offer_version,
            "listing": p.listing(self._metadata(provider_id, p.offer_version))}, {})
        return p.offer_version

    def deactivate(self, provider_id: int) -> str:
        """ListingDeactivated: the stake unlocks after the cooldown and any lock."""
        p = self.providers[provider_id]
        p.active = False
        p.locked_until = max(p.locked_until, self.sink.now() + self.cooldown)
        return self._send("ListingDeactivated", {"providerId": provider_id,
                                                 "unlockAt": p.locked_until}, {})

    def reactivate(self, provider_id: int) -> str:
        """ListingReactivated."""
        self.providers[provider_id].active = True
        return self._send("ListingReactivated", {"providerId": provider_id}, {})

    def top_up(self, provider_id: int, by: str, amount: int, **overrides: Any) -> str:
        """StakeToppedUp with the ether sent."""
        p = self.providers[provider_id]
        p.stake += amount
        return self._send("StakeToppedUp", {"providerId": provider_id, "by": by.lower(),
                                            "amount": amount, "stake": p.stake},
                          overrides, value=amount)

    def release_stake(self, provider_id: int, **overrides: Any) -> str:
        """StakeReleased: the stake becomes the owner's ether credit."""
        p = self.providers[provider_id]
        amount, p.stake = p.stake, 0
        self._credit(p.owner, amount)
        return self._send("StakeReleased", {
            "providerId": provider_id, "owner": p.owner, "amount": amount}, overrides)

    def attest(self, provider_id: int, attestor: str, attributes: int) -> str:
        """AttributesAttested by a named attestor (0 revokes)."""
        attestor = attestor.lower()
        return self._send("AttributesAttested", {
            "providerId": provider_id, "attestor": attestor,
            "attestorId": self.attestors[attestor], "attributes": attributes}, {})

    # ------------------------------------------------------------ criteria

    def _version(self, customer: str) -> int:
        self.versions[customer] = self.versions.get(customer, 0) + 1
        return self.versions[customer]

    def set_criteria(self, customer: str, category: int = 1, region: int = 0, min_score: int = 0,
                     max_price: int = 10**17, premium_per_star: int = 0, required: int = 0,
                     refused: int = 0, *, currency: int = ETHER, verified: int = 0,
                     trusted_attestors: int = 0, min_rating_weight: int = 0,
                     min_reliability: int = 0, **overrides: Any) -> int:
        """CriteriaSet; returns the customer's new version."""
        customer = customer.lower()
        version = self._version(customer)
        self.category_versions[(customer, category)] = version
        self._send("CriteriaSet", {
            "customer": customer, "category": category, "version": version,
            "criteria": {
                "category": category, "region": region, "currency": currency,
                "minScore": min_score, "maxPrice": max_price, "premiumPerStar": premium_per_star,
                "requiredAttributes": required, "refusedAttributes": refused,
                "verifiedAttributes": verified, "trustedAttestors": trusted_attestors,
                "minRatingWeight": min_rating_weight, "minReliability": min_reliability,
                "scoreWeight": 5_000, "priceWeight": 5_000,
            },
        }, overrides)
        return version

    def set_blocked(self, customer: str, provider_id: int, blocked: bool = True) -> int:
        """ProviderBlockChanged; returns the customer's new version."""
        customer = customer.lower()
        version = self._version(customer)
        self.category_versions[(customer, self.providers[provider_id].category)] = version
        self._send("ProviderBlockChanged", {
            "customer": customer, "providerId": provider_id,
            "category": self.providers[provider_id].category, "blocked": blocked,
            "version": version,
        }, {})
        return version

    def set_owner_blocked(self, customer: str, owner: str, blocked: bool = True) -> int:
        """OwnerBlockChanged; returns the customer's new (customer-wide) version."""
        customer = customer.lower()
        version = self._version(customer)
        self._send("OwnerBlockChanged", {"customer": customer, "owner": owner.lower(),
                                         "blocked": blocked, "version": version}, {})
        return version

    # ------------------------------------------------------------ bookings

    def _ids(self, booking: int) -> dict[str, Any]:
        b = self.bookings[booking]
        return {"bookingId": booking, "customer": b.customer, "providerId": b.provider_id}

    def _count(self, p: _Provider, failure: bool) -> None:
        p.completed, p.failures = count_outcome(p.completed, p.failures, failure=failure)

    def _rating(self, p: _Provider, b: _Booking, stars: int) -> tuple[int, int]:
        weight = rating_weight(b.fee, self.min_fees[b.currency])
        p.rating_weight, p.weighted_stars = add_rating(p.rating_weight, p.weighted_stars, stars,
                                                       weight)
        return weight, weighted_score(p.rating_weight, p.weighted_stars)

    def book(self, customer: str, provider_id: int, version: int | None = None, *,
             start: int | None = None, duration_minutes: int = 60, salt: int | None = None,
             **overrides: Any) -> int:
        """BookingRequested with the price escrowed (ether sent with it; a token only
        ledgered), then BookingAccepted for an instant listing; returns the booking id. The slot
        starts a day from now unless given; the salt counts the customer's bookings."""
        customer = customer.lower()
        p = self.providers[provider_id]
        now = self.sink.now()
        start = now + DAY if start is None else start
        if salt is None:
            salt = self.salts[customer] = (self.salts.get(customer, -1) + 1) % 256
        booking = booking_id(customer, provider_id, start, duration_minutes, salt)
        price = int(overrides.get("price", p.price))
        fee = int(overrides.get("fee", booking_fee(price, self.fee_bps,
                                                   self.min_fees[p.currency])))
        b = self.bookings[booking] = _Booking(
            customer, provider_id, price, fee, p.currency, start, duration_minutes,
            self.default_arbiter, deadline=respond_by(now, start, self.respond))
        more: list[Event] = []
        respond = b.deadline
        if p.instant:
            respond = now
            b.status = Status.ACCEPTED
            more.append(("BookingAccepted", self._accepted(booking)))
        self._send("BookingRequested", {
            **self._ids(booking), "currency": p.currency, "price": price, "fee": fee,
            "offerVersion": p.offer_version,
            "criteriaVersion": self.category_versions.get((customer, p.category), 0)
            if version is None
            else version,
            "arbiterId": b.arbiter_id, "respondBy": respond,
        }, overrides, value=price if p.currency == ETHER else 0, more=more)
        return booking

    def _accepted(self, booking: int) -> dict[str, Any]:
        b = self.bookings[booking]
        p = self.providers[b.provider_id]
        b.deadline = service_by(b.start, b.duration_minutes, self.service_grace)
        p.locked_until = max(p.locked_until, b.deadline + self.confirm_window + self.arbitration)
        return {**self._ids(booking), "serviceBy": b.deadline, "stakeLockedUntil": p.locked_until}

    def accept(self, booking: int, **overrides: Any) -> str:
        """BookingAccepted."""
        self.bookings[booking].status = Status.ACCEPTED
        return self._send("BookingAccepted", self._accepted(booking), overrides)

    def complete(self, booking: int, **overrides: Any) -> str:
        """BookingCompleted (the model does not wait for the slot's start)."""
        b = self.bookings[booking]
        b.status = Status.COMPLETED
        b.deadline = self.sink.now() + self.confirm_window
        return self._send("BookingCompleted", {**self._ids(booking), "confirmBy": b.deadline},
                          overrides)

    def _settled(self, booking: int, by: str | None, overrides: Mapping[str, Any]
                 ) -> dict[str, Any]:
        b = self.bookings[booking]
        fee = int(overrides.get("fee", b.fee))
        payout = int(overrides.get("payout", b.price - fee))
        p = self.providers[b.provider_id]
        self._credit(p.owner, payout, b.currency)
        self._fee(b.currency, fee)
        self._count(p, False)
        b.status = Status.SETTLED
        return {**self._ids(booking), "payout": payout, "fee": fee,
                "by": (by or b.customer).lower()}

    def confirm(self, booking: int, by: str | None = None, **overrides: Any) -> str:
        """BookingSettled: payout to the listing's owner, the booking's fee accrued."""
        return self._send("BookingSettled", self._settled(booking, by, overrides), overrides)

    def confirm_and_rate(self, booking: int, stars: int = 5, complaint_tags: int = 0) -> str:
        """BookingSettled then BookingRated, in one transaction."""
        settled = self._settled(booking, None, {})
        return self.sink.send([("BookingSettled", settled),
                               ("BookingRated", self._rated(booking, stars, complaint_tags))])

    def dispute(self, booking: int, bond: int | None = None) -> str:
        """BookingDisputed with the bond sent."""
        b = self.bookings[booking]
        b.status = Status.DISPUTED
        b.bond = self.dispute_bond if bond is None else bond
        b.deadline = self.sink.now() + self.arbitration
        return self._send("BookingDisputed", {**self._ids(booking), "bond": b.bond,
                                              "arbitrateBy": b.deadline}, {}, value=b.bond)

    def resolve(self, booking: int, arbiter: str = ZERO, refund_bps: int = DEFAULT_REFUND_BPS,
                **overrides: Any) -> str:
        """DisputeResolved (arbiter ZERO: the default 50/50 after the deadline), with
        StakeSlashed first when the provider lost and had stake."""
        b = self.bookings[booking]
        p = self.providers[b.provider_id]
        arbiter = arbiter.lower()
        refund, payout, fee = resolution_split(b.price, b.fee, refund_bps)
        self._credit(b.customer, refund, b.currency)
        self._credit(p.owner, payout, b.currency)
        self._fee(b.currency, fee)
        b.status = Status.RESOLVED
        more: list[Event] = []
        lost, weight = False, 0
        if arbiter == ZERO:
            self._credit(b.customer, b.bond)
        else:
            ruling = resolve_dispute(b.price, b.fee, refund_bps, b.bond, p.stake)
            lost = ruling.provider_lost
            p.completed, p.failures = count_resolution(p.completed, p.failures,
                                                       provider_lost=lost)
            self._credit(b.customer, ruling.bond_to_customer)
            self._credit(arbiter, ruling.bond_to_arbiter + ruling.arbiter_from_stake)
            if lost:
                weight, _ = self._rating(p, b, LOST_DISPUTE_STARS)
            if ruling.arbiter_from_stake:
                p.stake -= ruling.arbiter_from_stake
                more.append(("StakeSlashed", {"providerId": b.provider_id, "bookingId": booking,
                                              "to": arbiter,
                                              "amount": ruling.arbiter_from_stake}))
        events: list[Event] = [*more, ("DisputeResolved", {
            **self._ids(booking), "arbiter": arbiter, "refundBps": refund_bps, "refund": refund,
            "payout": payout, "fee": fee, "bond": b.bond, "providerLost": lost,
            "weight": weight, **overrides})]
        return self.sink.send(events)

    def cancel(self, booking: int, now: int | None = None, **overrides: Any) -> str:
        """BookingCancelled under the booking's terms (locked from the listing)."""
        b = self.bookings[booking]
        p = self.providers[b.provider_id]
        terms = CancelTerms(p.free_cancel_hours, p.late_cancel_pct)
        refund, compensation = cancellation_split(
            b.price, b.status, self.sink.now() if now is None else now, b.start, terms)
        self._credit(b.customer, refund, b.currency)
        self._credit(p.owner, compensation, b.currency)
        b.status = Status.CANCELLED
        return self._send("BookingCancelled", {**self._ids(booking), "refund": refund,
                                               "compensation": compensation}, overrides)

    def decline(self, booking: int, **overrides: Any) -> str:
        """BookingDeclined: full refund; after acceptance a reliability failure."""
        b = self.bookings[booking]
        after = b.status is Status.ACCEPTED
        if after:
            self._count(self.providers[b.provider_id], True)
        self._credit(b.customer, b.price, b.currency)
        b.status = Status.DECLINED
        return self._send("BookingDeclined", {**self._ids(booking), "refund": b.price,
                                              "afterAcceptance": after}, overrides)

    def expire(self, booking: int, **overrides: Any) -> str:
        """BookingExpired: full refund; an accepted booking is a no-show (a failure, and
        StakeSlashed of SLASH_BPS of the stake to the customer, emitted first)."""
        b = self.bookings[booking]
        p = self.providers[b.provider_id]
        no_show = b.status is Status.ACCEPTED
        self._credit(b.customer, b.price, b.currency)
        more: list[Event] = []
        if no_show:
            self._count(p, True)
            slash = no_show_slash(p.stake)
            if slash:
                p.stake -= slash
                self._credit(b.customer, slash)
                more.append(("StakeSlashed", {"providerId": b.provider_id, "bookingId": booking,
                                              "to": b.customer, "amount": slash}))
        b.status = Status.EXPIRED
        return self.sink.send([*more, ("BookingExpired", {
            **self._ids(booking), "refund": b.price, "noShow": no_show, **overrides})])

    def _rated(self, booking: int, stars: int, complaint_tags: int) -> dict[str, Any]:
        b = self.bookings[booking]
        weight, score = self._rating(self.providers[b.provider_id], b, stars)
        return {**self._ids(booking), "stars": stars, "complaintTags": complaint_tags,
                "weight": weight, "newScore": score}

    def rate(self, booking: int, stars: int = 5, **overrides: Any) -> str:
        """BookingRated with the rating's weight and the listing's new score."""
        return self._send("BookingRated", self._rated(booking, stars, 0), overrides)

    def lifecycle(self, customer: str, provider_id: int, stars: int | None = 5) -> int:
        """Book, accept (unless instant), complete, confirm and rate: a clean, settled booking."""
        booking = self.book(customer, provider_id)
        if self.bookings[booking].status is Status.REQUESTED:
            self.accept(booking)
        self.complete(booking)
        self.confirm(booking)
        if stars is not None:
            self.rate(booking, stars)
        return booking


# ---------------------------------------------------------------- over HTTP


@contextmanager
def serve_chain(chain: CraftedChain) -> Iterator[str]:
    """Serve `chain` as a JSON-RPC endpoint on 127.0.0.1 (for clients such as the CLI);
    yields its URL. Errors answer as JSON-RPC errors, like a node's."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))

            def answer(request: dict[str, Any]) -> dict[str, Any]:
                try:
                    result = chain.call(request["method"], request.get("params", []))
                except RpcError as exc:  # keeps its code (-32601: no such method), as a node does
                    return {"jsonrpc": "2.0", "id": request.get("id"),
                            "error": {"code": exc.code, "message": exc.message}}
                except Exception as exc:  # noqa: BLE001 - reported to the client as a node would
                    return {"jsonrpc": "2.0", "id": request.get("id"),
                            "error": {"code": -32000, "message": str(exc)}}
                return {"jsonrpc": "2.0", "id": request.get("id"), "result": result}

            reply = [answer(r) for r in body] if isinstance(body, list) else answer(body)
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
