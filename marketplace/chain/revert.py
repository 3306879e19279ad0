"""Decode custom-error reverts of the marketplace into exceptions that say what went wrong."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import function_signature_to_4byte_selector

from marketplace.domain import ChangeKind, Criterion, Status
from marketplace.errors import MarketplaceError

STATUS_NAMES = tuple(status.name.capitalize() for status in Status)
CHANGE_NAMES = tuple(kind.key for kind in ChangeKind)


def _eth(wei: int) -> str:
    return f"{wei / 10**18:.6g} ETH ({wei} wei)"


def _units(amount: int) -> str:
    """An amount in a currency the error does not name: its smallest units."""
    return f"{amount:,} (smallest units of the listing's currency)"


def _stars(bps: int) -> str:
    return f"{bps / 10_000:.2f} stars"


def _when(timestamp: int) -> str:
    moment = datetime.fromtimestamp(int(timestamp), tz=UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _currency(currency: int) -> str:
    return "ether" if currency == 0 else f"currency {currency}"


def _kind(kind: int) -> str:
    return CHANGE_NAMES[kind] if kind < len(CHANGE_NAMES) else str(kind)


def _change(a: Mapping[str, Any]) -> str:
    return f"{_kind(a['kind'])} (account {a['account']}, value {a['value']})"


def _booking(a: Mapping[str, Any]) -> str:
    return f"booking {a['bookingId']:#x}"


# One sentence per error, in the user's words; arguments arrive by name.
_MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    # operator, timelock, money
    "MarketplacePaused": lambda a: (
        "The marketplace is paused: new listings and bookings are stopped."
    ),
    "MarketplaceFeeAboveCap": lambda a: (
        f"Fee {a['feeBps']} bps is above the cap of {a['cap']} bps."
    ),
    "MarketplaceZeroAddress": lambda a: "The zero address is not allowed here.",
    "MarketplaceInvalidWindow": lambda a: (
        "Every timing window must be 1 second to 365 days, and the change delay at most 365 days."
    ),
    "MarketplaceRenounceDisabled": lambda a: (
        "Renouncing ownership is disabled; transfer it to another operator instead."
    ),
    "MarketplaceInsufficientFees": lambda a: (
        f"Requested {a['requested']:,} of {_currency(a['currency'])} fees but only "
        f"{a['available']:,} accrued."
    ),
    "MarketplaceNothingToWithdraw": lambda a: (
        f"{a['account']} has no {_currency(a['currency'])} credit to withdraw."
    ),
    "MarketplaceTransferFailed": lambda a: (
        f"{a['to']} refused a payment of {_eth(a['amount'])}; the credit is kept."
    ),
    "MarketplaceInvalidRecipient": lambda a: (
        f"{a['to']} cannot receive a withdrawal (neither the zero address nor the marketplace)."
    ),
    "MarketplaceCurrencyDisabled": lambda a: (
        f"{_currency(a['currency']).capitalize()} is not enabled (unknown, disabled, or without a "
        "minimum fee): it takes no new listings or bookings."
    ),
    "MarketplaceInvalidChange": lambda a: f"The change {_change(a)} is not valid for its kind.",
    "MarketplaceChangeAlreadyScheduled": lambda a: (
        f"The change {_change(a)} is already scheduled (applicable from {_when(a['eta'])})."
    ),
    "MarketplaceChangeNotScheduled": lambda a: (
        f"The change {_change(a)} is not scheduled (never, or already applied or cancelled)."
    ),
    "MarketplaceChangeNotReady": lambda a: (
        f"The change cannot be applied before {_when(a['eta'])}."
    ),
    "MarketplaceIdsExhausted": lambda a: f"Every id of kind {_kind(a['kind'])} is taken.",
    # listings
    "MarketplaceProviderNotFound": lambda a: f"There is no listing #{a['providerId']}.",
    "MarketplaceNotConstructing": lambda a: (
        "The marketplace module can only be initialised by the marketplace's constructor."
    ),
    "MarketplaceNotProviderOwner": lambda a: (
        f"{a['caller']} does not own listing #{a['providerId']}."
    ),
    "MarketplaceInsufficientStake": lambda a: (
        f"Stake {_eth(a['sent'])} is below the required {_eth(a['required'])}."
    ),
    "MarketplaceStakeTooLarge": lambda a: f"A stake of {_eth(a['stake'])} is too large to store.",
    "MarketplaceZeroPrice": lambda a: "The price must be above zero.",
    "MarketplacePriceBelowMinFee": lambda a: (
        f"The price {_units(a['price'])} is below the currency's minimum fee of "
        f"{a['minFee']:,}: raise the price."
    ),
    "MarketplaceInvalidCategory": lambda a: (
        "Pick a category (0 is none); a listing's category cannot change."
    ),
    "MarketplaceInvalidCancelTerms": lambda a: (
        f"A late-cancellation share of {a['lateCancelPct']} % is above 100 %."
    ),
    "MarketplaceProviderStateUnchanged": lambda a: (
        f"Listing #{a['providerId']} is already {'active' if a['active'] else 'inactive'}."
    ),
    "MarketplaceStakeLocked": lambda a: (
        f"The stake of listing #{a['providerId']} cannot be released: "
        + (
            "deactivate the listing first (or its stake was already released)."
            if a["until"] == 0
            else f"it is locked until {_when(a['until'])}."
        )
    ),
    "MarketplaceNotAttestor": lambda a: f"{a['caller']} is not a named attestor.",
    "MarketplaceZeroValue": lambda a: "Send more than zero.",
    # criteria
    "MarketplaceCriteriaNotSet": lambda a: (
        f"{a['customer']} has no criteria for category {a['category']}."
    ),
    "MarketplaceInvalidMinScore": lambda a: (
        f"Minimum score {_stars(a['minScore'])} is above five stars."
    ),
    "MarketplaceInvalidMinReliability": lambda a: (
        f"Minimum reliability {a['minReliability']} bps is above 10,000 bps (100 %)."
    ),
    "MarketplaceInvalidWeights": lambda a: (
        f"Weights score={a['scoreWeight']} price={a['priceWeight']} must each be 0-10000 "
        "and not both zero."
    ),
    "MarketplaceConflictingAttributes": lambda a: (
        f"Attributes {a['overlap']:#x} are both required and refused."
    ),
    "MarketplaceVerifiedNotRequired": lambda a: (
        f"Attributes {a['extra']:#x} must be required before they can be required verified."
    ),
    "MarketplaceTooManyAttestors": lambda a: (
        f"At most 4 trusted attestors; {bin(a['trustedAttestors']).count('1')} were named."
    ),
    "MarketplaceBlockUnchanged": lambda a: (
        f"Listing #{a['providerId']} is already {'blocked' if a['blocked'] else 'unblocked'}."
    ),
    "MarketplaceOwnerBlockUnchanged": lambda a: (
        f"Owner {a['owner']} is already {'blocked' if a['blocked'] else 'unblocked'}."
    ),
    # bookings
    "MarketplaceCriteriaVersionMismatch": lambda a: (
        f"Your criteria changed (version {a['current']}, the quote used {a['expected']}); "
        "review the match again."
    ),
    "MarketplaceOfferChanged": lambda a: (
        f"The provider changed the offer (version {a['current']}, you saw {a['expected']}); "
        "review the new price and terms."
    ),
    "MarketplaceValueMismatch": lambda a: f"Sent {_eth(a['sent'])} but {_eth(a['due'])} is due.",
    "MarketplaceIneligible": lambda a: (
        f"Listing #{a['providerId']} breaks your criteria: {Criterion(a['criterion']).reason}."
    ),
    "MarketplaceSelfBooking": lambda a: f"You own listing #{a['providerId']}: you cannot book it.",
    "MarketplaceSlotInPast": lambda a: (
        f"The slot starts at {_when(a['start'])}, which is not in the future."
    ),
    "MarketplaceSlotTooFar": lambda a: (
        f"The slot starts at {_when(a['start'])}, after the latest bookable start "
        f"{_when(a['latest'])} (365 days ahead)."
    ),
    "MarketplaceInvalidDuration": lambda a: "A slot lasts at least one minute.",
    "MarketplaceBookingExists": lambda a: (
        f"You already booked this slot ({_booking(a)}); book it again with another salt."
    ),
    "MarketplaceTokenShortfall": lambda a: (
        f"The token delivered {a['received']:,} instead of {a['expected']:,}: tokens that take a "
        "fee on transfer or rebase are refused."
    ),
    "MarketplacePermitFailed": lambda a: (
        "The permit signature was refused (expired, for another amount or already used) and the "
        "allowance does not cover the price; sign a new permit or approve the token."
    ),
    "MarketplaceBookingNotFound": lambda a: f"There is no {_booking(a)}.",
    "MarketplaceInvalidStatus": lambda a: (
        f"Booking {a['bookingId']:#x} is {STATUS_NAMES[a['status']]}; "
        "that action is not allowed now."
    ),
    "MarketplaceNotCustomer": lambda a: f"{a['caller']} is not the customer of {_booking(a)}.",
    "MarketplaceNotArbiter": lambda a: (
        f"{a['caller']} is not the arbiter of {_booking(a)} (or is no longer named, or is a party)."
    ),
    "MarketplaceDeadlinePassed": lambda a: (
        f"The deadline of {_booking(a)} passed at {_when(a['deadline'])}."
    ),
    "MarketplaceDeadlineNotReached": lambda a: (
        f"Booking {a['bookingId']:#x} can only time out after {_when(a['deadline'])}."
    ),
    "MarketplaceTooEarly": lambda a: (
        f"The service can be marked delivered only from its start, {_when(a['start'])}."
    ),
    "MarketplaceSlotStarted": lambda a: (
        f"The slot started at {_when(a['start'])}: it can no longer be cancelled or declined."
    ),
    "MarketplaceInvalidRefundBps": lambda a: f"Refund share {a['refundBps']} bps is above 100%.",
    "MarketplaceInvalidStars": lambda a: f"A rating is 1 to 5 stars, not {a['stars']}.",
    "MarketplaceAlreadyRated": lambda a: f"Booking {a['bookingId']:#x} was already rated.",
    # OpenZeppelin
    "OwnableUnauthorizedAccount": lambda a: f"{a['account']} is not the operator.",
    "OwnableInvalidOwner": lambda a: f"{a['owner']} cannot be the operator.",
    "ReentrancyGuardReentrantCall": lambda a: "Re-entrant call refused.",
    "SafeCastOverflowedUintDowncast": lambda a: (
        f"A value does not fit in {a['bits']} bits (the amount is too large to store)."
    ),
    "SafeERC20FailedOperation": lambda a: (
        f"The token {a['token']} refused the transfer (it returned false or reverted)."
    ),
    "ERC20InsufficientAllowance": lambda a: (
        f"The token allowance for {a['spender']} is {a['allowance']:,}, below the {a['needed']:,} "
        "needed: approve the marketplace for the price first (or book with a permit)."
    ),
    "ERC20InsufficientBalance": lambda a: (
        f"{a['sender']} holds {a['balance']:,} of the token, below the {a['needed']:,} needed."
    ),
    "ERC2612ExpiredSignature": lambda a: f"The permit expired at {_when(a['deadline'])}.",
    "ERC2612InvalidSigner": lambda a: (
        f"The permit was signed by {a['signer']}, not by {a['owner']}."
    ),
}

_PANICS = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x32: "array index out of bounds",
}


@dataclass(frozen=True)
class ErrorSpec:
    """One custom error of an ABI: its name and argument names and types."""

    name: str
    arg_names: tuple[str, ...]
    arg_types: tuple[str, ...]


class ContractRevert(MarketplaceError):
    """A transaction or call reverted; `error` and `args` name the custom error."""

    def __init__(self, error: str, args: Mapping[str, Any], message: str, data: str = "") -> None:
        super().__init__(message)
        self.error = error
        self.args_by_name = dict(args)
        self.message = message
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: error name, arguments (big ints as strings) and message."""
        return {
            "error": self.error,
            "args": {k: _jsonable(v) for k, v in self.args_by_name.items()},
            "message": self.message,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _abi_type(entry: Mapping[str, Any]) -> str:
    if entry["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in entry["components"])
        return f"({inner}){entry['type'][5:]}"
    return str(entry["type"])


class RevertDecoder:
    """Maps 4-byte selectors of an ABI's custom errors (plus Error(string), Panic) to specs."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._specs: dict[bytes, ErrorSpec] = {}
        for entry in abi:
            if entry.get("type") != "error":
                continue
            types = tuple(_abi_type(i) for i in entry["inputs"])
            spec = ErrorSpec(entry["name"], tuple(i["name"] for i in entry["inputs"]), types)
            selector = function_signature_to_4byte_selector(f"{spec.name}({','.join(types)})")
            self._specs[selector] = spec
        self._specs[function_signature_to_4byte_selector("Error(string)")] = ErrorSpec(
            "Error", ("reason",), ("string",)
        )
        self._specs[function_signature_to_4byte_selector("Panic(uint256)")] = ErrorSpec(
            "Panic", ("code",), ("uint256",)
        )

    def decode(self, data: str | bytes | None) -> ContractRevert:
        """Turn raw revert data into a ContractRevert with a plain-words message."""
        raw = _to_bytes(data)
        hex_data = "0x" + raw.hex()
        if len(raw) < 4:
            return ContractRevert(
                "Unknown", {}, "The transaction reverted without a reason.", hex_data
            )
        spec = self._specs.get(raw[:4])
        if spec is None:
            return ContractRevert(
                "Unknown",
                {},
                f"The transaction reverted with unknown error {raw[:4].hex()}.",
                hex_data,
            )
        try:
            values = abi_decode(list(spec.arg_types), raw[4:])
        except Exception:  # malformed payload: say so rather than crash
            return ContractRevert(spec.name, {}, f"The contract refused: {spec.name}.", hex_data)
        args = dict(zip(spec.arg_names, values, strict=True))
        return ContractRevert(spec.name, args, describe(spec.name, args), hex_data)


def describe(name: str, args: Mapping[str, Any]) -> str:
    """The plain-words message for error `name` with `args`."""
    if name == "Error":
        return f"The contract refused: {args['reason']}"
    if name == "Panic":
        return (
            f"The contract hit an internal error: {_PANICS.get(args['code'], hex(args['code']))}."
        )
    template = _MESSAGES.get(name)
    if template is None:
        return f"The contract refused: {name}({', '.join(f'{k}={v}' for k, v in args.items())})."
    try:
        return template(args)
    except (KeyError, IndexError, TypeError, ValueError):
        return f"The contract refused: {name}."


def _to_bytes(data: str | bytes | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    text = data[2:] if data.startswith("0x") else data
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""
