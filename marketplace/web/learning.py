"""Feed the living profile from the chain's record: ratings the indexer has stored.

A rating is an on-chain event; the profile learns from it only with the customer's consent.
`learn_from_ratings` gives the profile every rated booking of the customer it has not learned
yet, with the provider and the criteria as they were when the booking was made (rebuilt from the
event journal and the criteria history). The repository ignores a booking it already has, so
calling this on every page view, in any worker, learns each rating exactly once.
"""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import Connection

from marketplace.profile.records import ProfileError
from marketplace.web import queries
from marketplace.web.context import Services

log = logging.getLogger("marketplace.web")


def learn_from_ratings(conn: Connection, svc: Services, customer: str) -> int:
    """Record the customer's rated bookings the profile does not have yet; how many were new."""
    if not svc.profiles.has_consent(customer):
        return 0
    known = {r.booking_id for r in svc.profile_repository.ratings(customer.lower())}
    learned = 0
    for booking in queries.rated_bookings_of(conn, customer):
        booking_id = int(booking["booking_id"])
        if booking_id in known or booking["stars"] is None:
            continue
        provider = queries.provider_at_block(conn, int(booking["provider_id"]),
                                             int(booking["requested_block"]))
        criteria = queries.criteria_at_version(conn, customer, int(booking["criteria_version"]))
        if provider is None or criteria is None or criteria.category != provider.category:
            continue
        provider = dataclasses.replace(provider, price=int(booking["price"]))
        try:
            if svc.profiles.record_rating(customer, booking_id, provider, criteria,
                                          int(booking["stars"]),
                                          int(booking["complaint_tags"] or 0)):
                learned += 1
        except ProfileError as exc:  # inconsistent history: skip it, say so in the log
            log.warning("not learning booking %#x: %s", booking_id, exc)
    return learned
