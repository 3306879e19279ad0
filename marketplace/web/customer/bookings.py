"""Quote and book, my bookings, booking actions, withdraw, and pending transactions."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from marketplace.catalogue import COMPLAINT_TAGS, entry_of, lookup
from marketplace.domain import Status
from marketplace.language.errors import InvalidText
from marketplace.store import queries as store_queries
from marketplace.units import format_amount
from marketplace.web import actions, forms, queries, ranking
from marketplace.web.auth import current_account, require_account, safe_next
from marketplace.web.context import services
from marketplace.web.customer import bp, slot_booking
from marketplace.web.customer.common import booking_ref_id, chain_time, errors_of
from marketplace.web.errors import (
    FieldError,
    Forbidden,
    FormErrors,
    NotFound,
    TxRefused,
    WebError,
)
from marketplace.web.forms import Inputs
from marketplace.web.money import currencies, currency_or_default
from marketplace.web.present import booking_json, providers_json, timeline_json
from marketplace.web.review import action_review, simple_review
from marketplace.web.txflow import TxIntent, confirmed, submit, tx_status

log = logging.getLogger(__name__)

# ------------------------------------------------------------------ booking


@bp.get("/book/<pid:provider_id>")
def book(provider_id: int) -> ResponseReturnValue:
    """The booking page: the slot picker fed by the provider's free time, the price in the
    listing's currency, the fee, the cancellation terms and the offer version."""
    account = current_account()
    if account is None:
        return redirect(url_for("auth.signin", next=request.path))
    return slot_booking.page(slot_booking.quote(provider_id, account), {})


@bp.post("/book/<pid:provider_id>")
def book_submit(provider_id: int) -> ResponseReturnValue:
    """Validate the slot and the offer, review, then `book(request)` / `bookWithPermit`."""
    account = require_account()
    if confirmed():
        _learn_choice(provider_id, slot_booking.quote(provider_id, account))
    return slot_booking.submit_booking(provider_id)


@bp.post("/book/<pid:provider_id>/permit")
def book_permit_data(provider_id: int) -> ResponseReturnValue:
    """The EIP-2612 permit a wallet signs for a token booking (JSON)."""
    return slot_booking.permit_data(provider_id)


@bp.post("/book/<pid:provider_id>/tx")
def book_tx(provider_id: int) -> ResponseReturnValue:
    """The unsigned v2 booking transaction for a wallet (JSON)."""
    return slot_booking.build_tx(provider_id)


def _learn_choice(provider_id: int, quote: dict[str, Any]) -> None:
    """Tell the living profile (with consent) which ranked providers this booking passed over."""
    svc = services()
    account = require_account()
    criteria_view = quote["criteria"]
    if criteria_view is None or not svc.profiles.has_consent(account):
        return
    result, _rows = ranking.match(svc, criteria_view, customer=account, k=ranking.MAX_K)
    chosen = next((m for m in result.matches if m.provider_id == provider_id), None)
    if chosen is not None:
        svc.profiles.record_choice(account, criteria_view.category, chosen, result.matches)


# ------------------------------------------------------------------ my bookings


@bp.get("/bookings")
def bookings() -> ResponseReturnValue:
    """My bookings, newest first, with what each is waiting for; my refund credit."""
    account = current_account()
    if account is None:
        return redirect(url_for("auth.signin", next=request.path))
    svc = services()
    with svc.engine.connect() as conn:
        rows = store_queries.bookings_of(conn, customer=account)
        credits = store_queries.credits_of(conn, account)
        names = queries.providers_by_id(conn, [int(r["provider_id"]) for r in rows])
        known = currencies(conn)
    providers = {p["id"]: p for p in providers_json(svc.engine, names.values())}
    zone = slot_booking.zone()
    items = [booking_json(r, currency_or_default(known, int(r.get("currency") or 0)), zone)
             for r in reversed(rows)]
    credit_items = [{"currency": currency_or_default(known, c), "amount": a}
                    for c, a in sorted(credits.items()) if a]
    return render_template("bookings.html", bookings=items, providers=providers,
                           credits=credit_items)


