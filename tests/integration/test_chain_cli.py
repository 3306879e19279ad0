"""`marketplace operator`, `provider` and `attest` send the operator's, a provider's and an
attestor's transactions, say what happened, and turn a contract's refusal into a sentence and a
non-zero exit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from marketplace.chain.accounts import dev_accounts
from marketplace.chain.anvil import Anvil, running_anvil
from marketplace.chain.connection import connected
from marketplace.chain.market import Market
from marketplace.cli import main
from marketplace.cli.exits import ExitCode

ACCOUNTS = [a.address for a in dev_accounts(4)]
OPERATOR, PROVIDER, ATTESTOR, STRANGER = ACCOUNTS


@pytest.fixture
def chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Anvil, Path]]:
    """anvil with the marketplace (DemoUSD as currency 1, a 60 s change delay) deployed."""
    monkeypatch.setenv("MARKETPLACE_DEPLOYMENTS", str(tmp_path))
    monkeypatch.delenv("MARKETPLACE_KEY", raising=False)
    with running_anvil() as node:
        monkeypatch.setenv("MARKETPLACE_RPC_URL", node.url)
        result = CliRunner().invoke(
            main,
            [
                "deploy",
                "--demo-token",
                "--attestor",
                ATTESTOR,
                "--change-delay",
                "60",
            ],
        )
        assert result.exit_code == 0, result.output
        yield node, tmp_path / "31337.json"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_a_provider_registers_updates_tops_up_and_withdraws(chain: tuple[Anvil, Path]) -> None:
    registered = run(
        "provider",
        "register",
        "--from",
        PROVIDER,
        "--category",
        "cleaning",
        "--region",
        "helsinki",
        "--attribute",
        "eco_products",
        "--currency",
        "dUSD",
        "--price",
        "25.5",
        "--instant",
        "--free-cancel-hours",
        "24",
        "--late-cancel-pct",
        "50",
    )
    assert registered.exit_code == 0, registered.output
    assert "Registered listing #1 at 25.5 dUSD" in registered.output

    updated = run("provider", "update", "1", "--from", PROVIDER, "--price", "30")
    assert updated.exit_code == 0, updated.output
    assert "offer version 2" in updated.output
    topped = run("provider", "top-up", "1", "--amount", "0.01", "--from", PROVIDER)
    assert topped.exit_code == 0 and "0.02 ETH" in topped.output

    node, record = chain
    with connected(node.url) as w3:
        market = Market(w3, json.loads(record.read_text())["address"])
        listing = market.listing(1)
        assert listing["price"] == 30_000_000 and listing["currency"] == 1
        assert listing["instant"] and listing["lateCancelPct"] == 50

    nothing = run("provider", "withdraw", "--currency", "dUSD", "--from", PROVIDER)
    assert nothing.exit_code == ExitCode.FAILED
    assert "has no currency 1 credit to withdraw" in nothing.output


def test_the_operator_schedules_and_cannot_apply_before_the_delay(
    chain: tuple[Anvil, Path],
) -> None:
    scheduled = run("operator", "schedule", "fee-rate", "-", "300", "--from", OPERATOR)
    assert scheduled.exit_code == 0, scheduled.output
    early = run("operator", "apply", "fee-rate", "-", "300", "--from", STRANGER)
    assert early.exit_code == ExitCode.FAILED
    assert "cannot be applied before" in early.output
    not_operator = run("operator", "schedule", "fee-rate", "-", "100", "--from", STRANGER)
    assert (
        not_operator.exit_code == ExitCode.FAILED and "is not the operator" in not_operator.output
    )
    paused = run("operator", "pause", "on", "--from", OPERATOR)
    assert paused.exit_code == 0
    refused = run(
        "provider", "register", "--from", PROVIDER, "--category", "rides", "--price", "0.01"
    )
    assert refused.exit_code == ExitCode.FAILED and "paused" in refused.output
    shown = run("operator", "show")
    assert shown.exit_code == 0 and "Paused       True" in shown.output and "dUSD" in shown.output


def test_an_attestor_attests_and_a_stranger_is_refused(chain: tuple[Anvil, Path]) -> None:
    run(
        "provider",
        "register",
        "--from",
        PROVIDER,
        "--category",
        "rides",
        "--price",
        "0.01",
        "--attribute",
        "electric_vehicle",
    )
    attested = run(
        "attest",
        "set",
        "1",
        "--attribute",
        "electric_vehicle",
        "--attribute",
        "child_seat",
        "--from",
        ATTESTOR,
    )
    assert attested.exit_code == 0, attested.output
    assert "not counted: child_seat" in attested.output
    stranger = run("attest", "set", "1", "--attribute", "electric_vehicle", "--from", STRANGER)
    assert stranger.exit_code == ExitCode.FAILED and "is not a named attestor" in stranger.output
    revoked = run("attest", "revoke", "1", "--from", ATTESTOR)
    assert revoked.exit_code == 0


def test_bad_input_is_a_usage_error_naming_the_option(chain: tuple[Anvil, Path]) -> None:
    no_sender = run("provider", "register", "--category", "rides", "--price", "1")
    assert no_sender.exit_code == ExitCode.USAGE and "no sender" in no_sender.output
    bad_kind = run("operator", "schedule", "fee", "-", "1", "--from", OPERATOR)
    assert bad_kind.exit_code == ExitCode.USAGE and "unknown change kind 'fee'" in bad_kind.output
    bad_price = run(
        "provider",
        "register",
        "--from",
        PROVIDER,
        "--category",
        "rides",
        "--currency",
        "dUSD",
        "--price",
        "1.0000001",
    )
    assert (
        bad_price.exit_code == ExitCode.USAGE and "more than 6 decimal places" in bad_price.output
    )
    bad_currency = run(
        "provider",
        "register",
        "--from",
        PROVIDER,
        "--category",
        "rides",
        "--currency",
        "EUR",
        "--price",
        "1",
    )
    assert (
        bad_currency.exit_code == ExitCode.USAGE and "unknown currency 'EUR'" in bad_currency.output
    )
    key = dev_accounts(2)[1].key.hex()
    keyed = run(
        "provider",
        "register",
        "--category",
        "rides",
        "--price",
        "0.01",
        env={"MARKETPLACE_KEY": key},
    )
    assert keyed.exit_code == 0, keyed.output
