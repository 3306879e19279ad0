"""EIP-2612 permits for token bookings: one signature, one transaction.

A token listing is booked with `bookWithPermit` (docs/contract-v2.md): the customer signs a permit
for exactly the price, valid for `PERMIT_LIFETIME` seconds, and the same transaction takes the
permit and books. This module builds the EIP-712 typed data the wallet signs with
`eth_signTypedData_v4`, reads the token's domain (name, version) and the owner's nonce over
JSON-RPC,
checks a signature before it is sent (signer, amount, deadline: each a sentence for the `permit`
field), and, on a local chain with a dev account, signs on the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data

from marketplace.web.errors import FieldError

# A permit the customer signs is valid this long: long enough to sign, short enough not to linger.
PERMIT_LIFETIME = 20 * 60

PERMIT_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}

# Function selectors (keccak-256 of the signature, first four bytes).
_EIP712_DOMAIN = "0x84b0196e"  # eip712Domain() (EIP-5267, OpenZeppelin 5)
_NAME = "0x06fdde03"  # name()
_NONCES = "0x7ecebe00"  # nonces(address)


@dataclass(frozen=True)
class PermitDomain:
    """The token's EIP-712 domain."""

    name: str
    version: str
    chain_id: int
    token: str


@dataclass(frozen=True)
class Permit:
    """A permit for `value` of the token from `owner` to `spender` until `deadline`."""

    domain: PermitDomain
    owner: str
    spender: str
    value: int
    nonce: int
    deadline: int

    def typed_data(self) -> dict[str, Any]:
        """The EIP-712 document `eth_signTypedData_v4` takes (numbers as decimal strings)."""
        return {
            "types": PERMIT_TYPES,
            "primaryType": "Permit",
            "domain": {
                "name": self.domain.name,
                "version": self.domain.version,
                "chainId": self.domain.chain_id,
                "verifyingContract": self.domain.token,
            },
            "message": {
                "owner": self.owner,
                "spender": self.spender,
                "value": str(self.value),
                "nonce": str(self.nonce),
                "deadline": str(self.deadline),
            },
        }

    def _signable(self) -> Any:
        document = self.typed_data()
        document["message"] = {**document["message"], "value": self.value,
                               "nonce": self.nonce, "deadline": self.deadline}
        return encode_typed_data(full_message=document)

    def sign(self, private_key: bytes | str) -> str:
        """The 65-byte signature (0x hex) a dev account makes on the server."""
        signed = Account.sign_message(self._signable(), private_key)
        return "0x" + bytes(signed.signature).hex()

    def signer_of(self, signature: str) -> str:
        """The address that made `signature` (lower case)."""
        return str(Account.recover_message(self._signable(), signature=signature)).lower()


def split_signature(signature: str) -> tuple[int, bytes, bytes]:
    """(v, r, s) of a 65-byte signature; v as 27/28."""
    text = signature[2:] if signature.startswith("0x") else signature
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise FieldError("The wallet returned an unreadable signature; sign again.",
                         "permit") from None
    if len(raw) != 65:
        raise FieldError("The wallet returned a signature of the wrong length; sign again.",
                         "permit")
    v = raw[64]
    if v < 27:
        v += 27
    return v, raw[:32], raw[32:64]


def check_signature(permit: Permit, signature: str, *, price: int, now: int) -> None:
    """Refuse a permit the contract would refuse, in words, before anything is sent."""
    if permit.deadline <= now:
        raise FieldError("The permit you signed has expired; sign a new one.", "permit")
    if permit.value != price:
        raise FieldError("The permit is not for exactly the price; sign the one shown.", "permit")
    try:
        signer = permit.signer_of(signature)
    except Exception:
        raise FieldError("The signature does not match the permit; sign again.",
                         "permit") from None
    if signer != permit.owner.lower():
        raise FieldError(f"The permit was signed by {signer}, not by the booking account "
                         f"{permit.owner.lower()}; switch the wallet's account and sign again.",
                         "permit")


# ------------------------------------------------------------------ reading the token


def read_domain(rpc: Any, token: str, chain_id: int, fallback_name: str = "") -> PermitDomain:
    """The token's EIP-712 domain: EIP-5267 `eip712Domain()` when it has it, else `name()`
    with version "1" (OpenZeppelin's ERC20Permit default)."""
    try:
        raw = _call(rpc, token, _EIP712_DOMAIN)
        _fields, name, version, _chain, _verifying, _salt, _ext = abi_decode(
            ["bytes1", "string", "string", "uint256", "address", "bytes32", "uint256[]"], raw)
        return PermitDomain(str(name), str(version), chain_id, token)
    except Exception:
        pass
    try:
        (name,) = abi_decode(["string"], _call(rpc, token, _NAME))
    except Exception:
        name = fallback_name
    return PermitDomain(str(name), "1", chain_id, token)


def read_nonce(rpc: Any, token: str, owner: str) -> int:
    """The owner's permit nonce at the token."""
    data = _NONCES + abi_encode(["address"], [owner]).hex()
    (nonce,) = abi_decode(["uint256"], _call(rpc, token, data))
    return int(nonce)


def _call(rpc: Any, to: str, data: str) -> bytes:
    result = rpc.call("eth_call", [{"to": to, "data": data}, "latest"])
    if not isinstance(result, str) or len(result) <= 2:
        raise ValueError("empty answer")
    return bytes.fromhex(result[2:])
