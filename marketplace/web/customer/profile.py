"""My profile: consent, what was learned, suggested changes, export, erase."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from marketplace.catalogue import label
from marketplace.profile.proposals import Proposal
from marketplace.web import actions, forms, queries
from marketplace.web.auth import current_account, require_account
from marketplace.web.context import services
from marketplace.web.customer import bp
from marketplace.web.errors import FieldError, NotFound
from marketplace.web.forms import Inputs
from marketplace.web.learning import rating_feed
from marketplace.web.txflow import submit

# ------------------------------------------------------------------ my profile


def _all_proposals(account: str) -> list[tuple[str, Proposal]]:
    svc = services()
    found: list[tuple[str, Proposal]] = []
    with svc.engine.connect() as conn:
        for row in queries.criteria_of(conn, account):
            view = queries.criteria_view(conn, account, int(row["category"]))
            if view is None:
                continue
            for proposal in svc.profiles.proposals(account, view):
                found.append((label("category", view.category), proposal))
    return found


@bp.get("/profile")
def profile() -> ResponseReturnValue:
    """Consent, what was learned, suggested criteria changes, export, erase."""
    account = current_account()
    if account is None:
        return redirect(url_for("auth.signin", next=request.path))
    svc = services()
    consent = svc.profiles.has_consent(account)
    learned = svc.profiles.profile(account)
    return render_template(
        "profile.html", consent=consent, learned=learned.to_json() if learned else None,
        proposals=_all_proposals(account) if consent else [],
        consents=svc.profile_repository.consents(account),
        feedback_texts=[
            {"booking": hex(t.booking_id), "text": t.text, "written_at": t.written_at}
            for t in svc.profiles.feedback_texts(account)
        ] if consent else [],
    )


@bp.post("/profile/consent")
def profile_consent() -> ResponseReturnValue:
    """Grant or withdraw consent to personalised matching."""
    account = require_account()
    grant = forms.boolean(request.form.get("grant"), "grant")
    svc = services()
    if grant:
        svc.profiles.grant_consent(account)
        learned = rating_feed(svc).learn_customer(account)  # what was rated before consent
        flash(f"Personalisation is on. Learned from {learned} past rating(s).")
    else:
        svc.profiles.revoke_consent(account)
        flash("Personalisation is off; what was learned is deleted.")
    return redirect(url_for("customer.profile"))


def _find_proposal(account: str, key: str) -> Proposal:
    for _category, proposal in _all_proposals(account):
        if proposal.key == key:
            return proposal
    raise NotFound("That suggestion no longer applies.", "key")


@bp.post("/profile/proposals/accept")
def proposal_accept() -> ResponseReturnValue:
    """Accept a suggested change: it becomes an on-chain setCriteria (or setBlocked)."""
    account = require_account()
    key = forms.text(request.form.get("key"), "key", max_len=120)
    proposal = _find_proposal(account, key)
    if proposal.criteria is not None:
        intent = actions.criteria_tuple_intent(proposal.criteria, proposal.title)
    elif proposal.provider_id is not None:
        intent = actions.block_intent(Inputs({"provider_id": proposal.provider_id,
                                              "blocked": True}))
    else:
        raise NotFound("That suggestion has nothing to sign.", "key")
    return submit(intent)


@bp.post("/profile/proposals/dismiss")
def proposal_dismiss() -> ResponseReturnValue:
    """Dismiss a suggestion for good."""
    account = require_account()
    key = forms.text(request.form.get("key"), "key", max_len=120)
    services().profiles.dismiss(account, key)
    flash("Suggestion dismissed.")
    return redirect(url_for("customer.profile"))


@bp.get("/profile/export")
def profile_export() -> ResponseReturnValue:
    """Everything stored about me, as a JSON download."""
    account = require_account()
    data = services().profiles.export(account)
    response = Response(json.dumps(data, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="profile-{account[:10]}.json"')
    return response


@bp.post("/profile/erase")
def profile_erase() -> ResponseReturnValue:
    """Delete everything stored about me off-chain (consent history included)."""
    account = require_account()
    if request.form.get("confirm") != "erase":
        raise FieldError("Tick the box to confirm you want everything erased.", "confirm")
    services().profiles.erase(account)
    flash("Your profile is erased. On-chain records (criteria, bookings) stay on the chain.")
    return redirect(url_for("customer.profile"))


