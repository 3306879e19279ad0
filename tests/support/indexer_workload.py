"""Marketplace activity for the indexer's tests and benchmark, generated fast.

`IndexerPump` (tests/support/indexer_pump.sol) runs many real booking lifecycles per transaction,
so a few hundred transactions produce 100,000 marketplace events of every kind. The pump is
compiled once with the project's pinned solc and cached under `.cache/indexer-pump/`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.types import RPCEndpoint, TxParams, Wei

from marketplace._paths import repo_root
from marketplace._solc import compile_standard, find_compiler
from marketplace.build import compiler_settings, standard_input
from marketplace.chain.market import Market

PUMP_SOURCE = Path(__file__).resolve().with_name("indexer_pump.sol")
PUMP_PATH = "tests/support/indexer_pump.sol"  # its source unit name for the compiler
PUMP_NAME = "IndexerPump"
SOLC_VERSION = "0.8.37"
DAY = 24 * 3600
GAS_PER_TX = 25_000_000


def _sources(root: Path) -> dict[str, bytes]:
    sources = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted((root / "contracts" / "interfaces").glob("*.sol"))
    }
    sources[PUMP_PATH] = PUMP_SOURCE.read_bytes()
    return sources


def pump_artifact() -> dict[str, Any]:
    """ABI and bytecode of IndexerPump, compiled once per source version and cached."""
    root = repo_root()
    sources = _sources(root)
    digest = hashlib.sha256()
    for name, data in sources.items():
        digest.update(name.encode() + b"\0" + data)
    cache = root / ".cache" / "indexer-pump" / f"{digest.hexdigest()[:16]}.json"
    if cache.is_file():
        cached: dict[str, Any] = json.loads(cache.read_text())
        return cached
    settings = compiler_settings(outputs=("abi", "evm.bytecode.object"))
    output = compile_standard(
        find_compiler(root, SOLC_VERSION), standard_input(sources, settings), root
    )
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise RuntimeError("IndexerPump does not compile:\n" + "\n".join(errors))
    contract = output["contracts"][PUMP_PATH][PUMP_NAME]
    artifact = {"abi": contract["abi"], "bytecode": "0x" + contract["evm"]["bytecode"]["object"]}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(artifact))
    return artifact


@dataclass
class Workload:
    """Pumps deployed against one marketplace, driven from unlocked node accounts."""

    w3: Web3
    market: Market
    operator: str
    pumps: list[Contract]
    rounds_per_tx: int = 100

    def _send(self, fn: Any, gas: int, sender: str | None = None) -> None:
        tx_hash = fn.transact({"from": sender or self.operator, "gas": gas})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise RuntimeError(f"workload transaction {tx_hash.hex()} reverted")

    def pump(self, rounds: int, rounds_per_tx: int | None = None) -> int:
        """Run `rounds` rounds spread over the pumps; returns the number of transactions."""
        per_tx = rounds_per_tx or self.rounds_per_tx
        sent = 0
        done = 0
        while done < rounds:
            index = sent % len(self.pumps)
            pump = self.pumps[index]
            arbiter = self.pumps[(index + 1) % len(self.pumps)]
            count = min(per_tx, rounds - done)
            gas = min(GAS_PER_TX, 60_000 + 320_000 * count)
            self._send(pump.functions.pump(count, arbiter.address), gas)
            done += count
            sent += 1
        return sent

    def finish(self) -> None:
        """Let every window pass and take every timed exit, then release a stake per pump."""
        self.w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [8 * DAY])
        for pump in self.pumps:
            self._send(pump.functions.finish(), GAS_PER_TX)
        self.w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [8 * DAY])
        for pump in self.pumps:
            self._send(pump.functions.release(), 1_000_000)

    def admin(self, new_owner: str) -> None:
        """Operator events: fee, stake, pause, fee collection, withdrawal, ownership hand-over."""
        m = self.market.contract.functions
        fees = self.market.call("accruedFees")
        min_stake = self.market.call("minStake")
        self._send(m.setFeeRate(300), 200_000)
        self._send(m.setMinStake(min_stake), 200_000)
        self._send(m.setPaused(True), 200_000)
        self._send(m.setPaused(False), 200_000)
        if fees:
            self._send(m.collectFees(self.operator, fees), 200_000)
            self._send(m.withdraw(), 200_000)
        self._send(m.transferOwnership(new_owner), 200_000)
        self._send(m.acceptOwnership(), 200_000, sender=new_owner)


def deploy_workload(
    market: Market,
    operator: str,
    pumps: int = 2,
    providers_per_pump: int = 3,
    price: int = 10**12,
    rounds_per_tx: int = 100,
) -> Workload:
    """Deploy `pumps` pumps (each its own customer and provider owner, each other's arbiters)."""
    if pumps < 2:
        raise ValueError("pumps arbitrate each other's disputes: deploy at least two")
    w3 = market.w3
    operator = Web3.to_checksum_address(operator)
    artifact = pump_artifact()
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    min_stake = int(market.call("minStake"))
    deployed: list[Contract] = []
    workload = Workload(w3, market, operator, deployed, rounds_per_tx)
    for i in range(pumps):
        tx_hash = factory.constructor(market.address, 1 + i % 4).transact(
            {"from": operator, "gas": 3_000_000}
        )
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        address = receipt["contractAddress"]
        if receipt["status"] != 1 or address is None:
            raise RuntimeError("IndexerPump deployment failed")
        pump = w3.eth.contract(address=address, abi=artifact["abi"])
        deployed.append(pump)
        workload._send(market.contract.functions.setArbiter(address, True), 200_000)
        w3.eth.send_transaction({"from": operator, "to": address, "value": Web3.to_wei(1, "ether")})
        setup: TxParams = {
            "from": operator, "value": Wei(min_stake * providers_per_pump), "gas": 3_000_000
        }
        tx_hash = pump.functions.setUp(providers_per_pump, price).transact(setup)
        if w3.eth.wait_for_transaction_receipt(tx_hash)["status"] != 1:
            raise RuntimeError("IndexerPump setUp failed")
    return workload
