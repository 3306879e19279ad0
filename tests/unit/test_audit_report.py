"""The audit report (text, JSON, CSV), the auditor's checks before scanning, and the exports."""

from __future__ import annotations

import csv
import io
import json
from functools import cache

import pytest

from marketplace.audit import (
    Auditor,
    AuditReport,
    AuditTarget,
    ChainReorganised,
    NoContract,
    WrongChain,
    build_report,
)
from marketplace.audit.exports import to_csv
from marketplace.audit.model import AuditError
from marketplace.chain.scan import marketplace_abi
from marketplace.domain import ChangeKind
from marketplace.units import format_eth
from tests.support.crafted_chain import ZERO, CraftedChain, CraftedMarket, LogCrafter

OPERATOR, P1, C1, C2, ARBITER = ("0x" + f"{i:02x}" * 20 for i in range(1, 6))
PRICE = 10**16
FEE = PRICE * 250 // 10_000


@cache
def crafter() -> LogCrafter:
    return LogCrafter(marketplace_abi())


def history() -> tuple[CraftedChain, CraftedMarket, int]:
    """A settled booking, a cancelled one and a dispute the provider lost (60% refund); returns
    the disputed booking."""
    chain = CraftedChain(crafter=crafter())
    m = CraftedMarket(chain, OPERATOR, arbiter=ARBITER)
    m.register(P1, price=PRICE)
    m.set_criteria(C1)
    m.set_criteria(C2)
    m.lifecycle(C1, 1, stars=5)
    m.cancel(m.book(C2, 1))
    disputed = m.book(C2, 1, salt=1)
    m.accept(disputed)
    m.to_start(disputed)
    m.complete(disputed)
    m.dispute(disputed)
    m.resolve(disputed, 6_000)
    return chain, m, disputed


def run(chain: CraftedChain, **options: object) -> AuditReport:
    auditor = Auditor(chain, AuditTarget(chain.chain_id, chain.address, 1), **options)  # type: ignore[arg-type]
    auditor.run()
    return build_report(auditor)


def test_bookings_are_counted_by_their_final_state() -> None:
    chain, market, _ = history()
    market.lifecycle(C2, 1, stars=4)
    market.lifecycle(C1, 1, stars=3)

    by_state = run(chain).totals["bookings_by_state"]

    assert (by_state["SETTLED"], by_state["CANCELLED"], by_state["RESOLVED"]) == (3, 1, 1)
    assert sum(by_state.values()) == 5


def test_the_json_report_has_a_top_level_violations_list_in_human_units() -> None:
    chain, market, disputed = history()
    market.rate(disputed, 1)  # twice: the lost dispute was already its rating

    data = json.loads(run(chain).to_json())

    assert data["clean"] is False
    [violation] = data["violations"]
    assert violation["invariant"] == "ratings"
    assert violation["booking_id"] == f"0x{disputed:064x}"
    assert violation["block"] == chain.head
    assert violation["tx_hash"].startswith("0x")
    totals = data["totals"]
    assert totals["bookings"] == 3
    assert totals["bookings_by_state"]["RESOLVED"] == 1
    assert totals["volume"] == "0.03 ETH"
    assert totals["fees"] == format_eth(2 * FEE)
    assert totals["disputes"]["lost_by_provider"] == 1
    assert totals["disputes"]["bonds"] == "0.001 ETH"
    [provider] = data["providers"]
    assert provider["bookings"] == 3
    assert provider["currency"] == "ETH"
    assert provider["price"] == "0.01 ETH"
    customers = {c["customer"]: c for c in data["customers"]}
    refund = (PRICE - FEE) * 6_000 // 10_000
    assert customers[C2.lower()]["refunds"] == format_eth(PRICE + refund)
    assert data["ledger"]["owed"] == data["ledger"]["balance"]
    assert {i["code"] for i in data["invariants"]} >= {
        "solvency", "conservation", "transitions", "compliance", "ratings", "fee_cap",
        "reliability", "disputes", "roles", "timelock"}
    assert data["audit"]["generated_at"].endswith(" UTC")


