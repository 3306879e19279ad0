"""What the review step shows before a transaction is signed (issue 14): the amounts and the fee
in human units, the deadlines in the viewer's time zone, what cannot be undone.

The money rules (fee, cancellation split, dispute split) are the domain's
(`marketplace/domain.py`); this module only words them. Where the domain does not yet have a v2
rule, the review states the terms rather than computing the split.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from marketplace import domain
from marketplace.catalogue import labels
from marketplace.domain import Status
from marketplace.units import Currency, format_amount, format_wei
from marketplace.web.money import ETHER, CurrencyInfo, local_time
from marketplace.web.txflow import Review

Facts = list[tuple[str, str]]


def booking_fee(price: int, settings: Mapping[str, Any], info: CurrencyInfo | None) -> int | None:
    """The fee the contract will store in the booking: `domain.booking_fee` (max of the rate
    rounded up and the currency's minimum fee); None when the store does not know the rate."""
    fee_bps = settings.get("fee_bps")
    if fee_bps is None or info is None or info.min_fee is None:
        return None
    return domain.booking_fee(price, int(fee_bps), info.min_fee)


def terms_text(free_cancel_hours: int, late_cancel_pct: int) -> str:
    """A listing's cancellation terms in one sentence."""
    if late_cancel_pct == 0:
        return "Free cancellation until the start."
    if free_cancel_hours == 0:
        return (f"Cancelling an accepted booking before the start keeps {late_cancel_pct}% of "
                "the price for the provider; a booking not yet accepted is refunded in full.")
    return (f"Free cancellation until {free_cancel_hours} hour"
            f"{'s' if free_cancel_hours != 1 else ''} before the start; after that "
            f"{late_cancel_pct}% of the price goes to the provider and the rest is refunded.")


def book_review(
    *,
    provider: Mapping[str, Any],
    price: int,
    currency: Currency,
    fee: int | None,
    start: int | None,
    minutes: int | None,
    zone: tzinfo,
    terms: tuple[int, int] | None,
    instant: bool,
    offer_version: int | None,
    permit: bool,
    back_url: str,
    deadlines: Facts | None = None,
) -> Review:
    """Booking: what is escrowed, when, under which terms, and the deadlines that follow."""
    facts: Facts = [("Provider", f"{provider['name']} (listing #{provider['id']})")]
    if start is not None and minutes is not None:
        facts.append(("Slot", f"{local_time(start, zone)}, {minutes} minutes"))
    facts.append(("Price escrowed now", format_amount(price, currency)))
    if fee is not None:
        facts.append(("Marketplace fee (taken from the provider's payment at settlement)",
                      format_amount(fee, currency)))
    if terms is not None:
        facts.append(("Cancellation terms", terms_text(*terms)))
    facts.append(("Acceptance", "Instant: the booking is accepted as soon as it is made."
                  if instant else "The provider accepts or declines before the start."))
    facts.extend(deadlines or [])
    if offer_version is not None:
        facts.append(("Offer", f"version {offer_version}: if the provider changes it before "
                               "your transaction lands, nothing is booked and you are told."))
    if permit:
        facts.append(("Signatures", f"One signature: a permit for exactly "
                      f"{format_amount(price, currency)} to the marketplace (valid 20 minutes), "
                      "then one transaction that books."))
    final = [f"{format_amount(price, currency)} leaves your account into the contract's escrow. "
             "You get it back only if the provider declines or does not answer, or under the "
             "cancellation terms."]
    return Review(tuple(facts), tuple(final), back_url)


def booking_deadlines(windows: Any, *, now: int, start: int, minutes: int, instant: bool,
                      zone: tzinfo) -> Facts:
    """The deadlines a booking will have (`domain.respond_by`, `domain.service_by`), in words;
    `windows` is the contract's `windows()` (respond, serviceGrace, confirm, arbitration, ...)."""
    respond, grace, confirm_window = int(windows[0]), int(windows[1]), int(windows[2])
    out: Facts = []
    if not instant:
        out.append(("The provider answers by", local_time(
            domain.respond_by(now, start, respond), zone) + " (else you are refunded)"))
    out.append(("The service must be delivered by", local_time(
        domain.service_by(start, minutes, grace), zone) + " (else it is a no-show: a full "
        "refund and 10% of the provider's stake to you)"))
    hours = confirm_window // 3600
    out.append(("After delivery", f"you confirm or dispute within {hours} hour"
                f"{'s' if hours != 1 else ''}; then anyone may settle"))
    return out


def action_review(
    action: str,
    booking: Mapping[str, Any],
    *,
    currency: Currency,
    settings: Mapping[str, Any],
    now: int,
    zone: tzinfo,
    inputs: Mapping[str, Any],
    back_url: str,
) -> Review:
    """One booking action: amounts, deadlines and what cannot be undone."""
    price = int(booking["price"])
    status = Status(int(booking["status"]))
    facts: Facts = [("Booking", str(booking.get("label") or hex(int(booking["booking_id"])))),
                    ("Price", format_amount(price, currency))]
    start = booking.get("start")
    if start:
        facts.append(("Slot starts", local_time(int(start), zone)))
    final: list[str] = []
    fee = booking.get("fee")
    fee_int = int(fee) if fee is not None else None
    if action == "cancel":
        terms = (int(booking.get("free_cancel_hours") or 0), int(booking.get("late_cancel_pct")
                                                                 or 0))
        if status is Status.REQUESTED or not start:
            facts.append(("Refund", f"{format_amount(price, currency)} (in full: not accepted "
                                    "yet)"))
        else:
            free_until = int(start) - terms[0] * 3600
            if now <= free_until:
                facts.append(("Refund", f"{format_amount(price, currency)} (in full: before "
                                        f"{local_time(free_until, zone)})"))
            else:
                refund, kept = domain.cancellation_split(
                    price, status, now, int(start), domain.CancelTerms(*terms))
                facts.append(("Refund", format_amount(int(refund), currency)))
                facts.append(("Kept by the provider (late cancellation, no fee)",
                              format_amount(int(kept), currency)))
            facts.append(("Terms", terms_text(*terms)))
        final.append("A cancelled booking cannot be reopened; the slot is released.")
    elif action in ("confirm", "confirm_and_rate"):
        if fee_int is not None:
            facts.append(("Paid to the provider", format_amount(price - fee_int, currency)))
            facts.append(("Marketplace fee", format_amount(fee_int, currency)))
        final.append("The payment is released to the provider; you can no longer dispute.")
    elif action == "dispute":
        bond = settings.get("dispute_bond")
        if bond is not None:
            facts.append(("Dispute bond (ether, sent now)", format_wei(int(bond))))
        arbiter = booking.get("arbiter")
        if arbiter:
            facts.append(("Arbiter (fixed when you booked)", str(arbiter)))
        facts.append(("Who pays the bond", "The losing side: if the arbiter refunds you more "
                      "than half, the bond comes back to you; otherwise it pays the arbiter."))
        final.append("The bond is sent with the dispute and the payment stays frozen until the "
                     "arbiter rules (or the arbitration window ends: then 50/50).")
    elif action == "decline":
        facts.append(("Refund to the customer", format_amount(price, currency)))
        if status is Status.ACCEPTED:
            final.append("Declining after acceptance counts as a failure in your listing's "
                         "reliability.")
        final.append("A declined booking cannot be reopened.")
    elif action == "accept":
        if start:
            facts.append(("You must complete it between", local_time(int(start), zone)))
        final.append("After accepting, declining or not showing up counts against your "
                     "reliability, and a no-show costs 10% of your stake.")
    elif action == "resolve":
        share = inputs.get("refund_percent")
        facts.append(("Refund share to the customer", f"{share}%"))
        final.append("A ruling is final.")
    elif action in ("expire", "settle", "resolve_by_default", "complete"):
        final.append("This step is final.")
    if action in ("rate", "confirm_and_rate"):
        stars = inputs.get("stars")
        facts.append(("Your rating", f"{stars} star{'s' if str(stars) != '1' else ''}"))
        tags = inputs.get("complaint_tags") or []
        tag_list = tags if isinstance(tags, list) else [tags]
        if tag_list:
            facts.append(("Complaints", ", ".join(_tag_label(str(t)) for t in tag_list)))
        final.append("A rating is recorded on-chain for good: it cannot be changed or removed.")
    return Review(tuple(facts), tuple(final), back_url)


def _tag_label(key: str) -> str:
    from marketplace.catalogue import UnknownName, lookup

    try:
        return lookup("complaint tag", key).label
    except UnknownName:
        return key.replace("_", " ")


def simple_review(facts: Facts, final: list[str], back_url: str) -> Review:
    """A review from ready facts (blocks, stakes, withdrawals, attestations)."""
    return Review(tuple(facts), tuple(final), back_url)


def attribute_words(mask: int) -> str:
    """Attribute bits as names, or 'none'."""
    return ", ".join(labels("attribute", mask)) or "none"


__all__ = ["ETHER", "action_review", "attribute_words", "book_review", "booking_fee",
           "simple_review", "terms_text"]
