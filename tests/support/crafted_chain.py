"""Craft marketplace histories: raw logs of any event, an in-memory chain, a model of the contract.

For tests, benchmarks and what-if analyses of the auditor, without a node:

- `LogCrafter` encodes any marketplace event (by name, with any arguments, legal or not) into the
  topics and data of a raw log, exactly as the contract would emit it.
- `CraftedChain` is an in-memory chain that answers the JSON-RPC calls the auditor makes
  (`eth_chainId`, `eth_blockNumber`, `eth_getCode`, `eth_getLogs`, `eth_getBalance`,
  `eth_getBlockByNumber`, and `eth_call` of its tokens' `balanceOf`, `symbol` and `decimals` and
  of the contract's `windows()` and `changeDelay()`), with one transaction per block and the
  contract's ether and token balances per block. `serve_chain` serves it over HTTP.
- `CraftedMarket` is the tests' one model of contract v2 (docs/contract-v2.md), their oracle: every
  method emits what the contract would, in its order, with `marketplace.domain`'s amounts, fees,
  weights, scores, reliability, versions and deadlines (under the chain's windows), and moves the
  ether and tokens the contract would move. Keyword overrides replace any event argument, which is
  how a test breaks exactly one rule; `extra=[...]` adds events to the same transaction and
  `value=` changes the ether it sends.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from marketplace.chain.rpc import NodeRefused, RpcError
from marketplace.domain import (
    DEFAULT_REFUND_BPS,
    ETHER,
    HOUR,
    LOST_DISPUTE_STARS,
    ZERO_ADDRESS,
    CancelTerms,
    ChangeKind,
    Status,
    Windows,
    add_rating,
    arbitrate_by,
    booking_fee,
    booking_id,
    cancellation_split,
    confirm_by,
    count_outcome,
    count_resolution,
    no_show_slash,
    rating_weight,
    resolve_by_default,
    resolve_dispute,
    respond_by,
    service_by,
    settlement_split,
    stake_locked_until,
    weighted_score,
)

DAY = 24 * HOUR
ZERO = ZERO_ADDRESS
TOKEN = "0x" + "7e" * 20
"""The token a `CraftedMarket` enables at deployment (currency 1) unless told otherwise."""
WINDOWS = Windows(respond=DAY, service_grace=DAY, confirm=3 * DAY, arbitration=7 * DAY,
                  stake_cooldown=7 * DAY)
"""The windows a `CraftedChain`'s contract answers unless told otherwise."""
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


