"""The auditor's rules on crafted histories (no node): clean histories pass, and each broken one
produces exactly the violation it should and nothing else."""

from __future__ import annotations

from functools import cache

import pytest

from marketplace.audit import Auditor, AuditReport, AuditTarget, Invariant, Violation, build_report
from marketplace.domain import booking_id
from tests.support.crafted_chain import DAY, ZERO, CraftedChain, CraftedMarket, LogCrafter

OPERATOR, P1, P2, C1, C2, ARBITER, STRANGER = ("0x" + f"{i:02x}" * 20 for i in range(1, 8))


@cache
def crafter() -> LogCrafter:
    return LogCrafter.for_marketplace()


@pytest.fixture
def chain() -> CraftedChain:
    return CraftedChain(crafter=crafter())


@pytest.fixture
def market(chain: CraftedChain) -> CraftedMarket:
    m = CraftedMarket(chain, OPERATOR)
    m.set_arbiter(ARBITER)
    return m


def audit(chain: CraftedChain, **options: object) -> AuditReport:
    auditor = Auditor(chain, AuditTarget(chain.chain_id, chain.address, 1), **options)  # type: ignore[arg-type]
    auditor.run()
    return build_report(auditor)


def only(report: AuditReport, invariant: Invariant, count: int = 1) -> list[Violation]:
    """The report's violations, which must be exactly `count` of `invariant`."""
    found = [(v.invariant.value, v.message) for v in report.violations]
    assert [v.invariant for v in report.violations] == [invariant] * count, found
    return report.violations


def booked(market: CraftedMarket, customer: str = C1, provider: int = 1) -> int:
    booking = market.book(customer, provider)
    market.accept(booking)
    market.complete(booking)
    return booking


@pytest.fixture
def ready(market: CraftedMarket) -> CraftedMarket:
    """Two providers in category 1, customer C1 with open criteria for it."""
    market.register(P1, price=10**16, attributes=0b101)
    market.register(P2, price=2 * 10**16, region=2)
    market.set_criteria(C1)
    return market


# ---------------------------------------------------------------- clean histories


