"""The signed-in customer's living profile: consent, what was learned, export and erasure.

GET never writes. Past ratings are learned when consent is granted (PUT /profile/consent), so
a customer who opts in is personalised from their whole rating history at once.
"""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from marketplace.web import queries
from marketplace.web.api import bp
from marketplace.web.api.contract import parse_body
from marketplace.web.api.models import ConsentBody
from marketplace.web.auth import require_account
from marketplace.web.context import services
from marketplace.web.learning import rating_feed


@bp.get("/profile")
def profile() -> ResponseReturnValue:
    """My consent, what was learned, and suggested criteria changes (signed in)."""
    account = require_account()
    svc = services()
    with svc.engine.connect() as conn:
        views = [queries.criteria_view(conn, account, int(r["category"]))
                 for r in queries.criteria_of(conn, account)]
    learned = svc.profiles.profile(account)
    proposals = [p.to_json() for v in views if v is not None
                 for p in svc.profiles.proposals(account, v)]
    return jsonify({
        "customer": account,
        "consent": svc.profiles.has_consent(account),
        "learned": learned.to_json() if learned else None,
        "proposals": proposals,
    })


@bp.put("/profile/consent")
def profile_consent() -> ResponseReturnValue:
    """Grant (`{"granted": true}`) or withdraw consent to personalised matching; granting
    learns from the customer's past ratings at once."""
    account = require_account()
    granted = parse_body(ConsentBody).granted
    svc = services()
    if granted:
        svc.profiles.grant_consent(account)
        rating_feed(svc).learn_customer(account)  # what was rated before consent
    else:
        svc.profiles.revoke_consent(account)
    return jsonify({"customer": account, "consent": svc.profiles.has_consent(account)})


@bp.get("/profile/export")
def profile_export() -> ResponseReturnValue:
    """Everything stored about me off-chain."""
    account = require_account()
    return jsonify(services().profiles.export(account))


@bp.delete("/profile")
def profile_erase() -> ResponseReturnValue:
    """Erase everything stored about me off-chain, consent history included."""
    account = require_account()
    services().profiles.erase(account)
    return jsonify({"customer": account, "erased": True})
