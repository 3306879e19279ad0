"""Transactions: unsigned EIP-1559 transactions for browser wallets, and dev signing.

`build_transaction` prepares what a wallet signs: target, calldata, value, chain id, a gas
estimate (a revert during estimation raises `ContractRevert` with the decoded custom error) and
EIP-1559 fees; the nonce is left to the wallet unless asked for. `DevSigner` signs and sends from
dev accounts, only on local chains (31337, 1337), one nonce per send even under concurrency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import TxParams, TxReceipt

from marketplace.chain.connection import is_local_chain
from marketplace.chain.market import Market, SigningRefused
from marketplace.chain.nodeerrors import classify
from marketplace.chain.nonces import send_with_nonce
from marketplace.chain.revert import ContractRevert
from marketplace.errors import MarketplaceError

DEFAULT_PRIORITY_FEE = 10**9  # 1 gwei, when the node cannot suggest one


class FeeUnavailable(MarketplaceError):
    """The chain does not report a base fee (no EIP-1559), so no fees can be suggested."""


@dataclass(frozen=True)
class FeeSuggestion:
    """EIP-1559 fees in wei: the cap and the tip."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int


@dataclass(frozen=True)
class UnsignedTransaction:
    """An EIP-1559 transaction ready to be signed (by a wallet or a dev signer)."""

    chain_id: int
    sender: str
    to: str
    data: str
    value: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    nonce: int | None = None

    def for_wallet(self) -> dict[str, str]:
        """`eth_sendTransaction` parameters for an EIP-1193 wallet: hex quantities, type 0x2."""
        tx = {
            "type": "0x2",
            "chainId": hex(self.chain_id),
            "from": self.sender,
            "to": self.to,
            "data": self.data,
            "value": hex(self.value),
            "gas": hex(self.gas),
            "maxFeePerGas": hex(self.max_fee_per_gas),
            "maxPriorityFeePerGas": hex(self.max_priority_fee_per_gas),
        }
        if self.nonce is not None:
            tx["nonce"] = hex(self.nonce)
        return tx

    def for_signing(self, nonce: int) -> dict[str, Any]:
        """The dict `eth_account` signs, with `nonce`."""
        return {
            "type": 2,
            "chainId": self.chain_id,
            "to": self.to,
            "data": self.data,
            "value": self.value,
            "gas": self.gas,
            "maxFeePerGas": self.max_fee_per_gas,
            "maxPriorityFeePerGas": self.max_priority_fee_per_gas,
            "nonce": nonce,
        }


def suggest_fees(w3: Web3) -> FeeSuggestion:
    """Fees that survive a few full blocks: cap = 2 x base fee + tip; tip from the node."""
    block = w3.eth.get_block("latest")
    base = block.get("baseFeePerGas")
    if base is None:
        raise FeeUnavailable("the chain reports no base fee: it does not support EIP-1559")
    try:
        priority = int(w3.eth.max_priority_fee)
    except Exception:  # some nodes lack eth_maxPriorityFeePerGas
        priority = DEFAULT_PRIORITY_FEE
    return FeeSuggestion(2 * int(base) + priority, priority)


def build_transaction(
    market: Market,
    function: str,
    *args: Any,
    sender: str,
    value: int = 0,
    with_nonce: bool = False,
) -> UnsignedTransaction:
    """An unsigned call of `function(*args)` on the marketplace from `sender`.

    The gas estimate simulates the call: a revert raises ContractRevert with the custom error's
    name, arguments and a plain-words message; a node refusal (no funds, an opcode the chain
    lacks) raises NodeError. The nonce is included only if `with_nonce`.
    """
    w3 = market.w3
    address = Web3.to_checksum_address(sender)
    fn = getattr(market.contract.functions, function)(*args)
    params: TxParams = {"from": address, "value": value}  # type: ignore[typeddict-item]
    try:
        estimated = int(fn.estimate_gas(params))
    except (ContractLogicError, Web3RPCError) as exc:
        raise market.decode(exc) from exc
    fees = suggest_fees(w3)
    return UnsignedTransaction(
        chain_id=int(w3.eth.chain_id),
        sender=address,
        to=market.address,
        data=str(market.contract.encode_abi(function, args=list(args))),
        value=value,
        gas=estimated + estimated // 5 + 10_000,
        max_fee_per_gas=fees.max_fee_per_gas,
        max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
        nonce=int(w3.eth.get_transaction_count(address, "pending")) if with_nonce else None,
    )


class DevSigner:
    """Signs and sends from dev accounts (given keys, or node-unlocked); local chains only."""

    def __init__(self, w3: Web3, accounts: Iterable[LocalAccount] = ()) -> None:
        chain_id = int(w3.eth.chain_id)
        if not is_local_chain(chain_id):
            raise SigningRefused(
                f"chain {chain_id} is not a local development chain (31337 or 1337): dev signing "
                "is refused; build an unsigned transaction and sign it in a wallet"
            )
        self.w3 = w3
        self.chain_id = chain_id
        self._keys = {Web3.to_checksum_address(a.address): a for a in accounts}

    def send(self, tx: UnsignedTransaction) -> HexBytes:
        """Sign (or have the node sign, for unlocked accounts) and send; returns the tx hash.

        The nonce comes from the account's nonce lock, whatever `tx.nonce` says, so any number
        of threads may send from one account at once.
        """
        if tx.chain_id != self.chain_id or not is_local_chain(tx.chain_id):
            raise SigningRefused(
                f"refusing to dev-sign a transaction for chain {tx.chain_id} "
                f"on local chain {self.chain_id}"
            )
        account = self._keys.get(Web3.to_checksum_address(tx.sender))

        def sign_and_send(nonce: int) -> HexBytes:
            params = tx.for_signing(nonce)
            if account is not None:
                signed = account.sign_transaction(params)
                return self.w3.eth.send_raw_transaction(signed.raw_transaction)
            return self.w3.eth.send_transaction({**params, "from": tx.sender})  # type: ignore[typeddict-item]

        try:
            return send_with_nonce(self.w3, tx.sender, sign_and_send)
        except Web3RPCError as exc:  # the node refused: its words mapped to the product's
            refusal = classify(exc)
            if refusal is None:
                raise
            raise refusal from exc

    def transact(
        self,
        market: Market,
        function: str,
        *args: Any,
        sender: str,
        value: int = 0,
        timeout: float = 120.0,
    ) -> TxReceipt:
        """Build, send and wait for `function(*args)`; a revert raises ContractRevert."""
        tx = build_transaction(market, function, *args, sender=sender, value=value)
        tx_hash = self.send(tx)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
        if receipt["status"] != 1:
            raise ContractRevert("Reverted", {}, f"transaction {tx_hash.to_0x_hex()} reverted")
        return receipt
