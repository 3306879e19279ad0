"""The audit of the `make run` demo is clean, and `marketplace audit` with no options finds it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from marketplace import devrun
from marketplace.chain.anvil import Anvil, free_port, start_anvil
from marketplace.cli.audit import audit


def test_the_make_run_demo_audits_clean_with_no_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # devrun stops its anvil before returning; keep the node alive so the audit can read it.
    started: list[Anvil] = []

    def keep_running(**options: Any) -> Anvil:
        node = start_anvil(**options)
        started.append(node)
        node.stop = lambda: None  # type: ignore[method-assign]
        return node

    monkeypatch.setattr(devrun, "start_anvil", keep_running)
    monkeypatch.setenv("MARKETPLACE_DEPLOYMENTS", str(tmp_path))
    monkeypatch.delenv("MARKETPLACE_DEPLOYMENT", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        argv = ["--no-wait", "--port", str(free_port()), "--providers", "20",
                "--web-port", str(free_port())]
        assert devrun.main(argv) == 0
        capsys.readouterr()
        [node] = started
        monkeypatch.setenv("MARKETPLACE_RPC_URL", node.url)

        text = CliRunner().invoke(audit, [])
        as_json = CliRunner().invoke(audit, ["--format", "json"])
    finally:
        for node in started:
            Anvil.stop(node)

    assert text.exit_code == 0, text.output
    assert "RESULT: CLEAN" in text.stdout
    report = json.loads(as_json.stdout)
    assert report["violations"] == []
    record = json.loads((tmp_path / "31337.json").read_text())
    assert report["audit"]["address"] == record["address"].lower()
    # The demo's history: settled and rated bookings, complaints included, all clean.
    assert report["totals"]["bookings_by_state"]["SETTLED"] >= 24
    assert report["totals"]["ratings"] >= 24
    assert report["totals"]["providers"] >= 20
    assert report["ledger"]["owed"] == report["ledger"]["balance"] != "0 ETH"
    # Every currency of the demo (ether and DemoUSD) balances to the unit.
    assert all(c["owed"] == c["balance"] for c in report["currencies"])