# ---------------------------------------------------------------- the chain


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
    """An in-memory chain holding one contract: blocks, logs, the contract's ether balance and its
    balances of the tokens the chain knows (`add_token`)."""

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
        *,
        windows: Windows | None = WINDOWS,
        change_delay: int = 2 * DAY,
    ) -> None:
        self.address = address.lower()
        self.chain_id = chain_id
        self.start_block = start_block
        self.block_time = block_time
        self.timestamps_in_logs = timestamps_in_logs
        self.crafter = crafter or LogCrafter.for_marketplace()
        self.code = "0x6080"
        self.windows = windows  # None: the contract answers neither windows() nor changeDelay()
        self.change_delay = change_delay
        self.calls: list[str] = []
        self.state_from = 0  # like a pruned node: no balances before this block
        self.max_log_range: int | None = None  # like a provider: refuse wider eth_getLogs
        self._blocks: list[_Block] = [
            _Block(n, start_time + n * block_time, _hash("block", n), 0)
            for n in range(start_block + 1)
        ]
        self._tx_count = 0
        self.token_changes: dict[str, list[tuple[int, int]]] = {}  # token -> (block, balance)
        self.token_meta: dict[str, tuple[str, int]] = {}  # token -> (symbol, decimals)

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

    def add_token(self, token: str, symbol: str = "DUSD", decimals: int = 6) -> None:
        """A token the chain knows (balanceOf, symbol, decimals)."""
        self.token_meta[token.lower()] = (symbol, decimals)
        self.token_changes.setdefault(token.lower(), [(0, 0)])

    def token_balance(self, token: str, block: int | None = None) -> int:
        """The contract's balance of `token` at the end of `block` (default: the head)."""
        number = self.head if block is None else block
        changes = self.token_changes.get(token.lower())
        if not changes:
            return 0
        index = bisect.bisect_right(changes, (number, 1 << 256)) - 1
        return changes[index][1] if index >= 0 else 0

    def move_token(self, token: str, delta: int, block: int | None = None) -> None:
        """The contract's balance of `token` changes by `delta` from `block` (default: the head)
        on: what a transfer does, or a drift no event explains."""
        number = self.head if block is None else block
        changes = self.token_changes.setdefault(token.lower(), [(0, 0)])
        new = self.token_balance(token, number) + delta
        if changes[-1][0] < number:  # the usual case: a change at the head
            changes.append((number, new))
            return
        later = [(at, value + delta) for at, value in changes if at > number]
        kept = [(at, value) for at, value in changes if at < number]
        self.token_changes[token.lower()] = [*kept, (number, new), *later]

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
        if method == "eth_call":
            answer = self._eth_call(params[0], params[1] if len(params) > 1 else "latest")
            if answer is not None:
                return answer
        raise RpcError(method, -32601, f"the method {method} does not exist")

    def _eth_call(self, query: Mapping[str, Any], tag: Any) -> str | None:
        """A getter of a known token or of the contract (`execution reverted` for any other of
        theirs); None for any other address."""
        to, data = str(query.get("to")).lower(), str(query.get("data"))
        if to in self.token_meta:
            symbol, decimals = self.token_meta[to]
            if data.startswith("0x70a08231"):  # balanceOf(address)
                if data[10:].lstrip("0") != self.address.removeprefix("0x").lstrip("0"):
                    return "0x" + _word("uint256", 0)
                return "0x" + _word("uint256", self.token_balance(to, self._number(tag)))
            if data == "0x313ce567":  # decimals()
                return "0x" + _word("uint256", decimals)
            if data == "0x95d89b41":  # symbol()
                raw = symbol.encode()
                return "0x" + _word("uint256", 32) + _word("uint256", len(raw)) + _word(
                    "bytes", raw)
        if to == self.address and self.windows is not None:
            w = self.windows
            if data == "0x2713f36e":  # windows()
                return "0x" + "".join(_word("uint256", x) for x in (
                    w.respond, w.service_grace, w.confirm, w.arbitration, w.stake_cooldown))
            if data == "0xc55e4af8":  # changeDelay()
                return "0x" + _word("uint256", self.change_delay)
        if to in self.token_meta or to == self.address:
            raise RpcError("eth_call", 3, "execution reverted")
        return None

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
class Listing:
    """A listing as the contract keeps it."""

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
    rating_weight: int = 0
    weighted_stars: int = 0
    completed: int = 0
    failures: int = 0
    locked_until: int = 0
    metadata: str = "0x" + "ab" * 32

    def as_input(self) -> dict[str, Any]:
        """The ListingInput tuple of the current offer."""
        return {
            "category": self.category, "region": self.region, "attributes": self.attributes,
            "currency": self.currency, "price": self.price, "metadataHash": self.metadata,
            "instant": self.instant, "freeCancelHours": self.free_cancel_hours,
            "lateCancelPct": self.late_cancel_pct,
        }


@dataclass
class Booking:
    """A booking as the contract keeps it: its terms are the listing's when it was booked."""

    customer: str
    provider_id: int
    currency: int
    price: int
    fee: int
    start: int
    duration_minutes: int
    arbiter_id: int
    terms: CancelTerms
    status: Status = Status.REQUESTED
    bond: int = 0


