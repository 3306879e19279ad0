"""Craft marketplace histories: raw logs of any event, an in-memory chain, a model of the contract.

For tests and what-if analyses of the auditor, without a node:

- `LogCrafter` encodes any marketplace event (by name, with any arguments, legal or not) into the
  topics and data of a raw log, exactly as the contract would emit it.
- `CraftedChain` is an in-memory chain that answers the JSON-RPC calls the auditor makes
  (`eth_chainId`, `eth_blockNumber`, `eth_getCode`, `eth_getLogs`, `eth_getBalance`,
  `eth_getBlockByNumber`), with one transaction per block and a balance per block.
- `CraftedMarket` drives a sink (a `CraftedChain`, or a forging contract on a real node) through
  the contract's rules: every method emits what the real contract would, with the right amounts,
  scores, versions and deadlines, and moves the ether the contract would move. Keyword overrides
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

from marketplace import domain as _v1  # CraftedMarket below still models contract v1
from marketplace.chain.rpc import NodeRefused, RpcError
from marketplace.domain import DEFAULT_REFUND_BPS, LOST_DISPUTE_STARS, lost_dispute

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
        from marketplace.artifacts import load_artifact

        return cls(load_artifact("Marketplace")["abi"])

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
    active: bool = True
    count: int = 0
    total: int = 0


@dataclass
class _Booking:
    customer: str
    provider_id: int
    price: int
    fee_bps: int
    deadline: int = 0


class CraftedMarket:
    """Emits what the real contract would, through a sink; `**overrides` replace event args."""

    respond = DAY
    service = 7 * DAY
    confirm_window = 3 * DAY
    arbitration = 7 * DAY
    cooldown = 7 * DAY

    def __init__(self, sink: Sink, owner: str, fee_bps: int = 250, min_stake: int = 10**15,
                 constructor: bool = True) -> None:
        self.sink = sink
        self.owner = owner.lower()
        self.fee_bps = fee_bps
        self.min_stake = min_stake
        self.providers: dict[int, _Provider] = {}
        self.bookings: dict[int, _Booking] = {}
        self.versions: dict[str, int] = {}
        self.category_versions: dict[tuple[str, int], int] = {}
        self.counts: dict[str, int] = {}
        self.credits: dict[str, int] = {}
        self.fees = 0
        if constructor:
            self.sink.send([
                ("OwnershipTransferred", {"previousOwner": ZERO, "newOwner": self.owner}),
                ("FeeRateChanged", {"previousFeeBps": 0, "newFeeBps": fee_bps}),
                ("MinStakeChanged", {"previousMinStake": 0, "newMinStake": min_stake}),
            ])

    def _send(self, name: str, args: dict[str, Any], overrides: Mapping[str, Any],
              value: int = 0, pay_to: str = ZERO, pay_amount: int = 0) -> str:
        extra = dict(overrides)
        value = int(extra.pop("value", value))
        return self.sink.send([(name, {**args, **extra})], value, pay_to, pay_amount)

    def _credit(self, account: str, amount: int) -> None:
        self.credits[account] = self.credits.get(account, 0) + amount

    # ------------------------------------------------------------ operator

    def set_fee(self, fee_bps: int, **overrides: Any) -> str:
        """FeeRateChanged (the model does not enforce the cap: pass anything)."""
        tx = self._send("FeeRateChanged", {"previousFeeBps": self.fee_bps, "newFeeBps": fee_bps},
                        overrides)
        self.fee_bps = fee_bps
        return tx

    def set_arbiter(self, arbiter: str, allowed: bool = True) -> str:
        """ArbiterChanged."""
        return self._send("ArbiterChanged", {"arbiter": arbiter.lower(), "allowed": allowed}, {})

    def pause(self, paused: bool = True) -> str:
        """PauseChanged."""
        return self._send("PauseChanged", {"paused": paused, "by": self.owner}, {})

    def collect_fees(self, to: str, amount: int | None = None, **overrides: Any) -> str:
        """FeesCollected: accrued fees become `to`'s credit."""
        amount = self.fees if amount is None else amount
        self.fees -= amount
        self._credit(to.lower(), amount)
        return self._send("FeesCollected", {"to": to.lower(), "amount": amount}, overrides)

    def withdraw(self, account: str, amount: int | None = None, **overrides: Any) -> str:
        """Withdrawn: the account's whole credit leaves the contract."""
        account = account.lower()
        amount = self.credits.get(account, 0) if amount is None else amount
        self.credits[account] = self.credits.get(account, 0) - amount
        return self._send("Withdrawn", {"account": account, "to": account, "amount": amount},
                          overrides, pay_to=account, pay_amount=amount)

    # ------------------------------------------------------------ providers

    def register(self, owner: str, category: int = 1, region: int = 1, attributes: int = 0,
                 price: int = 10**16, stake: int | None = None, **overrides: Any) -> int:
        """ProviderRegistered with the stake sent; returns the provider id."""
        provider_id = len(self.providers) + 1
        stake = self.min_stake if stake is None else stake
        self.providers[provider_id] = _Provider(owner.lower(), category, price, stake, region,
                                                attributes)
        self._send("ProviderRegistered", {
            "providerId": provider_id, "owner": owner.lower(), "category": category,
            "region": region, "attributes": attributes, "price": price, "stake": stake,
            "metadataHash": "0x" + format(provider_id, "064x"),
        }, overrides, value=stake)
        return provider_id

    def update_provider(self, provider_id: int, price: int | None = None,
                        region: int | None = None, attributes: int | None = None) -> str:
        """ProviderUpdated."""
        p = self.providers[provider_id]
        p.price = p.price if price is None else price
        p.region = p.region if region is None else region
        p.attributes = p.attributes if attributes is None else attributes
        return self._send("ProviderUpdated", {
            "providerId": provider_id, "region": p.region, "attributes": p.attributes,
            "price": p.price, "metadataHash": "0x" + "ab" * 32,
        }, {})

    def deactivate(self, provider_id: int) -> str:
        """ProviderDeactivated."""
        self.providers[provider_id].active = False
        return self._send("ProviderDeactivated", {
            "providerId": provider_id, "stakeUnlockAt": self.sink.now() + self.cooldown}, {})

    def release_stake(self, provider_id: int, **overrides: Any) -> str:
        """StakeReleased: the stake becomes the owner's credit."""
        p = self.providers[provider_id]
        amount, p.stake = p.stake, 0
        self._credit(p.owner, amount)
        return self._send("StakeReleased", {
            "providerId": provider_id, "owner": p.owner, "amount": amount}, overrides)

    # ------------------------------------------------------------ criteria

    def _version(self, customer: str) -> int:
        self.versions[customer] = self.versions.get(customer, 0) + 1
        return self.versions[customer]

    def set_criteria(self, customer: str, category: int = 1, region: int = 0, min_score: int = 0,
                     max_price: int = 10**17, premium_per_star: int = 0, required: int = 0,
                     refused: int = 0, **overrides: Any) -> int:
        """CriteriaSet; returns the customer's new version."""
        customer = customer.lower()
        version = self._version(customer)
        self.category_versions[(customer, category)] = version
        self._send("CriteriaSet", {
            "customer": customer, "category": category, "version": version,
            "criteria": {
                "category": category, "region": region, "minScore": min_score,
                "maxPrice": max_price, "premiumPerStar": premium_per_star,
                "requiredAttributes": required, "refusedAttributes": refused,
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

    # ------------------------------------------------------------ bookings

    def _ids(self, booking: int) -> dict[str, Any]:
        b = self.bookings[booking]
        return {"bookingId": booking, "customer": b.customer, "providerId": b.provider_id}

    def book(self, customer: str, provider_id: int, version: int | None = None,
             **overrides: Any) -> int:
        """BookingRequested with the price escrowed; returns the booking id."""
        customer = customer.lower()
        p = self.providers[provider_id]
        n = self.counts[customer] = self.counts.get(customer, 0) + 1
        booking = _v1.booking_id(customer, n)  # type: ignore[call-arg]
        price = int(overrides.get("price", p.price))
        fee_bps = int(overrides.get("feeBps", self.fee_bps))
        b = self.bookings[booking] = _Booking(customer, provider_id, price, fee_bps,
                                              self.sink.now() + self.respond)
        self._send("BookingRequested", {
            **self._ids(booking), "price": price, "feeBps": fee_bps,
            "criteriaVersion": self.category_versions.get((customer, p.category), 0)
            if version is None
            else version,
            "respondBy": b.deadline,
        }, overrides, value=price)
        return booking

    def accept(self, booking: int, **overrides: Any) -> str:
        """BookingAccepted."""
        b = self.bookings[booking]
        b.deadline = self.sink.now() + self.service
        return self._send("BookingAccepted", {**self._ids(booking), "serviceBy": b.deadline},
                          overrides)

    def complete(self, booking: int, **overrides: Any) -> str:
        """BookingCompleted."""
        b = self.bookings[booking]
        b.deadline = self.sink.now() + self.confirm_window
        return self._send("BookingCompleted", {**self._ids(booking), "confirmBy": b.deadline},
                          overrides)

    def confirm(self, booking: int, by: str | None = None, **overrides: Any) -> str:
        """BookingSettled: payout to the provider's owner, the snapshotted fee accrued."""
        b = self.bookings[booking]
        fee = int(overrides.get("fee", _v1.settlement_fee(b.price, b.fee_bps)))  # type: ignore[attr-defined,arg-type]
        payout = int(overrides.get("payout", b.price - fee))
        self._credit(self.providers[b.provider_id].owner, payout)
        self.fees += fee
        return self._send("BookingSettled", {
            **self._ids(booking), "payout": payout, "fee": fee,
            "by": (by or b.customer).lower()}, overrides)

    def dispute(self, booking: int) -> str:
        """BookingDisputed."""
        b = self.bookings[booking]
        b.deadline = self.sink.now() + self.arbitration
        return self._send("BookingDisputed", {**self._ids(booking), "arbitrateBy": b.deadline}, {})

    def resolve(self, booking: int, arbiter: str = ZERO, refund_bps: int = DEFAULT_REFUND_BPS,
                **overrides: Any) -> str:
        """DisputeResolved (arbiter ZERO: the default split)."""
        b = self.bookings[booking]
        refund, payout, fee = _v1.resolution_split(b.price, refund_bps, b.fee_bps)
        p = self.providers[b.provider_id]
        self._credit(b.customer, refund)
        self._credit(p.owner, payout)
        self.fees += fee
        if lost_dispute(refund_bps):
            p.count += 1
            p.total += LOST_DISPUTE_STARS
        return self._send("DisputeResolved", {
            **self._ids(booking), "arbiter": arbiter.lower(), "refundBps": refund_bps,
            "refund": refund, "payout": payout, "fee": fee}, overrides)

    def _refund(self, name: str, booking: int, overrides: Mapping[str, Any]) -> str:
        b = self.bookings[booking]
        self._credit(b.customer, b.price)
        return self._send(name, {**self._ids(booking), "refund": b.price}, overrides)

    def cancel(self, booking: int, **overrides: Any) -> str:
        """BookingCancelled: full refund."""
        return self._refund("BookingCancelled", booking, overrides)

    def decline(self, booking: int, **overrides: Any) -> str:
        """BookingDeclined: full refund."""
        return self._refund("BookingDeclined", booking, overrides)

    def expire(self, booking: int, **overrides: Any) -> str:
        """BookingExpired: full refund (let the deadline pass first)."""
        return self._refund("BookingExpired", booking, overrides)

    def rate(self, booking: int, stars: int = 5, **overrides: Any) -> str:
        """BookingRated with the provider's new score."""
        b = self.bookings[booking]
        p = self.providers[b.provider_id]
        p.count += 1
        p.total += stars
        return self._send("BookingRated", {
            **self._ids(booking), "stars": stars, "complaintTags": 0,
            "newScore": _v1.bayesian_score(p.count, p.total)},  # type: ignore[attr-defined]
            overrides)

    def lifecycle(self, customer: str, provider_id: int, stars: int | None = 5) -> int:
        """Book, accept, complete, confirm (and rate): a clean, settled booking."""
        booking = self.book(customer, provider_id)
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