def _booking_context(booking_id: int) -> dict[str, Any]:
    svc = services()
    with svc.engine.connect() as conn:
        row = store_queries.get_booking(conn, booking_id)
        if row is None:
            raise NotFound("There is no such booking (yet); if you just booked it, wait a moment.",
                           None)
        events = store_queries.booking_timeline(conn, booking_id)
        provider_row = store_queries.get_provider(conn, int(row["provider_id"]))
        account = current_account()
        arbiter = bool(account and row.get("arbiter") and account == row["arbiter"])
        known = currencies(conn)
    currency = currency_or_default(known, int(row.get("currency") or 0))
    booking = booking_json(row, currency, slot_booking.zone())
    provider_info = providers_json(svc.engine, [provider_row])[0] if provider_row else None
    role = None
    if account and account == row["customer"]:
        role = "customer"
    elif account and provider_row is not None and account == provider_row["owner"]:
        role = "provider"
    return {
        "booking": booking,
        "row": row,
        "provider": provider_info,
        "timeline": timeline_json(events, currency, slot_booking.zone()),
        "role": role,
        "category": int(provider_row["category"]) if provider_row is not None else None,
        "arbiter": arbiter and role is None,
        "available": available_actions(row, role, arbiter and role is None, chain_time()),
    }


def available_actions(row: dict[str, Any], role: str | None, arbiter: bool, now: int) -> list[str]:
    """The actions the current account can take on the booking now."""
    status = Status(int(row["status"]))
    deadline = int(row["deadline"])
    passed = now > deadline
    start = row.get("start")
    v2 = start is not None
    before_start = v2 and now < int(start or 0)
    out: list[str] = []
    if role == "customer":
        if status is Status.REQUESTED or (status is Status.ACCEPTED and before_start):
            out.append("cancel")
        if status is Status.COMPLETED:
            if v2 and not passed and not row["rated"]:
                out.append("confirm_and_rate")
            out.append("confirm")
            if not passed:
                out.append("dispute")
        if status in (Status.SETTLED, Status.RESOLVED) and not row["rated"]:
            out.append("rate")
    if role == "provider":
        if status is Status.REQUESTED and not passed:
            out.append("accept")
        if status is Status.REQUESTED or (status is Status.ACCEPTED and (before_start or not v2)):
            out.append("decline")
        if status is Status.ACCEPTED and not passed and (not v2 or not before_start):
            out.append("complete")
    if arbiter and status is Status.DISPUTED and not passed:
        out.append("resolve")
    if passed and status in (Status.REQUESTED, Status.ACCEPTED):
        out.append("expire")
    if passed and status is Status.COMPLETED:
        out.append("settle")
    if passed and status is Status.DISPUTED:
        out.append("resolve_by_default")
    return out


@bp.get("/bookings/<booking_ref>")
def booking(booking_ref: str) -> ResponseReturnValue:
    """One booking: its timeline, and the actions open to the current account."""
    context = _booking_context(booking_ref_id(booking_ref))
    return render_template("booking.html", errors={}, rating=_rating_form(context), **context)


@bp.post("/bookings/<booking_ref>/<action>")
def booking_action(booking_ref: str, action: str) -> ResponseReturnValue:
    """Cancel, confirm, dispute, rate, accept, decline, complete, expire, settle, resolve."""
    booking_id = booking_ref_id(booking_ref)
    if action not in actions.BOOKING_ACTIONS:
        raise NotFound("There is no such action.", None)
    account = require_account()
    context = _booking_context(booking_id)
    inputs = Inputs(request.form)
    try:
        _check_role(action, context)
        if action not in ("rate", "confirm_and_rate"):
            intent = actions.booking_action_intent(booking_id, action, inputs)
            return submit(_reviewed(intent, action, context, inputs))
        words, intent = _rate_intent(booking_id, inputs, both=action == "confirm_and_rate")
        response = submit(_reviewed(intent, action, context, inputs))
        if words and confirmed():  # kept only with consent, and only once the rating is sent
            services().profiles.record_feedback_text(account, booking_id, words)
        return response
    except (FieldError, TxRefused, Forbidden) as exc:
        return render_template("booking.html", errors=errors_of(exc),
                               rating=_rating_form(context, inputs), **context), exc.status


# ------------------------------------------------------------------ rating in the customer's words


