"""The v2 auditor's rules on crafted histories (no node): a clean history with every kind of event
passes, and each broken one produces exactly the violation it should and nothing else.

The histories are `tests.support.crafted_chain.CraftedMarket` on a `CraftedChain`: contract v2
modelled with `marketplace.domain`'s rules; an override of one event argument breaks exactly one
rule.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from marketplace.audit import Auditor, AuditReport, AuditTarget, Invariant, Violation, build_report
from marketplace.chain.scan import marketplace_abi
from marketplace.domain import HOUR, ChangeKind, booking_id
from tests.support.crafted_chain import DAY, ZERO, CraftedChain, CraftedMarket, LogCrafter

OPERATOR, P1, P2, C1, C2, ARBITER, ATTESTOR, STRANGER, ARBITER2 = (
    "0x" + f"{i:02x}" * 20 for i in range(1, 10)
)


@cache
def crafter() -> LogCrafter:
    return LogCrafter(marketplace_abi())


@pytest.fixture
def chain() -> CraftedChain:
    return CraftedChain(crafter=crafter())


@pytest.fixture
def market(chain: CraftedChain) -> CraftedMarket:
    return CraftedMarket(chain, OPERATOR, arbiter=ARBITER, attestor=ATTESTOR)


def audit(chain: CraftedChain, **options: object) -> AuditReport:
    auditor = Auditor(chain, AuditTarget(chain.chain_id, chain.address, 1),
                      evm_version="paris", **options)  # type: ignore[arg-type]
    auditor.run()
    return build_report(auditor)


def only(report: AuditReport, invariant: Invariant, count: int = 1) -> list[Violation]:
    """The report's violations, which must be exactly `count` of `invariant`."""
    found = [(v.invariant.value, v.message) for v in report.violations]
    assert [v.invariant for v in report.violations] == [invariant] * count, found
    return report.violations


@pytest.fixture
def ready(market: CraftedMarket) -> CraftedMarket:
    """Listing 1 (ether, P1), listing 2 (the token, instant, P2); C1 with open criteria for
    ether in category 1, C2 for the token."""
    market.register(P1, attributes=0b101)
    market.register(P2, currency=1, price=25_000_000, instant=True, region=2)
    market.set_criteria(C1)
    market.set_criteria(C2, currency=1)
    return market


def accepted(m: CraftedMarket, customer: str = C1, provider: int = 1) -> int:
    booking = m.book(customer, provider)
    if not m.listings[provider].instant:
        m.accept(booking)
    return booking


def completed(m: CraftedMarket, customer: str = C1, provider: int = 1) -> int:
    booking = accepted(m, customer, provider)
    m.to_start(booking)
    m.complete(booking)
    return booking


# ---------------------------------------------------------------- clean histories


