"""The web app's handle on the rating feed: learning when a customer grants consent.

Ratings are learned where they arrive (`marketplace.profile.feed`): by the indexer right after it
stores them, and here, once, when a customer grants consent (ratings given before then). No page
view learns anything.
"""

from __future__ import annotations

from sqlalchemy import Connection

from marketplace.profile.feed import RatingFeed
from marketplace.web.context import Services


def rating_feed(svc: Services) -> RatingFeed:
    """The feed over this app's store and living profiles."""
    return RatingFeed(svc.engine, svc.profile_repository, svc.profiles)


def learn_from_ratings(_conn: Connection, svc: Services, customer: str) -> int:
    """The customer's catch-up (`RatingFeed.learn_customer`); how many ratings were new.

    Kept only for `api.py`'s GET /api/v1/profile, which still calls it; the API's consent
    handler is where it belongs (as `customer.profile.profile_consent` does).
    """
    return rating_feed(svc).learn_customer(customer)
