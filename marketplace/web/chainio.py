"""The web app's door to the chain: the Market binding, unsigned transactions, dev signing.

Everything goes through `marketplace.chain` (the only package that speaks web3). The node is
reached lazily, so pages that only read the store keep working while it is down; a request that
needs it gets a 503 in the shared error shape. Dev signing exists only when the app runs with
dev accounts on a local chain (31337 or 1337): no private key is derived anywhere else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from marketplace.artifacts import load_artifact
from marketplace.chain.accounts import DevAccount, node_dev_accounts
from marketplace.chain.connection import ChainUnavailable, connect, disconnect, is_local_chain
from marketplace.chain.deployment import DeploymentNotFound, load_deployment
from marketplace.chain.evm import EvmSupport, artifact_evm_version, probe_rpc
from marketplace.chain.market import Market, SigningRefused
from marketplace.chain.nodeerrors import NodeError, node_message
from marketplace.chain.revert import ContractRevert
from marketplace.chain.rpc import NodeUnavailable, RpcClient, RpcError
from marketplace.chain.scan import CONTRACT_NAME
from marketplace.chain.tx import DevSigner, FeeUnavailable, UnsignedTransaction, build_transaction
from marketplace.config import Settings
from marketplace.errors import MarketplaceError
from marketplace.web.errors import Forbidden, Unavailable, WebError, node_refused, refused

log = logging.getLogger("marketplace.web")

StoreDeployment = Callable[[], tuple[int, str] | None]


class ChainGateway:
    """Lazily connected Market, RPC client and (dev mode only) dev signer; thread-safe."""

    def __init__(
        self,
        settings: Settings,
        *,
        dev_mode: bool,
        dev_account_count: int,
        store_deployment: StoreDeployment,
    ) -> None:
        """`store_deployment` names (chain id, address) from the store when no record exists."""
        self.settings = settings
        self.dev_mode = dev_mode
        self.dev_account_count = dev_account_count
        self._store_deployment = store_deployment
        self._lock = threading.Lock()
        self._market: Market | None = None
        self._signer: DevSigner | None = None
        self._accounts: list[DevAccount] | None = None
        self._evm: EvmSupport | None = None
        self._rpc = RpcClient(settings.rpc_url, timeout=10.0)

    # ------------------------------------------------------------------ connection

    @property
    def rpc(self) -> RpcClient:
        """A lean JSON-RPC client for receipts, the head and the chain id."""
        return self._rpc

    def market(self) -> Market:
        """The deployed Marketplace; Unavailable when the node or the deployment is missing."""
        with self._lock:
            if self._market is not None:
                return self._market
            try:
                w3 = connect(self.settings.rpc_url)
                chain_id = int(w3.eth.chain_id)
            except (ChainUnavailable, OSError) as exc:
                raise Unavailable(
                    f"The chain node at {self.settings.rpc_url} does not answer; try again soon."
                ) from exc
            try:
                address = self._deployment_address(chain_id)
            except BaseException:
                disconnect(w3)
                raise
            self._market = Market(w3, address)
            return self._market

    def _deployment_address(self, chain_id: int) -> str:
        path = self.settings.deployment_path
        try:
            record = load_deployment(path=path) if path is not None else load_deployment(chain_id)
        except DeploymentNotFound:
            record = None
        if record is not None:
            if record.chain_id != chain_id:
                raise Unavailable(
                    f"The deployment record is for chain {record.chain_id}, but the node serves "
                    f"chain {chain_id}."
                )
            return record.address
        from_store = self._store_deployment()
        if from_store is not None and from_store[0] == chain_id:
            return from_store[1]
        raise Unavailable(f"No marketplace is deployed on chain {chain_id} (no deployment record).")

    def chain_id(self) -> int:
        """The chain id of the node (cached with the Market)."""
        return int(self.market().w3.eth.chain_id)

    def reset(self) -> None:
        """Forget the connection (the next call reconnects)."""
        with self._lock:
            if self._market is not None:
                disconnect(self._market.w3)
            self._market = None
            self._signer = None
            self._accounts = None
            self._evm = None

    def close(self) -> None:
        """Close the node connections (the app's owner calls it when the app is done)."""
        self.reset()
        self._rpc.close()

    # ------------------------------------------------------------------ calls and transactions

    def call(self, function: str, *args: Any) -> Any:
        """A view call; a revert becomes a TxRefused, an unreachable node Unavailable."""
        market = self.market()
        try:
            return market.call(function, *args)
        except ContractRevert as exc:
            raise refused(exc) from exc
        except NodeError as exc:
            raise node_refused(exc) from exc
        except MarketplaceError:
            raise
        except Exception as exc:  # the node went away or answered nonsense
            self.reset()
            raise Unavailable(f"The chain node could not answer: {_first_line(exc)}") from exc

    def build(self, function: str, *args: Any, sender: str, value: int = 0) -> UnsignedTransaction:
        """An unsigned transaction, simulated first: a revert raises TxRefused in plain words."""
        market = self.market()
        try:
            return build_transaction(market, function, *args, sender=sender, value=value)
        except ContractRevert as exc:
            raise refused(exc) from exc
        except NodeError as exc:
            raise node_refused(exc) from exc
        except FeeUnavailable as exc:
            raise Unavailable(str(exc)) from exc
        except WebError:
            raise
        except Exception as exc:
            self.reset()
            log.warning("building %s failed: %s", function, _first_line(exc))
            raise Unavailable(
                f"The chain node could not prepare the transaction: {_first_line(exc)}"
            ) from exc

    # ------------------------------------------------------------------ dev signing

    def dev_signing_available(self) -> bool:
        """Whether the server may sign for dev accounts: dev mode on a local chain."""
        if not self.dev_mode:
            return False
        try:
            return is_local_chain(self.chain_id())
        except WebError:
            return False

    def dev_accounts(self) -> list[DevAccount]:
        """The usable dev accounts (dev mode on a local chain only): the node's own funded
        accounts (`marketplace.chain.accounts.node_dev_accounts`), read once per connection."""
        if not self.dev_mode:
            raise Forbidden("Dev accounts are off: sign in with a wallet.")
        market = self.market()
        if not is_local_chain(int(market.w3.eth.chain_id)):
            return []
        with self._lock:
            if self._accounts is not None:
                return list(self._accounts)
        try:
            found = node_dev_accounts(market.w3, self.dev_account_count)
        except Exception as exc:  # the node went away or has no eth_accounts
            self.reset()
            raise Unavailable(
                f"The chain node could not list its accounts: {_first_line(exc)}") from exc
        with self._lock:
            self._accounts = found
        return list(found)

    def dev_addresses(self) -> list[str]:
        """Lower-case addresses of the usable dev accounts."""
        return [a.address.lower() for a in self.dev_accounts()]

    def dev_send(self, tx: UnsignedTransaction) -> str:
        """Sign `tx` with its sender's dev key and send it; returns the 0x hash."""
        if not self.dev_signing_available():
            raise Forbidden("The server signs only for dev accounts on a local chain.")
        if tx.sender.lower() not in self.dev_addresses():
            raise Forbidden(f"{tx.sender} is not a dev account: sign with your wallet.")
        market = self.market()
        with self._lock:
            if self._signer is None:
                keys = [a.key for a in self._accounts or [] if a.key is not None]
                self._signer = DevSigner(market.w3, keys)
            signer = self._signer
        try:
            return "0x" + bytes(signer.send(tx)).hex()
        except SigningRefused as exc:
            raise Forbidden(str(exc)) from exc
        except NodeError as exc:
            raise node_refused(exc) from exc
        except Exception as exc:
            self.reset()
            raise Unavailable(
                f"The chain node refused the transaction: {_first_line(exc)}") from exc

    def dev_sign_typed_data(self, address: str, typed: dict[str, Any]) -> str:
        """An EIP-712 signature (0x hex) by a dev account: its local key when the dev mnemonic
        holds it, else the node's own `eth_signTypedData_v4` (anvil's unlocked accounts)."""
        if not self.dev_signing_available():
            raise Forbidden("The server signs only for dev accounts on a local chain.")
        account = next((a for a in self.dev_accounts() if a.address.lower() == address.lower()),
                       None)
        if account is None:
            raise Forbidden(f"{address} is not a dev account: sign with your wallet.")
        if account.key is not None:
            from eth_account.messages import encode_typed_data

            signable = encode_typed_data(full_message=_typed_numbers(typed))
            return "0x" + bytes(account.key.sign_message(signable).signature).hex()
        import json

        try:
            result = self._rpc.call("eth_signTypedData_v4", [account.address, json.dumps(typed)])
        except (NodeUnavailable, RpcError) as exc:
            raise Unavailable(f"The chain node could not sign: {exc}") from exc
        return str(result)

    # ------------------------------------------------------------------ receipts

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        """The receipt of a mined transaction, None while it is pending or unknown."""
        try:
            result = self._rpc.call("eth_getTransactionReceipt", [tx_hash])
        except (NodeUnavailable, RpcError) as exc:
            raise Unavailable(f"The chain node could not answer: {exc}") from exc
        return result if isinstance(result, dict) else None

    def transaction_known(self, tx_hash: str) -> bool:
        """Whether the node knows the transaction (mined or in its pool)."""
        try:
            return self._rpc.call("eth_getTransactionByHash", [tx_hash]) is not None
        except (NodeUnavailable, RpcError) as exc:
            raise Unavailable(f"The chain node could not answer: {exc}") from exc

    def head(self) -> int:
        """The node's latest block number."""
        return self._rpc.block_number()

    def evm_support(self) -> EvmSupport:
        """Whether the node runs every EVM feature the contract is compiled for, so that its
        payouts can execute (`marketplace.chain.evm`). A passing probe is kept (a chain gains
        hardforks, it does not lose them); a failing one is run again on the next ask.
        Raises NodeUnavailable when the node does not answer."""
        with self._lock:
            if self._evm is not None:
                return self._evm
        version = artifact_evm_version(load_artifact(CONTRACT_NAME))
        support = probe_rpc(self._rpc, version)
        if support.ok:
            with self._lock:
                self._evm = support
        return support


def _typed_numbers(typed: dict[str, Any]) -> dict[str, Any]:
    """EIP-712 messages carry big numbers as decimal strings for wallets; eth_account wants
    integers for the uint fields."""
    out = dict(typed)
    primary = typed["types"][typed["primaryType"]]
    kinds = {f["name"]: f["type"] for f in primary}
    out["message"] = {k: int(v) if kinds.get(k, "").startswith("uint") and isinstance(v, str)
                      else v for k, v in typed["message"].items()}
    return out


def _first_line(exc: BaseException) -> str:
    """What the node said, one line, without its stack trace (ganache sends one)."""
    return node_message(exc)