def _reviewed(intent: TxIntent, action: str, context: dict[str, Any],
              inputs: Inputs) -> TxIntent:
    """The intent with its review: amounts in the booking's currency, deadlines, finality."""
    row = dict(context["row"])
    with services().engine.connect() as conn:
        known = currencies(conn)
        settings = dict(store_queries.market_settings(conn) or {})
    currency = currency_or_default(known, int(row.get("currency") or 0))
    row["label"] = (f"{context['provider']['name']}, {context['booking']['id'][:10]}…"
                    if context["provider"] else context["booking"]["id"])
    values = {"stars": inputs.get("stars"), "complaint_tags": inputs.getlist("complaint_tags"),
              "refund_percent": inputs.get("refund_percent")}
    if action == "dispute":  # payable: exactly the dispute bond, in ether
        intent = dataclasses.replace(intent, value=int(settings.get("dispute_bond") or 0))
    review = action_review(action, row, currency=currency, settings=settings, now=chain_time(),
                           zone=slot_booking.zone(), inputs=values,
                           back_url=url_for("customer.booking", booking_ref=hex(
                               int(row["booking_id"]))))
    return dataclasses.replace(intent, review=review)


def _rate_intent(booking_id: int, inputs: Inputs, *, both: bool = False) -> tuple[str, TxIntent]:
    """The rating transaction (stars and the kept complaint tags only) and the customer's words
    beside it; every bad field reported at once."""
    errors: dict[str, str] = {}
    words = ""
    try:
        words = forms.feedback_text(inputs.get("feedback_text"))
    except FieldError as exc:
        errors.update(exc.fields)
    try:
        intent = actions.booking_action_intent(
            booking_id, "confirm_and_rate" if both else "rate", inputs)
    except FieldError as exc:
        errors.update(exc.fields)
    if errors:
        raise FormErrors(errors)
    return words, intent


@bp.post("/bookings/<booking_ref>/rate/suggest")
def rate_suggest(booking_ref: str) -> ResponseReturnValue:
    """The rating step after "Suggest tags": the complaint tags understood in the customer's
    words pre-checked with their confidence, the category's other tags unchecked, no stars
    chosen; the customer reviews them and then rates (works without JavaScript)."""
    booking_id = booking_ref_id(booking_ref)
    require_account()
    context = _booking_context(booking_id)
    inputs = Inputs(request.form)
    try:
        _check_role("rate", context)
        if not {"rate", "confirm_and_rate"} & set(context["available"]):
            raise WebError("This booking cannot be rated now.", None, status=409)
        words = forms.feedback_text(inputs.get("feedback_text"), required=True)
        guesses = _understood(context["category"], words)
    except WebError as exc:
        return render_template("booking.html", errors=errors_of(exc),
                               rating=_rating_form(context, inputs), **context), exc.status
    return render_template("booking.html", errors={},
                           rating=_rating_form(context, text=words, guesses=guesses), **context)


def _understood(category: int | None, words: str) -> dict[str, float]:
    """Complaint tag key -> confidence for what the feedback model reads in `words`."""
    entry = entry_of("category", category) if category is not None else None
    if entry is None:
        raise FieldError("This booking's provider is unknown; choose the tags yourself.",
                         "feedback_text")
    from marketplace.language.feedback import feedback_interpreter  # scikit-learn: load lazily
    from marketplace.language.model import ModelUnavailable

    try:
        guesses = feedback_interpreter().interpret(entry.key, words)
    except ModelUnavailable as exc:
        log.error("language model unavailable: %s", exc)
        raise FieldError("Tags cannot be suggested on this server (no language model); "
                         "choose them yourself.", "feedback_text", status=503) from None
    except InvalidText as exc:  # forms.feedback_text checked it already; keep the message
        raise FieldError(exc.message[:1].upper() + exc.message[1:] + ".",
                         "feedback_text") from None
    return {g.key: g.confidence for g in guesses}


