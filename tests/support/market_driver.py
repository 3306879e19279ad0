"""The driver of the Marketplace contract behaviour tests (tests/contracts).

`MarketDriver` is the project's `Market` binding (same `call`/`transact`/`events`, reverts raised
as its decoded `ContractRevert`) plus the small arrange/act/assert helpers the tests share:
register, set_criteria, book, booking_in, drive, exact-timestamp actions, event and revert
assertions, the solvency check. `Actor` is a test-only contract acting for a controller.

Speed: web3's contract pipeline costs ~10 ms of Python per transaction; `MarketDriver` sends the
Marketplace's own calls and transactions as raw JSON-RPC (ABI-encoded with eth_abi, simulated
before sending exactly like `Market.transact`), which keeps several hundred tests well under a
minute. Deployment goes through `deploy_marketplace`, and the attacker contracts through plain
`Market` bindings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import RPCEndpoint, TxReceipt

from marketplace.artifacts import load_artifact
from marketplace.chain.deploy import DeployParams, deploy_marketplace, fund_dev_accounts
from marketplace.chain.market import Binding, BookingRequest, ListingInput
from marketplace.chain.revert import ContractRevert
from marketplace.chain.token import Token
from marketplace.domain import ETHER, OPEN_STATUSES, Status, weighted_score

FEE_BPS = 250
MIN_STAKE = 10**16
MIN_FEE = 10**12  # ether bookings: a minimum-fee rating weighs 1,000
DISPUTE_BOND = 3 * 10**15
PRICE = 10**15 + 7  # odd, so every fee and split rounds somewhere
TOKEN_MIN_FEE = 10_000  # DemoUSD (6 decimals): 0.01 dUSD
TOKEN_PRICE = 20 * 10**6 + 7
TOKEN_FUNDS = 10**6 * 10**6  # DemoUSD minted to every known account
CATEGORY = 1
METADATA = bytes.fromhex("11" * 32)
DURATION = 90  # minutes of a default slot
LEAD = 3 * 86_400  # a default slot starts this long after the booking
# Distinct windows, so a deadline computed from the wrong window cannot pass by coincidence.
WINDOWS = {
    "respond": 1 * 86_400,
    "serviceGrace": 2 * 3_600,
    "confirm": 3 * 86_400,
    "arbitration": 4 * 86_400,
    "stakeCooldown": 6 * 86_400,
}
CHANGE_DELAY = 2 * 86_400
TX_GAS = 3_000_000  # gas limit of every test transaction (none needs a tenth of it)
GAS_PRICE = 2 * 10**9  # legacy gas price: anvil's base fee starts at 1 gwei and only falls here
ROLES = ("owner", "provider", "customer", "other_customer", "arbiter", "stranger",
         "other_provider", "treasury", "attestor")
"""anvil's dev accounts by role, in account order (`roles_of`)."""

# Criteria that `provider`'s default listing meets: any region, ether, no minimum.
OPEN_CRITERIA: dict[str, int] = {
    "category": CATEGORY,
    "region": 0,
    "currency": ETHER,
    "minScore": 0,
    "maxPrice": 10**18,
    "premiumPerStar": 0,
    "requiredAttributes": 0,
    "refusedAttributes": 0,
    "verifiedAttributes": 0,
    "trustedAttestors": 0,
    "minRatingWeight": 0,
    "minReliability": 0,
    "scoreWeight": 6_000,
    "priceWeight": 4_000,
}
CRITERIA_FIELDS = tuple(OPEN_CRITERIA)


def score(rating_weight: int, weighted_stars: int) -> int:
    """Score.sol's formula (`marketplace.domain.weighted_score`)."""
    return weighted_score(rating_weight, weighted_stars)


def roles_of(accounts: list[str]) -> dict[str, str]:
    """The accounts by role name (ROLES order)."""
    return dict(zip(ROLES, accounts, strict=False))


