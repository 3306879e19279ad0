"""From a validated form to a transaction on its way, and back when the indexer has seen it.

A page turns its form into a `TxIntent` (contract function, arguments, value, and the API call
that builds the same transaction). `submit` simulates it (a revert comes back as TxRefused, in
plain words, next to the form) and then:

- dev signer: the server signs and sends it, and the browser goes to the pending page;
- wallet: the browser gets a page whose script asks the API for the unsigned transaction
  (fresh gas and fees), has the wallet send it (`eth_sendTransaction`), then goes to the
  pending page.

Before anything that moves money or cannot be undone is signed, `submit` shows a review page
(`tx_review.html`): the amount and fee in human units, the deadlines, what cannot be undone and
the account that signs. The review re-posts the same form with `confirmed=1`; only then is the
transaction signed (dev) or handed to the wallet. Only what moves no money and a later call
undoes (criteria, listing updates, pausing a listing: `UNREVIEWED`) skips it.

The pending page polls `GET /api/v1/tx/<hash>` until the indexer has committed the transaction's
block, then moves on to where the action's result is shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection
from werkzeug.datastructures import MultiDict

from marketplace.chain.tx import UnsignedTransaction
from marketplace.web import queries
from marketplace.web.auth import SIGNER_DEV, require_account, signer
from marketplace.web.context import services
from marketplace.web.errors import Unavailable
from marketplace.web.live_index import read_checkpoint

# Functions a page may send without a review step: nothing moves and a later call undoes it.
UNREVIEWED = frozenset({"setCriteria", "updateProvider", "updateListing", "deactivate",
                        "reactivate"})

# The form field that says the customer has seen the review.
CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Review:
    """What a person checks before signing: facts in human units and what cannot be undone."""

    facts: tuple[tuple[str, str], ...] = ()
    final: tuple[str, ...] = ()
    back_url: str = ""


@dataclass(frozen=True)
class TxIntent:
    """One contract call a user asked for, and how to build it again through the API."""

    function: str
    args: tuple[Any, ...]
    label: str
    api_path: str
    api_body: dict[str, Any] = field(default_factory=dict)
    value: int = 0
    next_url: str = ""  # may hold {booking} / {provider}: filled from the tx's events
    review: Review = field(default_factory=Review)
    # A permit signature the server made for a dev account (token bookings), shown on review.
    signed_extra: tuple[tuple[str, str], ...] = ()


def confirmed() -> bool:
    """Whether this POST comes from the review page (the person has seen what will happen)."""
    return request.form.get(CONFIRMED) == "1"


def needs_review(intent: TxIntent) -> bool:
    """Whether the intent must be reviewed before it is signed."""
    return intent.function not in UNREVIEWED


def submit(intent: TxIntent,
           form: MultiDict[str, str] | None = None) -> ResponseReturnValue:
    """Simulate, show the review (once), then sign on the server (dev) or hand over to the
    wallet page. The review posts `form` again (default: the request's own form; a page that
    settled a file upload passes the form with the stored file's digest instead)."""
    account = require_account()
    chain = services().chain
    tx = chain.build(intent.function, *intent.args, sender=account, value=intent.value)
    if needs_review(intent) and not confirmed():
        return render_template(
            "tx_review.html",
            intent=intent,
            tx=tx,
            signing_account=account,
            fields=_resubmitted(request.form if form is None else form),
            action=request.path,
        )
    if signer() == SIGNER_DEV:
        tx_hash = chain.dev_send(tx)
        return redirect(pending_url(tx_hash, intent.next_url, intent.label))
    return render_template(
        "tx_confirm.html",
        intent=intent,
        tx=tx,
        build_body=json.dumps(intent.api_body, separators=(",", ":")),
    )


def _resubmitted(form: MultiDict[str, str]) -> list[tuple[str, str]]:
    """The form's own fields, to post again from the review page (not the token, not the flag)."""
    return [(name, value) for name, values in form.lists()
            for value in values if name not in ("csrf_token", CONFIRMED)]


def build_for_api(intent: TxIntent, sender: str) -> dict[str, Any]:
    """What the API returns for a transaction: the unsigned tx for a wallet, and what it is."""
    tx = services().chain.build(intent.function, *intent.args, sender=sender, value=intent.value)
    return tx_json(tx, intent)


def tx_json(tx: UnsignedTransaction, intent: TxIntent) -> dict[str, Any]:
    """Wallet parameters plus a summary that a person (or a client) can check."""
    return {
        "tx": tx.for_wallet(),
        "function": intent.function,
        "args": [_jsonable(a) for a in intent.args],
        "value": str(intent.value),
        "label": intent.label,
        "next": intent.next_url,
    }


def pending_url(tx_hash: str, next_url: str, label: str = "") -> str:
    """The pending page of a sent transaction."""
    query = urlencode({k: v for k, v in (("next", next_url), ("label", label)) if v})
    base = url_for("customer.pending", tx_hash=tx_hash)
    return f"{base}?{query}" if query else base


def tx_status(conn: Connection, tx_hash: str) -> dict[str, Any]:
    """Where a transaction is: unknown, pending, failed, mined (not yet indexed) or indexed."""
    chain = services().chain
    checkpoint = read_checkpoint(conn)
    indexed_block = checkpoint.last_block if checkpoint is not None else -1
    out: dict[str, Any] = {"hash": tx_hash, "indexed_block": indexed_block, "block": None}
    try:
        receipt = chain.receipt(tx_hash)
    except Unavailable:
        out.update(status="unknown", message="The chain node does not answer right now.")
        return out
    if receipt is None:
        known = chain.transaction_known(tx_hash)
        out.update(status="pending" if known else "unknown",
                   message="Waiting for the transaction to be mined." if known
                   else "The node does not know this transaction (yet).")
        return out
    block = int(receipt["blockNumber"], 16)
    out["block"] = block
    if int(receipt.get("status", "0x1"), 16) != 1:
        out.update(status="failed", message=_failure_reason(tx_hash, block))
        return out
    if indexed_block < block:
        out.update(status="mined",
                   message=f"Mined in block {block}; waiting for the indexer "
                           f"(at block {indexed_block}).")
        return out
    events = queries.tx_events(conn, tx_hash)
    out.update(status="indexed", message="Done: the marketplace has recorded it.",
               events=[e["event"] for e in events])
    for event in events:
        if event["event"] == "BookingRequested":
            out["booking_id"] = hex(int(event["args"]["bookingId"]))
        if event["event"] == "ListingRegistered":
            out["provider_id"] = int(event["args"]["providerId"])
    return out


def _failure_reason(tx_hash: str, block: int) -> str:
    """Replay a failed transaction at its block's parent to decode why it reverted."""
    chain = services().chain
    try:
        tx = chain.rpc.call("eth_getTransactionByHash", [tx_hash])
        if not isinstance(tx, dict):
            return "The transaction reverted."
        call = {k: tx[k] for k in ("from", "to", "input", "value", "gas") if k in tx}
        chain.rpc.call("eth_call", [call, hex(max(block - 1, 0))])
    except Exception as exc:
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            try:
                return str(chain.market().decoder.decode(data).message)
            except Exception:
                pass
    return "The transaction reverted."


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    return value
