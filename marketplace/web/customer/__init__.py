"""Customer pages: one blueprint, split by concern.

- `browse`: home, criteria editor, matches, provider pages, blocks
- `bookings`: quote and book, my bookings, booking actions, withdraw, pending transactions
- `profile`: consent, what was learned, suggestions, export, erase
- `notifications`: news the indexer found for me (with consent), mark as read
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from marketplace.catalogue import (
    ATTRIBUTES,
    CATEGORIES,
    CATEGORY_ATTRIBUTES,
    COMPLAINT_TAGS,
    REGIONS,
    categories_of_attribute,
)
from marketplace.web.auth import current_account, signer
from marketplace.web.context import services

bp = Blueprint("customer", __name__)


_ATTRIBUTE_CATEGORIES = {a.key: " ".join(categories_of_attribute(a.key)) for a in ATTRIBUTES}


def page_context() -> dict[str, Any]:
    """Names every template can use."""
    svc = services()
    account = current_account()
    return {
        "account": account,
        "unread_notifications": _unread(account),
        "signer": signer(),
        "dev_mode": svc.config.dev_accounts,
        "catalogue": {
            "categories": CATEGORIES,
            "regions": REGIONS,
            "attributes": ATTRIBUTES,
            "attributes_by_category": CATEGORY_ATTRIBUTES,
            "attribute_categories": _ATTRIBUTE_CATEGORIES,
            "tags": COMPLAINT_TAGS,
        },
    }


def _unread(account: str | None) -> int:
    """The nav's unread count; 0 when the database does not answer (the error page that says so
    renders with this context too)."""
    if account is None:
        return 0
    try:
        return services().profile_repository.count_notifications(account, unread=True)
    except SQLAlchemyError:
        return 0


from marketplace.web.customer import attest, bookings, browse, notifications, profile  # noqa: E402,F401  (routes)