def test_a_history_with_every_kind_of_event_is_clean(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    m = ready
    m.set_criteria(C2, max_price=10**17)
    m.set_blocked(C2, 2)
    m.set_blocked(C2, 2, blocked=False)
    m.lifecycle(C1, 1, stars=4)
    m.cancel(m.book(C1, 2))
    m.decline(m.book(C2, 1))
    accepted = m.book(C2, 2)
    m.accept(accepted)
    m.decline(accepted)
    late = m.book(C1, 1)
    chain.advance(2 * DAY)
    m.expire(late)
    by_stranger = booked(m)
    chain.advance(4 * DAY)
    m.confirm(by_stranger, by=STRANGER)
    lost = booked(m, C2, 2)
    m.dispute(lost)
    m.resolve(lost, ARBITER, 8_000)
    m.rate(lost, 2)
    defaulted = booked(m)
    m.dispute(defaulted)
    chain.advance(8 * DAY)
    m.resolve(defaulted)
    m.set_fee(400)
    m.update_provider(1, price=3 * 10**16, attributes=0b1)
    m.lifecycle(C1, 1, stars=5)
    m.pause()
    m.pause(False)
    m.deactivate(2)
    chain.advance(8 * DAY)
    m.release_stake(2)
    m.collect_fees(OPERATOR)
    for account in (P1, P2, C1, C2, OPERATOR):
        m.withdraw(account)

    report = audit(chain)

    assert report.clean, [v.message for v in report.violations]
    assert report.totals["bookings"] == 9
    assert report.totals["bookings_by_state"]["SETTLED"] == 3
    assert report.totals["disputes"] == {
        "opened": 2, "resolved": 2, "by_default": 1, "lost_by_provider": 1
    }
    assert report.ledger["owed"] == report.ledger["balance"] == 10**15  # provider 1's stake
    assert report.meta["blocks_checked"] == len(
        [c for c in range(2, chain.head + 1) if chain.call("eth_getLogs", [
            {"fromBlock": hex(c), "toBlock": hex(c)}])]
    )


def test_a_lost_dispute_counts_as_a_one_star_rating_in_the_score(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    lost = booked(ready)
    ready.dispute(lost)
    ready.resolve(lost, ARBITER, 10_000)
    ready.rate(lost, 5)  # the model's newScore includes the lost dispute

    report = audit(chain)

    assert report.clean
    provider = report.providers[0]
    assert (provider["ratings"], provider["disputes_lost"]) == (1, 1)
    assert provider["score"] == (5 * 35_000 + 10_000 * 6) // 7


def test_timing_rules_still_apply_when_logs_carry_no_timestamps(market: CraftedMarket) -> None:
    chain = CraftedChain(crafter=crafter(), timestamps_in_logs=False)
    m = CraftedMarket(chain, OPERATOR)
    m.register(P1)
    m.set_criteria(C1)
    booking = m.book(C1, 1)
    m.expire(booking)  # before its deadline

    report = audit(chain)

    [violation] = only(report, Invariant.TRANSITIONS)
    assert "before its deadline" in violation.message
    assert "eth_getBlockByNumber" in chain.calls


# ---------------------------------------------------------------- fee cap


def test_a_fee_rate_above_the_cap_and_a_booking_made_at_it_are_fee_cap_violations(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    raised = ready.set_fee(1_500)
    booking = ready.book(C1, 1)
    request_tx = chain.call("eth_getLogs", [{"fromBlock": hex(chain.head)}])[0]["transactionHash"]
    ready.accept(booking)
    ready.complete(booking)
    ready.confirm(booking)  # takes 15%: consistent with the (illegal) snapshot

    violations = only(audit(chain), Invariant.FEE_CAP, 2)

    assert [v.tx_hash for v in violations] == [raised, request_tx]
    assert "1500 bps, above the 1000 bps cap" in violations[0].message
    assert violations[1].booking_id == booking


def test_a_fee_other_than_the_snapshotted_share_is_one_fee_cap_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = booked(ready)
    tx = ready.confirm(booking, fee=10**16 * 300 // 10_000, payout=10**16 - 10**16 * 300 // 10_000)

    [violation] = only(audit(chain), Invariant.FEE_CAP)

    assert (violation.tx_hash, violation.event, violation.booking_id) == (
        tx, "BookingSettled", booking)
    assert violation.details["expected_fee"] == 10**16 * 250 // 10_000


def test_a_booking_that_snapshots_another_rate_than_the_current_one_breaks_the_fee_rule(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = ready.book(C1, 1, feeBps=100)
    ready.cancel(booking)

    [violation] = only(audit(chain), Invariant.FEE_CAP)

    assert "the rate was 250 bps" in violation.message


# ---------------------------------------------------------------- conservation


def test_a_double_payout_is_one_conservation_violation_when_the_balance_covers_it(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = booked(ready)
    first = ready.confirm(booking)
    second = ready.confirm(booking, value=10**16)  # the extra ether keeps the books balanced

    [violation] = only(audit(chain), Invariant.CONSERVATION)

    assert violation.tx_hash == second
    assert violation.details["first_tx"] == first
    assert "paid twice" in violation.message


def test_a_double_payout_the_contract_cannot_cover_also_breaks_solvency(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = booked(ready)
    ready.confirm(booking)
    second = ready.confirm(booking)

    report = audit(chain)

    assert [v.invariant for v in report.violations] == [
        Invariant.CONSERVATION, Invariant.SOLVENCY]
    solvency = report.violations[1]
    assert (solvency.block, solvency.tx_hash) == (chain.head, second)
    assert solvency.details["difference"] == -(10**16)


def test_a_refund_after_a_settlement_is_a_second_payment(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = booked(ready)
    ready.confirm(booking)
    ready.cancel(booking, value=10**16)

    [violation] = only(audit(chain), Invariant.CONSERVATION)

    assert violation.event == "BookingCancelled"


def test_a_settlement_whose_parts_do_not_add_up_to_the_price_breaks_conservation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = booked(ready)
    ready.confirm(booking, payout=10**16, value=250 * 10**12)  # fee on top of a full payout

    [violation] = only(audit(chain), Invariant.CONSERVATION)

    assert "!= price" in violation.message


def test_a_partial_refund_of_a_cancelled_booking_breaks_conservation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = ready.book(C1, 1)
    ready.cancel(booking, refund=10**15, value=-9 * 10**15)

    [violation] = only(audit(chain), Invariant.CONSERVATION)

    assert "refunded 1000000000000000 wei of its 10000000000000000 wei price" in violation.message


def test_a_resolution_that_splits_against_its_refund_share_breaks_conservation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = booked(ready)
    ready.dispute(booking)
    fee = 10**16 * 7_000 // 10_000 * 250 // 10_000
    ready.resolve(booking, ARBITER, 5_000, refund=3 * 10**15, payout=7 * 10**15 - fee, fee=fee)

    [violation] = only(audit(chain), Invariant.CONSERVATION)

    assert "not 5000 bps of its price" in violation.message


def test_a_payout_of_a_booking_that_never_escrowed_anything_breaks_conservation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ghost = booking_id(C2, 7)
    chain.send([("BookingSettled", {"bookingId": ghost, "customer": C2, "providerId": 1,
                                     "payout": 5, "fee": 0, "by": C2})], value=5)

    [violation] = only(audit(chain), Invariant.CONSERVATION)

    assert "never escrowed anything" in violation.message


# ---------------------------------------------------------------- transitions


def test_completing_a_booking_that_was_never_accepted_is_an_illegal_transition(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = ready.book(C1, 1)
    tx = ready.complete(booking)

    [violation] = only(audit(chain), Invariant.TRANSITIONS)

    assert violation.tx_hash == tx
    assert "in state REQUESTED: not a legal transition" in violation.message


def test_a_cancelled_booking_stays_cancelled(chain: CraftedChain, ready: CraftedMarket) -> None:
    booking = ready.book(C1, 1)
    ready.cancel(booking)
    ready.accept(booking)

    [violation] = only(audit(chain), Invariant.TRANSITIONS)

    assert "terminal states stay terminal" in violation.message


def test_accepting_after_the_response_deadline_is_late(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = ready.book(C1, 1)
    chain.advance(DAY + 60)
    ready.accept(booking)

    [violation] = only(audit(chain), Invariant.TRANSITIONS)

    assert "after its deadline" in violation.message


def test_a_booking_made_while_paused_is_flagged(chain: CraftedChain, ready: CraftedMarket) -> None:
    ready.pause()
    ready.book(C1, 1)

    [violation] = only(audit(chain), Invariant.TRANSITIONS)

    assert "while the marketplace was paused" in violation.message


def test_a_booking_id_that_skips_the_customers_sequence_is_flagged(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.counts[C1.lower()] = 4  # the next id ends in 5, not 1
    ready.book(C1, 1)

    [violation] = only(audit(chain), Invariant.TRANSITIONS)

    assert "does not follow" in violation.message


# ---------------------------------------------------------------- compliance


@pytest.mark.parametrize(
    ("criteria", "criterion"),
    [
        ({"min_score": 40_000}, "MIN_SCORE"),
        ({"region": 3}, "REGION"),
        ({"required": 0b10}, "REQUIRED_ATTRIBUTES"),
        ({"refused": 0b100}, "REFUSED_ATTRIBUTES"),
        ({"max_price": 10**15}, "MAX_PRICE"),
    ],
)
def test_a_booking_that_breaks_its_customers_criteria_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket, criteria: dict[str, int], criterion: str
) -> None:
    ready.set_criteria(C2, **criteria)
    booking = ready.book(C2, 1)

    [violation] = only(audit(chain), Invariant.COMPLIANCE)

    assert (violation.booking_id, violation.details["criterion"]) == (booking, criterion)


def test_booking_a_blocked_provider_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.set_blocked(C1, 1)
    ready.book(C1, 1)

    [violation] = only(audit(chain), Invariant.COMPLIANCE)

    assert violation.details["criterion"] == "BLOCKED"


def test_booking_an_inactive_provider_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.deactivate(1)
    ready.book(C1, 1)

    [violation] = only(audit(chain), Invariant.COMPLIANCE)

    assert violation.details["criterion"] == "PROVIDER_INACTIVE"


def test_a_booking_under_a_stale_criteria_version_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.book(C1, 1, version=ready.set_criteria(C1) - 1)

    [violation] = only(audit(chain), Invariant.COMPLIANCE)

    assert "booked under criteria version 1" in violation.message
    assert violation.details["current_version"] == 2


def test_a_booking_without_criteria_for_the_category_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.book(C2, 1)

    [violation] = only(audit(chain), Invariant.COMPLIANCE)

    assert violation.details["criterion"] == "CRITERIA_NOT_SET"


def test_a_booking_at_another_price_than_the_providers_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.book(C1, 1, price=10**15)

    [violation] = only(audit(chain), Invariant.COMPLIANCE)

    assert violation.details["provider_price"] == 10**16


def test_the_score_at_booking_time_counts_not_the_later_one(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.set_criteria(C2, min_score=35_000)
    ready.book(C2, 1)  # 3.5 stars: allowed
    for _ in range(3):
        ready.rate(ready.lifecycle(C1, 1, stars=None), 1)
    ready.book(C2, 1)  # now below 3.5 stars

    [violation] = only(audit(chain), Invariant.COMPLIANCE)

    assert violation.booking_id == booking_id(C2, 2)


def test_criteria_versions_that_skip_a_number_are_flagged(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.versions[C2.lower()] = 5
    ready.set_criteria(C2)

    [violation] = only(audit(chain), Invariant.COMPLIANCE)

    assert "jumped from version 0 to 6" in violation.message


# ---------------------------------------------------------------- ratings


def test_a_rating_without_settlement_is_one_ratings_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = booked(ready)
    tx = ready.rate(booking, 4)

    [violation] = only(audit(chain), Invariant.RATINGS)

    assert (violation.tx_hash, violation.booking_id) == (tx, booking)
    assert "rated while COMPLETED" in violation.message


def test_a_second_rating_of_one_booking_is_flagged(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = ready.lifecycle(C1, 1, stars=4)
    ready.rate(booking, 5)

    [violation] = only(audit(chain), Invariant.RATINGS)

    assert "rated twice" in violation.message


def test_a_rating_by_someone_other_than_the_customer_is_flagged(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = ready.lifecycle(C1, 1, stars=None)
    ready.rate(booking, 5, customer=STRANGER.lower())

    [violation] = only(audit(chain), Invariant.RATINGS)

    assert STRANGER.lower() in violation.message


def test_a_score_that_drifts_from_the_rating_events_is_reported_once(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    first = ready.lifecycle(C1, 1, stars=None)
    ready.rate(first, 5, newScore=50_000)
    for _ in range(3):  # later scores stay off by the same lie: not reported again
        booking = ready.lifecycle(C1, 1, stars=None)
        ready.providers[1].count += 1
        ready.providers[1].total += 5
        ready.rate(booking, 5, newScore=50_000)

    [violation] = only(audit(chain), Invariant.RATINGS)

    assert violation.details == {"reported": 50_000, "expected": (175_000 + 50_000) // 6}


# ---------------------------------------------------------------- roles


def test_a_resolution_by_someone_who_is_not_an_arbiter_is_a_roles_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = booked(ready)
    ready.dispute(booking)
    ready.resolve(booking, STRANGER, 5_000)

    [violation] = only(audit(chain), Invariant.ROLES)

    assert "not an allowed arbiter" in violation.message


def test_a_resolution_by_an_arbiter_who_is_the_customer_is_a_roles_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.set_arbiter(C1)
    booking = booked(ready)
    ready.dispute(booking)
    ready.resolve(booking, C1, 10_000)

    [violation] = only(audit(chain), Invariant.ROLES)

    assert "is a party to the booking" in violation.message


def test_a_default_resolution_before_the_arbitration_deadline_is_a_roles_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = booked(ready)
    ready.dispute(booking)
    ready.resolve(booking)

    [violation] = only(audit(chain), Invariant.ROLES)

    assert "resolved by default" in violation.message


def test_a_settlement_by_a_stranger_inside_the_confirmation_window_is_a_roles_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.confirm(booked(ready), by=STRANGER)

    [violation] = only(audit(chain), Invariant.ROLES)

    assert "before its deadline" in violation.message


# ---------------------------------------------------------------- solvency


def test_a_balance_drift_in_a_block_without_events_is_placed_at_that_block(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.book(C1, 1)
    for _ in range(5):
        chain.mine()
    drifted = chain.mine()
    chain.set_balance(chain.balance() - 1, block=drifted)
    for _ in range(5):
        chain.mine()
    ready.book(C1, 2, value=2 * 10**16)
    ready.withdraw(OPERATOR, amount=0, value=0)  # no credit: one more (unrelated) violation

    report = audit(chain)

    solvency = [v for v in report.violations if v.invariant is Invariant.SOLVENCY]
    assert len(solvency) == 2  # the drift, and the empty withdrawal's
    drift = solvency[0]
    assert (drift.block, drift.tx_hash) == (drifted, None)
    assert drift.details["difference"] == -1
    assert "where the marketplace emitted no event" in drift.message


def test_a_balance_drift_is_reported_where_it_appears_and_not_again(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    first = ready.book(C1, 1)
    chain.set_balance(chain.balance() + 5)  # in the block of that booking
    ready.cancel(first)
    ready.withdraw(C1)

    [violation] = only(audit(chain), Invariant.SOLVENCY)

    assert violation.block == chain.head - 2
    assert "a surplus of 5 wei" in violation.message


def test_a_withdrawal_of_more_than_the_credit_breaks_solvency(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.cancel(ready.book(C1, 1))
    ready.book(C1, 2)  # other money in the contract: the overdraft is paid out of it
    ready.withdraw(C1, amount=2 * 10**16)

    [violation] = only(audit(chain), Invariant.SOLVENCY)

    assert violation.event == "Withdrawn"


def test_collecting_more_fees_than_accrued_breaks_solvency(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.collect_fees(OPERATOR, amount=10)

    [violation] = only(audit(chain), Invariant.SOLVENCY)

    assert "only 0 wei had accrued" in violation.message


def test_blocks_whose_state_the_node_pruned_are_counted_not_failed(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.lifecycle(C1, 1)
    chain.state_from = chain.head - 1

    report = audit(chain)

    assert report.clean
    assert report.meta["blocks_unchecked"] > 0
    assert report.meta["blocks_checked"] == 2
    assert "NOTE: solvency not checked" in report.to_text()


# ---------------------------------------------------------------- logs and scope


def test_a_log_that_is_not_a_marketplace_event_is_an_events_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    chain.mine()
    chain.raw_log(["0x" + "ab" * 32], "0x")

    [violation] = only(audit(chain), Invariant.EVENTS)

    assert violation.block == chain.head
    assert "unknown event signature" in violation.message


def test_violations_before_the_from_block_are_not_reported(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.set_fee(2_000)
    start = chain.head + 1
    ready.set_fee(100)
    ready.cancel(ready.book(C1, 1))

    report = audit(chain, from_block=start)

    assert report.clean
    assert report.meta["from_block"] == start
    assert report.totals["bookings"] == 1
    assert report.totals["events_by_type"] == {
        "BookingCancelled": 1, "BookingRequested": 1, "FeeRateChanged": 1}


def test_a_paid_booking_outside_the_range_still_counts_as_paid(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = booked(ready)
    ready.confirm(booking)
    start = chain.head + 1
    ready.confirm(booking, value=10**16)

    [violation] = only(audit(chain, from_block=start), Invariant.CONSERVATION)

    assert violation.block == start


def test_the_scan_survives_a_node_that_refuses_wide_log_ranges(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    for _ in range(6):
        ready.lifecycle(C1, 1)
    chain.max_log_range = 3

    report = audit(chain, chunk_blocks=50)

    assert report.clean
    assert report.meta["events"] == 4 + 3 + 6 * 5


def test_the_payout_of_an_unknown_provider_is_still_owed(chain: CraftedChain) -> None:
    m = CraftedMarket(chain, OPERATOR)
    chain.send([("DisputeResolved", {
        "bookingId": booking_id(C1, 1), "customer": C1, "providerId": 9, "arbiter": ZERO,
        "refundBps": 0, "refund": 0, "payout": 7, "fee": 0})], value=7)
    assert m.fee_bps == 250

    [violation] = only(audit(chain), Invariant.CONSERVATION)

    assert violation.provider_id == 9
