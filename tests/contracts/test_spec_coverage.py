"""The suite keeps up with the ABI: every function, event and custom error the contract exposes is
named by at least one test, so a new one cannot ship untested unnoticed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import market_driver
from tests.support.market_driver import MarketDriver

# The contract tests and the driver whose helpers they call (credit, criteria, ...).
TEST_SOURCES = "\n".join(
    path.read_text(encoding="utf-8")
    for path in [*sorted(Path(__file__).parent.glob("*.py")), Path(market_driver.__file__)]
)


@pytest.mark.parametrize("kind", ["function", "event", "error"])
def test_every_abi_entry_is_named_by_some_test(market: MarketDriver, kind: str) -> None:
    names = {entry["name"] for entry in market.abi if entry.get("type") == kind}

    untested = sorted(name for name in names if f'"{name}"' not in TEST_SOURCES)

    assert names
    assert untested == []
