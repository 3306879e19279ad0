"""Deploy the Marketplace to any EVM chain and record it in `deployments/<chainId>.json`.

Before anything is sent, the node is probed for the EVM features the contracts are compiled for
(`marketplace.chain.evm`: a chain without Cancun would take stakes it can never pay back) and the
record is checked: a live deployment on the same chain is replaced only when asked (`force`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from web3 import Web3

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


@dataclass(frozen=True)
class DeployParams:
    """Constructor parameters; windows are seconds."""

    fee_bps: int = 250
    min_stake: int = 10**16
    respond_window: int = 24 * 3600
    service_window: int = 7 * 24 * 3600
    confirm_window: int = 3 * 24 * 3600
    arbitration_window: int = 7 * 24 * 3600
    stake_cooldown: int = 7 * 24 * 3600
    owner: str | None = None

    def windows(self) -> dict[str, int]:
        """Windows in the contract's field order."""
        return {
            "respond": self.respond_window,
            "service": self.service_window,
            "confirm": self.confirm_window,
            "arbitration": self.arbitration_window,
            "stakeCooldown": self.stake_cooldown,
        }


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

    Raises ChainIncompatible (nothing sent) when the node lacks an EVM feature the contracts
    need, and DeploymentExists when `record_path` (default `deployments/<chainId>.json`, see
    `deployment_path`) names a live deployment on this chain and `force` is false. Writes the
    record unless `record` is false.
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
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    if private_key:
        account = Account.from_key(private_key)
        sender = account.address
    else:
        if not is_local_chain(chain_id):
            raise SigningRefused(f"chain {chain_id} is not local: pass a deployer private key")
        sender = Web3.to_checksum_address(deployer or w3.eth.accounts[0])
    owner = Web3.to_checksum_address(params.owner or sender)
    windows = params.windows()
    constructor = factory.constructor(
        owner, params.fee_bps, params.min_stake, tuple(windows.values())
    )
    tx: dict[str, Any] = {"from": sender}
    try:
        if private_key:
            built = constructor.build_transaction(
                {
                    **tx,
                    "nonce": w3.eth.get_transaction_count(sender, "pending"),
                    "chainId": chain_id,
                }
            )
            signed = Account.sign_transaction(built, private_key)
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        else:
            tx_hash = constructor.transact(tx)
    except Exception as exc:  # the node refused: say why in the product's words
        refusal = classify(exc)
        if refusal is None:
            raise
        raise refusal from exc
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=300)
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise SigningRefused(f"deployment transaction {tx_hash.hex()} failed")
    compiler = artifact.get("compiler", {})
    deployment = Deployment(
        chain_id=chain_id,
        address=str(receipt["contractAddress"]),
        start_block=int(receipt["blockNumber"]),
        tx_hash="0x" + bytes(tx_hash).hex(),
        deployer=sender,
        owner=owner,
        fee_bps=params.fee_bps,
        min_stake=params.min_stake,
        windows=windows,
        compiler=str(compiler.get("version", "")) if isinstance(compiler, dict) else str(compiler),
        # The Marketplace source file's sha256, and that of every source compiled with it
        # (the base contracts and libraries): `marketplace.build` writes both.
        source_hash=str(artifact.get("sourceSha256", "")),
        extra={
            "sources_sha256": str(artifact.get("sourcesSha256", "")),
            "evm_version": artifact_evm_version(artifact),
            **({"replaces": replaced_summary(replaces)} if replaces is not None else {}),
        },
    )
    if record:
        save_deployment(deployment, target)
    return Market(w3, deployment.address, artifact["abi"]), deployment


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
