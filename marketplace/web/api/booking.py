"""Contract v2 bookings through the API: prepare a booking of a slot (the unsigned `book`
transaction for ether; for a token the EIP-2612 permit to sign with eth_signTypedData_v4, or an
approve transaction), build `bookWithPermit` from the signed permit, and preview a
cancellation's refund under the terms locked into the booking.

Everything the contract would refuse is refused first, in words, naming the field: a slot in
the past or too far ahead (`start`), outside the listing's weekly hours or overlapping an open
booking (`start`), a currency that is not the listing's or not allowlisted (`currency`), a
changed offer (`offer_version`, 409), a criteria version that is not the current one
(`criteria_version`, 409), an ineligible listing (`provider_id`, 409), an expired permit
(`deadline`), a permit for another amount (`value`), a signature that does not match
(`signature`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, cast

from eth_utils.address import to_checksum_address
from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from marketplace import domain
from marketplace.availability import SlotProblem, SlotRefused, booked_slots, check_slot
from marketplace.availability import schedule_in as schedule_of
from marketplace.chain.market import Market
from marketplace.chain.nodeerrors import NodeError
from marketplace.chain.revert import ContractRevert
from marketplace.chain.token import Token
from marketplace.chain.tx import build_transaction
from marketplace.matching.criteria import InvalidCriteria, parse_amount
from marketplace.matching.explain import explain_exclusion
from marketplace.store import queries as store_queries
from marketplace.units import Currency, format_amount
from marketplace.web import actions, queries
from marketplace.web.api import bp
from marketplace.web.api.contract import booking_number, parse_body, parse_query
from marketplace.web.api.models import BookTxBody, CancellationQuery, PermitBookTxBody
from marketplace.web.api.transactions import sender_of
from marketplace.web.context import services
from marketplace.web.customer.common import chain_time
from marketplace.web.errors import FieldError, NotFound, WebError, node_refused, refused
from marketplace.web.money import CurrencyInfo, currency_infos, iso_time
from marketplace.web.permit import PERMIT_LIFETIME, check_permit, permit_of, typed_data, wallet_json
from marketplace.web.txflow import TxIntent, build_for_api, tx_json

_SLOT_FIELDS = {SlotProblem.INVALID_DURATION: "duration"}


def _unprocessable(message: str, field: str) -> FieldError:
    return FieldError(message, field, status=422, code="unprocessable")


def _conflict(message: str, field: str, code: str, **details: Any) -> FieldError:
    return FieldError(message, field, status=409, code=code, details=details)


@dataclass(frozen=True)
class Prepared:
    """A checked booking: the request tuple, its id, the listing's price and currency."""

    request: actions.BookingRequest
    booking_id: int
    price: int
    currency: Currency
    row: dict[str, Any]
    now: int

    def summary(self) -> dict[str, Any]:
        """What is being booked, for the client to show before signing."""
        provider_id, start, minutes, salt, offer, criteria = self.request
        row = self.row
        return {
            "booking_id": hex(self.booking_id),
            "request": {"provider_id": provider_id, "start": start, "duration": minutes,
                        "salt": salt, "offer_version": offer, "criteria_version": criteria},
            "start_utc": iso_time(start),
            "end_utc": iso_time(start + minutes * 60),
            "price": str(self.price),
            "price_label": format_amount(self.price, self.currency),
            "currency": _currency_json(self.currency),
            "instant": bool(row.get("instant")),
            "terms": {"free_cancel_hours": int(row.get("free_cancel_hours") or 0),
                      "late_cancel_pct": int(row.get("late_cancel_pct") or 0)},
        }


def _currency_json(currency: Currency) -> dict[str, Any]:
    return {"id": currency.id, "symbol": currency.symbol, "decimals": currency.decimals,
            "token": currency.token}


