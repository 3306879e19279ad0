"""My notifications: news the indexer found for me as events arrived (with consent)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from marketplace.web import forms
from marketplace.web.auth import current_account, require_account
from marketplace.web.context import services
from marketplace.web.customer import bp

PAGE_SIZE = 50


@bp.get("/notifications")
def notifications() -> ResponseReturnValue:
    """My newest notifications, unread first marked, with a button to mark them read."""
    account = current_account()
    if account is None:
        return redirect(url_for("auth.signin", next=request.path))
    svc = services()
    return render_template(
        "notifications.html",
        items=svc.profile_repository.notifications(account, limit=PAGE_SIZE),
        consent=svc.profiles.has_consent(account),
    )


@bp.post("/notifications/read")
def notifications_read() -> ResponseReturnValue:
    """Mark one notification (`id`) or all of them read."""
    account = require_account()
    raw = request.form.get("id")
    ids = None if raw in (None, "") else [forms.integer(raw, "id", low=1, high=2**53)]
    marked = services().profile_repository.mark_read(account, ids)
    flash(f"Marked {marked} notification(s) read.")
    return redirect(url_for("customer.notifications"))
