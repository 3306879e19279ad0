"""`marketplace deploy` deploys to any chain by RPC URL and records the deployment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from marketplace.artifacts import load_artifact
from marketplace.chain.accounts import dev_accounts
from marketplace.chain.anvil import running_anvil, start_anvil
from marketplace.chain.connection import connected
from marketplace.cli import main
from marketplace.cli.exits import ExitCode


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MARKETPLACE_DEPLOYMENTS", str(tmp_path))
    return tmp_path


def test_deploy_on_a_local_chain_writes_the_deployment_record(records: Path) -> None:
    node = start_anvil()
    try:
        result = CliRunner().invoke(main, ["deploy", "--rpc", node.url, "--fee-bps", "300"])
        assert result.exit_code == 0, result.output
        record = json.loads((records / "31337.json").read_text())
        assert record["chain_id"] == 31337 and record["fee_bps"] == 300
        assert record["start_block"] >= 1 and record["address"].startswith("0x")
        assert record["compiler"].startswith("0.8.37")
    finally:
        node.stop()


def test_deploy_to_a_non_local_chain_needs_a_private_key(records: Path) -> None:
    node = start_anvil(chain_id=11155111)
    try:
        refused = CliRunner().invoke(main, ["deploy", "--rpc", node.url])
        assert refused.exit_code == ExitCode.USAGE
        assert "not a local dev chain" in refused.output
        key = dev_accounts(1)[0].key.hex()
        result = CliRunner().invoke(
            main, ["deploy", "--rpc", node.url], env={"MARKETPLACE_DEPLOYER_KEY": key}
        )
        assert result.exit_code == 0, result.output
        assert json.loads((records / "11155111.json").read_text())["chain_id"] == 11155111
    finally:
        node.stop()


def test_deploy_rejects_a_fee_above_the_hard_cap(records: Path) -> None:
    result = CliRunner().invoke(main, ["deploy", "--fee-bps", "1001"])
    assert result.exit_code == ExitCode.USAGE
    assert "1001" in result.output


def test_deploy_reports_an_unreachable_node_clearly(records: Path) -> None:
    result = CliRunner().invoke(main, ["deploy", "--rpc", "http://127.0.0.1:9"])
    assert result.exit_code == ExitCode.NODE_UNREACHABLE
    assert "no Ethereum node answers" in result.output


def test_the_record_holds_the_source_hash_and_the_message_names_the_real_path(
    records: Path,
) -> None:
    artifact = load_artifact("Marketplace")
    with running_anvil() as node:
        result = CliRunner().invoke(main, ["deploy", "--rpc", node.url])
    assert result.exit_code == 0, result.output
    path = records / "31337.json"
    assert f"recorded in {path}" in result.output
    record = json.loads(path.read_text())
    assert record["source_hash"] == artifact["sourceSha256"] != ""
    assert record["extra"]["sources_sha256"] == artifact["sourcesSha256"]
    assert record["extra"]["evm_version"] == "cancun"


def test_a_second_deploy_on_a_live_record_is_refused_unless_forced(records: Path) -> None:
    with running_anvil() as node:
        first = CliRunner().invoke(main, ["deploy", "--rpc", node.url])
        assert first.exit_code == 0, first.output
        before = json.loads((records / "31337.json").read_text())

        refused = CliRunner().invoke(main, ["deploy", "--rpc", node.url])
        assert refused.exit_code == ExitCode.FAILED
        assert "--force" in refused.output and before["address"] in refused.output
        assert json.loads((records / "31337.json").read_text()) == before
        with connected(node.url) as w3:
            assert w3.eth.get_transaction_count(before["deployer"]) == 1

        forced = CliRunner().invoke(main, ["deploy", "--rpc", node.url, "--force"])
        assert forced.exit_code == 0, forced.output
        after = json.loads((records / "31337.json").read_text())
        assert after["address"] != before["address"]
        assert after["extra"]["replaces"]["address"] == before["address"]
        assert f"replacing the record of {before['address']}" in forced.output


def test_a_record_whose_contract_is_gone_is_replaced_without_force(records: Path) -> None:
    with running_anvil() as node:
        assert CliRunner().invoke(main, ["deploy", "--rpc", node.url]).exit_code == 0
    with running_anvil() as restarted:  # a dev chain started again from scratch
        result = CliRunner().invoke(main, ["deploy", "--rpc", restarted.url])
        assert result.exit_code == 0, result.output
        record = json.loads((records / "31337.json").read_text())
        with connected(restarted.url) as w3:
            assert w3.eth.get_code(record["address"]) != b""


def test_deploy_refuses_a_chain_without_cancun_before_sending_anything(records: Path) -> None:
    with running_anvil(extra_args=["--hardfork", "shanghai"]) as node:
        result = CliRunner().invoke(main, ["deploy", "--rpc", node.url])
        assert result.exit_code == ExitCode.FAILED
        assert "cannot run the marketplace contracts" in result.output
        assert "TSTORE/TLOAD" in result.output and "Cancun hardfork" in result.output
        with connected(node.url) as w3:
            assert w3.eth.block_number == 0
    assert not (records / "31337.json").exists()


def test_a_deployer_key_without_funds_gets_a_sentence_not_a_node_error(records: Path) -> None:
    with running_anvil(chain_id=424242) as node:
        result = CliRunner().invoke(
            main, ["deploy", "--rpc", node.url],
            env={"MARKETPLACE_DEPLOYER_KEY": "0x" + "42" * 32},
        )
    assert result.exit_code == ExitCode.FAILED, result.output
    assert "Error: The sending account cannot pay this transaction's value and gas" in result.output
    assert "code" not in result.output and "{" not in result.output
    assert not (records / "424242.json").exists()


def test_a_demo_token_deployment_records_the_currency_with_its_symbol_and_decimals(
    records: Path,
) -> None:
    with running_anvil() as node:
        accounts = [a.address for a in dev_accounts(3)]
        result = CliRunner().invoke(main, [
            "deploy", "--rpc", node.url, "--demo-token", "--arbiter", accounts[1],
            "--attestor", accounts[2], "--change-delay", "60",
        ])
        assert result.exit_code == 0, result.output
        record = json.loads((records / "31337.json").read_text())
        assert record["currencies"][0]["id"] == 1
        assert record["currencies"][0]["symbol"] == "dUSD"
        assert record["currencies"][0]["decimals"] == 6
        assert record["arbiter"] == accounts[1] and record["change_delay"] == 60
        assert "Currency 1: dUSD (6 decimals)" in result.output


def test_a_token_without_a_minimum_fee_is_a_usage_error(records: Path) -> None:
    result = CliRunner().invoke(main, ["deploy", "--token", "0x" + "11" * 20])
    assert result.exit_code == ExitCode.USAGE
    assert "minimum fee above 0" in result.output
