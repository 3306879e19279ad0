"""A binding to the deployed Marketplace: calls and dev-signed transactions with decoded reverts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from web3.types import TxReceipt

from marketplace.artifacts import load_artifact
from marketplace.chain.connection import is_local_chain
from marketplace.chain.nodeerrors import NodeError, classify
from marketplace.chain.nonces import send_with_nonce
from marketplace.chain.revert import ContractRevert, RevertDecoder
from marketplace.chain.scan import CONTRACT_NAME
from marketplace.errors import MarketplaceError


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


class Market:
    """The Marketplace contract at `address`, with its ABI's errors decoded into ContractRevert."""

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]] | None = None) -> None:
        self.w3 = w3
        self.abi = abi if abi is not None else load_artifact(CONTRACT_NAME)["abi"]
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
