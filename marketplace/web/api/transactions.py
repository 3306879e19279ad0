"""Unsigned transactions for a wallet (criteria, listing and owner blocks, booking actions,
listings and stake top-ups, attestations, the operator's timelocked changes, withdrawals per
currency) and where a sent transaction is. Booking a slot is `booking`'s."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eth_utils.address import to_checksum_address
from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from marketplace.domain import ZERO_ADDRESS, ChangeKind, change_kind
from marketplace.store import queries as store_queries
from marketplace.web import actions
from marketplace.web.api import bp
from marketplace.web.api.contract import (
    Sender,
    any_of,
    booking_number,
    inputs_of,
    parse_body,
    parse_query,
    semantic,
)
from marketplace.web.api.models import (
    AttestTxBody,
    BlockTxBody,
    ChangesQuery,
    ChangeTxBody,
    CriteriaTxBody,
    RateTxBody,
    RegisterTxBody,
    ResolveTxBody,
    TopUpTxBody,
    UpdateTxBody,
    WithdrawTxBody,
)
from marketplace.web.auth import current_account
from marketplace.web.context import services
from marketplace.web.customer.common import chain_time
from marketplace.web.errors import FieldError, Unauthorized, Unavailable
from marketplace.web.money import currency_infos
from marketplace.web.txflow import TxIntent, build_for_api, tx_status

# Path values of the action endpoints; rate and resolve take bodies of their own.
BOOKING_ACTION_PATH = any_of(sorted(actions.BOOKING_ACTIONS))
LISTING_ACTION_PATH = any_of(sorted([*actions.LISTING_ACTIONS, "update", "top_up"]))
BODY_OF_BOOKING_ACTION: dict[str, type[Sender]] = {"rate": RateTxBody,
                                                   "confirm_and_rate": RateTxBody,
                                                   "resolve": ResolveTxBody}


def sender_of(body: Sender) -> str:
    """The sending address: `from`, else the signed-in account (401 when neither)."""
    if body.sender is not None:
        return body.sender.lower()
    account = current_account()
    if account is None:
        raise Unauthorized("Give the sending address as `from`, or sign in.", "from")
    return account


def _built(intent: TxIntent, body: Sender) -> ResponseReturnValue:
    return jsonify(build_for_api(intent, sender_of(body)))


@bp.post("/criteria/tx")
def criteria_tx() -> ResponseReturnValue:
    """The unsigned setCriteria transaction for the criteria in the body."""
    body = parse_body(CriteriaTxBody)
    with semantic():
        intent, _criteria = actions.criteria_intent(inputs_of(body))
    return _built(intent, body)


@bp.post("/blocks/tx")
def block_tx() -> ResponseReturnValue:
    """The unsigned setBlocked(providerId, blocked) transaction, or with `owner`
    setOwnerBlocked(owner, blocked): every listing of that owner, present and future."""
    body = parse_body(BlockTxBody)
    if (body.provider_id is None) == (body.owner is None):
        raise FieldError("Give either provider_id (one listing) or owner (all of an owner's "
                         "listings).", "provider_id" if body.owner is None else "owner",
                         status=422, code="unprocessable")
    with semantic():
        if body.owner is not None:
            intent = actions.owner_block_intent(inputs_of(body))
            owner, blocked = intent.args  # web3 takes addresses checksummed
            intent = replace(intent, args=(to_checksum_address(owner), blocked))
        else:
            intent = actions.block_intent(inputs_of(body))
    return _built(intent, body)


@bp.post("/attestations/tx")
def attest_tx() -> ResponseReturnValue:
    """The unsigned attest(providerId, attributes) transaction (an attestor's; an empty list
    revokes its record)."""
    body = parse_body(AttestTxBody)
    with semantic():
        intent = actions.attest_intent(inputs_of(body))
    return _built(intent, body)


@bp.post("/operator/changes/tx")
def operator_change_tx() -> ResponseReturnValue:
    """The unsigned scheduleChange, applyChange or cancelChange(kind, account, value)
    transaction (the operator's; apply: anyone, after the eta)."""
    body = parse_body(ChangeTxBody)
    kind = change_kind(body.kind)
    account = (body.account or ZERO_ADDRESS).lower()
    value = int(body.value)
    function = {"schedule": "scheduleChange", "apply": "applyChange",
                "cancel": "cancelChange"}[body.step]
    intent = TxIntent(
        function=function, args=(int(kind), to_checksum_address(account), value),
        label=f"{body.step.capitalize()} the change {kind.key} ({account}, {value})",
        api_path=url_for("api.operator_change_tx"),
        api_body={"kind": kind.key, "account": account, "value": str(value),
                  "step": body.step},
        next_url="/operator")
    return _built(intent, body)


@bp.get("/operator/changes")
def operator_changes() -> ResponseReturnValue:
    """Timelocked changes the store has seen (scheduled, applied, cancelled), by eta."""
    query = parse_query(ChangesQuery)
    with services().engine.connect() as conn:
        rows = store_queries.operator_changes(conn, query.status)
    return jsonify({"items": [_change_json(r) for r in rows]})


def _change_json(row: dict[str, Any]) -> dict[str, Any]:
    kind = int(row["kind"])
    name = ChangeKind(kind).key if kind in set(ChangeKind) else str(kind)
    return {"kind": name, "account": row["account"], "value": str(int(row["value"])),
            "status": row["status"], "eta": int(row["eta"]),
            "scheduled_block": int(row["scheduled_block"]),
            "done_block": int(row["done_block"]) if row.get("done_block") is not None else None}


@bp.post(f"/bookings/<bookingid:booking_ref>/tx/<{BOOKING_ACTION_PATH}:action>")
def booking_tx(booking_ref: str, action: str) -> ResponseReturnValue:
    """The unsigned transaction of one booking action (cancel, accept, decline, complete,
    confirm, dispute, settle, expire, resolve_by_default, rate, resolve)."""
    body = parse_body(BODY_OF_BOOKING_ACTION.get(action, Sender))
    booking_id = booking_number(booking_ref)
    with semantic():
        intent = actions.booking_action_intent(booking_id, action, inputs_of(body))
    if action == "dispute":  # payable: exactly the dispute bond, in ether
        intent = replace(intent, value=dispute_bond())
    out = build_for_api(intent, sender_of(body))
    if action == "cancel":
        from marketplace.web.api.booking import booking_row, cancellation_preview

        row = booking_row(booking_id)
        with services().engine.connect() as conn:
            known = currency_infos(conn)
        out["refund_preview"] = cancellation_preview(row, chain_time(), known)
    return jsonify(out)


def dispute_bond() -> int:
    """The bond `dispute` must send (the store's view of the market settings)."""
    with services().engine.connect() as conn:
        settings = store_queries.market_settings(conn) or {}
    bond = settings.get("dispute_bond")
    if bond is None:
        raise Unavailable("The dispute bond is not known yet (the indexer has not seen the "
                          "deployment); try again shortly.")
    return int(bond)


@bp.post("/providers/tx")
def register_tx() -> ResponseReturnValue:
    """The unsigned register transaction (value = stake); stores the metadata off-chain."""
    body = parse_body(RegisterTxBody)
    with semantic():
        intent = actions.register_intent(inputs_of(body))
    return _built(intent, body)


@bp.post(f"/providers/<pid:provider_id>/tx/<{LISTING_ACTION_PATH}:action>")
def listing_tx(provider_id: int, action: str) -> ResponseReturnValue:
    """update (region, attributes, currency, price, terms, name, description, picture),
    top_up (the amount as value), deactivate, reactivate, release_stake."""
    if action == "top_up":
        top_up = parse_body(TopUpTxBody)
        with semantic():
            intent = actions.top_up_intent(provider_id, inputs_of(top_up))
        return _built(intent, top_up)
    if action == "update":
        update = parse_body(UpdateTxBody)
        with semantic():
            intent = actions.update_intent(provider_id, inputs_of(update))
        return _built(intent, update)
    body = parse_body(Sender)
    return _built(actions.listing_action_intent(provider_id, action), body)


@bp.post("/withdraw/tx")
def withdraw_tx() -> ResponseReturnValue:
    """The unsigned withdraw(currency) transaction: the whole credit in one currency."""
    body = parse_body(WithdrawTxBody)
    with services().engine.connect() as conn:
        known = currency_infos(conn)
    info = known.get(body.currency)
    if info is None:
        raise FieldError(f"There is no currency {body.currency} on the marketplace.", "currency",
                         status=422, code="unprocessable")
    return _built(actions.withdraw_currency_intent(body.currency, info.currency.symbol), body)


@bp.get("/tx/<txhash:tx_hash>")
def tx(tx_hash: str) -> ResponseReturnValue:
    """Where a transaction is: unknown, pending, failed, mined, or indexed (with what it made)."""
    with services().engine.connect() as conn:
        return jsonify(tx_status(conn, tx_hash.lower()))
