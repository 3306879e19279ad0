"""A binding to the deployed Marketplace (contract v2): calls and dev-signed transactions with
decoded reverts, and one typed method per contract function.

`Market.call` / `Market.transact` reach any function by name; the typed methods (`register`,
`book`, `book_with_permit`, `confirm_and_rate`, `schedule_change`, `withdraw`, ...) take the v2
structs as dataclasses (`ListingInput`, `BookingRequest`, `CriteriaInput`) in the interfaces'
field order, and return what the caller wants from the receipt (an id, a version, an eta).
Struct views (`listing`, `booking`, `criteria`, `windows`) come back as dicts by field name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    Web3RPCError,
)
from web3.logs import DISCARD
from web3.types import RPCEndpoint, TxReceipt

from marketplace.chain.connection import is_local_chain
from marketplace.chain.nodeerrors import NodeError, classify
from marketplace.chain.nonces import send_with_nonce
from marketplace.chain.revert import ContractRevert, RevertDecoder
from marketplace.chain.scan import marketplace_abi
from marketplace.domain import ETHER, ZERO_ADDRESS, ChangeKind, booking_id
from marketplace.errors import MarketplaceError

if TYPE_CHECKING:
    from marketplace.chain.token import Permit


class SigningRefused(MarketplaceError):
    """Dev signing was asked for on a chain that is not a local development chain."""


def _revert_data(exc: ContractLogicError) -> str | None:
    data = exc.data
    if isinstance(data, str):
        return data
    if isinstance(data, Mapping):
        # anvil/Hardhat nest the revert data under "data"; ganache under "result".
        for key in ("data", "result"):
            inner = data.get(key)
            if isinstance(inner, str):
                return inner
    return None


Sender = str | LocalAccount
"""Who sends a dev-signed transaction: an unlocked node account's address, or a LocalAccount."""


@dataclass(frozen=True)
class ListingInput:
    """`IProviderRegistry.ListingInput`, in its field order: what an owner writes for a listing."""

    category: int
    region: int
    attributes: int
    currency: int
    price: int
    metadata_hash: bytes
    instant: bool = False
    free_cancel_hours: int = 0
    late_cancel_pct: int = 0

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple."""
        return astuple(self)


@dataclass(frozen=True)
class BookingRequest:
    """`IBookings.BookingRequest`, in its field order: a listing's slot under known versions."""

    provider_id: int
    start: int
    duration_minutes: int
    salt: int
    offer_version: int
    criteria_version: int

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple."""
        return astuple(self)

    def booking_id(self, customer: str) -> int:
        """The id the booking will have when `customer` books it."""
        return booking_id(customer, self.provider_id, self.start, self.duration_minutes, self.salt)


@dataclass(frozen=True)
class CriteriaInput:
    """`ICriteriaRegistry.CriteriaInput`, in its field order."""

    category: int
    region: int = 0
    currency: int = ETHER
    min_score: int = 0
    max_price: int = 0
    premium_per_star: int = 0
    required_attributes: int = 0
    refused_attributes: int = 0
    verified_attributes: int = 0
    trusted_attestors: int = 0
    min_rating_weight: int = 0
    min_reliability: int = 0
    score_weight: int = 5_000
    price_weight: int = 5_000

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple."""
        return astuple(self)


