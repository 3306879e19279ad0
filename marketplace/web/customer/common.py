"""Helpers the customer pages share."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, render_template, request
from flask.typing import ResponseReturnValue

from marketplace.catalogue import CATEGORIES
from marketplace.web import forms, queries
from marketplace.web.context import services
from marketplace.web.errors import FieldError, NotFound, WebError


def category_arg(default: int | None = None) -> int:
    """The `category` query argument (a catalogue key or code), or the default."""
    raw = request.args.get("category")
    if raw is None or raw == "":
        return default or CATEGORIES[0].code
    return forms.category(raw)


def booking_ref_id(ref: str) -> int:
    """A booking id from a URL (0x hex or decimal); NotFound if unreadable."""
    try:
        return forms.big_id(ref, "booking")
    except FieldError:
        raise NotFound("There is no such booking.", None) from None


def chain_time() -> int:
    """The latest block's timestamp (deadlines are in chain time), else the store's, else now."""
    import time

    try:
        block = services().chain.rpc.call("eth_getBlockByNumber", ["latest", False])
        if isinstance(block, dict):
            return int(block["timestamp"], 16)
    except Exception:  # the node is down: the store's newest block is the best guess
        pass
    with services().engine.connect() as conn:
        latest = queries.latest_block_time(conn)
    return max(latest or 0, int(time.time()))


def form_page(template: str, status: int, **context: Any) -> ResponseReturnValue:
    """A form page rendered with a status (400 after validation errors)."""
    return render_template(template, **context), status


# Fields no form shows: their message goes to the top of the form (`_form`), so that every
# error the API can return reaches the page ("from": the account cannot pay).
NOT_ON_FORMS = frozenset({"from", "to", "action", "provider_id"})


# Inputs a browser leaves out of a post when nothing is ticked: their errors stay next to them.
UNSENT_WHEN_EMPTY = frozenset({"attributes", "complaint_tags", "confirm", "instant", "stars",
                               "trusted_attestors", "required", "refused", "verified"})


def errors_of(error: WebError) -> dict[str, str]:
    """Field messages of an error for a form (`_form` when no field on the form is to blame:
    one no form shows, or one the posted form did not have, so every error the API can return
    reaches the page that caused it)."""
    if not error.fields:
        return {"_form": error.message}
    out = dict(error.fields)
    posted = set(request.form.keys()) if has_request_context() and request.form else None
    for name in sorted(out):
        if name == "_form":
            continue
        if name in NOT_ON_FORMS or (posted is not None and name not in posted
                                    and name not in UNSENT_WHEN_EMPTY):
            out.setdefault("_form", out[name])
    return out




def safe_category(raw: str | None) -> int:
    """The category a form names, or the first one if it names none."""
    try:
        return forms.category(raw)
    except FieldError:
        return CATEGORIES[0].code


def form_values_from(form: Any) -> dict[str, Any]:
    """What a form sent, to fill it in again (multi-valued fields as lists)."""
    values: dict[str, Any] = {k: form.get(k, "") for k in form}
    for name in ("required", "refused", "attributes", "complaint_tags"):
        values[name] = form.getlist(name)
    return values
