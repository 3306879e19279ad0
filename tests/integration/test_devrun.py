"""`make run` (marketplace.devrun) starts a chain, deploys, seeds the demo, serves the web app
with the indexer, and stops everything cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketplace import devrun
from marketplace.chain.anvil import free_port


def test_devrun_deploys_seeds_serves_and_prints_the_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARKETPLACE_DEPLOYMENTS", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    port, web_port = free_port(), free_port()
    assert devrun.main(["--no-wait", "--port", str(port), "--providers", "20",
                        "--web-port", str(web_port)]) == 0
    out = capsys.readouterr().out
    record = json.loads((tmp_path / "31337.json").read_text())
    assert record["address"] in out
    assert f"127.0.0.1:{port}" in out and f"http://127.0.0.1:{web_port}" in out
    assert "Demo: 20 listings, 24 customers" in out and "Currency 1    dUSD (6 decimals)" in out
    assert out.count("customer ") >= 20 and "arbiter" in out and "the demo story" in out
    assert "attestor" in out
    assert "Stopped the web app and the indexer." in out and "Stopped anvil." in out