def driver_params(roles: dict[str, str], **overrides: Any) -> DeployParams:
    """The Setup of the tests' deployment: the module's constants, `arbiter` named and made
    default, `attestor` named; the demo token is deployed and enabled as currency 1."""
    fields: dict[str, Any] = {
        "fee_bps": FEE_BPS,
        "min_stake": MIN_STAKE,
        "dispute_bond": DISPUTE_BOND,
        "min_fee": MIN_FEE,
        "respond_window": WINDOWS["respond"],
        "service_grace": WINDOWS["serviceGrace"],
        "confirm_window": WINDOWS["confirm"],
        "arbitration_window": WINDOWS["arbitration"],
        "stake_cooldown": WINDOWS["stakeCooldown"],
        "change_delay": CHANGE_DELAY,
        "owner": roles["owner"],
        "arbiter": roles.get("arbiter"),
        "attestor": roles.get("attestor"),
        "demo_token": True,
        "token_min_fee": TOKEN_MIN_FEE,
    }
    fields.update(overrides)
    return DeployParams(**fields)


def deploy_driver(w3: Web3, roles: dict[str, str], **overrides: Any) -> MarketDriver:
    """Deploy (DemoUSD first) from `owner`, fund every role with DemoUSD, and wrap the
    marketplace in a MarketDriver."""
    params = driver_params(roles, **overrides)
    market, deployment = deploy_marketplace(w3, params, deployer=roles["owner"], record=False)
    driver = MarketDriver(w3, deployment.address, market.abi, roles)
    if deployment.currencies:
        token = str(deployment.currencies[0]["token"])
        fund_dev_accounts(w3, token, list(w3.eth.accounts), TOKEN_FUNDS, minter=roles["owner"])
        driver.token = Token(w3, token, load_artifact("DemoUSD")["abi"])
    return driver


def _normalise(value: Any) -> Any:
    """Addresses compare case-insensitively (eth_abi decodes them lower-case)."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    return value


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){param['type'][5:]}"
    return str(param["type"])


def _formatted(value: Any, param: dict[str, Any]) -> Any:
    """A decoded value as web3 returns it: addresses checksummed, structs as tuples."""
    if param["type"] == "address":
        return Web3.to_checksum_address(value)
    if param["type"] == "tuple":
        return tuple(_formatted(v, c) for v, c in zip(value, param["components"], strict=True))
    return value


class RawCodec:
    """ABI-encodes calls and decodes results of the contract's (non-overloaded) functions.

    web3's contract-function pipeline spends milliseconds of Python per call or transaction, and a
    suite of several thousand of them must stay fast; this does the same encoding with eth_abi.
    Results are formatted as web3 returns them: addresses checksummed, a struct as a tuple.
    """

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self.functions: dict[
            str, tuple[bytes, list[str], list[str], list[dict[str, Any]], bool]
        ] = {}
        names = [e["name"] for e in abi if e.get("type") == "function"]
        for entry in abi:
            if entry.get("type") != "function" or names.count(entry["name"]) > 1:
                continue  # overloaded names are left to web3
            inputs = [_abi_type(i) for i in entry["inputs"]]
            selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(inputs)})")
            outputs = [_abi_type(o) for o in entry["outputs"]]
            is_view = entry["stateMutability"] in ("view", "pure")
            self.functions[entry["name"]] = (selector, inputs, outputs, entry["outputs"], is_view)

    def handles(self, function: str, *, view: bool) -> bool:
        """Whether `function` is a known, non-overloaded view (or non-view) function."""
        spec = self.functions.get(function)
        return spec is not None and spec[4] == view

    def encode(self, function: str, args: tuple[Any, ...]) -> str:
        """Calldata of `function(*args)` as 0x-hex."""
        selector, inputs, *_ = self.functions[function]
        return "0x" + (selector + abi_encode(inputs, list(args))).hex()

    def decode(self, function: str, result: str) -> Any:
        """The return value of `function` from raw 0x-hex output."""
        _, _, outputs, params, _ = self.functions[function]
        values = abi_decode(outputs, bytes.fromhex(result[2:]))
        formatted = [_formatted(v, p) for v, p in zip(values, params, strict=True)]
        return formatted[0] if len(formatted) == 1 else formatted


def _plain(value: Any) -> Any:
    """AttributeDicts (decoded structs) as plain dicts, recursively."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Actor:
    """A test-only contract account (contracts/test/) acting on the marketplace for `controller`."""

    def __init__(self, market: MarketDriver, binding: Binding, controller: str) -> None:
        self.market = market
        self.binding = binding
        self.address = binding.address
        self.controller = controller
        self.listing = 0  # the provider id it registered, once a test has it register one

    def act(self, function: str, *args: Any, value: int = 0) -> TxReceipt:
        """Call marketplace `function` from this contract; a revert raises the decoded error."""
        data = self.market.codec.encode(function, args)
        return self.binding.transact("execute", data, sender=self.controller, value=value)

    def call(self, function: str, *args: Any) -> Any:
        """Read one of the actor's own views."""
        return self.binding.call(function, *args)