def _currency_of(ref: int | str, known: dict[int, CurrencyInfo]) -> CurrencyInfo:
    if isinstance(ref, int):
        info = known.get(ref)
    else:
        found = [i for i in known.values() if i.currency.symbol.upper() == ref.upper()]
        info = found[0] if len(found) == 1 else None
    if info is None:
        listed = ", ".join(f"{i.currency.symbol} ({k})" for k, i in sorted(known.items())
                           if i.enabled)
        raise _unprocessable(f"{ref} is not a currency on the marketplace's allowlist; "
                             f"allowed: {listed}.", "currency")
    return info


def prepare(body: BookTxBody, sender: str) -> Prepared:
    """Check a booking request against everything the API knows; raise naming the field."""
    svc = services()
    now = chain_time()
    with svc.engine.connect() as conn:
        row = store_queries.get_provider(conn, body.provider_id)
        if row is None:
            raise NotFound(f"There is no provider #{body.provider_id}.", "provider_id")
        known = currency_infos(conn)
        criteria = queries.criteria_view(conn, sender, int(row["category"]))
        schedule = schedule_of(conn, body.provider_id)
        booked = booked_slots(conn, body.provider_id, body.start,
                              body.start + body.duration * 60)
    if str(row["owner"]).lower() == sender:
        raise _unprocessable("This is your own listing: an owner cannot book it.", "provider_id")
    current_offer = int(row.get("offer_version") or 0)
    if body.offer_version != current_offer:
        raise _conflict(
            f"The provider changed the offer (version {body.offer_version} is now "
            f"{current_offer}): check the price and terms, then book version {current_offer}.",
            "offer_version", "offer_changed", expected=body.offer_version,
            current=current_offer)
    listing_currency = int(row.get("currency") or 0)
    wanted = _currency_of(body.currency, known)
    listed = known.get(listing_currency)
    listed_symbol = listed.currency.symbol if listed else f"currency {listing_currency}"
    if wanted.currency.id != listing_currency:
        raise _unprocessable(f"The listing is priced in {listed_symbol}, not "
                             f"{wanted.currency.symbol}.", "currency")
    if not wanted.enabled:
        raise _unprocessable(f"{wanted.currency.symbol} is not on the allowlist for new "
                             "bookings now (the operator disabled it).", "currency")
    problem = domain.slot_problem(now, body.start, body.duration)
    if problem is not None:
        field = "duration" if "duration" in problem else "start"
        raise _unprocessable(problem[:1].upper() + problem[1:] + f" (now is {iso_time(now)}).",
                             field)
    try:
        check_slot(schedule, body.start, body.duration, now=now, max_advance=domain.MAX_ADVANCE,
                   booked=booked)
    except SlotRefused as exc:
        raise _unprocessable(exc.message, _SLOT_FIELDS.get(exc.problem, "start")) from None
    index = svc.index.current()
    if body.provider_id in index:
        exclusion = explain_exclusion(index.view(body.provider_id), criteria,
                                      named_attestors=index.named_attestors())
        if exclusion.excluded:
            raise _conflict(f"Your criteria exclude this listing: {exclusion.detail}.",
                            "provider_id", "ineligible",
                            criterion=exclusion.criterion.name.lower())
    version = int(criteria.version) if criteria is not None else 0
    if body.criteria_version is not None and body.criteria_version != version:
        raise _conflict(f"Your criteria changed (version {body.criteria_version} is now "
                        f"{version}): match again, then book.", "criteria_version",
                        "criteria_changed", expected=body.criteria_version, current=version)
    # A given salt is used as given; otherwise a random one no booking of the customer's uses.
    salts = [body.salt] if body.salt is not None else [secrets.randbelow(256) for _ in range(8)]
    with svc.engine.connect() as conn:
        for salt in salts:
            booking_id = domain.booking_id(sender, body.provider_id, body.start, body.duration,
                                           salt)
            if store_queries.get_booking(conn, booking_id) is None:
                break
        else:
            raise _conflict("You already booked this slot with this salt; give another salt.",
                            "salt", "booking_exists", booking_id=hex(booking_id))
    request_ = actions.booking_request(body.provider_id, body.start, body.duration, salt,
                                       current_offer, version)
    return Prepared(request_, booking_id, int(row["price"]), wanted.currency, row, now)


