"""`marketplace deploy` deploys to any chain by RPC URL and records the deployment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from marketplace.chain.accounts import dev_accounts
from marketplace.chain.anvil import start_anvil
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