class MarketDriver(Binding):
    """The deployed Marketplace plus the shared arrange/act/assert helpers of the tests.

    The deployment's parameters are attributes, so test modules need not import this module.
    """

    FEE_BPS = FEE_BPS
    MIN_STAKE = MIN_STAKE
    MIN_FEE = MIN_FEE
    DISPUTE_BOND = DISPUTE_BOND
    PRICE = PRICE
    TOKEN_PRICE = TOKEN_PRICE
    TOKEN_MIN_FEE = TOKEN_MIN_FEE
    CATEGORY = CATEGORY
    METADATA = METADATA
    DURATION = DURATION
    LEAD = LEAD
    WINDOWS = WINDOWS
    CHANGE_DELAY = CHANGE_DELAY
    OPEN_CRITERIA = OPEN_CRITERIA
    score = staticmethod(score)

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]], roles: dict[str, str]):
        super().__init__(w3, address, abi)
        self.roles = roles
        self.codec = RawCodec(self.abi)
        self.known_accounts: list[str] = list(w3.eth.accounts)
        self.token: Token | None = None  # DemoUSD, currency 1, when deployed with it
        self._salts: dict[str, int] = {}

    def call(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        """Market.call through a raw eth_call: same values, same ContractRevert."""
        if not self.codec.handles(function, view=True):
            return super().call(function, *args, block=block)
        tx = {"to": self.address, "data": self.codec.encode(function, args)}
        tag = block if isinstance(block, str) else hex(block)
        return self.codec.decode(function, self._eth_call(tx, tag))

    def transact(
        self, function: str, *args: Any, sender: Any, value: int = 0, gas: int | None = None
    ) -> TxReceipt:
        """Market.transact through raw JSON-RPC: simulated first at the latest block, so a revert
        raises the decoded ContractRevert and mines nothing, then sent from the unlocked account."""
        if not isinstance(sender, str) or not self.codec.handles(function, view=False):
            return super().transact(function, *args, sender=sender, value=value, gas=gas)
        tx = {
            "from": sender,
            "to": self.address,
            "data": self.codec.encode(function, args),
            "value": hex(value),
            "gas": hex(gas or TX_GAS),
            "gasPrice": hex(GAS_PRICE),
        }
        self._eth_call(tx, "latest")
        tx_hash = self.rpc("eth_sendTransaction", [tx])
        # anvil may answer before it has mined the block: poll briefly, not web3's 0.1 s.
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.002)
        if receipt["status"] != 1:
            raise ContractRevert("Reverted", {}, f"transaction {tx_hash} reverted on chain")
        return receipt

    def _eth_call(self, tx: dict[str, Any], block: str) -> str:
        response = self.w3.provider.make_request(RPCEndpoint("eth_call"), [tx, block])
        if "error" in response:
            error = response["error"]
            raise self.decoder.decode(error.get("data") if isinstance(error, dict) else None)
        return str(response["result"])

    # ------------------------------------------------------------------ chain and time

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        """A raw JSON-RPC request; an error answer fails the test."""
        response = self.w3.provider.make_request(RPCEndpoint(method), params or [])
        assert "error" not in response, f"{method}{params}: {response['error']}"
        return response["result"]

    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def timestamp_of(self, receipt: TxReceipt) -> int:
        """Timestamp of the block that mined `receipt`."""
        return int(self.w3.eth.get_block(receipt["blockNumber"])["timestamp"])

    def mine_at(self, timestamp: int) -> None:
        """Mine an empty block at exactly `timestamp` (calls and estimates then see it)."""
        self.rpc("evm_mine", [timestamp])
        assert self.now() == timestamp

    def at(
        self, timestamp: int, function: str, *args: Any, sender: str, value: int = 0
    ) -> TxReceipt:
        """Send `function` in a block mined at exactly `timestamp`.

        Gas estimation runs against the latest block, not the next one, so the transaction is sent
        with fixed gas; if it reverts on chain, the call is replayed at that very block (same state,
        same timestamp) to raise the decoded ContractRevert.
        """
        self.rpc("evm_setNextBlockTimestamp", [timestamp])
        fn = getattr(self.contract.functions, function)(*args)
        tx_hash = fn.transact({"from": sender, "value": value, "gas": TX_GAS})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.002)
        assert self.timestamp_of(receipt) == timestamp
        if receipt["status"] != 1:
            try:
                fn.call({"from": sender, "value": value}, block_identifier=receipt["blockNumber"])
            except ContractLogicError as exc:
                raise self.decode(exc) from exc
            raise AssertionError(f"{function} reverted on chain but its replay succeeded")
        return receipt

    # ------------------------------------------------------------------ assertions

    @contextmanager
    def reverts(self, error: str, **args: Any) -> Iterator[pytest.ExceptionInfo[ContractRevert]]:
        """Expect a ContractRevert with custom error `error` and exactly the arguments `args`."""
        with pytest.raises(ContractRevert) as info:
            yield info
        assert info.value.error == error, info.value.message
        got = {k: _normalise(v) for k, v in info.value.args_by_name.items()}
        assert got == {k: _normalise(v) for k, v in args.items()}, info.value.message

    def only_event(self, receipt: TxReceipt, name: str) -> dict[str, Any]:
        """The arguments of the receipt's one and only log, which must be a `name` event."""
        assert len(receipt["logs"]) == 1, f"expected one log, got {len(receipt['logs'])}"
        events = self.events(name, receipt)
        assert len(events) == 1, f"the log is not a {name} event"
        plain: dict[str, Any] = _plain(events[0])
        return plain

    def booking_ids(self) -> list[int]:
        """Every booking id the chain has seen (its BookingRequested logs)."""
        topic = self.contract.events.BookingRequested().topic
        logs = self.w3.eth.get_logs(
            {"address": self.address, "fromBlock": 0, "toBlock": "latest", "topics": [topic]}
        )
        return [int.from_bytes(bytes(log["topics"][1]), "big") for log in logs]

    def assert_solvent(self) -> dict[str, int]:
        """Invariant 1, per currency: the ether balance == open ether escrows + ether credits of
        every known account + ether fees + stakes + open dispute bonds; the token balance ==
        open token escrows + token credits + token fees. Returns the ether parts."""
        escrow: dict[int, int] = {}
        bonds = 0
        for booking_id in self.booking_ids():
            booking = self.booking(booking_id)
            if Status(booking["status"]) in OPEN_STATUSES:
                currency = int(booking["currency"])
                escrow[currency] = escrow.get(currency, 0) + int(booking["price"])
            if Status(booking["status"]) is Status.DISPUTED:
                bonds += int(self.call("disputeBondOf", booking_id))
        stakes = sum(self.listing(i)["stake"] for i in range(1, self.call("providerCount") + 1))
        parts = {
            "escrow": escrow.get(ETHER, 0),
            "credits": sum(self.credit(a) for a in self.known_accounts),
            "fees": int(self.call("accruedFees", ETHER)),
            "stakes": stakes,
            "bonds": bonds,
        }
        balance = self.w3.eth.get_balance(self.address)
        assert balance == sum(parts.values()), f"balance {balance} != {parts}"
        if self.token is not None:
            token_parts = {
                "escrow": escrow.get(1, 0),
                "credits": sum(self.credit(a, 1) for a in self.known_accounts),
                "fees": int(self.call("accruedFees", 1)),
            }
            held = self.token.balance_of(self.address)
            assert held == sum(token_parts.values()), f"token {held} != {token_parts}"
        return parts

    # ------------------------------------------------------------------ views as dicts

    def _struct(self, function: str, *args: Any) -> dict[str, Any]:
        struct = self.codec.functions[function][3][0]
        names = [component["name"] for component in struct["components"]]
        return dict(zip(names, self.call(function, *args), strict=True))

    def booking(self, booking_id: int) -> dict[str, Any]:
        """getBooking as a dict by field name."""
        return self._struct("getBooking", booking_id)

    def listing(self, provider_id: int) -> dict[str, Any]:
        """getListing as a dict by field name."""
        return self._struct("getListing", provider_id)

    def criteria(self, customer: str, category: int = CATEGORY) -> dict[str, Any]:
        """getCriteria as a dict by field name."""
        return self._struct("getCriteria", customer, category)

    def status(self, booking_id: int) -> Status:
        """The booking's status."""
        return Status(self.booking(booking_id)["status"])

    def credit(self, account: str, currency: int = ETHER) -> int:
        """The account's withdrawable credit in `currency`."""
        return int(self.call("creditOf", account, currency))

    def balance(self, account: str) -> int:
        """Ether balance of `account`."""
        return int(self.w3.eth.get_balance(Web3.to_checksum_address(account)))

    @staticmethod
    def gas_cost(receipt: TxReceipt) -> int:
        """Wei the sender paid for `receipt`'s gas."""
        return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])

    # ------------------------------------------------------------------ arrange: flows

    def register(
        self,
        owner: str,
        *,
        category: int = CATEGORY,
        region: int = 0,
        attributes: int = 0,
        price: int | None = None,
        stake: int = MIN_STAKE,
        metadata: bytes = METADATA,
        currency: int = ETHER,
        instant: bool = False,
        free_cancel_hours: int = 0,
        late_cancel_pct: int = 0,
    ) -> int:
        """Register a listing owned by `owner` (price: PRICE in ether, TOKEN_PRICE in a token);
        returns its id."""
        if price is None:
            price = PRICE if currency == ETHER else TOKEN_PRICE
        listing = ListingInput(category, region, attributes, currency, price, metadata, instant,
                               free_cancel_hours, late_cancel_pct)
        receipt = self.transact("register", listing.as_tuple(), sender=owner, value=stake)
        return int(self.events("ListingRegistered", receipt)[0]["providerId"])

    def set_criteria(self, customer: str, **fields: int) -> int:
        """Write `customer`'s criteria (OPEN_CRITERIA but `fields`); returns the version."""
        receipt = self.transact("setCriteria", self.criteria_input(**fields), sender=customer)
        return int(self.events("CriteriaSet", receipt)[0]["version"])

    @staticmethod
    def criteria_input(**fields: int) -> tuple[int, ...]:
        """A CriteriaInput tuple: OPEN_CRITERIA overridden by `fields`."""
        unknown = set(fields) - set(OPEN_CRITERIA)
        assert not unknown, f"unknown criteria fields {unknown}"
        merged = {**OPEN_CRITERIA, **fields}
        return tuple(merged[name] for name in CRITERIA_FIELDS)

    def request(
        self,
        customer: str,
        provider_id: int,
        *,
        start: int | None = None,
        duration: int = DURATION,
        salt: int | None = None,
        listing: dict[str, Any] | None = None,
    ) -> BookingRequest:
        """A BookingRequest at the listing's offer version and the customer's criteria version
        of its category (open criteria in the listing's currency are set first if there are
        none); the slot starts LEAD after the latest block unless given; the salt, unless
        given, is the driver's next one for the customer (so default slots never collide)."""
        if salt is None:
            salt = self._salts[customer.lower()] = (self._salts.get(customer.lower(), -1) + 1) % 256
        listing = listing or self.listing(provider_id)
        version = self.criteria(customer, listing["category"])["version"]
        if version == 0:
            version = self.set_criteria(
                customer, category=listing["category"], currency=listing["currency"]
            )
        return BookingRequest(
            provider_id,
            self.now() + LEAD if start is None else start,
            duration,
            salt,
            int(listing["offerVersion"]),
            int(version),
        )

    def book(
        self,
        customer: str,
        provider_id: int,
        *,
        value: int | None = None,
        start: int | None = None,
        duration: int = DURATION,
        salt: int | None = None,
    ) -> int:
        """Book `provider_id` for `customer` (a token listing: approved for its price first);
        returns the booking id."""
        return self._book(customer, provider_id, self.listing(provider_id), value,
                          start=start, duration=duration, salt=salt)

    def _book(
        self,
        customer: str,
        provider_id: int,
        listing: dict[str, Any],
        value: int | None,
        *,
        start: int | None = None,
        duration: int = DURATION,
        salt: int | None = None,
    ) -> int:
        request = self.request(customer, provider_id, start=start, duration=duration, salt=salt,
                               listing=listing)
        price = int(listing["price"])
        if listing["currency"] != ETHER:
            assert self.token is not None, "no token deployed"
            self.token.approve(self.address, price, sender=customer)
            due = 0
        else:
            due = price
        receipt = self.transact(
            "book", request.as_tuple(), sender=customer, value=due if value is None else value
        )
        return int(self.events("BookingRequested", receipt)[0]["bookingId"])

    def owner_of(self, booking_id: int) -> str:
        """The owner of the booking's listing."""
        return str(self.listing(booking_id >> 64 & 0xFFFFFFFF)["owner"])

    def start_of(self, booking_id: int) -> int:
        """The slot start encoded in the booking id."""
        return booking_id >> 24 & (2**40 - 1)

    def drive(
        self,
        booking_id: int,
        status: Status,
        *,
        customer: str | None = None,
        owner: str | None = None,
    ) -> None:
        """Move a Requested (or, instant, Accepted) booking on to `status` along the shortest
        legal path: completion waits for the slot's start; a dispute pays the bond and is
        resolved by the arbiter with an even split."""
        customer = customer or "0x" + format(booking_id >> 96, "040x")
        customer = Web3.to_checksum_address(customer)
        owner = owner or self.owner_of(booking_id)
        current = self.status(booking_id)
        if status == current:
            return
        if status == Status.CANCELLED:
            self.transact("cancel", booking_id, sender=customer)
        elif status == Status.DECLINED:
            self.transact("decline", booking_id, sender=owner)
        elif status == Status.EXPIRED:
            self.mine_at(self.booking(booking_id)["deadline"] + 1)
            self.transact("expire", booking_id, sender=self.roles["stranger"])
        else:
            if current == Status.REQUESTED:
                self.transact("accept", booking_id, sender=owner)
            if status == Status.ACCEPTED:
                return
            start = self.start_of(booking_id)
            if self.now() < start:
                self.mine_at(start)
            self.transact("complete", booking_id, sender=owner)
            if status == Status.SETTLED:
                self.transact("confirm", booking_id, sender=customer)
            elif status in (Status.DISPUTED, Status.RESOLVED):
                self.transact("dispute", booking_id, sender=customer, value=DISPUTE_BOND)
                if status == Status.RESOLVED:
                    self.transact("resolve", booking_id, 5_000, sender=self.roles["arbiter"])

    def booking_in(self, status: Status, customer: str, provider_id: int) -> int:
        """A new booking of `provider_id` by `customer`, driven to `status`."""
        listing = self.listing(provider_id)
        booking_id = self._book(customer, provider_id, listing, None)
        self.drive(booking_id, status, customer=customer, owner=listing["owner"])
        return booking_id

    # ------------------------------------------------------------------ attackers

    def deploy_actor(self, contract: str, controller: str) -> Actor:
        """Deploy a test-only actor contract (contracts/test/) controlled by `controller`."""
        artifact = load_artifact(contract)
        factory = self.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        tx_hash = factory.constructor(self.address).transact({"from": controller})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        address = str(receipt["contractAddress"])
        # The actor bubbles the marketplace's reverts: let its binding decode them too.
        errors = [entry for entry in self.abi if entry.get("type") == "error"]
        binding = Binding(self.w3, address, artifact["abi"] + errors)
        self.known_accounts.append(binding.address)
        return Actor(self, binding, controller)
