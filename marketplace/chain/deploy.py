"""Deploy the Marketplace (v2: one constructor taking a `Setup`; it deploys its module) to any
EVM chain and record it in `deployments/<chainId>.json`; on local chains, the demo stablecoin.

Before anything is sent, the node is probed for the EVM features the contracts are compiled for
(`marketplace.chain.evm`: a chain without Cancun would take stakes it can never pay back) and the
record is checked: a live deployment on the same chain is replaced only when asked (`force`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from hexbytes import HexBytes
from web3 import Web3
from web3.types import TxReceipt

from marketplace.artifacts import load_artifact
from marketplace.chain.connection import is_local_chain
from marketplace.chain.deployment import (
    Deployment,
    claim_record,
    deployment_path,
    replaced_summary,
    save_deployment,
)
from marketplace.chain.evm import ChainIncompatible, EvmSupport, artifact_evm_version, probe_evm
from marketplace.chain.market import Market, SigningRefused
from marketplace.chain.nodeerrors import classify
from marketplace.chain.scan import CONTRACT_NAME
from marketplace.chain.token import Token
from marketplace.domain import ZERO_ADDRESS

DEMO_TOKEN_NAME = "DemoUSD"
"""The demo stablecoin's contract (6 decimals, EIP-2612 permit, owner mint)."""
DEMO_TOKEN_MIN_FEE = 250_000
"""Minimum fee of a DemoUSD booking: 0.25 dUSD (6 decimals)."""
DEMO_TOKEN_FUNDS = 10_000 * 10**6
"""DemoUSD each dev account gets on a local chain: 10,000 dUSD."""


@dataclass(frozen=True)
class DeployParams:
    """The constructor's `Setup`: money in wei (tokens: smallest units), windows in seconds.

    `token` enables an existing ERC-20 as currency 1 (with `token_min_fee`); `demo_token`
    deploys DemoUSD first and enables it (min fee `DEMO_TOKEN_MIN_FEE` unless given).
    """

    fee_bps: int = 250
    min_stake: int = 10**16
    dispute_bond: int = 5 * 10**15
    min_fee: int = 10**14
    respond_window: int = 24 * 3600
    service_grace: int = 24 * 3600
    confirm_window: int = 3 * 24 * 3600
    arbitration_window: int = 7 * 24 * 3600
    stake_cooldown: int = 7 * 24 * 3600
    change_delay: int = 2 * 24 * 3600
    owner: str | None = None
    arbiter: str | None = None
    attestor: str | None = None
    token: str | None = None
    token_min_fee: int = 0
    demo_token: bool = False

    def windows(self) -> dict[str, int]:
        """Windows in the contract's field order (`IMarketplaceAdmin.Windows`)."""
        return {
            "respond": self.respond_window,
            "serviceGrace": self.service_grace,
            "confirm": self.confirm_window,
            "arbitration": self.arbitration_window,
            "stakeCooldown": self.stake_cooldown,
        }

    def setup(self, owner: str, token: str | None, token_min_fee: int) -> tuple[Any, ...]:
        """The `Setup` tuple, in the contract's field order."""
        return (
            Web3.to_checksum_address(owner),
            self.fee_bps,
            self.min_stake,
            self.dispute_bond,
            self.min_fee,
            tuple(self.windows().values()),
            self.change_delay,
            _address_or_zero(self.arbiter),
            _address_or_zero(self.attestor),
            _address_or_zero(token),
            token_min_fee if token else 0,
        )


def _address_or_zero(account: str | None) -> str:
    return Web3.to_checksum_address(account) if account else ZERO_ADDRESS


class _Sender:
    """Sends contract creations and calls from a private key (any chain) or an unlocked node
    account (local chains), mapping node refusals to the product's words."""

    def __init__(self, w3: Web3, deployer: str | None, private_key: str | None) -> None:
        self.w3 = w3
        self.private_key = private_key
        chain_id = int(w3.eth.chain_id)
        if private_key:
            self.address = Account.from_key(private_key).address
        else:
            if not is_local_chain(chain_id):
                raise SigningRefused(f"chain {chain_id} is not local: pass a deployer private key")
            self.address = Web3.to_checksum_address(deployer or w3.eth.accounts[0])
        self.chain_id = chain_id

    def send(self, call: Any, what: str) -> TxReceipt:
        """Send a constructor or function call (web3 ContractConstructor/ContractFunction)."""
        tx: dict[str, Any] = {"from": self.address}
        try:
            if self.private_key:
                built = call.build_transaction(
                    {
                        **tx,
                        "nonce": self.w3.eth.get_transaction_count(self.address, "pending"),
                        "chainId": self.chain_id,
                    }
                )
                signed = Account.sign_transaction(built, self.private_key)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            else:
                tx_hash = call.transact(tx)
        except Exception as exc:  # the node refused: say why in the product's words
            refusal = classify(exc)
            if refusal is None:
                raise
            raise refusal from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=300)
        if receipt["status"] != 1:
            raise SigningRefused(f"{what} transaction {HexBytes(tx_hash).hex()} failed")
        return receipt


