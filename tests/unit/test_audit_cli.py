"""`marketplace audit` against a crafted chain served over JSON-RPC: formats, --out, exit codes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from marketplace.chain.anvil import free_port
from marketplace.chain.deployment import Deployment, save_deployment
from marketplace.chain.scan import marketplace_abi
from marketplace.cli.audit import audit
from marketplace.cli.exits import ExitCode
from marketplace.domain import ChangeKind
from tests.support.crafted_chain import ZERO, CraftedChain, CraftedMarket, LogCrafter, serve_chain

OPERATOR, P1, C1 = ("0x" + f"{i:02x}" * 20 for i in range(1, 4))


@cache
def crafter() -> LogCrafter:
    return LogCrafter(marketplace_abi())


MARKETS: dict[int, CraftedMarket] = {}


@pytest.fixture
def chain() -> CraftedChain:
    chain = CraftedChain(crafter=crafter())
    m = MARKETS[id(chain)] = CraftedMarket(chain, OPERATOR)
    m.register(P1)
    m.set_criteria(C1)
    m.lifecycle(C1, 1)
    return chain


@pytest.fixture
def url(chain: CraftedChain) -> Iterator[str]:
    with serve_chain(chain) as served:
        yield served


@pytest.fixture
def record(chain: CraftedChain, tmp_path: Path) -> Deployment:
    deployment = Deployment(
        chain_id=chain.chain_id,
        address=chain.address,
        start_block=1,
        tx_hash="0x" + "00" * 32,
        deployer=OPERATOR,
        owner=OPERATOR,
        fee_bps=250,
        min_stake=10**15,
        windows={},
    )
    save_deployment(deployment, tmp_path / "deployments" / f"{chain.chain_id}.json")
    return deployment


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MARKETPLACE_DEPLOYMENTS", str(tmp_path / "deployments"))
    monkeypatch.delenv("MARKETPLACE_DEPLOYMENT", raising=False)
    monkeypatch.delenv("MARKETPLACE_RPC_URL", raising=False)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(audit, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_clean_history_exits_zero_with_a_text_report(url: str, record: Deployment) -> None:
    status, out, _ = invoke("--rpc", url)

    assert status == 0
    assert "RESULT: CLEAN" in out
    assert record.address in out


def test_violations_exit_one_and_the_json_lists_them(
    url: str, record: Deployment, chain: CraftedChain
) -> None:
    MARKETS[id(chain)].change(ChangeKind.FEE_RATE, ZERO, 1_200)

    status, out, _ = invoke("--rpc", url, "--format", "json")

    assert status == ExitCode.FINDINGS
    data = json.loads(out)
    assert [v["invariant"] for v in data["violations"]] == ["fee_cap"]
    assert data["violations"][0]["block"] == chain.head


def test_the_report_goes_to_the_out_file_with_a_summary_on_stderr(
    url: str, record: Deployment, tmp_path: Path
) -> None:
    target = tmp_path / "reports" / "audit.csv"

    status, out, err = invoke("--rpc", url, "--format", "csv", "--out", str(target))

    assert status == 0
    assert out == ""
    assert "audit: clean" in err and str(target) in err
    assert list(csv.reader(io.StringIO(target.read_text())))[0][0] == "invariant"


def test_the_environment_names_the_node_when_no_option_does(
    url: str, record: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETPLACE_RPC_URL", url)

    status, out, _ = invoke("--format", "json")

    assert status == 0
    assert json.loads(out)["audit"]["rpc_url"] == url


def test_block_options_limit_the_report(url: str, record: Deployment, chain: CraftedChain) -> None:
    status, out, _ = invoke("--rpc", url, "--format", "json", "--from-block", "5",
                            "--to-block", str(chain.head - 1))

    assert status == 0
    meta = json.loads(out)["audit"]
    assert (meta["from_block"], meta["to_block"]) == (5, chain.head - 1)


def test_an_unreachable_node_exits_with_the_node_unreachable_status(record: Deployment) -> None:
    dead = f"http://127.0.0.1:{free_port()}"

    status, _, err = invoke("--rpc", dead)

    assert status == ExitCode.NODE_UNREACHABLE
    assert f"no node answers at {dead}" in err


def test_a_deployment_record_of_another_chain_exits_failed(
    url: str, record: Deployment, tmp_path: Path
) -> None:
    other = save_deployment(replace(record, chain_id=5), tmp_path / "other.json")

    status, _, err = invoke("--rpc", url, "--deployment", str(other))

    assert status == ExitCode.FAILED
    assert "serves chain 31337" in err and "chain 5" in err


def test_an_address_without_contract_code_exits_failed(
    url: str, record: Deployment, tmp_path: Path
) -> None:
    empty = save_deployment(replace(record, address="0x" + "99" * 20), tmp_path / "empty.json")

    status, _, err = invoke("--rpc", url, "--deployment", str(empty))

    assert status == ExitCode.FAILED
    assert "no contract code" in err


def test_a_missing_deployment_file_is_a_usage_error(url: str, tmp_path: Path) -> None:
    status, _, err = invoke("--rpc", url, "--deployment", str(tmp_path / "none.json"))

    assert status == ExitCode.USAGE
    assert "none.json" in err and "does not exist" in err


def test_no_record_for_the_node_s_chain_exits_failed(url: str) -> None:
    status, _, err = invoke("--rpc", url)

    assert status == ExitCode.FAILED
    assert "no deployment record" in err


def test_a_block_beyond_the_head_exits_failed(url: str, record: Deployment) -> None:
    status, _, err = invoke("--rpc", url, "--to-block", "999999")

    assert status == ExitCode.FAILED
    assert "beyond the node's latest block" in err
