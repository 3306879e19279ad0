"""ERC-20 tokens the marketplace prices in: reads, approvals, and EIP-2612 permits.

`Token` binds any ERC-20 (balance, allowance, decimals, symbol, name, approve) with the same
decoded reverts and dev signing as the marketplace binding. `permit_typed_data` builds the
EIP-712 message of an EIP-2612 permit exactly as a browser wallet signs it with
`eth_signTypedData_v4`; `sign_permit` signs it with a dev key (local chains, tests, the demo) and
returns the (v, r, s) that `bookWithPermit` takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from marketplace.chain.market import Binding
from marketplace.units import Currency

ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": name,
        "stateMutability": "view",
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": out}],
    }
    for name, inputs, out in (
        ("name", (), "string"),
        ("symbol", (), "string"),
        ("decimals", (), "uint8"),
        ("totalSupply", (), "uint256"),
        ("balanceOf", (("account", "address"),), "uint256"),
        ("allowance", (("owner", "address"), ("spender", "address")), "uint256"),
        ("nonces", (("owner", "address"),), "uint256"),
        ("DOMAIN_SEPARATOR", (), "bytes32"),
    )
] + [
    {
        "type": "function",
        "name": name,
        "stateMutability": "nonpayable",
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": "bool"}],
    }
    for name, inputs in (
        ("approve", (("spender", "address"), ("value", "uint256"))),
        ("transfer", (("to", "address"), ("value", "uint256"))),
        ("transferFrom", (("from", "address"), ("to", "address"), ("value", "uint256"))),
    )
]
"""The ERC-20 (and EIP-2612 read) functions the app uses, for tokens without an artifact."""

MAX_UINT256 = 2**256 - 1


class Token(Binding):
    """An ERC-20 token at `address` (the ABI defaults to `ERC20_ABI`)."""

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]] | None = None) -> None:
        super().__init__(w3, address, abi if abi is not None else ERC20_ABI)

    def symbol(self) -> str:
        """The token's symbol."""
        return str(self.call("symbol"))

    def decimals(self) -> int:
        """The token's decimals."""
        return int(self.call("decimals"))

    def name(self) -> str:
        """The token's name (the EIP-712 domain name of its permits)."""
        return str(self.call("name"))

    def balance_of(self, account: str) -> int:
        """`account`'s balance, in the smallest unit."""
        return int(self.call("balanceOf", Web3.to_checksum_address(account)))

    def allowance(self, owner: str, spender: str) -> int:
        """What `spender` may pull from `owner`."""
        return int(
            self.call(
                "allowance", Web3.to_checksum_address(owner), Web3.to_checksum_address(spender)
            )
        )

    def nonce_of(self, owner: str) -> int:
        """`owner`'s next EIP-2612 permit nonce."""
        return int(self.call("nonces", Web3.to_checksum_address(owner)))

    def approve(self, spender: str, amount: int, *, sender: str | LocalAccount) -> TxReceipt:
        """`sender` lets `spender` pull `amount` (dev-signed, local chains)."""
        return self.transact("approve", Web3.to_checksum_address(spender), amount, sender=sender)

    def transfer(self, to: str, amount: int, *, sender: str | LocalAccount) -> TxReceipt:
        """`sender` sends `amount` to `to` (dev-signed, local chains)."""
        return self.transact("transfer", Web3.to_checksum_address(to), amount, sender=sender)

    def currency(self, currency_id: int) -> Currency:
        """This token as the marketplace currency `currency_id` (symbol and decimals read now)."""
        return Currency(currency_id, self.symbol(), self.decimals(), self.address)


@dataclass(frozen=True)
class Permit:
    """An EIP-2612 permit (`owner` lets `spender` pull `value` by `deadline`), with signature."""

    owner: str
    spender: str
    value: int
    nonce: int
    deadline: int
    v: int = 0
    r: bytes = b"\0" * 32
    s: bytes = b"\0" * 32


def permit_typed_data(
    *,
    token_name: str,
    token_address: str,
    chain_id: int,
    owner: str,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
    version: str = "1",
) -> dict[str, Any]:
    """The EIP-712 message of an EIP-2612 permit, as `eth_signTypedData_v4` takes it (JSON-ready:
    numbers as decimal strings are accepted by wallets, but ints are kept for eth_account).

    OpenZeppelin's `ERC20Permit(name)` signs with domain (name, version "1", chainId,
    verifyingContract).
    """
    return {
        "types": {
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
        },
        "primaryType": "Permit",
        "domain": {
            "name": token_name,
            "version": version,
            "chainId": chain_id,
            "verifyingContract": Web3.to_checksum_address(token_address),
        },
        "message": {
            "owner": Web3.to_checksum_address(owner),
            "spender": Web3.to_checksum_address(spender),
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def for_wallet(typed_data: dict[str, Any]) -> dict[str, Any]:
    """The typed data with every integer as a decimal string (what a browser passes to
    `eth_signTypedData_v4` without losing precision in JavaScript numbers)."""

    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return str(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    out: dict[str, Any] = convert(typed_data)
    out["domain"]["chainId"] = int(typed_data["domain"]["chainId"])
    return out


def sign_permit(typed_data: dict[str, Any], account: LocalAccount | str) -> Permit:
    """Sign a permit's typed data with a dev key (a LocalAccount or a hex private key)."""
    key = account.key if isinstance(account, LocalAccount) else account
    signable = encode_typed_data(full_message=typed_data)
    signed = Account.sign_message(signable, key)
    message = typed_data["message"]
    return Permit(
        owner=str(message["owner"]),
        spender=str(message["spender"]),
        value=int(message["value"]),
        nonce=int(message["nonce"]),
        deadline=int(message["deadline"]),
        v=int(signed.v),
        r=int(signed.r).to_bytes(32, "big"),
        s=int(signed.s).to_bytes(32, "big"),
    )


def recover_permit_signer(typed_data: dict[str, Any], permit: Permit) -> str:
    """The address that signed `permit` over `typed_data` (a check before sending it)."""
    signable = encode_typed_data(full_message=typed_data)
    return str(Account.recover_message(signable, vrs=(permit.v, permit.r, permit.s)))


def token_permit(
    token: Token,
    owner: LocalAccount,
    spender: str,
    value: int,
    deadline: int,
) -> Permit:
    """A dev-signed permit of `token` from `owner` to `spender` for `value`, nonce read now."""
    typed = permit_typed_data(
        token_name=token.name(),
        token_address=token.address,
        chain_id=int(token.w3.eth.chain_id),
        owner=owner.address,
        spender=spender,
        value=value,
        nonce=token.nonce_of(owner.address),
        deadline=deadline,
    )
    return sign_permit(typed, owner)