def test_the_csv_report_is_one_row_per_violation() -> None:
    chain, market, _ = history()
    market.change(ChangeKind.FEE_RATE, ZERO, 5_000)
    market.change(ChangeKind.FEE_RATE, ZERO, 6_000)

    rows = list(csv.DictReader(io.StringIO(run(chain).to_csv())))

    assert [r["invariant"] for r in rows] == ["fee_cap", "fee_cap"]
    assert [int(r["block"]) for r in rows] == [chain.head - 3, chain.head]
    assert json.loads(rows[0]["details"]) == {"fee_bps": 5_000}


def test_a_clean_csv_report_is_only_a_header() -> None:
    chain, _, _ = history()

    text = run(chain).to_csv()

    assert text.splitlines() == [
        "invariant,block,tx_hash,log_index,event,booking_id,provider_id,account,message,details"]


def test_the_text_report_says_clean_or_lists_each_violation_with_its_tx() -> None:
    chain, market, _ = history()
    clean = run(chain).to_text()
    tx = market.apply(ChangeKind.FEE_RATE, ZERO, 100)  # never scheduled

    broken = run(chain).to_text()

    assert "RESULT: CLEAN" in clean and "Violations" not in clean
    assert "ETH    escrow 0 ETH" in clean
    assert "RESULT: 1 VIOLATION(S)" in broken
    assert f"[timelock] block {chain.head} tx {tx} log 0" in broken
    assert "FAIL  timelock: 1 violation(s)" in broken


def test_the_audit_refuses_a_node_of_another_chain() -> None:
    chain, _, _ = history()
    auditor = Auditor(chain, AuditTarget(1, chain.address, 1))

    with pytest.raises(WrongChain, match="serves chain 31337"):
        auditor.run()


def test_the_audit_refuses_an_address_without_code() -> None:
    chain, _, _ = history()
    auditor = Auditor(chain, AuditTarget(chain.chain_id, "0x" + "77" * 20, 1))

    with pytest.raises(NoContract, match="no contract code"):
        auditor.run()


@pytest.mark.parametrize(
    ("options", "message"),
    [({"to_block": 10_000}, "beyond the node's latest"), ({"to_block": 0}, "before the deploy")],
)
def test_the_audit_refuses_a_range_it_cannot_audit(
    options: dict[str, int], message: str
) -> None:
    chain, _, _ = history()
    auditor = Auditor(chain, AuditTarget(chain.chain_id, chain.address, 1))

    with pytest.raises(AuditError, match=message):
        auditor.run(**options)


def test_an_audit_continues_where_it_stopped_and_notices_a_reorganised_chain() -> None:
    chain, market, _ = history()
    auditor = Auditor(chain, AuditTarget(chain.chain_id, chain.address, 1))
    auditor.run()
    market.lifecycle(C1, 1)
    assert auditor.advance(chain.head) == 5
    assert not auditor.replay.violations

    chain.reorganise(chain.head - 2)

    with pytest.raises(ChainReorganised):
        auditor.advance(chain.head)


def test_an_audit_up_to_a_block_stops_there() -> None:
    chain, _, _ = history()
    middle = chain.head - 3
    auditor = Auditor(chain, AuditTarget(chain.chain_id, chain.address, 1))

    auditor.run(middle)

    partial = build_report(auditor).meta
    assert partial["to_block"] == middle
    assert partial["events"] < run(chain).meta["events"]


def test_exports_quote_formula_like_text_and_format_ether() -> None:
    text = to_csv(["a", "b", "c"], [{"a": "=cmd()", "b": -5, "c": {"k": [1]}}])

    assert text.splitlines()[1] == "'=cmd(),-5,\"{\"\"k\"\": [1]}\""
    assert format_eth(1_500_000_000_000_000_000) == "1.5 ETH"
    assert format_eth(0) == "0 ETH"
    assert format_eth(250_000_000_000_000) == "0.00025 ETH"


def test_a_long_scan_shows_a_progress_bar_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    chain, market, _ = history()
    for _ in range(30):
        chain.mine()
    market.lifecycle(C1, 1)
    auditor = Auditor(chain, AuditTarget(chain.chain_id, chain.address, 1), progress=True,
                      chunk_blocks=1, max_chunk_blocks=1)
    auditor.progress_delay = 0.0

    auditor.run()

    err = capsys.readouterr().err
    assert "audit" in err and "block" in err
