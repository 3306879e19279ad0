"""Unsigned transactions for a wallet (criteria, blocks, bookings, listings, withdrawals) and
where a sent transaction is."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from marketplace.web import actions
from marketplace.web.api import bp
from marketplace.web.api.contract import (
    Sender,
    any_of,
    booking_number,
    inputs_of,
    parse_body,
    semantic,
)
from marketplace.web.api.models import (
    BlockTxBody,
    BookTxBody,
    CriteriaTxBody,
    RateTxBody,
    RegisterTxBody,
    ResolveTxBody,
    UpdateTxBody,
)
from marketplace.web.auth import current_account
from marketplace.web.context import services
from marketplace.web.errors import Unauthorized
from marketplace.web.txflow import TxIntent, build_for_api, tx_status

# Path values of the action endpoints; rate and resolve take bodies of their own.
BOOKING_ACTION_PATH = any_of(sorted(actions.BOOKING_ACTIONS))
LISTING_ACTION_PATH = any_of(sorted([*actions.LISTING_ACTIONS, "update"]))
BODY_OF_BOOKING_ACTION: dict[str, type[Sender]] = {"rate": RateTxBody,
                                                   "resolve": ResolveTxBody}


def _sender(body: Sender) -> str:
    if body.sender is not None:
        return body.sender.lower()
    account = current_account()
    if account is None:
        raise Unauthorized("Give the sending address as `from`, or sign in.", "from")
    return account


def _built(intent: TxIntent, body: Sender) -> ResponseReturnValue:
    return jsonify(build_for_api(intent, _sender(body)))


@bp.post("/criteria/tx")
def criteria_tx() -> ResponseReturnValue:
    """The unsigned setCriteria transaction for the criteria in the body."""
    body = parse_body(CriteriaTxBody)
    with semantic():
        intent, _criteria = actions.criteria_intent(inputs_of(body))
    return _built(intent, body)


@bp.post("/blocks/tx")
def block_tx() -> ResponseReturnValue:
    """The unsigned setBlocked(providerId, blocked) transaction."""
    body = parse_body(BlockTxBody)
    with semantic():
        intent = actions.block_intent(inputs_of(body))
    return _built(intent, body)


@bp.post("/bookings/tx")
def book_tx() -> ResponseReturnValue:
    """The unsigned book(providerId, expectedPrice, criteriaVersion) transaction (value = price)."""
    body = parse_body(BookTxBody)
    with semantic():
        intent = actions.book_intent(inputs_of(body))
    return _built(intent, body)


@bp.post(f"/bookings/<bookingid:booking_ref>/tx/<{BOOKING_ACTION_PATH}:action>")
def booking_tx(booking_ref: str, action: str) -> ResponseReturnValue:
    """The unsigned transaction of one booking action (cancel, accept, decline, complete,
    confirm, dispute, settle, expire, resolve_by_default, rate, resolve)."""
    body = parse_body(BODY_OF_BOOKING_ACTION.get(action, Sender))
    booking_id = booking_number(booking_ref)
    with semantic():
        intent = actions.booking_action_intent(booking_id, action, inputs_of(body))
    return _built(intent, body)


@bp.post("/providers/tx")
def register_tx() -> ResponseReturnValue:
    """The unsigned register transaction (value = stake); stores the metadata off-chain."""
    body = parse_body(RegisterTxBody)
    with semantic():
        intent = actions.register_intent(inputs_of(body))
    return _built(intent, body)


@bp.post(f"/providers/<pid:provider_id>/tx/<{LISTING_ACTION_PATH}:action>")
def listing_tx(provider_id: int, action: str) -> ResponseReturnValue:
    """update (region, attributes, price, name, description), deactivate, reactivate,
    release_stake."""
    if action == "update":
        update = parse_body(UpdateTxBody)
        with semantic():
            intent = actions.update_intent(provider_id, inputs_of(update))
        return _built(intent, update)
    body = parse_body(Sender)
    return _built(actions.listing_action_intent(provider_id, action), body)


@bp.post("/withdraw/tx")
def withdraw_tx() -> ResponseReturnValue:
    """The unsigned withdraw() transaction."""
    return _built(actions.withdraw_intent(), parse_body(Sender))


@bp.get("/tx/<txhash:tx_hash>")
def tx(tx_hash: str) -> ResponseReturnValue:
    """Where a transaction is: unknown, pending, failed, mined, or indexed (with what it made)."""
    with services().engine.connect() as conn:
        return jsonify(tx_status(conn, tx_hash.lower()))