def _intent(p: Prepared, *, ether: bool) -> TxIntent:
    return actions.book_v2_intent(
        p.request, price=p.price, ether=ether,
        label=f"Book listing #{p.request[0]} for {format_amount(p.price, p.currency)}",
        api_path=url_for("api.book_tx"), api_body=p.summary()["request"])


@bp.post("/bookings/tx")
def book_tx() -> ResponseReturnValue:
    """Prepare a booking of a slot: the unsigned `book` transaction (ether, or a token after
    its approval), the permit to sign (token, `payment` permit) or the approve transaction
    (token, `payment` approve)."""
    body = parse_body(BookTxBody)
    sender = sender_of(body)
    p = prepare(body, sender)
    out = p.summary()
    if p.currency.is_ether or body.payment == "allowance":
        out.update(kind="transaction", **build_for_api(_intent(p, ether=p.currency.is_ether),
                                                       sender))
        return jsonify(out)
    market = services().chain.market()
    token = _token_address(p.currency)
    if body.payment == "approve":
        approve = _approve_tx(token, str(market.address), p.price, sender)
        out.update(kind="approve", approve=approve, then={
            "path": url_for("api.book_tx"),
            "body": {**out["request"], "currency": p.currency.id, "payment": "allowance"}})
        return jsonify(out)
    deadline = p.now + PERMIT_LIFETIME
    typed = _typed(p.currency, sender, str(market.address), p.price, deadline)
    out.update(kind="permit", typed_data=wallet_json(typed), deadline=deadline, then={
        "path": url_for("api.book_permit_tx"),
        "body": {**out["request"], "currency": p.currency.id, "deadline": deadline,
                 "value": str(p.price), "signature": "<eth_signTypedData_v4 of typed_data>"}})
    return jsonify(out)


@bp.post("/bookings/permit/tx")
def book_permit_tx() -> ResponseReturnValue:
    """The unsigned `bookWithPermit` transaction from a signed permit for exactly the price."""
    body = parse_body(PermitBookTxBody)
    sender = sender_of(body)
    if body.salt is None or body.criteria_version is None:
        field = "salt" if body.salt is None else "criteria_version"
        raise _unprocessable("Give the salt and criteria version the preparation returned "
                             "(the permit was signed for that booking).", field)
    p = prepare(body, sender)
    if p.currency.is_ether:
        raise _unprocessable("This listing is priced in ether: there is no permit; send the "
                             "book transaction with the price as value.", "currency")
    if body.value is not None:
        try:  # bare digits are the smallest unit, as every amount the API returns
            signed = int(body.value) if isinstance(body.value, int) or body.value.isdigit() else (
                parse_amount(body.value, "value", p.currency))
        except InvalidCriteria as exc:
            raise _unprocessable(exc.message, "value") from None
        if signed != p.price:
            raise _unprocessable(
                f"The permit is for {body.value}, but the price is {p.price} "
                f"({format_amount(p.price, p.currency)}); sign a permit for exactly the price.",
                "value")
    if body.deadline <= p.now:
        raise _unprocessable(f"The permit expired at {iso_time(body.deadline)}; prepare the "
                             "booking again and sign the new permit.", "deadline")
    market = services().chain.market()
    typed = _typed(p.currency, sender, str(market.address), p.price, body.deadline)
    try:
        permit = permit_of(typed, body.signature)
        check_permit(typed, permit, price=p.price, now=p.now)
    except FieldError as exc:
        field = "deadline" if "expired" in exc.message else "signature"
        raise _unprocessable(exc.message, field) from None
    intent = actions.book_permit_intent(
        p.request, deadline=body.deadline, signature=(permit.v, permit.r, permit.s),
        label=f"Book listing #{p.request[0]} for {format_amount(p.price, p.currency)}",
        api_path=url_for("api.book_permit_tx"), api_body={})
    out = p.summary()
    out.update(kind="transaction", **build_for_api(intent, sender))
    return jsonify(out)


