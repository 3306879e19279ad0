"""A deployment record names its currencies (symbol, decimals, token) and old records still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketplace.chain.deployment import Deployment, load_deployment, save_deployment
from marketplace.units import ETHER_CURRENCY, Currency

TOKEN = "0x" + "ab" * 20


def _record(**extra: object) -> Deployment:
    fields: dict[str, object] = {
        "chain_id": 31337,
        "address": "0x" + "42" * 20,
        "start_block": 1,
        "tx_hash": "0x" + "00" * 32,
        "deployer": "0x" + "01" * 20,
        "owner": "0x" + "01" * 20,
        "fee_bps": 250,
        "min_stake": 10**16,
        "windows": {"respond": 86_400},
    }
    fields.update(extra)
    return Deployment(**fields)  # type: ignore[arg-type]


def test_currencies_round_trip_through_the_file(tmp_path: Path) -> None:
    record = _record(
        currencies=[{"id": 1, "symbol": "dUSD", "decimals": 6, "token": TOKEN, "min_fee": 250_000}],
        min_fee=10**14,
        dispute_bond=5 * 10**15,
    )
    loaded = load_deployment(path=save_deployment(record, tmp_path / "31337.json"))
    assert loaded == record
    assert loaded.currency(0) == ETHER_CURRENCY
    assert loaded.currency(1) == Currency(1, "dUSD", 6, TOKEN)
    assert loaded.all_currencies() == [ETHER_CURRENCY, Currency(1, "dUSD", 6, TOKEN)]
    with pytest.raises(KeyError, match="no currency 2"):
        loaded.currency(2)


def test_a_record_written_before_v2_still_loads_with_ether_only(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    old = {
        k: v
        for k, v in json.loads(_record().to_json()).items()
        if k not in ("currencies", "min_fee", "dispute_bond", "change_delay", "arbiter", "attestor")
    }
    path.write_text(json.dumps(old))
    assert load_deployment(path=path).all_currencies() == [ETHER_CURRENCY]