class CraftedMarket:
    """Emits what contract v2 would, on a `CraftedChain`; `**overrides` replace event arguments.

    A method's `**overrides` replace arguments of its (main) event; among them `extra` adds
    events to the transaction and `value` changes the ether it sends. The model's state (listings,
    bookings, `credits` and `fees` per currency) follows the contract's rules, not the overrides,
    unless a method says otherwise (`bond`, `slash`, `amount`, `arbiter`).
    """

    def __init__(
        self, chain: CraftedChain, owner: str, *, fee_bps: int = 250, min_stake: int = 10**16,
        dispute_bond: int = 10**15, min_fee: int = 10**12, arbiter: str = ZERO,
        attestor: str = ZERO, token: str | None = TOKEN, token_min_fee: int = 10_000,
    ) -> None:
        """Deploy: the constructor's events (Ownable's, then the Setup applied as changes are:
        fee rate, minimum stake, dispute bond, ether's minimum fee, the arbiter and default
        arbiter, the attestor, the token's minimum fee and currency) in one transaction."""
        self.chain = chain
        self.owner = owner.lower()
        self.fee_bps = fee_bps
        self.min_stake = min_stake
        self.dispute_bond = dispute_bond
        self.min_fees: dict[int, int] = {ETHER: min_fee}
        self.tokens: dict[int, str] = {}  # currency id -> token
        self.arbiters: dict[int, str] = {}  # arbiter id -> account
        self.default_arbiter = 0
        self.attestors: dict[int, str] = {}  # attestor id -> account
        self.listings: dict[int, Listing] = {}
        self.bookings: dict[int, Booking] = {}
        self.criteria_versions: dict[tuple[str, int], int] = {}  # (customer, category)
        self.versions: dict[str, int] = {}  # customer -> the version of its last change
        self.credits: dict[tuple[str, int], int] = {}  # (account, currency)
        self.fees: dict[int, int] = {}
        setup: list[tuple[ChangeKind, str, int]] = [
            (ChangeKind.FEE_RATE, ZERO, fee_bps), (ChangeKind.MIN_STAKE, ZERO, min_stake),
            (ChangeKind.DISPUTE_BOND, ZERO, dispute_bond), (ChangeKind.MIN_FEE, ZERO, min_fee)]
        if arbiter != ZERO:
            setup += [(ChangeKind.ARBITER, arbiter, 1), (ChangeKind.DEFAULT_ARBITER, arbiter, 0)]
        if attestor != ZERO:
            setup.append((ChangeKind.ATTESTOR, attestor, 1))
        if token is not None:
            setup += [(ChangeKind.MIN_FEE, token, token_min_fee), (ChangeKind.CURRENCY, token, 1)]
        events: list[Event] = [("OwnershipTransferred", {"previousOwner": ZERO,
                                                          "newOwner": self.owner})]
        for kind, account, value in setup:
            events += self._applied(kind, account, value)
        chain.send(events)

    # ------------------------------------------------------------ plumbing

    @property
    def windows(self) -> Windows:
        """The contract's windows: the chain's (the model's defaults where it answers none)."""
        return self.chain.windows or WINDOWS

    def send(self, name: str, args: Mapping[str, Any], overrides: Mapping[str, Any],
             value: int = 0, pay_to: str = ZERO, pay_amount: int = 0, *,
             token_delta: tuple[int, int] | None = None, before: Sequence[Event] = (),
             after: Sequence[Event] = ()) -> str:
        """One transaction: `before`, event `name` with `args` replaced by `overrides`, `after`,
        then the overrides' `extra` events. It receives `value` wei (or the overrides' `value`)
        and pays `pay_amount` wei to `pay_to`; `token_delta` (currency, amount) moves the
        contract's balance of a token currency."""
        more = dict(overrides)
        value = int(more.pop("value", value))
        extra = list(more.pop("extra", ()))
        tx = self.chain.send([*before, (name, {**args, **more}), *after, *extra], value, pay_to,
                             pay_amount)
        if token_delta is not None and token_delta[0] != ETHER:
            self.chain.move_token(self.tokens[token_delta[0]], token_delta[1])
        return tx

    def _credit(self, account: str, amount: int, currency: int = ETHER) -> None:
        key = (account.lower(), currency)
        self.credits[key] = self.credits.get(key, 0) + amount

    def credit(self, account: str, currency: int = ETHER) -> int:
        """The account's modelled credit in `currency`."""
        return self.credits.get((account.lower(), currency), 0)

    def _fee(self, currency: int, amount: int) -> None:
        self.fees[currency] = self.fees.get(currency, 0) + amount

    def currency_of(self, token: str) -> int:
        """The currency id of a token (it gets one from its first MinFee change)."""
        for currency, known in self.tokens.items():
            if known == token.lower():
                return currency
        raise KeyError(f"{token} has no currency id: apply a MinFee change for it first")

    @staticmethod
    def _named(ids: dict[int, str], account: str) -> int:
        """The id of `account` among the arbiters or attestors, the next one if it is new."""
        for i, known in ids.items():
            if known == account:
                return i
        ids[len(ids) + 1] = account
        return len(ids)

    def _applied(self, kind: ChangeKind, account: str, value: int) -> list[Event]:
        """What applying a change emits (any *Set event, then ChangeApplied), with the model's
        state updated as `MarketplaceModule._validatedApply` does; nothing is validated."""
        account = account.lower()
        events: list[Event] = []
        if kind is ChangeKind.FEE_RATE:
            self.fee_bps = value
        elif kind is ChangeKind.MIN_STAKE:
            self.min_stake = value
        elif kind is ChangeKind.DISPUTE_BOND:
            self.dispute_bond = value
        elif kind is ChangeKind.MIN_FEE and account == ZERO:
            self.min_fees[ETHER] = value
        elif kind is ChangeKind.MIN_FEE:  # a token's first mention gives it an id, disabled
            if account not in self.tokens.values():
                self.tokens[len(self.tokens) + 1] = account
                if account not in self.chain.token_meta:
                    self.chain.add_token(account)
                events.append(("CurrencySet", {"id": len(self.tokens), "token": account,
                                               "enabled": False}))
            self.min_fees[self.currency_of(account)] = value
        elif kind is ChangeKind.ARBITER:
            arbiter = self._named(self.arbiters, account)
            events.append(("ArbiterSet", {"id": arbiter, "account": account,
                                          "allowed": value == 1}))
            if value != 1 and self.default_arbiter == arbiter:  # new bookings get no arbiter
                self.default_arbiter = 0
                events.append(("ChangeApplied", {"kind": int(ChangeKind.DEFAULT_ARBITER),
                                                 "account": ZERO, "value": 0}))
        elif kind is ChangeKind.DEFAULT_ARBITER:
            self.default_arbiter = 0 if account == ZERO else self._named(self.arbiters, account)
        elif kind is ChangeKind.ATTESTOR:
            attestor = self._named(self.attestors, account)
            events.append(("AttestorSet", {"id": attestor, "account": account,
                                           "allowed": value == 1}))
        elif kind is ChangeKind.CURRENCY:
            events.append(("CurrencySet", {"id": self.currency_of(account), "token": account,
                                           "enabled": value == 1}))
        return [*events, ("ChangeApplied", {"kind": int(kind), "account": account,
                                            "value": value})]

    # ------------------------------------------------------------ operator

    def schedule(self, kind: ChangeKind, account: str = ZERO, value: int = 0,
                 **overrides: Any) -> int:
        """ChangeScheduled with eta = now + changeDelay; returns the eta."""
        eta = self.chain.now() + self.chain.change_delay
        self.send("ChangeScheduled", {"kind": int(kind), "account": account.lower(),
                                      "value": value, "eta": eta}, overrides)
        return eta

    def cancel_change(self, kind: ChangeKind, account: str = ZERO, value: int = 0,
                      **overrides: Any) -> str:
        """ChangeCancelled."""
        return self.send("ChangeCancelled", {"kind": int(kind), "account": account.lower(),
                                             "value": value}, overrides)

    def apply(self, kind: ChangeKind, account: str = ZERO, value: int = 0,
              **overrides: Any) -> str:
        """ChangeApplied, after the ArbiterSet, AttestorSet or CurrencySet it makes the contract
        emit; neither the schedule nor the eta is checked (`change` respects both). Value 1
        names an arbiter or attestor or enables a currency, 0 removes or disables it."""
        *before, (name, args) = self._applied(kind, account, value)
        return self.send(name, args, overrides, before=before)

    def change(self, kind: ChangeKind, account: str = ZERO, value: int = 0,
               **overrides: Any) -> str:
        """Schedule, wait for the eta, apply (the overrides are ChangeApplied's)."""
        eta = self.schedule(kind, account, value)
        self.chain.advance(max(1, eta - self.chain.now()))
        return self.apply(kind, account, value, **overrides)

    def pause(self, paused: bool = True) -> str:
        """PauseChanged."""
        return self.send("PauseChanged", {"paused": paused, "by": self.owner}, {})

    def collect_fees(self, to: str, currency: int = ETHER, amount: int | None = None,
                     **overrides: Any) -> str:
        """FeesCollected: accrued fees become `to`'s credit."""
        amount = self.fees.get(currency, 0) if amount is None else amount
        self._fee(currency, -amount)
        self._credit(to, amount, currency)
        return self.send("FeesCollected", {"currency": currency, "to": to.lower(),
                                           "amount": amount}, overrides)

    def withdraw(self, account: str, currency: int = ETHER, amount: int | None = None,
                 **overrides: Any) -> str:
        """Withdrawn: the account's whole credit of `currency` (or `amount`) leaves the
        contract, in ether or in the token."""
        account = account.lower()
        amount = self.credit(account, currency) if amount is None else amount
        self._credit(account, -amount, currency)
        args = {"account": account, "to": account, "currency": currency, "amount": amount}
        if currency == ETHER:
            return self.send("Withdrawn", args, overrides, pay_to=account, pay_amount=amount)
        return self.send("Withdrawn", args, overrides, token_delta=(currency, -amount))

    # ------------------------------------------------------------ listings

    def register(self, owner: str, category: int = 1, region: int = 1, attributes: int = 0,
                 currency: int = ETHER, price: int = 10**16, instant: bool = False,
                 free_cancel_hours: int = 24, late_cancel_pct: int = 50,
                 stake: int | None = None, **overrides: Any) -> int:
        """ListingRegistered with the stake sent (the minimum unless given); returns the
        listing's id."""
        provider_id = len(self.listings) + 1
        stake = self.min_stake if stake is None else stake
        listing = self.listings[provider_id] = Listing(
            owner.lower(), category, region, attributes, currency, price, instant,
            free_cancel_hours, late_cancel_pct, stake)
        self.send("ListingRegistered", {
            "providerId": provider_id, "owner": listing.owner, "category": category,
            "listing": listing.as_input(), "offerVersion": 1, "stake": stake,
        }, overrides, value=stake)
        return provider_id

    def update(self, provider_id: int, **changes: Any) -> int:
        """ListingUpdated with the whole new offer at the next offer version; returns it.
        `changes`: `Listing` fields by name (price, region, instant, late_cancel_pct, ...)."""
        listing = self.listings[provider_id]
        for name, value in changes.items():
            setattr(listing, name, value)
        listing.version += 1
        self.send("ListingUpdated", {"providerId": provider_id, "offerVersion": listing.version,
                                     "listing": listing.as_input()}, {})
        return listing.version

    def deactivate(self, provider_id: int, **overrides: Any) -> str:
        """ListingDeactivated: the stake unlocks at max(lockedUntil, now + cooldown)."""
        listing = self.listings[provider_id]
        listing.active = False
        listing.locked_until = max(listing.locked_until,
                                   self.chain.now() + self.windows.stake_cooldown)
        return self.send("ListingDeactivated", {"providerId": provider_id,
                                                "unlockAt": listing.locked_until}, overrides)

    def reactivate(self, provider_id: int, **overrides: Any) -> str:
        """ListingReactivated."""
        self.listings[provider_id].active = True
        return self.send("ListingReactivated", {"providerId": provider_id}, overrides)

    def top_up(self, provider_id: int, amount: int, by: str | None = None,
               **overrides: Any) -> str:
        """StakeToppedUp with the ether sent, by the owner unless `by` is given."""
        listing = self.listings[provider_id]
        listing.stake += amount
        return self.send("StakeToppedUp", {"providerId": provider_id,
                                           "by": (by or listing.owner).lower(),
                                           "amount": amount, "stake": listing.stake},
                         overrides, value=amount)

    def release_stake(self, provider_id: int, **overrides: Any) -> str:
        """StakeReleased: the stake becomes the owner's ether credit."""
        listing = self.listings[provider_id]
        amount, listing.stake = listing.stake, 0
        self._credit(listing.owner, amount)
        return self.send("StakeReleased", {"providerId": provider_id, "owner": listing.owner,
                                           "amount": amount}, overrides)

    def attest(self, attestor_id: int, provider_id: int, attributes: int,
               **overrides: Any) -> str:
        """AttributesAttested by a named attestor (attributes 0 revokes)."""
        return self.send("AttributesAttested", {
            "providerId": provider_id, "attestor": self.attestors[attestor_id],
            "attestorId": attestor_id, "attributes": attributes}, overrides)

    # ------------------------------------------------------------ criteria

    def _version(self, customer: str) -> int:
        self.versions[customer] = self.versions.get(customer, 0) + 1
        return self.versions[customer]

    def set_criteria(self, customer: str, category: int = 1, currency: int = ETHER,
                     max_price: int = 10**17, **values: Any) -> int:
        """CriteriaSet; returns the customer's new version. `values`: other CriteriaInput
        fields by their ABI name (minScore, requiredAttributes, trustedAttestors, ...)."""
        customer = customer.lower()
        version = self.criteria_versions[(customer, category)] = self._version(customer)
        criteria = {
            "category": category, "region": 0, "currency": currency, "minScore": 0,
            "maxPrice": max_price, "premiumPerStar": 0, "requiredAttributes": 0,
            "refusedAttributes": 0, "verifiedAttributes": 0, "trustedAttestors": 0,
            "minRatingWeight": 0, "minReliability": 0, "scoreWeight": 5_000,
            "priceWeight": 5_000, **values,
        }
        self.send("CriteriaSet", {"customer": customer, "category": category,
                                  "version": version, "criteria": criteria}, {})
        return version

    def set_blocked(self, customer: str, provider_id: int, blocked: bool = True) -> int:
        """ProviderBlockChanged; returns the customer's new version."""
        customer = customer.lower()
        category = self.listings[provider_id].category
        version = self.criteria_versions[(customer, category)] = self._version(customer)
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
             duration_minutes: int = 60, salt: int = 0, **overrides: Any) -> int:
        """BookingRequested with the price escrowed in ether or the token (and BookingAccepted
        for an instant listing); returns the booking id. The slot starts two days ahead unless
        given."""
        customer = customer.lower()
        listing = self.listings[provider_id]
        now = self.chain.now()
        start = now + 2 * DAY if start is None else start
        booking = booking_id(customer, provider_id, start, duration_minutes, salt)
        fee = booking_fee(listing.price, self.fee_bps, self.min_fees[listing.currency])
        b = self.bookings[booking] = Booking(
            customer, provider_id, listing.currency, listing.price, fee, start, duration_minutes,
            self.default_arbiter, CancelTerms(listing.free_cancel_hours, listing.late_cancel_pct))
        after: list[Event] = []
        if listing.instant:  # accepted in the same transaction; respondBy is the booking time
            after.append(("BookingAccepted", self._accepted(booking)))
        self.send("BookingRequested", {
            **self._ids(booking), "currency": b.currency, "price": b.price, "fee": fee,
            "offerVersion": listing.version,
            "criteriaVersion": self.criteria_versions.get((customer, listing.category), 0),
            "arbiterId": b.arbiter_id,
            "respondBy": now if listing.instant else respond_by(now, start, self.windows.respond),
        }, overrides, value=b.price if b.currency == ETHER else 0,
            token_delta=(b.currency, b.price), after=after)
        return booking

    def _accepted(self, booking: int) -> dict[str, Any]:
        b = self.bookings[booking]
        b.status = Status.ACCEPTED
        listing = self.listings[b.provider_id]
        listing.locked_until = stake_locked_until(listing.locked_until, b.start,
                                                  b.duration_minutes, self.windows)
        return {**self._ids(booking),
                "serviceBy": service_by(b.start, b.duration_minutes, self.windows.service_grace),
                "stakeLockedUntil": listing.locked_until}

    def accept(self, booking: int, **overrides: Any) -> str:
        """BookingAccepted."""
        return self.send("BookingAccepted", self._accepted(booking), overrides)

    def to_start(self, booking: int) -> None:
        """Let time pass until the booking's slot has started."""
        b = self.bookings[booking]
        if self.chain.now() < b.start:
            self.chain.advance(b.start - self.chain.now() + 1)

    def complete(self, booking: int, **overrides: Any) -> str:
        """BookingCompleted (call `to_start` first to respect the slot)."""
        self.bookings[booking].status = Status.COMPLETED
        return self.send("BookingCompleted", {
            **self._ids(booking), "confirmBy": confirm_by(self.chain.now(), self.windows.confirm)},
            overrides)

    def _count(self, listing: Listing, *, failure: bool) -> None:
        listing.completed, listing.failures = count_outcome(listing.completed, listing.failures,
                                                            failure=failure)

    def _rating(self, listing: Listing, b: Booking, stars: int) -> int:
        """Adds a rating at the booking's weight (the currency's minimum fee of now); returns
        the weight."""
        weight = rating_weight(b.fee, self.min_fees[b.currency])
        listing.rating_weight, listing.weighted_stars = add_rating(
            listing.rating_weight, listing.weighted_stars, stars, weight)
        return weight

    def _settled(self, booking: int, by: str | None) -> dict[str, Any]:
        b = self.bookings[booking]
        b.status = Status.SETTLED
        listing = self.listings[b.provider_id]
        payout, fee = settlement_split(b.price, b.fee)
        self._credit(listing.owner, payout, b.currency)
        self._fee(b.currency, fee)
        self._count(listing, failure=False)
        return {**self._ids(booking), "payout": payout, "fee": fee,
                "by": (by or b.customer).lower()}

    def confirm(self, booking: int, by: str | None = None, **overrides: Any) -> str:
        """BookingSettled (by the customer unless `by` is given): payout to the listing's
        owner, the booking's fee accrued."""
        return self.send("BookingSettled", self._settled(booking, by), overrides)

    def _rated(self, booking: int, stars: int, complaint_tags: int) -> dict[str, Any]:
        b = self.bookings[booking]
        listing = self.listings[b.provider_id]
        weight = self._rating(listing, b, stars)
        return {**self._ids(booking), "stars": stars, "complaintTags": complaint_tags,
                "weight": weight,
                "newScore": weighted_score(listing.rating_weight, listing.weighted_stars)}

    def rate(self, booking: int, stars: int = 5, complaint_tags: int = 0,
             **overrides: Any) -> str:
        """BookingRated with its weight and the listing's new score."""
        return self.send("BookingRated", self._rated(booking, stars, complaint_tags), overrides)

    def confirm_and_rate(self, booking: int, stars: int = 5, complaint_tags: int = 0,
                         **overrides: Any) -> str:
        """confirmAndRate: BookingSettled then BookingRated (the overrides' event) in one
        transaction."""
        settled = ("BookingSettled", self._settled(booking, None))
        return self.send("BookingRated", self._rated(booking, stars, complaint_tags), overrides,
                         before=[settled])

    def dispute(self, booking: int, bond: int | None = None, **overrides: Any) -> str:
        """BookingDisputed with the bond (the one in force unless given) paid in ether."""
        b = self.bookings[booking]
        b.status = Status.DISPUTED
        b.bond = self.dispute_bond if bond is None else bond
        return self.send("BookingDisputed", {
            **self._ids(booking), "bond": b.bond,
            "arbitrateBy": arbitrate_by(self.chain.now(), self.windows.arbitration)},
            overrides, value=b.bond)

    def resolve(self, booking: int, refund_bps: int, arbiter: str | None = None,
                slash: int | None = None, **overrides: Any) -> str:
        """DisputeResolved by the booking's arbiter (or `arbiter`); a provider who lost also
        pays the arbiter min(bond, stake) from its stake (or `slash`), StakeSlashed first."""
        b = self.bookings[booking]
        listing = self.listings[b.provider_id]
        who = (arbiter or self.arbiters[b.arbiter_id]).lower()
        ruling = resolve_dispute(b.price, b.fee, refund_bps, b.bond, listing.stake)
        self._credit(b.customer, ruling.refund, b.currency)
        self._credit(listing.owner, ruling.payout, b.currency)
        self._fee(b.currency, ruling.fee)
        self._credit(b.customer, ruling.bond_to_customer)
        self._credit(who, ruling.bond_to_arbiter)
        listing.completed, listing.failures = count_resolution(
            listing.completed, listing.failures, provider_lost=ruling.provider_lost)
        weight = self._rating(listing, b, LOST_DISPUTE_STARS) if ruling.provider_lost else 0
        pay = ruling.arbiter_from_stake if slash is None else slash
        slashed: list[Event] = []
        if pay:
            listing.stake -= pay
            self._credit(who, pay)
            slashed.append(("StakeSlashed", {"providerId": b.provider_id, "bookingId": booking,
                                             "to": who, "amount": pay}))
        b.status = Status.RESOLVED
        return self.send("DisputeResolved", {
            **self._ids(booking), "arbiter": who, "refundBps": refund_bps,
            "refund": ruling.refund, "payout": ruling.payout, "fee": ruling.fee, "bond": b.bond,
            "providerLost": ruling.provider_lost, "weight": weight}, overrides, before=slashed)

    def resolve_by_default(self, booking: int, **overrides: Any) -> str:
        """DisputeResolved after arbitrateBy: 50/50 of price - fee, the bond back, no arbiter."""
        b = self.bookings[booking]
        ruling = resolve_by_default(b.price, b.fee, b.bond)
        self._credit(b.customer, ruling.refund, b.currency)
        self._credit(self.listings[b.provider_id].owner, ruling.payout, b.currency)
        self._fee(b.currency, ruling.fee)
        self._credit(b.customer, ruling.bond_to_customer)
        b.status = Status.RESOLVED
        return self.send("DisputeResolved", {
            **self._ids(booking), "arbiter": ZERO, "refundBps": DEFAULT_REFUND_BPS,
            "refund": ruling.refund, "payout": ruling.payout, "fee": ruling.fee, "bond": b.bond,
            "providerLost": False, "weight": 0}, overrides)

    def cancel(self, booking: int, **overrides: Any) -> str:
        """BookingCancelled by the customer, split by the terms locked at booking."""
        b = self.bookings[booking]
        refund, compensation = cancellation_split(b.price, b.status, self.chain.now(), b.start,
                                                  b.terms)
        self._credit(b.customer, refund, b.currency)
        self._credit(self.listings[b.provider_id].owner, compensation, b.currency)
        b.status = Status.CANCELLED
        return self.send("BookingCancelled", {**self._ids(booking), "refund": refund,
                                              "compensation": compensation}, overrides)

    def decline(self, booking: int, **overrides: Any) -> str:
        """BookingDeclined: full refund; after acceptance a reliability failure."""
        b = self.bookings[booking]
        after = b.status is Status.ACCEPTED
        if after:
            self._count(self.listings[b.provider_id], failure=True)
        self._credit(b.customer, b.price, b.currency)
        b.status = Status.DECLINED
        return self.send("BookingDeclined", {**self._ids(booking), "refund": b.price,
                                             "afterAcceptance": after}, overrides)

    def expire(self, booking: int, slash: int | None = None, **overrides: Any) -> str:
        """BookingExpired (let the deadline pass first): full refund; a no-show is also a
        failure and moves SLASH_BPS of the stake (or `slash`) to the customer, StakeSlashed
        first."""
        b = self.bookings[booking]
        listing = self.listings[b.provider_id]
        no_show = b.status is Status.ACCEPTED
        self._credit(b.customer, b.price, b.currency)
        amount = no_show_slash(listing.stake) if no_show else 0
        amount = amount if slash is None else slash
        slashed: list[Event] = []
        if amount:
            listing.stake -= amount
            self._credit(b.customer, amount)
            slashed.append(("StakeSlashed", {"providerId": b.provider_id, "bookingId": booking,
                                             "to": b.customer, "amount": amount}))
        if no_show:
            self._count(listing, failure=True)
        b.status = Status.EXPIRED
        return self.send("BookingExpired", {**self._ids(booking), "refund": b.price,
                                            "noShow": no_show}, overrides, before=slashed)

    def lifecycle(self, customer: str, provider_id: int, stars: int | None = 5) -> int:
        """Book, accept (unless instant), complete from the start, confirm and rate (unless
        `stars` is None): a clean, settled booking."""
        booking = self.book(customer, provider_id)
        if not self.listings[provider_id].instant:
            self.accept(booking)
        self.to_start(booking)
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