def _token_address(currency: Currency) -> str:
    if currency.token is None:
        raise _unprocessable(f"{currency.symbol} has no token address on record yet.",
                             "currency")
    return currency.token


def _typed(currency: Currency, owner: str, spender: str, price: int, deadline: int
           ) -> dict[str, Any]:
    try:
        return typed_data(services().chain.market().w3, _token_address(currency), owner=owner,
                          spender=spender, value=price, deadline=deadline)
    except WebError:
        raise
    except Exception as exc:  # the token does not answer name()/nonces(): not a permit token
        raise _unprocessable(f"{currency.symbol} cannot be paid with a permit: {exc}; use "
                             "payment 'approve'.", "currency") from exc


def _approve_tx(token: str, spender: str, amount: int, sender: str) -> dict[str, Any]:
    contract = Token(services().chain.market().w3, token)
    intent = TxIntent(function="approve", args=(spender, amount),
                      label=f"Allow the marketplace to take {amount} of the token",
                      api_path="", api_body={}, next_url="")
    try:
        # build_transaction reads only Binding's parts (w3, address, contract, decode).
        tx = build_transaction(cast(Market, contract), "approve",
                               to_checksum_address(spender), amount, sender=sender)
    except ContractRevert as exc:
        raise refused(exc) from exc
    except NodeError as exc:
        raise node_refused(exc) from exc
    return tx_json(tx, intent)


# ------------------------------------------------------------------ cancellation preview


def cancellation_preview(row: dict[str, Any], now: int, known: dict[int, CurrencyInfo]
                         ) -> dict[str, Any]:
    """What the customer's `cancel` would return under the booking's locked terms, at `now`."""
    status = domain.Status(int(row["status"]))
    price, start = int(row["price"]), int(row["start"])
    terms = domain.CancelTerms(int(row.get("free_cancel_hours") or 0),
                               int(row.get("late_cancel_pct") or 0))
    info = known.get(int(row.get("currency") or 0))
    currency = info.currency if info is not None else Currency(
        int(row.get("currency") or 0), f"currency {row.get('currency')}", 18)
    cancellable = status is domain.Status.REQUESTED or (
        status is domain.Status.ACCEPTED and now < start)
    out: dict[str, Any] = {
        "booking_id": hex(int(row["booking_id"])),
        "status": status.name.lower(),
        "at": now,
        "cancellable": cancellable,
        "terms": {"free_cancel_hours": terms.free_cancel_hours,
                  "late_cancel_pct": terms.late_cancel_pct},
        "free_until": start - terms.free_cancel_hours * domain.HOUR,
        "currency": _currency_json(currency),
    }
    if not cancellable:
        out["message"] = (f"A {status.name.lower()} booking cannot be cancelled by the customer"
                          + (" after its start." if status is domain.Status.ACCEPTED else "."))
        return out
    refund, compensation = domain.cancellation_split(price, status, now, start, terms)
    out.update(
        refund=str(refund), compensation=str(compensation),
        free=compensation == 0,
        message=(f"Cancelling now refunds {format_amount(refund, currency)}"
                 + (f" and pays the provider {format_amount(compensation, currency)} "
                    f"({terms.late_cancel_pct}% late-cancellation compensation)."
                    if compensation else " in full.")))
    return out


def booking_row(booking_id: int) -> dict[str, Any]:
    """The store's booking, or 404."""
    with services().engine.connect() as conn:
        row = store_queries.get_booking(conn, booking_id) if booking_id else None
    if row is None:
        raise NotFound("There is no such booking.", "booking_id")
    return dict(row)


@bp.get("/bookings/<bookingid:booking_ref>/cancellation")
def cancellation(booking_ref: str) -> ResponseReturnValue:
    """What cancelling the booking would refund (and pay the provider) under its terms."""
    query = parse_query(CancellationQuery)
    row = booking_row(booking_number(booking_ref))
    with services().engine.connect() as conn:
        known = currency_infos(conn)
    return jsonify(cancellation_preview(row, query.at if query.at is not None else chain_time(),
                                        known))
