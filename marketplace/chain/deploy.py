"""Deploy the Marketplace to any EVM chain and record it in `deployments/<chainId>.json`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3

from marketplace.artifacts import load_artifact
from marketplace.chain.connection import is_local_chain
from marketplace.chain.deployment import Deployment, save_deployment
from marketplace.chain.market import Market, SigningRefused
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
) -> tuple[Market, Deployment]:
    """Deploy from `private_key` (any chain) or an unlocked node account `deployer` (local chains).

    Writes `deployments/<chainId>.json` unless `record` is false.
    """
    artifact = load_artifact(CONTRACT_NAME)
    chain_id = w3.eth.chain_id
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
    if private_key:
        built = constructor.build_transaction(
            {**tx, "nonce": w3.eth.get_transaction_count(sender, "pending"), "chainId": chain_id}
        )
        signed = Account.sign_transaction(built, private_key)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    else:
        tx_hash = constructor.transact(tx)
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
        source_hash=str(artifact.get("sourceHash", "")),
    )
    if record:
        save_deployment(deployment, record_path)
    return Market(w3, deployment.address, artifact["abi"]), deployment
