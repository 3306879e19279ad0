"""The web app's handle on the rating feed: learning when a customer grants consent.

Ratings are learned where they arrive (`marketplace.profile.feed`): by the indexer right after it
stores them, and here, once, when a customer grants consent (ratings given before then). No page
view learns anything.
"""

from __future__ import annotations

from marketplace.profile.feed import RatingFeed
from marketplace.web.context import Services


def rating_feed(svc: Services) -> RatingFeed:
    """The feed over this app's store and living profiles."""
    return RatingFeed(svc.engine, svc.profile_repository, svc.profiles)