def snake_to_camel(name: str) -> str:
    """`free_cancel_hours` -> `freeCancelHours` (dataclass fields to ABI component names)."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class Binding:
    """A contract at `address` with its ABI: calls, dev-signed transactions, receipts' events,
    and its custom errors decoded into ContractRevert."""

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]]) -> None:
        self.w3 = w3
        self.abi = abi
        self.address = Web3.to_checksum_address(address)
        self.contract: Contract = w3.eth.contract(address=self.address, abi=self.abi)
        self.decoder = RevertDecoder(self.abi)

    def decode(self, exc: Exception) -> ContractRevert | NodeError:
        """The ContractRevert behind a web3 contract error, or the NodeError when the node
        itself failed the call (an opcode the chain lacks, funds, gas): revert data decodes
        first; an empty revert is classified by the node's message, never shown raw."""
        if isinstance(exc, ContractCustomError | ContractPanicError | ContractLogicError):
            data = _revert_data(exc)
            if data and data not in ("0x", "0x0"):
                return self.decoder.decode(data)
            refusal = classify(exc)
            if refusal is not None:
                return refusal
            return ContractRevert("Unknown", {}, "The transaction reverted without a reason.")
        if isinstance(exc, Web3RPCError):
            refusal = classify(exc)
            if refusal is not None:
                return refusal
        raise exc

    def call(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        """Call a view function; reverts raise ContractRevert."""
        try:
            return getattr(self.contract.functions, function)(*args).call(block_identifier=block)
        except (ContractLogicError, Web3RPCError) as exc:
            raise self.decode(exc) from exc

    def transact(
        self,
        function: str,
        *args: Any,
        sender: str | LocalAccount,
        value: int = 0,
        gas: int | None = None,
    ) -> TxReceipt:
        """Send a dev-signed transaction (local chains only) and wait for its receipt.

        `sender` is an unlocked node account address or a LocalAccount. The call is simulated
        first so a revert raises ContractRevert with the decoded custom error, not a bare status 0.
        """
        chain_id = self.w3.eth.chain_id
        if not is_local_chain(chain_id):
            raise SigningRefused(
                f"chain {chain_id} is not a local development chain: sign with a wallet instead"
            )
        fn = getattr(self.contract.functions, function)(*args)
        address = (
            sender.address if isinstance(sender, LocalAccount) else Web3.to_checksum_address(sender)
        )
        params: dict[str, Any] = {"from": address, "value": value}
        try:
            estimated = fn.estimate_gas(params)
        except (ContractLogicError, Web3RPCError) as exc:
            raise self.decode(exc) from exc
        params["gas"] = gas or estimated + estimated // 5 + 10_000
        if isinstance(sender, LocalAccount):
            tx = fn.build_transaction({**params, "nonce": 0})
            key = sender.key

            def sign_and_send(nonce: int) -> HexBytes:
                signed = Account.sign_transaction({**tx, "nonce": nonce}, key)
                return self.w3.eth.send_raw_transaction(signed.raw_transaction)

        try:
            if isinstance(sender, LocalAccount):
                # Concurrent sends from one account each get their own nonce (chain/nonces.py).
                tx_hash = send_with_nonce(self.w3, address, sign_and_send)
            else:
                tx_hash = fn.transact(params)
        except Web3RPCError as exc:
            raise self.decode(exc) from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise ContractRevert("Reverted", {}, f"transaction {HexBytes(tx_hash).hex()} reverted")
        return receipt

    def events(self, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
        """Decoded `name` events of a receipt, as plain dicts of their arguments."""
        event = getattr(self.contract.events, name)()
        return [dict(log["args"]) for log in event.process_receipt(receipt, errors=DISCARD)]


class Market(Binding):
    """The marketplace at `address` (ABI: `marketplace_abi()` unless given), with a typed method
    per v2 function."""

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]] | None = None) -> None:
        super().__init__(w3, address, abi if abi is not None else marketplace_abi())

    # ------------------------------------------------------------------ dev chains

    def now(self) -> int:
        """The latest block's timestamp (the chain's clock)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def dev_mine_at(self, timestamp: int) -> None:
        """Mine a block at `timestamp` if the chain's clock is behind it (local dev chains only:
        anvil and Hardhat's `evm_setNextBlockTimestamp`)."""
        chain_id = int(self.w3.eth.chain_id)
        if not is_local_chain(chain_id):
            raise SigningRefused(f"chain {chain_id} is not a local development chain")
        if self.now() < timestamp:
            self.w3.provider.make_request(RPCEndpoint("evm_setNextBlockTimestamp"), [timestamp])
            self.w3.provider.make_request(RPCEndpoint("evm_mine"), [])

    # ------------------------------------------------------------------ struct views

    def struct(self, function: str, *args: Any, block: int | str = "latest") -> dict[str, Any]:
        """A view returning one struct (or several named values), as a dict by field name."""
        outputs = next(
            e["outputs"]
            for e in self.abi
            if e.get("type") == "function" and e.get("name") == function
        )
        params = outputs[0]["components"] if len(outputs) == 1 else outputs
        value = self.call(function, *args, block=block)
        values = value if isinstance(value, list | tuple) else [value]
        return {p["name"]: v for p, v in zip(params, values, strict=True)}

    def listing(self, provider_id: int) -> dict[str, Any]:
        """`getListing` by field name (owner, offerVersion, lockedUntil, price, currency, ...)."""
        return self.struct("getListing", provider_id)

    def booking(self, booking: int) -> dict[str, Any]:
        """`getBooking` by field name (price, fee, deadline, status, currency, arbiterId, ...)."""
        return self.struct("getBooking", booking)

    def criteria(self, customer: str, category: int) -> dict[str, Any]:
        """`getCriteria` by field name (version 0: never set)."""
        return self.struct("getCriteria", Web3.to_checksum_address(customer), category)

    def windows(self) -> dict[str, int]:
        """The timing windows, seconds, by field name."""
        return {k: int(v) for k, v in self.struct("windows").items()}

    def offer(self, provider_id: int, from_block: int = 0) -> dict[str, Any]:
        """The listing's current offer as its last ListingRegistered/ListingUpdated event
        carries it (the ListingInput fields by name, metadataHash included, which the chain does
        not store) plus `offerVersion`; {} if no such event is found."""
        found: dict[str, Any] = {}
        for name in ("ListingRegistered", "ListingUpdated"):
            event = getattr(self.contract.events, name)
            for log in event.get_logs(
                from_block=from_block, argument_filters={"providerId": provider_id}
            ):
                version = int(log["args"].get("offerVersion", 1))
                if not found or version > found["offerVersion"]:
                    found = {**dict(log["args"]["listing"]), "offerVersion": version}
        return found

    def currency(self, currency_id: int) -> dict[str, Any]:
        """`currency(id)`: token (zero for ether), enabled, minFee."""
        token, enabled, min_fee = self.call("currency", currency_id)
        return {"token": str(token), "enabled": bool(enabled), "minFee": int(min_fee)}

    def credit_of(self, account: str, currency: int = ETHER) -> int:
        """`account`'s withdrawable credit in `currency`."""
        return int(self.call("creditOf", Web3.to_checksum_address(account), currency))

    def accrued_fees(self, currency: int = ETHER) -> int:
        """Fees accrued in `currency` and not collected."""
        return int(self.call("accruedFees", currency))

    def criteria_version_for(self, customer: str, category: int) -> int:
        """The criteria version `book` wants: that of the listing's category (0: never set)."""
        return int(self.criteria(customer, category)["version"])

    # ------------------------------------------------------------------ listings

    def register(self, listing: ListingInput, *, sender: Sender, stake: int) -> int:
        """Register a listing staking `stake` wei; returns its provider id."""
        receipt = self.transact("register", listing.as_tuple(), sender=sender, value=stake)
        return int(self.events("ListingRegistered", receipt)[0]["providerId"])

    def update_listing(self, provider_id: int, listing: ListingInput, *, sender: Sender) -> int:
        """Replace a listing's offer; returns the new offer version."""
        receipt = self.transact("updateListing", provider_id, listing.as_tuple(), sender=sender)
        return int(self.events("ListingUpdated", receipt)[0]["offerVersion"])

    def top_up_stake(self, provider_id: int, *, sender: Sender, amount: int) -> int:
        """Add `amount` wei to a listing's stake; returns the new stake."""
        receipt = self.transact("topUpStake", provider_id, sender=sender, value=amount)
        return int(self.events("StakeToppedUp", receipt)[0]["stake"])

    def deactivate(self, provider_id: int, *, sender: Sender) -> int:
        """Stop taking bookings; returns when the stake can be released at the earliest."""
        receipt = self.transact("deactivate", provider_id, sender=sender)
        return int(self.events("ListingDeactivated", receipt)[0]["unlockAt"])

    def reactivate(self, provider_id: int, *, sender: Sender) -> TxReceipt:
        """Take bookings again."""
        return self.transact("reactivate", provider_id, sender=sender)

    def release_stake(self, provider_id: int, *, sender: Sender) -> int:
        """Move a deactivated listing's stake to the owner's ether credit; returns the amount."""
        receipt = self.transact("releaseStake", provider_id, sender=sender)
        return int(self.events("StakeReleased", receipt)[0]["amount"])

    def attest(self, provider_id: int, attributes: int, *, sender: Sender) -> TxReceipt:
        """As a named attestor, record the verified attribute bits of a listing (0 revokes)."""
        return self.transact("attest", provider_id, attributes, sender=sender)

    # ------------------------------------------------------------------ criteria and blocks

    def set_criteria(self, criteria: CriteriaInput, *, sender: Sender) -> int:
        """Write the sender's criteria for `criteria.category`; returns the new version."""
        receipt = self.transact("setCriteria", criteria.as_tuple(), sender=sender)
        return int(self.events("CriteriaSet", receipt)[0]["version"])

    def set_blocked(self, provider_id: int, blocked: bool, *, sender: Sender) -> int:
        """Block or unblock a listing; returns the new criteria version."""
        receipt = self.transact("setBlocked", provider_id, blocked, sender=sender)
        return int(self.events("ProviderBlockChanged", receipt)[0]["version"])

    def set_owner_blocked(self, owner: str, blocked: bool, *, sender: Sender) -> int:
        """Block or unblock an owner (all its listings); returns the new criteria version."""
        receipt = self.transact(
            "setOwnerBlocked", Web3.to_checksum_address(owner), blocked, sender=sender
        )
        return int(self.events("OwnerBlockChanged", receipt)[0]["version"])

    # ------------------------------------------------------------------ bookings

    def request_for(
        self,
        customer: str,
        provider_id: int,
        start: int,
        duration_minutes: int,
        salt: int = 0,
    ) -> BookingRequest:
        """A BookingRequest at the listing's current offer and the customer's current criteria
        version of its category (what a quote shows the customer)."""
        listing = self.listing(provider_id)
        return BookingRequest(
            provider_id=provider_id,
            start=start,
            duration_minutes=duration_minutes,
            salt=salt,
            offer_version=int(listing["offerVersion"]),
            criteria_version=self.criteria_version_for(customer, int(listing["category"])),
        )

    def book(self, request: BookingRequest, *, sender: Sender, value: int = 0) -> int:
        """Book (ether: send the price as `value`; token: approve first, value 0); returns the
        booking id."""
        receipt = self.transact("book", request.as_tuple(), sender=sender, value=value)
        return int(self.events("BookingRequested", receipt)[0]["bookingId"])

    def book_with_permit(self, request: BookingRequest, permit: Permit, *, sender: Sender) -> int:
        """Book a token-priced slot with an EIP-2612 permit (`marketplace.chain.token.Permit`)."""
        receipt = self.transact(
            "bookWithPermit",
            request.as_tuple(),
            permit.deadline,
            permit.v,
            permit.r,
            permit.s,
            sender=sender,
        )
        return int(self.events("BookingRequested", receipt)[0]["bookingId"])

    def act(self, function: str, booking: int, *args: Any, sender: Sender) -> TxReceipt:
        """A booking action by name: accept, decline, cancel, expire, complete, confirm, settle,
        resolveByDefault (and rate, confirmAndRate, resolve with their extra arguments)."""
        return self.transact(function, booking, *args, sender=sender)

    def confirm_and_rate(
        self, booking: int, stars: int, complaint_tags: int = 0, *, sender: Sender
    ) -> TxReceipt:
        """Confirm delivery and rate in one call."""
        return self.transact("confirmAndRate", booking, stars, complaint_tags, sender=sender)

    def rate(
        self, booking: int, stars: int, complaint_tags: int = 0, *, sender: Sender
    ) -> TxReceipt:
        """Rate a settled or resolved booking."""
        return self.transact("rate", booking, stars, complaint_tags, sender=sender)

    def dispute(self, booking: int, *, sender: Sender, bond: int | None = None) -> TxReceipt:
        """Dispute a completed booking, paying the dispute bond (read from the chain if None)."""
        value = int(self.call("disputeBond")) if bond is None else bond
        return self.transact("dispute", booking, sender=sender, value=value)

    def resolve(self, booking: int, refund_bps: int, *, sender: Sender) -> TxReceipt:
        """As the booking's arbiter, resolve its dispute with `refund_bps` to the customer."""
        return self.transact("resolve", booking, refund_bps, sender=sender)

    # ------------------------------------------------------------------ operator and money

    def schedule_change(self, kind: ChangeKind, account: str, value: int, *, sender: Sender) -> int:
        """Schedule a timelocked change; returns its eta."""
        receipt = self.transact(
            "scheduleChange", int(kind), _address(account), value, sender=sender
        )
        return int(self.events("ChangeScheduled", receipt)[0]["eta"])

    def apply_change(
        self, kind: ChangeKind, account: str, value: int, *, sender: Sender
    ) -> TxReceipt:
        """Apply a scheduled change whose eta has passed."""
        return self.transact("applyChange", int(kind), _address(account), value, sender=sender)

    def cancel_change(
        self, kind: ChangeKind, account: str, value: int, *, sender: Sender
    ) -> TxReceipt:
        """Cancel a scheduled change."""
        return self.transact("cancelChange", int(kind), _address(account), value, sender=sender)

    def change_eta(self, kind: ChangeKind, account: str, value: int) -> int:
        """The eta of a scheduled change, 0 if not scheduled."""
        return int(self.call("changeEta", int(kind), _address(account), value))

    def set_paused(self, paused: bool, *, sender: Sender) -> TxReceipt:
        """Pause or resume new listings and bookings (immediate)."""
        return self.transact("setPaused", paused, sender=sender)

    def collect_fees(self, currency: int, to: str, amount: int, *, sender: Sender) -> TxReceipt:
        """Move accrued fees of `currency` to `to`'s credit."""
        return self.transact("collectFees", currency, _address(to), amount, sender=sender)

    def withdraw(self, currency: int = ETHER, *, sender: Sender, to: str | None = None) -> int:
        """Withdraw the sender's whole credit in `currency` (to `to` if given); returns it."""
        if to is None:
            receipt = self.transact("withdraw", currency, sender=sender)
        else:
            receipt = self.transact("withdrawTo", currency, _address(to), sender=sender)
        return int(self.events("Withdrawn", receipt)[0]["amount"])


def _address(account: str | None) -> str:
    return Web3.to_checksum_address(account or ZERO_ADDRESS)
