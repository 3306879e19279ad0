"""Feed the living profile from the chain's record, where ratings arrive: the indexer.

A rating is an on-chain event; the profile learns from it only with the customer's consent, with
the provider and the criteria as they were when the booking was made (`profile.history`). Two
moments learn, never a page view:

- after the indexer commits a chunk (`RatingFeed.after_commit`, its `on_commit` hook), the
  ratings it stored for customers who consented;
- when a customer grants consent (`RatingFeed.learn_customer`), every rating they gave before.

Both are idempotent (the repository ignores a booking it already has), so the order of the two,
several web workers, a restarted indexer, and a reorg that re-commits blocks all learn each
rating exactly once. (A rating that a reorg removes for good stays learned, as it did when page
views learned.) Without consent nothing is read or stored; revoking consent and erasure stay
`ProfileService`'s.
"""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import Connection, Engine

from marketplace.profile.history import (
    criteria_at_version,
    customers_rated_in,
    provider_at_block,
    rated_bookings_of,
)
from marketplace.profile.records import PERSONALISATION, ProfileError, normalise_customer
from marketplace.profile.repository import ProfileRepository
from marketplace.profile.service import ProfileService
from marketplace.profile.sql import SqlProfileRepository, create_profile_schema

log = logging.getLogger("marketplace.profile")


def store_feed(engine: Engine, *, reorg_window: int = 0) -> RatingFeed:
    """A feed for the store at `engine` with the profile kept in the same database (the
    indexer's: `create_indexer` hooks `after_commit` into every commit)."""
    repository = SqlProfileRepository(engine)
    return RatingFeed(engine, repository, ProfileService(repository), reorg_window=reorg_window)


class RatingFeed:
    """Learns the store's ratings into consenting customers' profiles."""

    def __init__(
        self,
        engine: Engine,
        repository: ProfileRepository,
        profiles: ProfileService,
        *,
        reorg_window: int = 0,
    ) -> None:
        """Read ratings from the store at `engine`; learn through `profiles` (kept in
        `repository`). `reorg_window` blocks below the last learned one are looked at again
        after each commit, since a reorg re-commits them (the indexer's confirmations)."""
        self._engine = engine
        self._repository = repository
        self._profiles = profiles
        self._window = max(reorg_window, 0)
        self._learned_to: int | None = None  # ratings up to this block are learned

    def learn_customer(self, customer: str) -> int:
        """Learn the customer's rated bookings the profile lacks; how many were new.

        Nothing without consent. Call it when consent is granted: ratings given before then
        were not learned when they were indexed.
        """
        with self._engine.connect() as conn:
            return self._learn(conn, normalise_customer(customer))

    def catch_up(self) -> int:
        """Learn every consenting customer's ratings the profile lacks; how many were new."""
        learned = 0
        with self._engine.connect() as conn:
            for customer in self._repository.customers_with_consent(PERSONALISATION):
                learned += self._learn(conn, customer)
        return learned

    def after_commit(self, block: int, _committed_at: float) -> None:
        """The indexer's `on_commit` hook: learn the ratings stored up to `block`.

        The first call catches up with everything (ratings indexed while no indexer learned,
        say one stopped between its commit and this hook); later ones look only at the blocks
        committed since, plus the reorg window. A failure is logged and never fails the
        indexer: the chunk is committed, and the next call covers these blocks again.
        """
        try:
            if self._learned_to is None:
                create_profile_schema(self._engine)  # the indexer may start before the web app
                self.catch_up()
            else:
                self._learn_blocks(min(self._learned_to, block) - self._window, block)
        except Exception:  # learning is derived data: the next commit retries, indexing goes on
            log.exception("learning ratings up to block %d failed; retrying after the next "
                          "commit", block)
            return
        self._learned_to = block

    def _learn_blocks(self, after_block: int, up_to_block: int) -> None:
        # Usually nobody (or a few) consented: then the chunk's events are not read again.
        consenting = set(self._repository.customers_with_consent(PERSONALISATION))
        if not consenting:
            return
        with self._engine.connect() as conn:
            rated = customers_rated_in(conn, after_block, up_to_block)
            for customer in sorted(rated & consenting):
                self._learn(conn, customer)

    def _learn(self, conn: Connection, customer: str) -> int:
        if not self._profiles.has_consent(customer):
            return 0
        known = {r.booking_id for r in self._repository.ratings(customer)}
        learned = 0
        for booking in rated_bookings_of(conn, customer):
            booking_id = int(booking["booking_id"])
            if booking_id in known or booking["stars"] is None:
                continue
            provider = provider_at_block(conn, int(booking["provider_id"]),
                                         int(booking["requested_block"]))
            criteria = criteria_at_version(conn, customer, int(booking["criteria_version"]))
            if provider is None or criteria is None or criteria.category != provider.category:
                continue
            provider = dataclasses.replace(provider, price=int(booking["price"]))
            try:
                if self._profiles.record_rating(customer, booking_id, provider, criteria,
                                                int(booking["stars"]),
                                                int(booking["complaint_tags"] or 0)):
                    learned += 1
            except ProfileError as exc:  # inconsistent history: skip it, say so in the log
                log.warning("not learning booking %#x: %s", booking_id, exc)
        return learned
