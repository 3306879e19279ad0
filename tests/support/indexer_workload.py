"""Marketplace activity for the indexer's tests and benchmark, generated fast.

`IndexerPump` (tests/support/indexer_pump.sol) runs many real bookings per transaction (a slot
starts a second after its booking, so each pump call also serves the bookings of the previous
one), so a few hundred transactions produce 100,000 marketplace events of every kind. The pump is
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


def pump_artifact() -> dict[str, dict[str, Any]]:
    """ABI and bytecode of IndexerPump, PumpSeller and PumpArbiter by name, compiled once per
    source version and cached."""
    root = repo_root()
    sources = _sources(root)
    digest = hashlib.sha256()
    for name, data in sources.items():
        digest.update(name.encode() + b"\0" + data)
    cache = root / ".cache" / "indexer-pump" / f"{digest.hexdigest()[:16]}.json"
    if cache.is_file():
        cached: dict[str, dict[str, Any]] = json.loads(cache.read_text())
        return cached
    settings = compiler_settings(outputs=("abi", "evm.bytecode.object"))
    output = compile_standard(
        find_compiler(root, SOLC_VERSION), standard_input(sources, settings), root
    )
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise RuntimeError("IndexerPump does not compile:\n" + "\n".join(errors))
    artifact = {
        name: {"abi": c["abi"], "bytecode": "0x" + c["evm"]["bytecode"]["object"]}
        for name, c in output["contracts"][PUMP_PATH].items()
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(artifact))
    return artifact


def _warp(w3: Web3, seconds: int) -> None:
    w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [seconds])
    w3.provider.make_request(RPCEndpoint("evm_mine"), [])


class ChangeKind:
    """The contract's ChangeKind numbers the workload uses (marketplace.domain.ChangeKind)."""

    FEE_RATE, MIN_STAKE, DISPUTE_BOND, MIN_FEE, ARBITER, DEFAULT_ARBITER, ATTESTOR = range(7)


@dataclass
class Workload:
    """Pumps deployed against one marketplace, driven from unlocked node accounts."""

    w3: Web3
    market: Market
    operator: str
    pumps: list[Contract]
    rounds_per_tx: int = 100
    arbiter: Contract | None = None

    def _send(self, fn: Any, gas: int, sender: str | None = None, value: int = 0) -> None:
        params: TxParams = {"from": sender or self.operator, "gas": gas}
        if value:
            params["value"] = Wei(value)
        tx_hash = fn.transact(params)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise RuntimeError(f"workload transaction {tx_hash.hex()} reverted")

    def timelocked(self, changes: list[tuple[int, str, int]], cancel: bool = False) -> None:
        """Schedule operator changes, wait out the delay, apply them (or cancel them)."""
        m = self.market.contract.functions
        for kind, account, value in changes:
            self._send(m.scheduleChange(kind, account, value), 300_000)
        if cancel:
            for kind, account, value in changes:
                self._send(m.cancelChange(kind, account, value), 300_000)
            return
        _warp(self.w3, int(self.market.call("changeDelay")) + 1)
        for kind, account, value in changes:
            self._send(m.applyChange(kind, account, value), 300_000)

    def pump(self, rounds: int, rounds_per_tx: int | None = None) -> int:
        """Run `rounds` rounds spread over the pumps; returns the number of transactions."""
        per_tx = rounds_per_tx or self.rounds_per_tx
        sent = 0
        done = 0
        while done < rounds:
            pump = self.pumps[sent % len(self.pumps)]
            count = min(per_tx, rounds - done)
            # the slots booked by the pump's previous call (start = its time + 1) have started
            self.w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [1])
            self._send(pump.functions.pump(count), min(GAS_PER_TX, 200_000 + 600_000 * count))
            done += count
            sent += 1
        return sent

    def _serve_started(self) -> None:
        for pump in self.pumps:
            self._send(pump.functions.pump(0), GAS_PER_TX)

    def finish(self) -> None:
        """Serve what has started, let every window pass and take every timed exit, then release
        a stake per pump."""
        self._serve_started()
        respond, grace, confirm, arbitration, cooldown = self.market.call("windows")
        _warp(self.w3, respond + grace + confirm + arbitration + 300 * 60 + DAY)
        for pump in self.pumps:
            self._send(pump.functions.finish(), GAS_PER_TX)
        _warp(self.w3, cooldown + DAY)
        for pump in self.pumps:
            self._send(pump.functions.release(), 1_000_000)

    def admin(self, new_owner: str) -> None:
        """Operator events: timelocked fee rate and stake (applied), a bond change (cancelled),
        pause, fee collection, withdrawal, ownership hand-over."""
        m = self.market.contract.functions
        zero = "0x" + "00" * 20
        fees = self.market.call("accruedFees", 0)
        min_stake = self.market.call("minStake")
        bond = self.market.call("disputeBond")
        self.timelocked([(ChangeKind.FEE_RATE, zero, 300), (ChangeKind.MIN_STAKE, zero, min_stake)])
        self.timelocked([(ChangeKind.DISPUTE_BOND, zero, bond + 1)], cancel=True)
        self._send(m.setPaused(True), 200_000)
        self._send(m.setPaused(False), 200_000)
        if fees:
            self._send(m.collectFees(0, self.operator, fees), 200_000)
            self._send(m.withdraw(0), 200_000)
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
    """Deploy a PumpArbiter (named arbiter, made the default, and attestor through the timelock)
    and `pumps` pumps, each a customer of the listings of its own PumpSeller."""
    w3 = market.w3
    operator = Web3.to_checksum_address(operator)
    artifact = pump_artifact()
    arbiter = _deploy(w3, artifact["PumpArbiter"], operator)
    workload = Workload(w3, market, operator, [], rounds_per_tx, arbiter)
    account = arbiter.address
    workload.timelocked([(ChangeKind.ARBITER, account, 1), (ChangeKind.ATTESTOR, account, 1)])
    workload.timelocked([(ChangeKind.DEFAULT_ARBITER, account, 0)])
    # stakes that outlast many no-shows and lost disputes (each pays the arbiter up to a bond)
    min_stake = int(market.call("minStake")) + 20 * int(market.call("disputeBond"))
    price = max(price, 4 * int(market.call("minFee", 0)))
    for i in range(pumps):
        pump = _deploy(w3, artifact[PUMP_NAME], operator, market.address, 1 + i % 4, account)
        workload.pumps.append(pump)
        w3.eth.send_transaction(
            {"from": operator, "to": pump.address, "value": Web3.to_wei(100, "ether")}
        )
        workload._send(
            pump.functions.setUp(providers_per_pump, price),
            5_000_000,
            value=min_stake * providers_per_pump,
        )
    return workload


def _deploy(w3: Web3, artifact: dict[str, Any], operator: str, *args: Any) -> Contract:
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx_hash = factory.constructor(*args).transact({"from": operator, "gas": 8_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    address = receipt["contractAddress"]
    if receipt["status"] != 1 or address is None:
        raise RuntimeError("workload contract deployment failed")
    return w3.eth.contract(address=address, abi=artifact["abi"])