def test_a_history_with_every_kind_of_event_is_clean(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    m = ready
    m.attest(1, 1, 0b100)
    m.set_criteria(C1, requiredAttributes=0b100, verifiedAttributes=0b100,
                   trustedAttestors=1 << 0)
    m.lifecycle(C1, 1, stars=4)
    token = completed(m, C2, 2)
    m.confirm_and_rate(token, 5)
    lost = completed(m)
    m.dispute(lost)
    m.resolve(lost, 8_000)  # the ruling is the booking's one-star rating: no other
    split = completed(m)
    m.dispute(split)
    m.resolve(split, 3_000)
    default = completed(m)
    m.dispute(default)
    chain.advance(8 * DAY)
    m.resolve_by_default(default)
    no_show = accepted(m)
    chain.advance(4 * DAY)
    m.expire(no_show)
    m.cancel(m.book(C1, 1))
    late = accepted(m)
    chain.advance(2 * DAY - 2 * HOUR)
    m.cancel(late)
    declined = accepted(m)
    m.decline(declined)
    m.expire_requested = m.book(C1, 1)  # type: ignore[attr-defined]
    chain.advance(2 * DAY)
    m.expire(m.expire_requested)  # type: ignore[attr-defined]
    m.top_up(1, 10**15)
    m.set_blocked(C1, 2)
    m.set_owner_blocked(C1, STRANGER)
    m.update(1, price=2 * 10**16)
    m.lifecycle(C1, 1, stars=5)
    m.change(ChangeKind.FEE_RATE, ZERO, 300)
    eta = m.schedule(ChangeKind.DISPUTE_BOND, ZERO, 5)
    m.cancel_change(ChangeKind.DISPUTE_BOND, ZERO, 5)
    assert eta
    m.change(ChangeKind.ARBITER, ARBITER2, 1)
    m.collect_fees(OPERATOR, 0)
    m.collect_fees(OPERATOR, 1)
    for account in (P1, P2, C1, C2, OPERATOR, ARBITER):
        for currency in (0, 1):
            if m.credits.get((account.lower(), currency), 0):
                m.withdraw(account, currency)
    m.deactivate(2)
    chain.advance(30 * DAY)
    m.release_stake(2)
    report = audit(chain)
    assert report.violations == [], [(v.invariant.value, v.message) for v in report.violations]
    assert report.clean
    assert {row["symbol"] for row in report.currencies} == {"ETH", "DUSD"}
    names = set(report.totals["events_by_type"])
    assert {"BookingRequested", "BookingAccepted", "BookingCompleted", "BookingSettled",
            "BookingRated", "BookingDisputed", "DisputeResolved", "BookingExpired",
            "BookingCancelled", "BookingDeclined", "StakeSlashed", "StakeToppedUp",
            "StakeReleased", "ListingRegistered", "ListingUpdated", "ListingDeactivated",
            "AttributesAttested", "CriteriaSet", "ProviderBlockChanged", "OwnerBlockChanged",
            "ChangeScheduled", "ChangeApplied", "ChangeCancelled", "ArbiterSet", "AttestorSet",
            "CurrencySet", "FeesCollected", "Withdrawn"} <= names


def test_removals_a_second_token_and_a_reactivation_are_clean(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    m = ready
    m.change(ChangeKind.ARBITER, ARBITER2, 1)
    m.change(ChangeKind.ARBITER, ARBITER2, 0)
    m.change(ChangeKind.ATTESTOR, ATTESTOR, 0)
    second = "0x" + "e2" * 20
    chain.add_token(second, "EURT", 2)
    m.change(ChangeKind.MIN_FEE, second, 5)  # its id (2), disabled, on its first mention
    m.change(ChangeKind.CURRENCY, second, 1)
    m.register(P2, currency=2, price=2_000)
    m.set_criteria(C2, currency=2)
    booking = completed(m, C2, 3)
    m.confirm(booking)
    m.rate(booking, 2, complaint_tags=0b11)
    m.withdraw(P2, 2)
    m.change(ChangeKind.CURRENCY, m.tokens[1], 0)
    m.deactivate(1)
    m.reactivate(1)
    m.top_up(1, 10**15, by=STRANGER)
    report = audit(chain)
    assert report.violations == [], [(v.invariant.value, v.message) for v in report.violations]
    assert {row["symbol"] for row in report.currencies} == {"ETH", "DUSD", "EURT"}
    assert chain.token_balance(second) == m.bookings[booking].fee
    assert "ListingReactivated" in report.totals["events_by_type"]


def test_removing_the_default_arbiter_is_clean(chain: CraftedChain, ready: CraftedMarket) -> None:
    ready.change(ChangeKind.ARBITER, ARBITER, 0)  # and ChangeApplied(DefaultArbiter, 0, 0)
    assert ready.default_arbiter == 0
    ready.lifecycle(C1, 1)  # booked without an arbiter
    report = audit(chain)
    assert report.violations == [], [(v.invariant.value, v.message) for v in report.violations]


def test_the_token_ledger_is_checked_against_balance_of(chain: CraftedChain,
                                                        ready: CraftedMarket) -> None:
    completed(ready, C2, 2)
    report = audit(chain)
    assert report.clean
    dusd = next(r for r in report.currencies if r["symbol"] == "DUSD")
    assert dusd["escrow"] == "25 DUSD" and dusd["balance"] == "25 DUSD"
    assert "eth_call" in chain.calls


# ---------------------------------------------------------------- solvency


def test_a_token_balance_short_of_the_escrow_is_a_solvency_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    accepted(ready, C2, 2)
    chain.move_token(ready.tokens[1], -1)  # one unit leaves without an event
    [violation] = only(audit(chain), Invariant.SOLVENCY)
    assert violation.details["currency"] == 1 and violation.details["difference"] == -1


def test_an_ether_drift_is_a_solvency_violation_of_ether_only(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    accepted(ready, C2, 2)
    chain.set_balance(chain.balance() + 7)
    [violation] = only(audit(chain), Invariant.SOLVENCY)
    assert violation.details["currency"] == 0 and violation.details["difference"] == 7


def test_a_withdrawal_above_the_credit_of_its_currency_breaks_solvency(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = completed(ready, C2, 2)
    ready.confirm(booking)
    owed = ready.credits[(P2.lower(), 1)]
    ready.withdraw(P2, 1, amount=owed + 1)
    violations = audit(chain).violations
    assert {v.invariant for v in violations} == {Invariant.SOLVENCY}
    assert any("credit was" in v.message for v in violations)


def test_collecting_more_fees_than_accrued_in_a_currency_breaks_solvency(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.lifecycle(C1, 1)
    ready.collect_fees(OPERATOR, 1, amount=1)  # no token fee has accrued
    [violation] = only(audit(chain), Invariant.SOLVENCY)
    assert "collected as fees" in violation.message


# ---------------------------------------------------------------- fees and conservation


def test_a_fee_other_than_the_rule_at_booking_is_a_fee_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = ready.book(C1, 1, fee=1)  # the rule: max(ceil(price x 2.5%), minFee)
    del booking
    [violation] = only(audit(chain), Invariant.FEE_CAP)
    assert violation.details["expected_fee"] == 25 * 10**13


def test_the_minimum_fee_in_force_at_the_block_applies(chain: CraftedChain,
                                                       ready: CraftedMarket) -> None:
    ready.register(P1, price=10**13)  # 2.5% is 2.5e11, below the 1e12 minimum fee
    ready.book(C1, 3)
    assert audit(chain).clean
    ready.book(C1, 3, salt=1, fee=25 * 10**10)  # the rate alone, without the minimum
    [violation] = only(audit(chain), Invariant.FEE_CAP)
    assert violation.details["min_fee"] == 10**12


def test_a_settlement_whose_fee_differs_from_the_stored_fee_breaks_the_fee_rule(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = completed(ready)
    fee = ready.bookings[booking].fee
    ready.confirm(booking, fee=fee - 1, payout=10**16 - fee + 1)
    [violation] = only(audit(chain), Invariant.FEE_CAP)
    assert violation.details["expected_fee"] == fee


def test_a_settlement_whose_parts_do_not_add_up_breaks_conservation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = completed(ready)
    ready.confirm(booking, payout=1)  # the rest stays in the contract, owed to no one
    violations = audit(chain).violations
    assert [v.invariant for v in violations] == [Invariant.CONSERVATION, Invariant.SOLVENCY]
    assert "!= price" in violations[0].message
    assert violations[1].details["difference"] > 0


def test_a_second_payment_is_a_conservation_violation(chain: CraftedChain,
                                                      ready: CraftedMarket) -> None:
    booking = completed(ready)
    ready.confirm(booking)
    ready.bookings[booking].status = ready.bookings[booking].status  # paid already
    ready.decline(booking, value=10**16)  # refund again, with the ether to cover it
    violations = audit(chain).violations
    assert [v.invariant for v in violations] == [Invariant.CONSERVATION]
    assert "paid twice" in violations[0].message


def test_a_late_cancellation_must_follow_the_locked_terms(chain: CraftedChain,
                                                          ready: CraftedMarket) -> None:
    booking = accepted(ready)
    chain.advance(2 * DAY - 2 * HOUR)  # inside the 24 free hours before the start
    ready.cancel(booking, refund=10**16, compensation=0)  # as if it were still free
    [violation] = only(audit(chain), Invariant.CONSERVATION)
    assert violation.details["expected_compensation"] == 5 * 10**15


def test_cancelling_an_accepted_booking_after_its_start_is_illegal(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = accepted(ready)
    ready.to_start(booking)
    ready.cancel(booking)
    [violation] = only(audit(chain), Invariant.TRANSITIONS)
    assert "once its slot had started" in violation.message


# ---------------------------------------------------------------- ratings


def test_a_rating_weight_other_than_the_fee_over_the_minimum_fee_is_flagged(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = ready.lifecycle(C1, 1, stars=None)
    ready.rate(booking, 5, weight=10**6)
    violations = only(audit(chain), Invariant.RATINGS, 2)  # the weight, then the score
    assert violations[0].details["expected"] == 250_000


def test_a_new_score_other_than_the_weighted_score_is_reported_once(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = ready.lifecycle(C1, 1, stars=None)
    ready.rate(booking, 5, newScore=50_000)
    ready.lifecycle(C1, 1, stars=5)
    [violation] = only(audit(chain), Invariant.RATINGS)
    assert violation.details["reported"] == 50_000


def test_a_lost_dispute_counts_as_a_one_star_rating_at_the_bookings_weight(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    lost = completed(ready)
    ready.dispute(lost)
    ready.resolve(lost, 10_000)
    ready.lifecycle(C1, 1, stars=5)  # its newScore includes the lost dispute
    report = audit(chain)
    assert report.clean, [v.message for v in report.violations]
    listing = report.providers[0]
    assert listing["rating_weight"] == 2 * 250_000 and listing["disputes_lost"] == 1


def test_rating_a_booking_that_is_not_settled_is_flagged(chain: CraftedChain,
                                                         ready: CraftedMarket) -> None:
    booking = completed(ready)
    ready.rate(booking, 5)
    [violation] = only(audit(chain), Invariant.RATINGS)
    assert "only settled or resolved" in violation.message


# ---------------------------------------------------------------- reliability


def test_a_no_show_must_slash_ten_percent_of_the_stake(chain: CraftedChain,
                                                       ready: CraftedMarket) -> None:
    booking = accepted(ready)
    chain.advance(4 * DAY)
    ready.expire(booking, slash=10**14)  # 1%, not 10%
    [violation] = only(audit(chain), Invariant.RELIABILITY)
    assert violation.details["expected"] == [[C1.lower(), 10**15]]


def test_an_expiry_before_acceptance_slashes_nothing(chain: CraftedChain,
                                                     ready: CraftedMarket) -> None:
    booking = ready.book(C1, 1)
    chain.advance(2 * DAY)
    ready.expire(booking, slash=10**15)
    violations = audit(chain).violations
    assert [v.invariant for v in violations] == [Invariant.RELIABILITY]


def test_a_decline_after_acceptance_that_claims_otherwise_is_flagged(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = accepted(ready)
    ready.decline(booking, afterAcceptance=False)
    [violation] = only(audit(chain), Invariant.RELIABILITY)
    assert "afterAcceptance" in violation.message


def test_reliability_counts_failures_that_the_criteria_then_enforce(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    for _ in range(3):
        ready.decline(accepted(ready))
    ready.set_criteria(C1, minReliability=9_000)  # (0 + 9) / (3 + 10) = 69%
    ready.book(C1, 1)
    [violation] = only(audit(chain), Invariant.COMPLIANCE)
    assert violation.details["criterion"] == "RELIABILITY"
    assert violation.details["reliability"] == 6_923


def test_releasing_a_stake_an_accepted_booking_could_still_slash_is_flagged(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    accepted(ready)
    ready.deactivate(1)
    chain.advance(8 * DAY)  # past the cooldown, not past lockedUntil
    ready.release_stake(1)
    [violation] = only(audit(chain), Invariant.TRANSITIONS)
    assert "can still slash it" in violation.message
    assert violation.message.count("UTC") == 2


# ---------------------------------------------------------------- disputes and roles


def test_a_dispute_bond_other_than_the_one_in_force_is_flagged(chain: CraftedChain,
                                                               ready: CraftedMarket) -> None:
    booking = completed(ready)
    ready.dispute(booking, bond=1)
    [violation] = only(audit(chain), Invariant.DISPUTES)
    assert violation.details["expected"] == 10**15


def test_a_split_against_its_refund_share_is_a_disputes_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = completed(ready)
    ready.dispute(booking)
    fee = ready.bookings[booking].fee
    ready.resolve(booking, 3_000, refund=10**16 // 2, payout=10**16 // 2 - fee)
    [violation] = only(audit(chain), Invariant.DISPUTES)
    assert violation.details["expected"] == (10**16 - fee) * 3_000 // 10_000


def test_a_lost_dispute_must_pay_the_arbiter_from_the_stake(chain: CraftedChain,
                                                            ready: CraftedMarket) -> None:
    booking = completed(ready)
    ready.dispute(booking)
    ready.resolve(booking, 9_000, slash=0)
    [violation] = only(audit(chain), Invariant.DISPUTES)
    assert violation.details["expected"] == [[ARBITER.lower(), 10**15]]


def test_only_the_arbiter_fixed_at_booking_may_resolve(chain: CraftedChain,
                                                       ready: CraftedMarket) -> None:
    booking = completed(ready)
    ready.change(ChangeKind.ARBITER, ARBITER2, 1)
    ready.dispute(booking)
    ready.resolve(booking, 2_000, arbiter=ARBITER2)
    [violation] = only(audit(chain), Invariant.ROLES)
    assert "fixed when it was booked" in violation.message


def test_a_default_resolution_before_the_arbitration_deadline_is_a_roles_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = completed(ready)
    ready.dispute(booking)
    ready.resolve_by_default(booking)
    [violation] = only(audit(chain), Invariant.ROLES)
    assert "resolved by default" in violation.message


def test_a_booking_must_fix_the_default_arbiter(chain: CraftedChain, ready: CraftedMarket) -> None:
    ready.book(C1, 1, arbiterId=7)
    [violation] = only(audit(chain), Invariant.ROLES)
    assert violation.details["default"] == 1


# ---------------------------------------------------------------- transitions and deadlines


def test_completing_before_the_slot_starts_is_illegal(chain: CraftedChain,
                                                      ready: CraftedMarket) -> None:
    booking = accepted(ready)
    ready.complete(booking)
    [violation] = only(audit(chain), Invariant.TRANSITIONS)
    assert "before its slot started" in violation.message


def test_disputing_after_confirm_by_is_late(chain: CraftedChain, ready: CraftedMarket) -> None:
    booking = completed(ready)
    chain.advance(4 * DAY)
    ready.dispute(booking)
    [violation] = only(audit(chain), Invariant.TRANSITIONS)
    assert "after its deadline" in violation.message


def test_the_customer_may_settle_after_confirm_by_like_anyone(chain: CraftedChain,
                                                              ready: CraftedMarket) -> None:
    booking = completed(ready)
    chain.advance(4 * DAY)
    ready.confirm(booking)  # `settle` by the customer: BookingSettled with by = the customer
    assert audit(chain).clean


def test_a_settlement_by_a_stranger_inside_the_window_is_a_roles_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = completed(ready)
    ready.confirm(booking, by=STRANGER)
    [violation] = only(audit(chain), Invariant.ROLES)
    assert "not its customer" in violation.message


def test_a_deadline_other_than_the_windows_give_is_flagged(chain: CraftedChain,
                                                           ready: CraftedMarket) -> None:
    booking = accepted(ready)
    ready.to_start(booking)
    ready.complete(booking, confirmBy=chain.now() + 30 * DAY)
    [violation] = only(audit(chain), Invariant.TRANSITIONS)
    assert "confirm window" in violation.message


def test_a_booking_id_that_does_not_encode_its_slot_and_parties_is_flagged(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    start = chain.now() + 2 * DAY
    forged = booking_id(C2, 1, start, 60)  # C2's id, emitted as C1's booking
    ready.book(C1, 1, start=start, bookingId=forged)
    violations = audit(chain).violations
    assert Invariant.TRANSITIONS in {v.invariant for v in violations}
    assert any("its id encodes" in v.message for v in violations)


def test_a_slot_in_the_past_is_flagged(chain: CraftedChain, ready: CraftedMarket) -> None:
    ready.book(C1, 1, start=chain.now() - HOUR)
    violations = audit(chain).violations
    assert any(v.invariant is Invariant.TRANSITIONS and "in the past" in v.message
               for v in violations)


def test_an_instant_listing_s_booking_must_be_accepted_on_booking(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.listings[2].instant = False  # the model forgets; the listing's offer says instant
    ready.book(C2, 2, respondBy=chain.now())
    [violation] = only(audit(chain), Invariant.TRANSITIONS)
    assert "instant listing was not accepted" in violation.message


def test_a_withdrawal_to_the_marketplace_itself_is_flagged(chain: CraftedChain,
                                                           ready: CraftedMarket) -> None:
    ready.decline(ready.book(C1, 1))
    ready.withdraw(C1, to=chain.address)
    [violation] = only(audit(chain), Invariant.SOLVENCY)
    assert "may not receive" in violation.message


def test_a_booking_made_while_paused_is_flagged(chain: CraftedChain, ready: CraftedMarket) -> None:
    ready.pause()
    ready.book(C1, 1)
    [violation] = only(audit(chain), Invariant.TRANSITIONS)
    assert "paused" in violation.message


# ---------------------------------------------------------------- compliance


def test_self_booking_is_a_compliance_violation(chain: CraftedChain, ready: CraftedMarket) -> None:
    ready.set_criteria(P1)
    ready.book(P1, 1)
    [violation] = only(audit(chain), Invariant.COMPLIANCE)
    assert violation.details["self_booking"] is True


def test_a_booking_of_an_old_offer_version_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.update(1, price=2 * 10**16)
    ready.book(C1, 1, offerVersion=1, price=10**16, fee=25 * 10**13, value=10**16)
    [violation] = only(audit(chain), Invariant.COMPLIANCE, 1)
    assert violation.details["offer_version"] == 2


def test_a_booking_of_an_owner_blocked_listing_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.set_owner_blocked(C1, P1)
    ready.register(P1, price=10**16)  # a new listing of the blocked owner
    ready.book(C1, 3)
    [violation] = only(audit(chain), Invariant.COMPLIANCE)
    assert violation.details["criterion"] == "OWNER_BLOCKED"


def test_a_booking_of_a_blocked_listing_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.set_blocked(C1, 1)
    ready.book(C1, 1)
    [violation] = only(audit(chain), Invariant.COMPLIANCE)
    assert violation.details["criterion"] == "BLOCKED"


def test_verified_attributes_need_a_trusted_attestation_in_force(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.set_criteria(C1, requiredAttributes=0b100, verifiedAttributes=0b100,
                       trustedAttestors=1 << 0)
    ready.attest(1, 1, 0b100)
    ready.book(C1, 1)
    assert audit(chain).clean
    ready.attest(1, 1, 0)  # revoked
    ready.book(C1, 1, salt=1)
    [violation] = only(audit(chain), Invariant.COMPLIANCE)
    assert violation.details["criterion"] == "VERIFIED_ATTRIBUTES"


@pytest.mark.parametrize(("change", "criterion"), [
    (lambda m: m.set_criteria(C1, requiredAttributes=0b10), "REQUIRED_ATTRIBUTES"),
    (lambda m: m.set_blocked(C1, 1), "BLOCKED"),
    (lambda m: m.set_owner_blocked(C1, P1), "OWNER_BLOCKED"),
    (lambda m: m.change(ChangeKind.ATTESTOR, ATTESTOR, 0), "VERIFIED_ATTRIBUTES"),
], ids=["criteria", "listing-block", "owner-block", "attestor-removed"])
def test_each_booking_meets_the_criteria_as_they_stand_after_the_bookings_before_it(
    chain: CraftedChain, ready: CraftedMarket, change: Any, criterion: str
) -> None:
    """The same customer books the same listing before and after a change of what eligibility
    reads: the second booking is judged on the changed criteria, blocks and attestors, not on
    what held for the first."""
    ready.set_criteria(C1, requiredAttributes=0b100, verifiedAttributes=0b100,
                       trustedAttestors=1 << 0)
    ready.attest(1, 1, 0b100)
    ready.book(C1, 1)
    assert audit(chain).clean
    change(ready)
    ready.book(C1, 1, salt=1)
    [violation] = only(audit(chain), Invariant.COMPLIANCE)
    assert violation.details["criterion"] == criterion


def test_a_track_record_below_the_minimum_weight_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.set_criteria(C1, minRatingWeight=1)
    ready.book(C1, 1)
    [violation] = only(audit(chain), Invariant.COMPLIANCE)
    assert violation.details["criterion"] == "TRACK_RECORD"


def test_a_listing_in_another_currency_fails_the_currency_criterion(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.book(C1, 2)  # C1's criteria are in ether, listing 2 prices in the token
    [violation] = only(audit(chain), Invariant.COMPLIANCE)
    assert violation.details["criterion"] == "CURRENCY"


def test_a_stale_criteria_version_is_a_compliance_violation(chain: CraftedChain,
                                                            ready: CraftedMarket) -> None:
    ready.book(C1, 1, criteriaVersion=0)
    [violation] = only(audit(chain), Invariant.COMPLIANCE)
    assert violation.details["current_version"] == 1


def test_the_terms_locked_at_booking_apply_after_the_listing_changes_them(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    booking = accepted(ready)
    ready.update(1, late_cancel_pct=100, free_cancel_hours=48)
    chain.advance(2 * DAY - 2 * HOUR)
    ready.cancel(booking)  # the model splits by the booking's terms: 50% after 24 free hours
    assert audit(chain).clean
    late = accepted(ready)
    chain.advance(2 * DAY - 2 * HOUR)
    ready.cancel(late, refund=5 * 10**15, compensation=5 * 10**15)  # the old terms, not its own
    [violation] = only(audit(chain), Invariant.CONSERVATION)
    assert violation.details["expected_compensation"] == 10**16


def test_a_booking_in_a_disabled_currency_is_a_compliance_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.apply(ChangeKind.CURRENCY, ready.tokens[1], 0)  # disabled, without the timelock
    ready.book(C2, 2)
    violations = audit(chain).violations
    assert {v.invariant for v in violations} == {Invariant.COMPLIANCE, Invariant.TIMELOCK}
    assert any("was not enabled" in v.message for v in violations)


def test_an_attestation_by_someone_not_named_is_a_roles_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.attest(1, 1, 0b100, attestor=STRANGER.lower())
    [violation] = only(audit(chain), Invariant.ROLES)
    assert "which it is not" in violation.message


def test_a_registration_below_the_minimum_stake_is_flagged(chain: CraftedChain,
                                                           ready: CraftedMarket) -> None:
    ready.register(P1, stake=1)
    [violation] = only(audit(chain), Invariant.TRANSITIONS)
    assert "below the minimum" in violation.message


# ---------------------------------------------------------------- timelock


def test_a_change_applied_without_being_scheduled_breaks_the_timelock(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.apply(ChangeKind.FEE_RATE, ZERO, 500)
    [violation] = only(audit(chain), Invariant.TIMELOCK)
    assert "without being scheduled" in violation.message


def test_an_unscheduled_default_arbiter_reset_breaks_the_timelock(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    """The reset the contract emits after removing the default arbiter is exempt only in that
    transaction: on its own it is an unscheduled change."""
    ready.apply(ChangeKind.DEFAULT_ARBITER, ZERO, 0)
    [violation] = only(audit(chain), Invariant.TIMELOCK)
    assert "without being scheduled" in violation.message


def test_a_change_applied_before_its_eta_breaks_the_timelock(chain: CraftedChain,
                                                             ready: CraftedMarket) -> None:
    ready.schedule(ChangeKind.MIN_STAKE, ZERO, 1)
    ready.apply(ChangeKind.MIN_STAKE, ZERO, 1)
    [violation] = only(audit(chain), Invariant.TIMELOCK)
    assert "before its eta" in violation.message


def test_a_cancelled_change_cannot_apply(chain: CraftedChain, ready: CraftedMarket) -> None:
    eta = ready.schedule(ChangeKind.DISPUTE_BOND, ZERO, 1)
    ready.cancel_change(ChangeKind.DISPUTE_BOND, ZERO, 1)
    chain.advance(eta - chain.now() + 1)
    ready.apply(ChangeKind.DISPUTE_BOND, ZERO, 1)
    [violation] = only(audit(chain), Invariant.TIMELOCK)
    assert "cancelled" in violation.message


def test_a_fee_rate_above_the_cap_is_a_fee_violation(chain: CraftedChain,
                                                     ready: CraftedMarket) -> None:
    ready.change(ChangeKind.FEE_RATE, ZERO, 1_500)
    [violation] = only(audit(chain), Invariant.FEE_CAP)
    assert violation.details["fee_bps"] == 1_500


def test_the_fee_rate_applied_later_is_the_one_bookings_must_use(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    ready.change(ChangeKind.FEE_RATE, ZERO, 500)
    ready.book(C1, 1)
    assert audit(chain).clean
    ready.book(C1, 1, salt=1, fee=25 * 10**13)  # the old 2.5%
    [violation] = only(audit(chain), Invariant.FEE_CAP)
    assert violation.details["fee_bps"] == 500


# ---------------------------------------------------------------- events and scope


def test_a_log_that_is_not_a_marketplace_event_is_an_events_violation(
    chain: CraftedChain, ready: CraftedMarket
) -> None:
    chain.raw_log(["0x" + "12" * 32], "0x")
    [violation] = only(audit(chain), Invariant.EVENTS)
    assert violation.block == chain.head


def test_violations_before_the_from_block_are_not_reported(chain: CraftedChain,
                                                           ready: CraftedMarket) -> None:
    ready.book(C1, 1, fee=1)
    start = chain.head + 1
    ready.lifecycle(C2, 2)
    assert audit(chain, from_block=start).clean


# ---------------------------------------------------------------- the collector pause


def test_an_audit_leaves_the_garbage_collector_as_it_found_it(chain: CraftedChain,
                                                             ready: CraftedMarket) -> None:
    """The replay runs with the cyclic collector paused; afterwards it runs again, and a
    collector the program had turned off stays off."""
    import gc

    ready.book(C1, 1)
    assert gc.isenabled()
    assert audit(chain).clean
    assert gc.isenabled()
    gc.disable()
    try:
        assert audit(chain).clean
        assert not gc.isenabled()
    finally:
        gc.enable()
