"""The attestor's page (/attest): record which attributes of a listing you have verified, or
revoke the record (`attest(providerId, attributes)`, `attest(id, 0)` revokes; issue 12).

Only accounts the operator named as attestors can attest; the page says so to anyone else. The
listing's claimed attributes are offered; a bit it does not claim would not count (`verified =
attested & listing.attributes`), so it is not offered.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from marketplace.catalogue import labels, names
from marketplace.store import queries as store_queries
from marketplace.web import actions, forms, queries
from marketplace.web.auth import current_account, require_account
from marketplace.web.context import services
from marketplace.web.customer import bp
from marketplace.web.customer.common import errors_of
from marketplace.web.errors import FieldError, TxRefused, WebError
from marketplace.web.forms import Inputs
from marketplace.web.present import providers_json
from marketplace.web.review import simple_review
from marketplace.web.txflow import submit


def _context(account: str, provider_id: int | None) -> dict[str, Any]:
    svc = services()
    with svc.engine.connect() as conn:
        attestors = queries.attestors(conn)
        mine = next((a for a in attestors.values() if a["account"] == account), None)
        row = store_queries.get_provider(conn, provider_id) if provider_id else None
        records = queries.attestations(conn, provider_id) if provider_id else []
    listing = providers_json(svc.engine, [row])[0] if row is not None else None
    current = 0
    if mine is not None:
        current = next((r["attributes"] for r in records
                        if r["attestor_id"] == mine["attestor_id"]), 0)
    return {
        "attestor": mine,
        "listing": listing,
        "claimed": names("attribute", int(row["attributes"])) if row is not None else [],
        "claimed_labels": labels("attribute", int(row["attributes"])) if row is not None else [],
        "current": names("attribute", current),
        "current_labels": labels("attribute", current),
        "provider_id": provider_id,
    }


@bp.get("/attest")
def attest() -> ResponseReturnValue:
    """The attestation form for a listing (`?provider_id=`)."""
    account = current_account()
    if account is None:
        return redirect(url_for("auth.signin", next=request.full_path))
    raw = request.args.get("provider_id")
    errors: dict[str, str] = {}
    provider_id: int | None = None
    if raw:
        try:
            provider_id = forms.integer(raw, "provider_id", low=1, high=2**32 - 1)
        except FieldError as exc:
            errors = errors_of(exc)
    context = _context(account, provider_id)
    if provider_id and context["listing"] is None:
        errors["provider_id"] = f"There is no listing #{provider_id}."
    return render_template("attest.html", errors=errors, **context), 400 if errors else 200


@bp.post("/attest")
def attest_submit() -> ResponseReturnValue:
    """Review, then attest (or revoke with no attribute ticked)."""
    account = require_account()
    inputs = Inputs(request.form)
    raw = request.form.get("provider_id", "")
    provider_id = int(raw) if raw.isdigit() and 0 < int(raw) < 2**32 else None
    context = _context(account, provider_id)
    try:
        if context["attestor"] is None:
            raise WebError("Only an attestor the operator named can attest; this account is "
                           "not one.", None, status=403, code="forbidden")
        if context["listing"] is None:
            raise FieldError("There is no such listing.", "provider_id")
        intent = actions.attest_intent(inputs)
        mask = int(intent.args[1])
        words = ", ".join(labels("attribute", mask)) or "nothing (revokes your record)"
        review = simple_review(
            [("Listing", f"{context['listing']['name']} (#{provider_id})"),
             ("You attest", words),
             ("Replaces your record", ", ".join(context["current_labels"]) or "none"),
             ("As attestor", f"#{context['attestor']['attestor_id']} ({account})")],
            ["Your attestation is public and on-chain: customers who trust you book on it. "
             "You can revoke it later, but its history stays."],
            url_for("customer.attest", provider_id=provider_id))
        return submit(dataclasses.replace(intent, review=review))
    except (FieldError, TxRefused, WebError) as exc:
        return render_template("attest.html", errors=errors_of(exc), **context), exc.status