def _rating_form(
    context: dict[str, Any],
    inputs: Inputs | None = None,
    *,
    text: str = "",
    guesses: dict[str, float] | None = None,
) -> dict[str, Any]:
    """What the rating form shows: the customer's words, stars and tags as they left them
    (`inputs`), or the tags understood in `text` (`guesses`: then only the category's tags,
    and no stars chosen, so the customer decides the stars after reading the tags)."""
    account = current_account()
    # Only the rating form says whether the text would be kept: other pages skip the query.
    consent = (bool({"rate", "confirm_and_rate"} & set(context["available"]))
               and account is not None
               and services().profiles.has_consent(account))
    stars: int | None = None
    checked: Collection[str] = ()
    if inputs is not None:
        raw = inputs.get("feedback_text")
        text = raw if isinstance(raw, str) else ""
        try:
            stars = forms.stars(inputs.get("stars"))
        except FieldError:
            stars = None
        checked = {str(v) for v in inputs.getlist("complaint_tags")}
    shown = list(COMPLAINT_TAGS)
    if guesses is not None:
        from marketplace.language.feedback import CATEGORY_TAGS

        category = entry_of("category", context["category"])
        keys = CATEGORY_TAGS.get(category.key, ()) if category else ()
        shown = [lookup("complaint tag", key) for key in keys] or shown
        checked = set(guesses)
    tags = [{
        "key": entry.key,
        "label": entry.label,
        "checked": entry.key in checked,
        "confidence": confidence_words(guesses[entry.key])
        if guesses and entry.key in guesses else "",
    } for entry in shown]
    category_entry = entry_of("category", context["category"]) if context["category"] else None
    return {
        "text": text,
        "stars": stars,
        "tags": tags,
        "interpreted": guesses is not None,
        "understood": [t for t in tags if t["confidence"]],
        "consent": consent,
        "category": category_entry.key if category_entry else "",
    }


def confidence_words(confidence: float) -> str:
    """A model confidence (0..1) for a person: "very likely (92%)", "likely", "possibly"."""
    word = "very likely" if confidence >= 0.8 else "likely" if confidence >= 0.5 else "possibly"
    return f"{word} ({round(confidence * 100)}%)"


def _check_role(action: str, context: dict[str, Any]) -> None:
    who = actions.BOOKING_ACTIONS[action][1]
    if who == "customer" and context["role"] != "customer":
        raise Forbidden("Only the booking's customer can do this.", None)
    if who == "provider" and context["role"] != "provider":
        raise Forbidden("Only the provider's owner can do this.", None)
    if who == "arbiter" and not context["arbiter"]:
        raise Forbidden("Only the arbiter fixed when this booking was made can resolve it.", None)


@bp.post("/withdraw")
def withdraw() -> ResponseReturnValue:
    """Withdraw the account's whole credit in one currency (refunds, payouts, released stakes),
    after the review."""
    account = require_account()
    inputs = Inputs(request.form)
    with services().engine.connect() as conn:
        known = currencies(conn)
        ident = forms.currency_id(inputs.get("currency"), "currency", known)
        credit = store_queries.credit_of(conn, account, ident)
    currency = currency_or_default(known, ident)
    intent = actions.withdraw_currency_intent(ident, currency.symbol)
    back = safe_next(request.form.get("next")) or url_for("customer.bookings")
    intent = dataclasses.replace(intent, next_url=back, review=simple_review(
        [("Amount", format_amount(credit, currency)), ("To", account)],
        ["The credit leaves the marketplace for your account."], back))
    return submit(intent)


# ------------------------------------------------------------------ transactions


@bp.get("/tx/<tx_hash>")
def pending(tx_hash: str) -> ResponseReturnValue:
    """A sent transaction, until the indexer has it (the page polls /api/v1/tx/<hash>)."""
    try:
        checked = forms.tx_hash(tx_hash)
    except FieldError:
        raise NotFound("That is not a transaction hash.", None) from None
    next_url = safe_next(request.args.get("next")) or url_for("customer.index")
    label_text = forms.text(request.args.get("label"), "label", max_len=200, required=False)
    with services().engine.connect() as conn:
        status = tx_status(conn, checked)
    if status["status"] == "indexed":
        # A confirmation on the page the transaction leads to (issue 14: saving criteria,
        # accepting a suggestion, withdrawing, ... said nothing once done).
        flash(f"Done: {label_text or 'your transaction'} (recorded on-chain and indexed).")
        return redirect(resolve_next(next_url, status))
    return render_template("tx_pending.html", tx_hash=checked, next_url=next_url,
                           label=label_text, status=status)


def resolve_next(next_url: str, status: dict[str, Any]) -> str:
    """Fill `{booking}` / `{provider}` in a next URL from the transaction's events."""
    filled = next_url
    if "{booking}" in filled:
        if "booking_id" not in status:
            return url_for("customer.bookings")
        filled = filled.replace("{booking}", str(status["booking_id"]))
    if "{provider}" in filled:
        if "provider_id" not in status:
            return url_for("provider.dashboard")
        filled = filled.replace("{provider}", str(status["provider_id"]))
    return safe_next(filled) or url_for("customer.index")
