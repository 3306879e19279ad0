"""The auditor against anvil: a real workload audits clean; broken histories (a forging contract,
a balance moved behind the contract's back) each produce exactly the right violation."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams, Wei

from marketplace.artifacts import load_artifact
from marketplace.audit import AuditReport, Invariant, audit_deployment, build_report
from marketplace.chain.anvil import Anvil, start_anvil
from marketplace.chain.connection import connected
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from marketplace.chain.deployment import Deployment, save_deployment
from marketplace.chain.market import Market
from marketplace.chain.rpc import RpcClient
from marketplace.cli.audit import audit as audit_command
from tests.support.crafted_chain import ZERO, CraftedMarket, Event, LogCrafter
from tests.support.indexer_workload import deploy_workload


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    anvil = start_anvil(accounts=10)
    yield anvil
    anvil.stop()


@pytest.fixture(scope="module")
def w3(node: Anvil) -> Iterator[Web3]:
    with connected(node.url) as client:
        yield client


@pytest.fixture(scope="module")
def crafter() -> LogCrafter:
    return LogCrafter.for_marketplace()


def deploy(w3: Web3) -> tuple[Market, Deployment]:
    return deploy_marketplace(w3, DeployParams(min_stake=10**15), record=False)


def audit(node: Anvil, deployment: Deployment) -> AuditReport:
    with RpcClient(node.url) as client:
        return build_report(audit_deployment(client, deployment))


def only(report: AuditReport, invariant: Invariant, count: int = 1) -> list[Any]:
    found = [(v.invariant.value, v.message) for v in report.violations]
    assert [v.invariant for v in report.violations] == [invariant] * count, found
    return report.violations


def accounts(w3: Web3) -> list[str]:
    return [str(a) for a in w3.eth.accounts]


def rpc(node: Anvil, method: str, *params: Any) -> Any:
    with RpcClient(node.url) as client:
        return client.call(method, params)


# ---------------------------------------------------------------- clean


def test_a_real_workload_with_every_kind_of_event_audits_clean(
    node: Anvil, w3: Web3, tmp_path: Path
) -> None:
    market, deployment = deploy(w3)
    workload = deploy_workload(market, accounts(w3)[0], pumps=2, rounds_per_tx=32)
    workload.pump(96)
    workload.finish()
    workload.admin(accounts(w3)[1])

    report = audit(node, deployment)

    assert report.clean, [v.message for v in report.violations]
    kinds = set(report.totals["events_by_type"])
    assert kinds >= {
        "BookingRequested", "BookingAccepted", "BookingCompleted", "BookingSettled",
        "BookingCancelled", "BookingDeclined", "BookingExpired", "BookingDisputed",
        "DisputeResolved", "BookingRated", "CriteriaSet", "ProviderBlockChanged",
        "ProviderRegistered", "ProviderUpdated", "ProviderDeactivated", "ProviderReactivated",
        "StakeReleased", "FeeRateChanged", "FeesCollected", "Withdrawn", "PauseChanged",
        "ArbiterChanged", "OwnershipTransferred",
    }
    with RpcClient(node.url) as client:
        logs = client.get_logs(deployment.address, 0, report.meta["to_block"])
    event_blocks = {int(log["blockNumber"], 16) for log in logs}
    assert report.meta["blocks_checked"] >= len(event_blocks)
    assert report.ledger["balance"] == w3.eth.get_balance(market.address)

    record = save_deployment(deployment, tmp_path / "record.json")
    result = CliRunner().invoke(
        audit_command, ["--rpc", node.url, "--deployment", str(record), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["violations"] == []


# ---------------------------------------------------------------- balance drift


def _some_activity(market: Market, w3: Web3) -> int:
    owner, customer = accounts(w3)[1], accounts(w3)[2]
    market.transact("register", 1, 1, 0, 10**16, b"\x01" * 32, sender=owner, value=10**15)
    market.transact("setCriteria", (1, 0, 0, 10**17, 0, 0, 0, 5_000, 5_000), sender=customer)
    market.transact("book", 1, 10**16, 1, sender=customer, value=10**16)
    return int(w3.eth.block_number)


def test_a_balance_drift_between_events_is_one_solvency_violation_at_its_block(
    node: Anvil, w3: Web3
) -> None:
    market, deployment = deploy(w3)
    _some_activity(market, w3)
    rpc(node, "evm_mine")
    drifted = int(w3.eth.block_number)
    rpc(node, "anvil_setBalance", market.address, hex(w3.eth.get_balance(market.address) - 7))
    rpc(node, "evm_mine")
    booking = (int(accounts(w3)[2], 16) << 64) | 1
    market.transact("cancel", booking, sender=accounts(w3)[2])

    [violation] = only(audit(node, deployment), Invariant.SOLVENCY)

    assert (violation.block, violation.tx_hash) == (drifted, None)
    assert violation.details["difference"] == -7


def test_a_balance_drift_in_a_block_with_events_names_that_block_and_its_tx(
    node: Anvil, w3: Web3
) -> None:
    market, deployment = deploy(w3)
    block = _some_activity(market, w3)
    tx = "0x" + bytes(w3.eth.get_block(block)["transactions"][0]).hex()  # type: ignore[arg-type]
    rpc(node, "anvil_setBalance", market.address, hex(w3.eth.get_balance(market.address) + 1))

    [violation] = only(audit(node, deployment), Invariant.SOLVENCY)

    assert (violation.block, violation.tx_hash) == (block, tx)
    assert "a surplus of 1 wei" in violation.message


# ---------------------------------------------------------------- forged histories


class ForgerSink:
    """Sends crafted events through EventForger, in one transaction each."""

    def __init__(self, w3: Web3, forger: Contract, crafter: LogCrafter) -> None:
        self.w3 = w3
        self.forger = forger
        self.crafter = crafter
        self.sender = accounts(w3)[9]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"]) + 1

    def send(self, events: Sequence[Event], value: int = 0, pay_to: str = ZERO,
             pay_amount: int = 0) -> str:
        logs = []
        for name, args in events:
            topics, data = self.crafter.encode(name, args)
            logs.append(([bytes.fromhex(t[2:]) for t in topics], bytes.fromhex(data[2:])))
        tx_hash = self.forger.functions.forge(
            logs, Web3.to_checksum_address(pay_to), pay_amount
        ).transact(TxParams({"from": self.sender, "value": Wei(value)}))
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        return "0x" + bytes(tx_hash).hex()


def deploy_forger(w3: Web3) -> tuple[Contract, int]:
    artifact = load_artifact("EventForger")
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor().transact({"from": accounts(w3)[9]})
    )
    address = receipt["contractAddress"]
    assert address is not None
    return w3.eth.contract(address=address, abi=artifact["abi"]), int(receipt["blockNumber"])


@pytest.fixture
def forged(w3: Web3, crafter: LogCrafter) -> tuple[CraftedMarket, Deployment]:
    """A forging contract audited as if it were the marketplace, with a provider and criteria."""
    forger, block = deploy_forger(w3)
    everyone = accounts(w3)
    market = CraftedMarket(ForgerSink(w3, forger, crafter), everyone[0])
    market.register(everyone[1], price=10**16)
    market.set_criteria(everyone[2])
    deployment = Deployment(
        chain_id=int(w3.eth.chain_id), address=str(forger.address), start_block=block,
        tx_hash="0x" + "00" * 32, deployer=everyone[9], owner=everyone[0], fee_bps=250,
        min_stake=10**15, windows={},
    )
    return market, deployment


def test_a_forged_clean_history_audits_clean(
    node: Anvil, w3: Web3, forged: tuple[CraftedMarket, Deployment]
) -> None:
    market, deployment = forged
    customer = accounts(w3)[2]
    market.lifecycle(customer, 1)
    market.withdraw(accounts(w3)[1])

    assert audit(node, deployment).clean


def test_a_fee_above_the_cap_is_reported_where_it_was_set_and_where_it_was_charged(
    node: Anvil, w3: Web3, forged: tuple[CraftedMarket, Deployment]
) -> None:
    market, deployment = forged
    raised = market.set_fee(1_500)
    booking = market.lifecycle(accounts(w3)[2], 1)

    violations = only(audit(node, deployment), Invariant.FEE_CAP, 2)

    assert violations[0].tx_hash == raised
    assert (violations[1].event, violations[1].booking_id) == ("BookingRequested", booking)


def test_a_booking_that_breaks_its_criteria_is_one_compliance_violation(
    node: Anvil, w3: Web3, forged: tuple[CraftedMarket, Deployment]
) -> None:
    market, deployment = forged
    picky = accounts(w3)[3]
    market.set_criteria(picky, min_score=40_000)
    booking = market.book(picky, 1)

    [violation] = only(audit(node, deployment), Invariant.COMPLIANCE)

    assert (violation.booking_id, violation.details["criterion"]) == (booking, "MIN_SCORE")


def test_a_rating_without_settlement_is_one_ratings_violation(
    node: Anvil, w3: Web3, forged: tuple[CraftedMarket, Deployment]
) -> None:
    market, deployment = forged
    booking = market.book(accounts(w3)[2], 1)
    market.accept(booking)
    market.complete(booking)
    tx = market.rate(booking, 5)

    [violation] = only(audit(node, deployment), Invariant.RATINGS)

    assert (violation.tx_hash, violation.booking_id) == (tx, booking)


def test_a_double_payout_by_code_swapped_in_at_the_deployment_is_one_conservation_violation(
    node: Anvil, w3: Web3, crafter: LogCrafter, tmp_path: Path
) -> None:
    market, deployment = deploy(w3)
    owner, customer = accounts(w3)[1], accounts(w3)[2]
    _some_activity(market, w3)
    booking = (int(customer, 16) << 64) | 1
    market.transact("accept", booking, sender=owner)
    market.transact("complete", booking, sender=owner)
    settled = market.events(
        "BookingSettled", market.transact("confirm", booking, sender=customer)
    )[0]
    runtime = load_artifact("EventForger")["deployedBytecode"]
    rpc(node, "anvil_setCode", market.address, runtime)  # the contract is replaced in place
    forger = w3.eth.contract(address=market.address, abi=load_artifact("EventForger")["abi"])
    args = {k: (v.lower() if isinstance(v, str) else v) for k, v in settled.items()}
    again = ForgerSink(w3, forger, crafter).send(
        [("BookingSettled", args)], value=10**16  # funded: the books stay balanced
    )

    report = audit(node, deployment)

    [violation] = only(report, Invariant.CONSERVATION)
    assert (violation.tx_hash, violation.booking_id) == (again, booking)
    assert "paid twice" in violation.message

    record = save_deployment(replace(deployment), tmp_path / "record.json")
    result = CliRunner().invoke(
        audit_command, ["--rpc", node.url, "--deployment", str(record), "--format", "json"]
    )
    assert result.exit_code == 1
    assert [v["invariant"] for v in json.loads(result.stdout)["violations"]] == ["conservation"]
