"""Decode custom-error reverts of the marketplace into exceptions that say what went wrong."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import function_signature_to_4byte_selector

from marketplace.domain import Criterion, Status
from marketplace.errors import MarketplaceError

STATUS_NAMES = tuple(status.name.capitalize() for status in Status)


def _eth(wei: int) -> str:
    return f"{wei / 10**18:.6g} ETH ({wei} wei)"


def _stars(bps: int) -> str:
    return f"{bps / 10_000:.2f} stars"


# One sentence per error, in the user's words; arguments arrive by name.
_MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "MarketplacePaused": lambda a: (
        "The marketplace is paused: new bookings and registrations are stopped."
    ),
    "MarketplaceFeeAboveCap": lambda a: (
        f"Fee {a['feeBps']} bps is above the cap of {a['cap']} bps."
    ),
    "MarketplaceZeroAddress": lambda a: "The zero address is not allowed here.",
    "MarketplaceInvalidWindow": lambda a: "Every timing window must be 1 second to 365 days.",
    "MarketplaceRenounceDisabled": lambda a: (
        "Renouncing ownership is disabled; transfer it to another operator instead."
    ),
    "MarketplaceInsufficientFees": lambda a: (
        f"Requested {_eth(a['requested'])} of fees but only {_eth(a['available'])} accrued."
    ),
    "MarketplaceNothingToWithdraw": lambda a: f"{a['account']} has no credit to withdraw.",
    "MarketplaceTransferFailed": lambda a: (
        f"{a['to']} refused a payment of {_eth(a['amount'])}; the credit is kept."
    ),
    "MarketplaceProviderNotFound": lambda a: f"There is no provider #{a['providerId']}.",
    "MarketplaceNotProviderOwner": lambda a: (
        f"{a['caller']} does not own provider #{a['providerId']}."
    ),
    "MarketplaceInsufficientStake": lambda a: (
        f"Stake {_eth(a['sent'])} is below the required {_eth(a['required'])}."
    ),
    "MarketplaceStakeTooLarge": lambda a: f"A stake of {_eth(a['sent'])} is too large to store.",
    "MarketplaceZeroPrice": lambda a: "The price must be above zero.",
    "MarketplaceInvalidCategory": lambda a: "Category 0 does not exist; pick a category.",
    "MarketplaceProviderStateUnchanged": lambda a: (
        f"Provider #{a['providerId']} is already {'active' if a['active'] else 'inactive'}."
    ),
    "MarketplaceStakeLocked": lambda a: (
        f"The stake of provider #{a['providerId']} is locked (unlocks at {a['unlockAt']}, "
        "only after deactivation, and only once)."
    ),
    "MarketplaceCriteriaNotSet": lambda a: (
        f"{a['customer']} has no criteria for category {a['category']}."
    ),
    "MarketplaceInvalidMinScore": lambda a: (
        f"Minimum score {_stars(a['minScore'])} is above five stars."
    ),
    "MarketplaceInvalidWeights": lambda a: (
        f"Weights score={a['scoreWeight']} price={a['priceWeight']} must each be 0-10000 "
        "and not both zero."
    ),
    "MarketplaceConflictingAttributes": lambda a: (
        f"Attributes {a['overlap']:#x} are both required and refused."
    ),
    "MarketplaceBlockUnchanged": lambda a: (
        f"Provider #{a['providerId']} is already {'blocked' if a['blocked'] else 'unblocked'}."
    ),
    "MarketplaceCriteriaVersionMismatch": lambda a: (
        f"Your criteria changed (version {a['current']}, the quote used {a['expected']}); "
        "review the match again."
    ),
    "MarketplacePriceChanged": lambda a: (
        f"The price changed from {_eth(a['expected'])} to {_eth(a['current'])}; review the quote."
    ),
    "MarketplaceValueMismatch": lambda a: (
        f"Sent {_eth(a['sent'])} but the price is {_eth(a['price'])}."
    ),
    "MarketplaceIneligible": lambda a: (
        f"Provider #{a['providerId']} breaks your criteria: {Criterion(a['criterion']).reason}."
    ),
    "MarketplaceBookingNotFound": lambda a: f"There is no booking {a['bookingId']:#x}.",
    "MarketplaceInvalidStatus": lambda a: (
        f"Booking {a['bookingId']:#x} is {STATUS_NAMES[a['status']]}; "
        "that action is not allowed now."
    ),
    "MarketplaceNotCustomer": lambda a: (
        f"{a['caller']} is not the customer of booking {a['bookingId']:#x}."
    ),
    "MarketplaceNotArbiter": lambda a: (
        f"{a['caller']} is not an arbiter independent of booking {a['bookingId']:#x}."
    ),
    "MarketplaceDeadlinePassed": lambda a: (
        f"The deadline of booking {a['bookingId']:#x} passed at {a['deadline']}."
    ),
    "MarketplaceDeadlineNotReached": lambda a: (
        f"Booking {a['bookingId']:#x} can only time out after {a['deadline']}."
    ),
    "MarketplaceInvalidRefundBps": lambda a: f"Refund share {a['refundBps']} bps is above 100%.",
    "MarketplaceInvalidStars": lambda a: f"A rating is 1 to 5 stars, not {a['stars']}.",
    "MarketplaceAlreadyRated": lambda a: f"Booking {a['bookingId']:#x} was already rated.",
    "OwnableUnauthorizedAccount": lambda a: f"{a['account']} is not the operator.",
    "OwnableInvalidOwner": lambda a: f"{a['owner']} cannot be the operator.",
    "ReentrancyGuardReentrantCall": lambda a: "Re-entrant call refused.",
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
