"""`make run` (marketplace.devrun) starts a chain, deploys, seeds demo data and stops cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketplace import devrun
from marketplace.chain.anvil import free_port


def test_devrun_deploys_seeds_and_prints_the_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARKETPLACE_DEPLOYMENTS", str(tmp_path))
    port = free_port()
    assert devrun.main(["--no-wait", "--port", str(port), "--providers", "6"]) == 0
    out = capsys.readouterr().out
    record = json.loads((tmp_path / "31337.json").read_text())
    assert record["address"] in out
    assert f"127.0.0.1:{port}" in out
    assert "Demo: 6 providers, 4 customers, 4 settled bookings" in out
    assert out.count("customer ") >= 4 and "arbiter" in out
    assert "Stopped anvil." in out
