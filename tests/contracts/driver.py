"""The driver of the contract v2 behaviour tests (tests/contracts).

`V2` wraps the deployed Marketplace v2 in the project's `Market` binding (calls, transactions with
decoded `ContractRevert`s, events) and adds what the tests share: structs built by field name from
the ABI (so a field added to `ListingInput` cannot silently shift the others), time control on
anvil, the arrange helpers (register, criteria, book, drive a booking to a status), per-currency
solvency, and deployment of the test contracts (contracts/test/).

Deployment follows docs/contract-v2.md "Deployment": DemoUSD first, then the Marketplace with a
`Setup` naming one default arbiter, one attestor and DemoUSD as currency 1 with its minimum fee.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from web3 import Web3
from web3.types import RPCEndpoint, TxReceipt

from marketplace.artifacts import load_artifact
from marketplace.chain.market import Market
from marketplace.chain.revert import ContractRevert

ETH = 0
USD = 1
HOUR = 3_600
DAY = 86_400

# Deployment parameters: distinct windows, so a deadline computed from the wrong one cannot pass.
FEE_BPS = 250
MIN_STAKE = 10**17
DISPUTE_BOND = 10**16
MIN_FEE_ETH = 10**12
MIN_FEE_USD = 10_000  # 0.01 DemoUSD (6 decimals)
WINDOWS = {
    "respond": 1 * DAY,
    "serviceGrace": 2 * DAY,
    "confirm": 3 * DAY,
    "arbitration": 4 * DAY,
    "stakeCooldown": 6 * DAY,
}
CHANGE_DELAY = 2 * DAY
PRICE = 10**15 + 7  # odd, so every ceil and floor shows
PRICE_USD = 25_000_001  # 25 DemoUSD and a unit
CATEGORY = 1
METADATA = bytes.fromhex("11" * 32)
TX_GAS = 6_000_000

# Status and Criterion enums (docs/contract-v2.md); the contract's ABI carries only their numbers.
STATUS = [
    "None",
    "Requested",
    "Accepted",
    "Completed",
    "Settled",
    "Cancelled",
    "Declined",
    "Expired",
    "Disputed",
    "Resolved",
]
OPEN = {"Requested", "Accepted", "Completed", "Disputed"}
CRITERION = [
    "None",
    "ProviderInactive",
    "CriteriaNotSet",
    "Currency",
    "Region",
    "Blocked",
    "OwnerBlocked",
    "RequiredAttributes",
    "RefusedAttributes",
    "VerifiedAttributes",
    "MinScore",
    "TrackRecord",
    "Reliability",
    "MaxPrice",
]
CHANGE_KIND = [
    "FeeRate",
    "MinStake",
    "DisputeBond",
    "MinFee",
    "Arbiter",
    "DefaultArbiter",
    "Attestor",
    "Currency",
]


def _zero(param: Mapping[str, Any]) -> Any:
    kind = str(param["type"])
    if kind.endswith("]"):
        return []
    if kind == "bool":
        return False
    if kind == "address":
        return "0x" + "00" * 20
    if kind.startswith("bytes"):
        return b"\x00" * int(kind[5:]) if kind != "bytes" else b""
    if kind == "tuple":
        return tuple(_zero(c) for c in param["components"])
    return 0


def build_struct(param: Mapping[str, Any], fields: Mapping[str, Any]) -> tuple[Any, ...]:
    """A struct tuple for ABI `param` by field name; unnamed fields are zero, unknown ones fail."""
    names = [c["name"] for c in param["components"]]
    unknown = set(fields) - set(names)
    assert not unknown, f"{param.get('internalType')}: no fields {sorted(unknown)} (has {names})"
    return tuple(
        fields[c["name"]] if c["name"] in fields else _zero(c) for c in param["components"]
    )


class V2:
    """The deployed Marketplace v2 (a `Market` binding, wrapped rather than subclassed so the app's
    own helpers on Market never collide with these) plus the shared helpers of the tests."""

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]], roles: dict[str, str]):
        self.binding = Market(w3, address, abi)
        self.w3 = w3
        self.abi = self.binding.abi
        self.address = self.binding.address
        self.contract = self.binding.contract
        self.roles = roles
        self.accounts: list[str] = list(w3.eth.accounts)  # every account a ledger may hold
        self.tokens: dict[int, Market] = {}  # token currencies by id (DemoUSD is USD)

    def call(self, function: str, *args: Any) -> Any:
        """A view's value; a revert raises the decoded ContractRevert."""
        return self.binding.call(function, *args)

    def transact(self, function: str, *args: Any, sender: str, value: int = 0) -> TxReceipt:
        """A transaction from an unlocked account; a revert raises the decoded ContractRevert."""
        return self.binding.transact(function, *args, sender=sender, value=value)

    def events(self, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
        """The receipt's decoded `name` events."""
        return self.binding.events(name, receipt)

    def decode(self, exc: Exception) -> Exception:
        """The ContractRevert (or node error) behind a web3 exception."""
        return self.binding.decode(exc)

    @property
    def usd(self) -> Market:
        """The DemoUSD binding (currency 1)."""
        return self.tokens[USD]

    # ------------------------------------------------------------------ ABI

    def fn(self, name: str) -> dict[str, Any]:
        """The ABI entry of function `name` (the first, if overloaded)."""
        for entry in self.abi:
            if entry.get("type") == "function" and entry["name"] == name:
                return entry
        raise AssertionError(f"the ABI has no function {name}")

    def struct(self, function: str, index: int, **fields: Any) -> tuple[Any, ...]:
        """Argument `index` of `function` (a struct) built from `fields`."""
        return build_struct(self.fn(function)["inputs"][index], fields)

    def as_dict(self, function: str, *args: Any) -> dict[str, Any]:
        """A view returning one struct, as a dict by field name."""
        out = self.fn(function)["outputs"]
        value = self.call(function, *args)
        if len(out) == 1 and out[0]["type"] == "tuple":
            names = [c["name"] for c in out[0]["components"]]
            return dict(zip(names, value, strict=True))
        names = [o["name"] for o in out]
        return dict(zip(names, value, strict=True))

    def encode(self, function: str, *args: Any) -> bytes:
        """Calldata of `function(*args)` (for actors and the farm)."""
        data = self.contract.encode_abi(function, args=list(args))
        return bytes.fromhex(data[2:])

    # ------------------------------------------------------------------ transactions

    def tx(self, function: str, *args: Any, sender: str, value: int = 0) -> TxReceipt:
        """Send `function` from `sender`; a revert raises the decoded ContractRevert."""
        return self.transact(function, *args, sender=sender, value=value)

    def ev(self, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        """The receipt's `name` events, as dicts."""
        return self.events(name, receipt)

    def one(self, receipt: TxReceipt, name: str) -> dict[str, Any]:
        """The receipt's one `name` event."""
        found = self.events(name, receipt)
        assert len(found) == 1, f"expected one {name}, got {len(found)}"
        return found[0]

    @contextmanager
    def reverts(self, error: str, **args: Any) -> Iterator[pytest.ExceptionInfo[ContractRevert]]:
        """Expect a ContractRevert `error`; the named `args` must match (addresses any case)."""
        with pytest.raises(ContractRevert) as info:
            yield info
        assert info.value.error == error, info.value.message
        got = info.value.args_by_name
        for key, want in args.items():
            have = got.get(key)
            if isinstance(want, str) and isinstance(have, str):
                assert have.lower() == want.lower(), (key, info.value.message)
            else:
                assert have == want, (key, have, want, info.value.message)

    # ------------------------------------------------------------------ chain and time

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        """A raw JSON-RPC request; an error answer fails the test."""
        response = self.w3.provider.make_request(RPCEndpoint(method), params or [])
        assert "error" not in response, f"{method}{params}: {response['error']}"
        return response["result"]

    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def mine_at(self, timestamp: int) -> None:
        """Mine an empty block at exactly `timestamp`; the next transaction is at timestamp + 1."""
        self.rpc("evm_mine", [timestamp])

    def next_at(self, timestamp: int) -> None:
        """The next mined block (the next transaction) gets exactly `timestamp`."""
        self.rpc("evm_setNextBlockTimestamp", [timestamp])

    def at(
        self, timestamp: int, function: str, *args: Any, sender: str, value: int = 0
    ) -> TxReceipt:
        """Send `function` in a block mined at exactly `timestamp`.

        Gas estimation runs against the latest block, not the next one, so the transaction is sent
        with fixed gas; if it reverts on chain, the call is replayed at that very block (same state,
        same timestamp) to raise the decoded ContractRevert.
        """
        self.next_at(timestamp)
        fn = getattr(self.contract.functions, function)(*args)
        tx_hash = fn.transact({"from": sender, "value": value, "gas": TX_GAS})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.002)
        assert int(self.w3.eth.get_block(receipt["blockNumber"])["timestamp"]) == timestamp
        if receipt["status"] != 1:
            try:
                fn.call({"from": sender, "value": value}, block_identifier=receipt["blockNumber"])
            except Exception as exc:  # noqa: BLE001 - decoded below
                raise self.decode(exc) from exc
            raise AssertionError(f"{function} reverted on chain but its replay succeeded")
        return receipt

    def balance(self, account: str, currency: int = ETH) -> int:
        """`account`'s balance of `currency` (ether or the enabled token)."""
        if currency == ETH:
            return int(self.w3.eth.get_balance(Web3.to_checksum_address(account)))
        return int(self.tokens[currency].call("balanceOf", Web3.to_checksum_address(account)))

    # ------------------------------------------------------------------ views

    def listing(self, provider_id: int) -> dict[str, Any]:
        """getListing as a dict by field name."""
        return self.as_dict("getListing", provider_id)

    def booking(self, booking_id: int) -> dict[str, Any]:
        """getBooking as a dict by field name."""
        return self.as_dict("getBooking", booking_id)

    def status(self, booking_id: int) -> str:
        """The booking's status name."""
        return str(STATUS[self.booking(booking_id)["status"]])

    def credit(self, account: str, currency: int = ETH) -> int:
        """`account`'s withdrawable credit in `currency`."""
        return int(self.call("creditOf", Web3.to_checksum_address(account), currency))

    def fees(self, currency: int = ETH) -> int:
        """Accrued fees in `currency`."""
        return int(self.call("accruedFees", currency))

    def min_fee(self, currency: int = ETH) -> int:
        """The minimum fee of `currency`."""
        return int(self.call("minFee", currency))

    # ------------------------------------------------------------------ arrange

    def register(
        self, owner: str, *, stake: int = MIN_STAKE, currency: int = ETH, **fields: Any
    ) -> int:
        """Register a listing owned by `owner` (default: CATEGORY, PRICE or PRICE_USD, METADATA)."""
        merged: dict[str, Any] = {
            "category": CATEGORY,
            "currency": currency,
            "price": PRICE if currency == ETH else PRICE_USD,
            "metadataHash": METADATA,
        }
        merged.update(fields)
        receipt = self.tx(
            "register", self.struct("register", 0, **merged), sender=owner, value=stake
        )
        return int(self.one(receipt, "ListingRegistered")["providerId"])

    def listing_input(self, provider_id: int, **changes: Any) -> tuple[Any, ...]:
        """The listing's current ListingInput with `changes` (for updateListing)."""
        current = self.listing(provider_id)
        names = [c["name"] for c in self.fn("updateListing")["inputs"][1]["components"]]
        fields: dict[str, Any] = {name: current[name] for name in names if name in current}
        fields.setdefault("metadataHash", METADATA)  # carried by events, not stored
        fields.update(changes)
        return self.struct("updateListing", 1, **fields)

    def criteria_input(self, **fields: Any) -> tuple[Any, ...]:
        """A CriteriaInput: open criteria (category CATEGORY, ether, any price) but `fields`."""
        merged: dict[str, Any] = {
            "category": CATEGORY,
            "maxPrice": 2**88 - 1,
            "scoreWeight": 6_000,
            "priceWeight": 4_000,
        }
        merged.update(fields)
        return self.struct("setCriteria", 0, **merged)

    def set_criteria(self, customer: str, **fields: Any) -> int:
        """Write `customer`'s criteria; returns the new version."""
        receipt = self.tx("setCriteria", self.criteria_input(**fields), sender=customer)
        return int(self.one(receipt, "CriteriaSet")["version"])

    def criteria_version(self, customer: str, category: int = CATEGORY) -> int:
        """`customer`'s criteria version for `category` (0: none)."""
        return int(
            self.as_dict("getCriteria", Web3.to_checksum_address(customer), category)["version"]
        )

    def request(
        self,
        customer: str,
        provider_id: int,
        *,
        start: int | None = None,
        duration: int = 60,
        salt: int = 0,
        offer_version: int | None = None,
        criteria_version: int | None = None,
    ) -> tuple[Any, ...]:
        """A BookingRequest: open criteria set first if the customer has none for the category."""
        listing = self.listing(provider_id)
        if criteria_version is None:
            current = self.as_dict(
                "getCriteria", Web3.to_checksum_address(customer), listing["category"]
            )
            criteria_version = int(current["version"])
            if criteria_version == 0 or current["currency"] != listing["currency"]:
                # open criteria in the listing's currency (a test wanting others sets them itself)
                criteria_version = self.set_criteria(
                    customer, category=listing["category"], currency=listing["currency"]
                )
        return self.struct(
            "book",
            0,
            providerId=provider_id,
            start=self.now() + 2 * DAY if start is None else start,
            durationMinutes=duration,
            salt=salt,
            offerVersion=listing["offerVersion"] if offer_version is None else offer_version,
            criteriaVersion=criteria_version,
        )

    def fund(self, account: str, amount: int, currency: int = USD) -> None:
        """Mint `amount` of token `currency` to `account` and approve the marketplace for it."""
        token = self.tokens[currency]
        token.transact("mint", account, amount, sender=self.roles["owner"])
        token.transact("approve", self.address, 2**256 - 1, sender=account)

    def book_as(
        self, customer: str, provider_id: int, *, value: int | None = None, **request: Any
    ) -> int:
        """Book `provider_id` as `customer` (ether: the price sent; token: funded and approved)."""
        listing = self.listing(provider_id)
        req = self.request(customer, provider_id, **request)
        if listing["currency"] != ETH:
            self.fund(customer, listing["price"], listing["currency"])
            value = 0 if value is None else value
        receipt = self.tx(
            "book", req, sender=customer, value=listing["price"] if value is None else value
        )
        return int(self.one(receipt, "BookingRequested")["bookingId"])

    def owner_of(self, booking_id: int) -> str:
        """The owner of the booking's listing."""
        return str(self.listing(self.booking_id_parts(booking_id)["providerId"])["owner"])

    def booking_id_parts(self, booking_id: int) -> dict[str, Any]:
        """decodeBookingId as a dict."""
        return self.as_dict("decodeBookingId", booking_id)

    def drive(self, booking_id: int, status: str, *, refund_bps: int = 5_000) -> None:
        """Move a Requested (or instant Accepted) booking to `status` by the shortest legal path."""
        parts = self.booking_id_parts(booking_id)
        customer, owner = parts["customer"], self.owner_of(booking_id)
        current = self.status(booking_id)
        if status == current:
            return
        if status == "Cancelled":
            self.tx("cancel", booking_id, sender=customer)
            return
        if status == "Declined":
            self.tx("decline", booking_id, sender=owner)
            return
        if status == "Expired":
            self.mine_at(self.booking(booking_id)["deadline"] + 1)
            self.tx("expire", booking_id, sender=self.roles["stranger"])
            return
        if current == "Requested":
            self.tx("accept", booking_id, sender=owner)
        if status == "Accepted":
            return
        if status == "NoShow":
            self.mine_at(self.booking(booking_id)["deadline"] + 1)
            self.tx("expire", booking_id, sender=self.roles["stranger"])
            return
        start = int(parts["start"])
        if self.now() < start:
            self.mine_at(start)
        self.tx("complete", booking_id, sender=owner)
        if status == "Completed":
            return
        if status == "Settled":
            self.tx("confirm", booking_id, sender=customer)
            return
        self.tx("dispute", booking_id, sender=customer, value=int(self.call("disputeBond")))
        if status == "Resolved":
            self.tx("resolve", booking_id, refund_bps, sender=self.roles["arbiter"])

    def booking_in(
        self,
        status: str,
        customer: str,
        provider_id: int,
        *,
        refund_bps: int = 5_000,
        **request: Any,
    ) -> int:
        """A new booking of `provider_id` by `customer`, driven to `status`."""
        booking_id = self.book_as(customer, provider_id, **request)
        self.drive(booking_id, status, refund_bps=refund_bps)
        return booking_id

    # ------------------------------------------------------------------ invariants

    def solvency(
        self, booking_ids: list[int], provider_ids: list[int]
    ) -> dict[int, dict[str, int]]:
        """Per currency: balance == escrow of open bookings + credits + fees (+ stakes + bonds in
        ether). `booking_ids`/`provider_ids` are every booking and listing the test made."""
        result: dict[int, dict[str, int]] = {}
        currencies = [ETH, *self.tokens]
        for currency in currencies:
            escrow = sum(
                b["price"]
                for b in (self.booking(i) for i in booking_ids)
                if STATUS[b["status"]] in OPEN and b["currency"] == currency
            )
            parts = {
                "escrow": escrow,
                "credits": sum(self.credit(a, currency) for a in self.accounts),
                "fees": self.fees(currency),
            }
            if currency == ETH:
                parts["stakes"] = sum(self.listing(p)["stake"] for p in provider_ids)
                parts["bonds"] = sum(int(self.call("disputeBondOf", i)) for i in booking_ids)
            held = self.balance(self.address, currency)
            assert held == sum(parts.values()), f"currency {currency}: {held} != {parts}"
            result[currency] = parts
        return result

    # ------------------------------------------------------------------ test contracts

    def deploy(self, contract: str, *args: Any, sender: str, value: int = 0) -> Market:
        """Deploy a test contract (contracts/test/); its binding decodes the market's errors too."""
        artifact = load_artifact(contract)
        factory = self.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        tx_hash = factory.constructor(*args).transact({"from": sender, "value": value})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, f"deploying {contract} failed"
        errors = [e for e in self.abi if e.get("type") == "error"]
        names = {e["name"] for e in artifact["abi"] if e.get("type") == "error"}
        abi = artifact["abi"] + [e for e in errors if e["name"] not in names]
        binding = Market(self.w3, str(receipt["contractAddress"]), abi)
        self.accounts.append(binding.address)
        return binding
