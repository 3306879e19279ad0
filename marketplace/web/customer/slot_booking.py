"""Booking a v2 listing (docs/contract-v2.md, issue 13): a slot picker fed by the provider's
free windows, the price in the listing's currency, the cancellation terms, the offer version,
a review step, and for a token listing one EIP-2612 permit signature and one transaction.

GET /book/<id> renders the picker (`book.html`, `quote.v2`); POST /book/<id> validates the slot
(past, too far, outside availability: sentences next to the fields), simulates what it can and
shows the review; the review's confirm posts again with `confirmed=1`:

- ether listing: `book(request)` with the price as value (dev: the server signs; wallet: the
  generic wallet page, which builds the transaction through `POST /book/<id>/tx`);
- token listing, dev account: the server signs the permit (`ChainGateway.dev_sign_typed_data`)
  and sends `bookWithPermit(request, deadline, v, r, s)`;
- token listing, wallet: `tx_permit.html`; `wallet.js` fetches the typed data
  (`POST /book/<id>/permit`), signs it with `eth_signTypedData_v4`, and has the page build the
  transaction (`POST /book/<id>/tx` with the signature), which it sends.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from datetime import tzinfo
from typing import Any

from flask import jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from marketplace.matching.explain import explain_exclusion
from marketplace.store import queries as store_queries
from marketplace.units import Currency, format_amount
from marketplace.web import actions, forms, queries
from marketplace.web.auth import SIGNER_DEV, require_account, signer
from marketplace.web.context import services
from marketplace.web.customer.common import chain_time, errors_of
from marketplace.web.errors import FieldError, FormErrors, NotFound, TxRefused, WebError
from marketplace.web.forms import Inputs
from marketplace.web.money import (
    TZ_COOKIE,
    CurrencyInfo,
    currency_infos,
    viewer_zone,
    zone_name,
)
from marketplace.web.permit import PERMIT_LIFETIME, check_permit, permit_of, typed_data, wallet_json
from marketplace.web.present import providers_json, view_of_row
from marketplace.web.review import book_review, booking_deadlines, booking_fee
from marketplace.web.slots import (
    DURATIONS,
    Slot,
    Window,
    check_slot,
    free_windows,
    parse_slot,
    picker_days,
)
from marketplace.web.txflow import TxIntent, confirmed, pending_url, submit

PICKER_DAYS = 14


def zone() -> tzinfo:
    """The viewer's time zone: a form's `tz` (set by app.js), else the `tz` cookie, else UTC."""
    return viewer_zone(request.form.get("tz") or request.cookies.get(TZ_COOKIE))


def is_v2(row: dict[str, Any]) -> bool:
    """Whether the store row is a contract v2 listing (it has an offer version)."""
    return row.get("offer_version") is not None


def quote(provider_id: int, account: str) -> dict[str, Any]:
    """Everything the booking page and its review show."""
    svc = services()
    with svc.engine.connect() as conn:
        row = store_queries.get_provider(conn, provider_id)
        if row is None:
            raise NotFound(f"There is no provider #{provider_id}.", None)
        criteria_view = queries.criteria_view(conn, account, int(row["category"]))
        known = currency_infos(conn)
        settings = store_queries.market_settings(conn) or {}
    provider = providers_json(svc.engine, [row])[0]
    info = known.get(provider["currency_id"]) or CurrencyInfo(
        Currency(provider["currency_id"], f"currency #{provider['currency_id']}", 18), False,
        None)
    currency = info.currency
    now = chain_time()
    viewer = zone()
    windows = free_windows(provider_id, now, now + PICKER_DAYS * 86_400)
    price = int(row["price"])
    return {
        "v2": True,
        "row": row,
        "provider": provider,
        "price": price,
        "currency": currency,
        "price_label": format_amount(price, currency),
        "fee": booking_fee(price, settings, info),
        "currency_enabled": info.enabled,
        "criteria": criteria_view,
        "exclusion": explain_exclusion(view_of_row(row), criteria_view),
        "own": row["owner"] == account,
        "now": now,
        "zone": zone_name(viewer),
        "windows": windows,
        "days": picker_days(windows, viewer, now, days=PICKER_DAYS) if windows else [],
        "durations": DURATIONS,
        "settings": settings,
    }


def page(q: dict[str, Any], errors: dict[str, str], values: dict[str, Any] | None = None,
         status: int = 200) -> ResponseReturnValue:
    """The booking page with the slot picker."""
    fee = q["fee"]
    return render_template(
        "book.html", quote=q, errors=errors, values=values or {},
        fee_label=format_amount(fee, q["currency"]) if fee is not None else "",
    ), status


def submit_booking(provider_id: int) -> ResponseReturnValue:
    """POST /book/<id> for a v2 listing: validate, review, then sign."""
    account = require_account()
    q = quote(provider_id, account)
    inputs = Inputs(request.form)
    values = {k: request.form.get(k, "") for k in request.form}
    try:
        slot, intent_request = _validated(q, inputs)
        currency: Currency = q["currency"]
        body = _body(intent_request)
        label = f"Book {q['provider']['name']} for {format_amount(q['price'], currency)}"
        if not confirmed():
            return _review(q, slot, intent_request, label)
        if currency.is_ether:
            intent = actions.book_v2_intent(
                intent_request, price=q["price"], ether=True, label=label,
                api_path=url_for("customer.book_tx", provider_id=provider_id), api_body=body)
            return submit(intent)
        if signer() == SIGNER_DEV:
            return _dev_permit_booking(q, intent_request, account, label)
        return render_template(
            "tx_permit.html", quote=q, label=label,
            typed_url=url_for("customer.book_permit_data", provider_id=provider_id),
            build_url=url_for("customer.book_tx", provider_id=provider_id),
            build_body=json.dumps(body, separators=(",", ":")))
    except (FieldError, TxRefused) as exc:
        return page(q, errors_of(exc), values, exc.status)


def _validated(q: dict[str, Any], inputs: Inputs) -> tuple[Slot, actions.BookingRequest]:
    """The slot and the BookingRequest, every bad field named."""
    if q["own"]:
        raise FieldError("This is your own listing: an owner cannot book it.", "_form")
    exclusion = q["exclusion"]
    if exclusion.excluded:
        raise FieldError(f"You cannot book this provider: {exclusion.reason}.", "_form")
    errors: dict[str, str] = {}
    slot: Slot | None = None
    try:
        slot = parse_slot(inputs, zone())
        check_slot(slot, q["now"], zone(), _windows(q))
    except FieldError as exc:
        errors.update(exc.fields)
    offer = q["provider"]["offer_version"]
    try:
        given = forms.integer(inputs.get("offer_version"), "offer_version", low=1,
                              high=2**32 - 1)
        if given != offer:
            errors["offer_version"] = (
                f"The provider changed the offer since you opened this page (version {given} "
                f"-> {offer}). Check the price and terms below, then book again.")
    except FieldError as exc:
        errors["offer_version"] = exc.message
    criteria_now = int(q["criteria"].version) if q["criteria"] is not None else 0
    seen = inputs.get("criteria_version")
    if isinstance(seen, str) and seen.strip().isdigit() and int(seen) != criteria_now:
        errors["criteria_version"] = (
            f"Your criteria changed since you opened this page (version {seen} -> "
            f"{criteria_now}). Check that this provider still suits you, then book again.")
    if not q["currency_enabled"] and not q["currency"].is_ether:
        errors["currency"] = (f"{q['currency'].symbol} is not accepted for new bookings now "
                              "(the operator disabled it).")
    if errors or slot is None:
        raise FormErrors(errors or {"slot_date": "Choose a slot."})
    criteria = q["criteria"]
    version = int(criteria.version) if criteria is not None else 0
    salt = secrets.randbelow(256)
    req = actions.booking_request(q["provider"]["id"], slot.start, slot.minutes, salt, offer,
                                  version)
    return slot, req


def _windows(q: dict[str, Any]) -> list[Window] | None:
    windows = q["windows"]
    return list(windows) if windows is not None else None


def _body(req: actions.BookingRequest) -> dict[str, Any]:
    provider_id, start, minutes, salt, offer, criteria = req
    return {"provider_id": provider_id, "start": start, "duration": minutes, "salt": salt,
            "offer_version": offer, "criteria_version": criteria}


def _review(q: dict[str, Any], slot: Slot, req: actions.BookingRequest,
            label: str) -> ResponseReturnValue:
    """The review page (nothing is signed yet); for ether the booking is simulated first."""
    account = require_account()
    currency: Currency = q["currency"]
    provider = q["provider"]
    terms = ((provider["free_cancel_hours"], provider["late_cancel_pct"])
             if provider["free_cancel_hours"] is not None else None)
    try:
        deadlines = booking_deadlines(services().chain.call("windows"), now=q["now"],
                                      start=slot.start, minutes=slot.minutes,
                                      instant=provider["instant"], zone=zone())
    except WebError:  # the node is away: the review goes on without the deadlines
        deadlines = []
    review = book_review(
        provider=provider, price=q["price"], currency=currency, fee=q["fee"], start=slot.start,
        minutes=slot.minutes, zone=zone(), terms=terms, instant=provider["instant"],
        offer_version=provider["offer_version"], permit=not currency.is_ether,
        back_url=url_for("customer.book", provider_id=provider["id"]), deadlines=deadlines)
    intent = actions.book_v2_intent(
        req, price=q["price"], ether=currency.is_ether, label=label,
        api_path=url_for("customer.book_tx", provider_id=provider["id"]), api_body=_body(req))
    intent = dataclasses.replace(intent, review=review)
    chain = services().chain
    if currency.is_ether:
        tx = chain.build(intent.function, *intent.args, sender=account, value=intent.value)
        value = tx.value
    else:
        value = 0  # the permit moves the tokens; nothing is simulated before it is signed
    fields = [(k, v) for k, vs in request.form.lists() for v in vs
              if k not in ("csrf_token", "confirmed", "start")]
    fields.append(("start", str(slot.start)))
    return render_template("tx_review.html", intent=intent, tx={"value": value},
                           signing_account=account, fields=fields, action=request.path)


def _typed(q: dict[str, Any], owner: str, deadline: int) -> dict[str, Any]:
    """The permit for exactly the price, from `owner` to the marketplace, until `deadline`."""
    chain = services().chain
    currency: Currency = q["currency"]
    if currency.token is None:
        raise FieldError("This currency has no token address on record.", "currency")
    market = chain.market()
    try:
        return typed_data(market.w3, currency.token, owner=owner, spender=str(market.address),
                          value=q["price"], deadline=deadline)
    except WebError:
        raise
    except Exception as exc:  # the token does not answer name()/nonces(): not a permit token
        raise FieldError(f"{currency.symbol} cannot be paid with a permit here: {exc}",
                         "currency") from exc


def _dev_permit_booking(q: dict[str, Any], req: actions.BookingRequest, account: str,
                        label: str) -> ResponseReturnValue:
    chain = services().chain
    deadline = q["now"] + PERMIT_LIFETIME
    typed = _typed(q, account, deadline)
    permit = permit_of(typed, chain.dev_sign_typed_data(account, typed))
    check_permit(typed, permit, price=q["price"], now=q["now"])
    intent = actions.book_permit_intent(
        req, deadline=deadline, signature=(permit.v, permit.r, permit.s), label=label,
        api_path="", api_body={})
    tx = chain.build(intent.function, *intent.args, sender=account)
    tx_hash = chain.dev_send(tx)
    return redirect(pending_url(tx_hash, intent.next_url, intent.label))


# ------------------------------------------------------------------ JSON for the wallet page


def permit_data(provider_id: int) -> ResponseReturnValue:
    """POST /book/<id>/permit: the typed data the wallet signs, for the signed-in account."""
    account = require_account()
    q = quote(provider_id, account)
    body = request.get_json(silent=True) or {}
    sender = forms.address(body.get("from") or account, "from")
    if sender != account:
        raise FieldError("The wallet's account is not the signed-in account; switch it in the "
                         "wallet or sign in again.", "from")
    if q["currency"].is_ether:
        raise FieldError("This listing is priced in ether: there is no permit to sign.",
                         "currency")
    deadline = q["now"] + PERMIT_LIFETIME
    typed = _typed(q, account, deadline)
    return jsonify({"typed_data": wallet_json(typed), "deadline": deadline,
                    "amount_label": q["price_label"]})


def build_tx(provider_id: int) -> ResponseReturnValue:
    """POST /book/<id>/tx: the unsigned booking transaction for the wallet (ether: `book`;
    token: `bookWithPermit` with the signature the wallet made)."""
    account = require_account()
    q = quote(provider_id, account)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise FieldError("Send the booking as a JSON object.", None)
    sender = forms.address(body.get("from") or account, "from")
    if sender != account:
        raise FieldError("The wallet's account is not the signed-in account; switch it in the "
                         "wallet or sign in again.", "from")
    inputs = Inputs(body)
    try:
        offer = forms.integer(inputs.get("offer_version"), "offer_version", low=1)
        if offer != q["provider"]["offer_version"]:
            raise FieldError(
                f"The provider changed the offer since you opened this page (version {offer} "
                f"-> {q['provider']['offer_version']}). Reload the page and book again.",
                "offer_version")
        req = actions.booking_request(
            provider_id,
            forms.integer(inputs.get("start"), "slot_date", low=1, high=2**32 - 1),
            forms.integer(inputs.get("duration"), "duration", low=1, high=65_535),
            forms.integer(inputs.get("salt"), "salt", low=0, high=255), offer,
            forms.integer(inputs.get("criteria_version"), "criteria_version", low=0,
                          high=2**32 - 1))
    except FieldError:
        raise
    check_slot(Slot(req[1], req[2]), q["now"], zone(), _windows(q))
    label = f"Book {q['provider']['name']} for {q['price_label']}"
    from marketplace.web.txflow import build_for_api

    if q["currency"].is_ether:
        intent = actions.book_v2_intent(req, price=q["price"], ether=True, label=label,
                                        api_path="", api_body={})
        return jsonify(build_for_api(intent, account))
    deadline = forms.integer(inputs.get("deadline"), "permit", low=0, high=2**64)
    signature = inputs.get("signature")
    if not isinstance(signature, str):
        raise FieldError("Sign the permit in your wallet first.", "permit")
    typed = _typed(q, account, deadline)
    permit = permit_of(typed, signature)
    check_permit(typed, permit, price=q["price"], now=q["now"] or int(time.time()))
    intent = actions.book_permit_intent(req, deadline=deadline,
                                        signature=(permit.v, permit.r, permit.s), label=label,
                                        api_path="", api_body={})
    return jsonify(build_for_api(intent, account))


def errors_json(exc: WebError) -> dict[str, Any]:
    """The shared error shape (for the page's own JSON endpoints)."""
    return exc.to_dict()


__all__ = ["TxIntent", "build_tx", "is_v2", "page", "permit_data", "quote", "submit_booking"]