def deploy_marketplace(
    w3: Web3,
    params: DeployParams,
    deployer: str | None = None,
    private_key: str | None = None,
    record: bool = True,
    record_path: Path | None = None,
    force: bool = False,
) -> tuple[Market, Deployment]:
    """Deploy from `private_key` (any chain) or an unlocked node account `deployer` (local chains).

    With `params.demo_token`, DemoUSD is deployed first (owned by the deployer) and enabled as
    currency 1 by the Setup. Raises ChainIncompatible (nothing sent) when the node lacks an EVM
    feature the contracts need, and DeploymentExists when `record_path` (default
    `deployments/<chainId>.json`, see `deployment_path`) names a live deployment on this chain
    and `force` is false. Writes the record unless `record` is false.
    """
    artifact = load_artifact(CONTRACT_NAME)
    chain_id = w3.eth.chain_id
    require_evm(w3, artifact)
    target = record_path or deployment_path(chain_id)
    replaces = (
        claim_record(target, chain_id, lambda address: _has_code(w3, address), force=force)
        if record
        else None
    )
    sender = _Sender(w3, deployer, private_key)
    owner = Web3.to_checksum_address(params.owner or sender.address)
    token, token_min_fee = params.token, params.token_min_fee
    if params.demo_token:
        if token:
            raise ValueError("give either a token or demo_token, not both")
        token = deploy_demo_token(w3, sender)
        token_min_fee = token_min_fee or DEMO_TOKEN_MIN_FEE
    elif token and token_min_fee <= 0:
        raise ValueError("a token currency needs a minimum fee above zero")
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = sender.send(
        factory.constructor(params.setup(owner, token, token_min_fee)), "deployment"
    )
    if not receipt["contractAddress"]:
        raise SigningRefused(f"deployment transaction {receipt['transactionHash'].hex()} failed")
    address = str(receipt["contractAddress"])
    market = Market(w3, address)
    currencies = []
    if token:
        currencies.append(currency_record(w3, market, token))
    compiler = artifact.get("compiler", {})
    deployment = Deployment(
        chain_id=chain_id,
        address=address,
        start_block=int(receipt["blockNumber"]),
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        deployer=sender.address,
        owner=owner,
        fee_bps=params.fee_bps,
        min_stake=params.min_stake,
        windows=params.windows(),
        compiler=str(compiler.get("version", "")) if isinstance(compiler, dict) else str(compiler),
        # The Marketplace source file's sha256, and that of every source compiled with it
        # (the base contracts and libraries): `marketplace.build` writes both.
        source_hash=str(artifact.get("sourceSha256", "")),
        extra={
            "sources_sha256": str(artifact.get("sourcesSha256", "")),
            "evm_version": artifact_evm_version(artifact),
            **({"replaces": replaced_summary(replaces)} if replaces is not None else {}),
        },
        dispute_bond=params.dispute_bond,
        min_fee=params.min_fee,
        change_delay=params.change_delay,
        arbiter=Web3.to_checksum_address(params.arbiter) if params.arbiter else "",
        attestor=Web3.to_checksum_address(params.attestor) if params.attestor else "",
        currencies=currencies,
    )
    if record:
        save_deployment(deployment, target)
    return market, deployment


def currency_record(w3: Web3, market: Market, token: str) -> dict[str, Any]:
    """What the deployment record keeps of a token currency: id, symbol, decimals, token,
    min_fee (read from the token and the marketplace now)."""
    binding = Token(w3, token)
    currency_id = int(market.call("currencyId", binding.address))
    return {
        "id": currency_id,
        "symbol": binding.symbol(),
        "decimals": binding.decimals(),
        "token": binding.address,
        "min_fee": int(market.call("minFee", currency_id)),
    }


def deploy_demo_token(
    w3: Web3, sender: _Sender | None = None, *, deployer: str | None = None
) -> str:
    """Deploy DemoUSD owned by the sender (who may mint); returns its address."""
    sender = sender or _Sender(w3, deployer, None)
    artifact = load_artifact(DEMO_TOKEN_NAME)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = sender.send(factory.constructor(sender.address), "DemoUSD deployment")
    return str(receipt["contractAddress"])


def fund_dev_accounts(
    w3: Web3,
    token: str,
    accounts: Sequence[str],
    amount: int = DEMO_TOKEN_FUNDS,
    *,
    minter: str | None = None,
) -> None:
    """Mint `amount` DemoUSD to each account (local chains; `minter`: the token's owner, by
    default the node's first account)."""
    chain_id = int(w3.eth.chain_id)
    if not is_local_chain(chain_id):
        raise SigningRefused(f"chain {chain_id} is not local: dev funding is refused")
    binding = Token(w3, token, load_artifact(DEMO_TOKEN_NAME)["abi"])
    owner = Web3.to_checksum_address(minter or w3.eth.accounts[0])
    for account in accounts:
        binding.transact("mint", Web3.to_checksum_address(account), amount, sender=owner)


def _has_code(w3: Web3, address: str) -> bool:
    try:
        return len(w3.eth.get_code(Web3.to_checksum_address(address))) > 0
    except ValueError:  # not an address: the record is broken, not live
        return False


def probe_web3(w3: Web3, evm_version: str) -> EvmSupport:
    """Probe the node behind `w3` for the features of `evm_version` (marketplace.chain.evm);
    a node that does not answer raises (no verdict on a node that is down)."""
    return probe_evm(
        lambda code: w3.eth.call({"data": code}),  # type: ignore[typeddict-item]
        evm_version,
        is_outage=lambda exc: isinstance(exc, requests.ConnectionError | requests.Timeout),
    )


def require_evm(w3: Web3, artifact: Mapping[str, Any]) -> EvmSupport:
    """Raise ChainIncompatible unless the node runs every feature the artifact may use."""
    support = probe_web3(w3, artifact_evm_version(artifact))
    if not support.ok:
        raise ChainIncompatible(support.sentence(int(w3.eth.chain_id)), support.missing)
    return support
