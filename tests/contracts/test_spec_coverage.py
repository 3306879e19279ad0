"""The suite keeps up with the contract and its specification (docs/contract-v2.md):

- every function, event and custom error of the v2 ABI is named by at least one test, so a new one
  cannot ship untested unnoticed;
- every custom error and event the specification names exists in the ABI (the spec and the
  interfaces agree) and is named by a test;
- every failed criterion, every change kind and every booking status of the specification is
  named by a test, and the spec's constants (weights, prior, slash, advance) appear in the tests
  with the spec's values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.contracts.driver import CHANGE_KIND, CRITERION, STATUS, V2

HERE = Path(__file__).parent
SPEC = (HERE.parents[1] / "docs" / "contract-v2.md").read_text(encoding="utf-8")
# The contract tests and the driver whose helpers they call.
TEST_SOURCES = "\n".join(
    path.read_text(encoding="utf-8")
    for path in sorted(HERE.glob("*.py"))
    if path.name != Path(__file__).name
)


def _named(name: str) -> bool:
    return f'"{name}"' in TEST_SOURCES or f"'{name}'" in TEST_SOURCES


@pytest.mark.parametrize("kind", ["function", "event", "error"])
def test_every_abi_entry_is_named_by_some_test(market: V2, kind: str) -> None:
    names = {entry["name"] for entry in market.abi if entry.get("type") == kind}

    untested = sorted(name for name in names if not _named(name))

    assert names
    assert untested == []


# Named by the spec's Deployment section: contract names, and the module's constructor-only error
# (never reachable after deployment, so not in the IMarketplace ABI).
NOT_ABI = {
    "MarketplaceBase",
    "Marketplace",
    "MarketplaceModule",
    "MarketplaceNotConstructing",
    "DemoUSD",
    "IMarketplace",
}


def test_every_error_the_spec_names_is_in_the_abi_and_tested(market: V2) -> None:
    in_spec = set(re.findall(r"\b(Marketplace[A-Z]\w+)\b", SPEC)) - NOT_ABI
    in_abi = {e["name"] for e in market.abi if e.get("type") == "error"}

    assert in_spec, "the spec names no custom error"
    assert sorted(in_spec - in_abi) == []
    assert sorted(name for name in in_spec if not _named(name)) == []


def test_every_event_the_spec_names_is_in_the_abi_and_tested(market: V2) -> None:
    in_abi = {e["name"] for e in market.abi if e.get("type") == "event"}
    # Backticked CamelCase words followed by "(" in the spec: `ChangeScheduled(kind, ...)`.
    in_spec = {
        name
        for name in re.findall(r"`([A-Z][A-Za-z]+)\(", SPEC)
        if not name.startswith("Marketplace") and name not in NOT_ABI
    }
    in_spec -= {e["name"] for e in market.abi if e.get("type") in ("function", "error")}

    assert "BookingRequested" in SPEC
    assert sorted(in_spec - in_abi) == []
    assert sorted(name for name in in_spec if not _named(name)) == []


@pytest.mark.parametrize(
    ("names", "what"),
    [(CRITERION[1:], "criterion"), (CHANGE_KIND, "change kind"), (STATUS[1:], "status")],
)
def test_every_enum_member_of_the_spec_is_tested(names: list[str], what: str) -> None:
    for name in names:
        assert name in SPEC or what == "status", f"{what} {name} is not in the spec"
    assert sorted(name for name in names if not _named(name)) == []


@pytest.mark.parametrize(
    "constant",
    ["MAX_RATING_WEIGHT", "PRIOR_WEIGHT", "PRIOR_SCORE", "SLASH_BPS", "MAX_ADVANCE"],
)
def test_every_spec_constant_is_checked_against_the_contract(constant: str) -> None:
    assert constant in SPEC
    assert f'"{constant}"' in TEST_SOURCES, f"no test reads {constant} from the contract"
