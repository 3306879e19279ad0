"""My notifications (signed in): listings that entered my top three in a category I book, and
providers I rely on that no longer meet my criteria, found by the indexer as events arrive
(`marketplace.profile.notify`) and only with consent. GET never writes."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from marketplace.catalogue import key_of
from marketplace.profile.records import Notification
from marketplace.web.api import bp
from marketplace.web.api.contract import parse_body, parse_query
from marketplace.web.api.models import NotificationsQuery, ReadNotificationsBody
from marketplace.web.auth import require_account
from marketplace.web.context import services


def notification_json(n: Notification) -> dict[str, Any]:
    """A notification as the API shows it (the category by its catalogue key)."""
    return {"id": n.id, "kind": n.kind, "provider_id": n.provider_id,
            "category": key_of("category", n.category), "message": n.message,
            "block": n.block, "created_at": n.created_at.isoformat(), "read": n.read}


@bp.get("/notifications")
def notifications() -> ResponseReturnValue:
    """My notifications, newest first, paged (`unread=true`: only unread ones)."""
    account = require_account()
    query = parse_query(NotificationsQuery)
    repository = services().profile_repository
    unread = repository.count_notifications(account, unread=True)
    if query.unread:
        items = [n for n in repository.notifications(account) if not n.read]
        total = len(items)
        items = items[(query.page - 1) * query.per_page: query.page * query.per_page]
    else:
        total = repository.count_notifications(account)
        items = repository.notifications(account, offset=(query.page - 1) * query.per_page,
                                         limit=query.per_page)
    return jsonify({"items": [notification_json(n) for n in items], "page": query.page,
                    "per_page": query.per_page, "total": total,
                    "pages": (total + query.per_page - 1) // query.per_page,
                    "unread": unread})


@bp.post("/notifications/read")
def notifications_read() -> ResponseReturnValue:
    """Mark my notifications read: `ids`, or every one when `ids` is absent."""
    account = require_account()
    body = parse_body(ReadNotificationsBody)
    repository = services().profile_repository
    marked = repository.mark_read(account, body.ids)
    return jsonify({"marked": marked,
                    "unread": repository.count_notifications(account, unread=True)})
