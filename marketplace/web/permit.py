"""EIP-2612 permits for token bookings, in the web's words: one signature, one transaction.

A token listing is booked with `bookWithPermit(req, permitDeadline, v, r, s)`
(docs/contract-v2.md): the customer signs a permit for exactly the price, valid for
`PERMIT_LIFETIME` seconds, and the same transaction takes the permit and books. The typed data,
signing and recovery are `marketplace.chain.token`'s; this module reads the token's name and the
owner's nonce, turns a wallet's 65-byte signature into (v, r, s), and checks a signature before
it is sent (expired, wrong amount, wrong signer: each a sentence for the `permit` field).
"""

from __future__ import annotations

from typing import Any

from marketplace.chain.token import (
    Permit,
    Token,
    for_wallet,
    permit_typed_data,
    recover_permit_signer,
)
from marketplace.web.errors import FieldError

# A permit the customer signs is valid this long: long enough to sign, short enough not to linger.
PERMIT_LIFETIME = 20 * 60


def typed_data(w3: Any, token: str, *, owner: str, spender: str, value: int,
               deadline: int) -> dict[str, Any]:
    """The permit's EIP-712 document (integers as ints; `wallet_json` for a browser)."""
    contract = Token(w3, token)
    return permit_typed_data(
        token_name=contract.name(), token_address=token, chain_id=int(w3.eth.chain_id),
        owner=owner, spender=spender, value=value, nonce=contract.nonce_of(owner),
        deadline=deadline)


def wallet_json(typed: dict[str, Any]) -> dict[str, Any]:
    """What `eth_signTypedData_v4` gets from the page: big numbers as decimal strings."""
    return for_wallet(typed)


def permit_of(typed: dict[str, Any], signature: str) -> Permit:
    """The permit `typed` describes with a wallet's 65-byte signature (0x hex) as v, r, s."""
    text = signature[2:] if signature.startswith("0x") else signature
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise FieldError("The wallet returned an unreadable signature; sign again.",
                         "permit") from None
    if len(raw) != 65:
        raise FieldError("The wallet returned a signature of the wrong length; sign again.",
                         "permit")
    v = raw[64] + 27 if raw[64] < 27 else raw[64]
    message = typed["message"]
    return Permit(owner=str(message["owner"]), spender=str(message["spender"]),
                  value=int(message["value"]), nonce=int(message["nonce"]),
                  deadline=int(message["deadline"]), v=v, r=raw[:32], s=raw[32:64])


def check_permit(typed: dict[str, Any], permit: Permit, *, price: int, now: int) -> None:
    """Refuse a permit the contract would refuse, in words, before anything is sent."""
    if permit.deadline <= now:
        raise FieldError("The permit you signed has expired; sign a new one.", "permit")
    if permit.value != price:
        raise FieldError("The permit is not for exactly the price; sign the one shown.", "permit")
    try:
        signer = recover_permit_signer(typed, permit).lower()
    except Exception:
        raise FieldError("The signature does not match the permit; sign again.",
                         "permit") from None
    if signer != permit.owner.lower():
        raise FieldError(f"The permit was signed by {signer}, not by the booking account "
                         f"{permit.owner.lower()}; switch the wallet's account and sign again.",
                         "permit")
