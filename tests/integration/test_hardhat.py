"""A second EVM node: the marketplace on Hardhat 3 (EDR), and the refusal of a chain without Cancun.

Each test module's nodes are started here on free 127.0.0.1 ports and stopped at the end. The
Cancun node runs the whole lifecycle through the product's own code (deploy CLI, Market binding,
audit CLI); the Shanghai node (no transient storage) must be refused by deploy, and a deployment
forced onto it anyway must be flagged by the auditor and /healthz, and its payouts reported in the
product's words.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_typing import HexStr
from web3 import Web3

from marketplace.artifacts import load_artifact
from marketplace.chain.accounts import DevAccount, node_dev_accounts
from marketplace.chain.connection import connect, connected, disconnect
from marketplace.chain.deploy import DeployParams, _Sender
from marketplace.chain.hardhat import HardhatNode, start_hardhat
from marketplace.chain.market import CriteriaInput, ListingInput, Market
from marketplace.chain.nodeerrors import NodeError
from marketplace.cli import main
from marketplace.cli.exits import ExitCode
from marketplace.config import Settings
from marketplace.domain import booking_fee
from marketplace.web import create_app
from marketplace.web.config import WebConfig

MIN_STAKE = 10**15
PRICE = 3 * 10**16
RIDES, HELSINKI = 1, 1
CRITERIA = CriteriaInput(RIDES, HELSINKI, max_price=10**17).as_tuple()
LISTING = ListingInput(RIDES, HELSINKI, 0, 0, PRICE, b"\x01" * 32)


def _node(hardfork: str, tmp: Path) -> Iterator[HardhatNode]:
    node = start_hardhat(hardfork, log_path=tmp / f"hardhat-{hardfork}.log")
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def cancun(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HardhatNode]:
    yield from _node("cancun", tmp_path_factory.mktemp("hardhat"))


@pytest.fixture(scope="module")
def shanghai(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HardhatNode]:
    yield from _node("shanghai", tmp_path_factory.mktemp("hardhat"))


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MARKETPLACE_DEPLOYMENTS", str(tmp_path))
    return tmp_path


def deploy(url: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [
        "deploy", "--rpc", url, "--min-stake", str(MIN_STAKE), "--stake-cooldown", "60"])
    return result.exit_code, result.output


def advance(w3: Web3, seconds: int) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def test_hardhats_dev_accounts_are_the_nodes_funded_accounts_with_matching_keys(
    cancun: HardhatNode,
) -> None:
    with connected(cancun.url) as w3:
        accounts = node_dev_accounts(w3, 5)
    assert [a.index for a in accounts] == [0, 1, 2, 3, 4]
    assert all(a.key is not None and a.key.address == a.address for a in accounts)


def test_the_whole_lifecycle_runs_on_hardhat_and_audits_clean(
    cancun: HardhatNode, records: Path, request: pytest.FixtureRequest
) -> None:
    status, output = deploy(cancun.url)
    assert status == 0, output
    record = json.loads((records / "31337.json").read_text())
    w3 = connect(cancun.url)
    request.addfinalizer(lambda: disconnect(w3))
    market = Market(w3, record["address"])
    operator, provider, customer = node_dev_accounts(w3, 3)
    assert operator.address == record["deployer"]

    def send(function: str, *args: object, by: DevAccount, value: int = 0) -> list[dict[str, Any]]:
        receipt = market.transact(function, *args, sender=by.key or by.address, value=value)
        return [dict(log) for log in receipt["logs"]]

    provider_id = market.register(LISTING, sender=provider.address, stake=MIN_STAKE)
    send("setCriteria", CRITERIA, by=customer)
    start = int(w3.eth.get_block("latest")["timestamp"]) + 120
    slot = market.request_for(customer.address, provider_id, start, 30)
    booking = market.book(slot, sender=customer.address, value=PRICE)
    send("accept", booking, by=provider)
    advance(w3, 121)
    send("complete", booking, by=provider)
    send("confirmAndRate", booking, 5, 0, by=customer)
    fee = booking_fee(PRICE, record["fee_bps"], record["min_fee"])
    assert market.withdraw(0, sender=provider.address) == PRICE - fee
    unlock = market.deactivate(provider_id, sender=provider.address)
    advance(w3, unlock - int(w3.eth.get_block("latest")["timestamp"]) + 1)
    assert market.release_stake(provider_id, sender=provider.address) == MIN_STAKE
    assert market.withdraw(0, sender=provider.address) == MIN_STAKE  # pull payment: credited
    assert w3.eth.get_balance(market.address) == fee

    audit = CliRunner().invoke(main, [
        "audit", "--rpc", cancun.url, "--deployment", str(records / "31337.json")])
    assert audit.exit_code == 0, audit.output
    assert "RESULT: CLEAN" in audit.output


def test_deploy_refuses_hardhat_without_cancun_before_sending_anything(
    shanghai: HardhatNode, records: Path
) -> None:
    with connected(shanghai.url) as w3:
        before = w3.eth.block_number
        status, output = deploy(shanghai.url)
        after = w3.eth.block_number

    assert status == ExitCode.FAILED
    assert "cannot run the marketplace contracts" in output
    assert "TSTORE/TLOAD transient storage (EIP-1153, cancun)" in output
    assert "Cancun hardfork" in output
    assert after == before
    assert not (records / "31337.json").exists()


STOP_CONTRACT = "0x6001600c60003960016000f300"
"""Initcode of a contract whose code is one STOP: any code at an address, on any fork."""


@pytest.fixture(scope="module")
def unpayable(shanghai: HardhatNode) -> Iterator[tuple[Web3, dict[str, object]]]:
    """A deployment record naming code on Shanghai (as an old, forced deploy would have left:
    v2's constructor itself needs Cancun, so only a stand-in can be there)."""
    with connected(shanghai.url) as w3:
        owner = w3.eth.accounts[0]
        tx_hash = w3.eth.send_transaction({"from": owner, "data": HexStr(STOP_CONTRACT)})
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        yield w3, {
            "chain_id": 31337, "address": str(receipt["contractAddress"]),
            "start_block": receipt["blockNumber"], "tx_hash": tx_hash.to_0x_hex(),
            "deployer": owner, "owner": owner, "fee_bps": 250, "min_stake": MIN_STAKE,
            "windows": {},
        }


def test_a_deployment_forced_onto_a_chain_without_cancun_fails_in_the_products_words(
    shanghai: HardhatNode,
) -> None:
    with connected(shanghai.url) as w3:
        artifact = load_artifact("Marketplace")
        owner = w3.eth.accounts[0]
        factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        setup = DeployParams(min_stake=MIN_STAKE, stake_cooldown=60).setup(owner, None, 0)
        before = w3.eth.block_number
        with pytest.raises(NodeError) as refused:
            _Sender(w3, owner, None).send(factory.constructor(setup), "deployment")
        assert w3.eth.block_number == before

    assert refused.value.code == "chain_incompatible" and refused.value.status == 503
    assert "Cancun" in refused.value.message
    assert "reverted without a reason" not in str(refused.value)


def test_the_auditor_flags_a_deployment_that_cannot_pay_out(
    shanghai: HardhatNode, unpayable: tuple[Web3, dict[str, object]], tmp_path: Path
) -> None:
    _, record = unpayable
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))

    audit = CliRunner().invoke(main, [
        "audit", "--rpc", shanghai.url, "--deployment", str(path), "--format", "json"])

    assert audit.exit_code == 1, audit.output
    violations = json.loads(audit.output)["violations"]
    assert [v["invariant"] for v in violations] == ["payouts"]
    assert "cannot run the marketplace contracts" in violations[0]["message"]


def test_healthz_is_not_ok_on_a_chain_without_cancun(
    shanghai: HardhatNode, tmp_path: Path
) -> None:
    settings = Settings(rpc_url=shanghai.url, database_url=f"sqlite:///{tmp_path / 's.sqlite'}")
    app = create_app(WebConfig(settings=settings, secret_key="s" * 40, testing=True))
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.extensions["marketplace"].close()

    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "degraded"
    assert body["chain"]["ok"] is True
    assert body["payouts"]["ok"] is False
    assert "MCOPY (EIP-5656, cancun)" in body["payouts"]["missing"]
    assert "stakes would be stuck" in body["payouts"]["error"]
