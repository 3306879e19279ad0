"""Suggestions at the right moment: news for consenting customers, found as events are indexed.

A sibling of the rating feed (`profile.feed`), run from the same after-commit hook of the
indexer. After a chunk it takes the providers whose listing changed in it (registered, updated,
paused or re-activated, scored by a rating or a lost dispute: the `provider_history` rows of
those blocks) and, per category, the consenting customers who book there. For each such
customer it ranks the category with their criteria and learned affinity twice, with the changed
listings as they are now and as they were before the chunk, and records

- "top": a changed provider that now ranks in their top three and did not before, with the
  ranking's reasons;
- "dropped": a changed provider they rely on (booked at least twice in the category, or their
  last booking there) that met their criteria before and no longer does, with the contract
  rule's reason.

The cost is bounded by the changed providers' categories times the consenting customers who
book in them: one load of each such category and two rankings of three per customer. Never
without consent, never on a page view. Idempotent (one notification per customer, kind,
provider, category and block: a retried or re-committed chunk stores nothing twice). A failure
is logged and retried after the next commit; it never fails the indexer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select

from marketplace.catalogue import label
from marketplace.matching.eligibility import CriteriaView, ProviderView, is_eligible
from marketplace.matching.explain import explain_exclusion
from marketplace.matching.index import ProviderIndex
from marketplace.matching.ranking import Affinity, Match, rank
from marketplace.profile.history import provider_at_block, view_of_criteria
from marketplace.profile.records import PERSONALISATION, Notification
from marketplace.profile.repository import ProfileRepository
from marketplace.profile.service import ProfileService
from marketplace.profile.sql import SqlProfileRepository, create_profile_schema
from marketplace.store import queries as store_queries
from marketplace.store import schema

log = logging.getLogger("marketplace.profile")

TOP = 3  # "enters the customer's top three"
TOP_KIND = "top"
DROPPED_KIND = "dropped"


def store_notifier(engine: Engine, *, reorg_window: int = 0) -> Notifier:
    """A notifier for the store at `engine` with the profile kept in the same database
    (`create_indexer` hooks `after_commit` into every commit, after the rating feed)."""
    repository = SqlProfileRepository(engine)
    return Notifier(engine, repository, ProfileService(repository), reorg_window=reorg_window)


# ---------------------------------------------------------------------- the decision rule


def entered_top(changed: Iterable[int], before: Sequence[int], now: Sequence[Match]) -> list[Match]:
    """The matches of `now` (a top-three ranking) whose provider changed and was not in the
    `before` top three (provider ids): the news of a listing entering the top."""
    changed_ids, earlier = set(changed), set(before)
    return [m for m in now if m.provider_id in changed_ids and m.provider_id not in earlier]


def relied_on(booked: Sequence[int]) -> set[int]:
    """The providers a customer relies on in a category, from their bookings there (provider
    ids, oldest first): booked at least twice, or booked last."""
    relied = {pid for pid in set(booked) if booked.count(pid) >= 2}
    if booked:
        relied.add(booked[-1])
    return relied


def no_longer_meets(before: ProviderView | None, now: ProviderView | None,
                    criteria: CriteriaView) -> str | None:
    """Why a provider that met `criteria` before no longer does (the contract rule's words and
    numbers), or None if that is not what happened."""
    if before is None or now is None or not is_eligible(before, criteria):
        return None
    exclusion = explain_exclusion(now, criteria)
    if not exclusion.excluded:
        return None
    return f"{exclusion.reason} ({exclusion.detail})"


def top_message(match: Match, category: int) -> str:
    """'Provider #7 now ranks #2 for you in Rides: score 4.5, price ...'."""
    return (f"Provider #{match.provider_id} now ranks #{match.rank} for you in "
            f"{label('category', category)}: {'; '.join(match.reasons)}")


def dropped_message(provider_id: int, reason: str) -> str:
    """'Provider #7 no longer meets your criteria: ...'."""
    return f"Provider #{provider_id} no longer meets your criteria: {reason}"


# ---------------------------------------------------------------------- the notifier


@dataclass
class NotifyStats:
    """What the last pass did, for measuring the cost per chunk."""

    changed: int = 0
    customers: int = 0
    stored: int = 0
    seconds: float = 0.0


class Notifier:
    """Finds and records notifications for consenting customers after each indexed chunk."""

    def __init__(
        self,
        engine: Engine,
        repository: ProfileRepository,
        profiles: ProfileService,
        *,
        reorg_window: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Read the store at `engine`; keep notifications in `repository`; rank with the
        affinity `profiles` learned. `reorg_window` blocks below the last notified one are
        looked at again after each commit (a reorg re-commits them)."""
        self._engine = engine
        self._repository = repository
        self._profiles = profiles
        self._window = max(reorg_window, 0)
        self._clock = clock
        self._notified_to: int | None = None
        self.last = NotifyStats()

    def after_commit(self, block: int, _committed_at: float) -> None:
        """The indexer's `on_commit` hook: notify about listings changed up to `block`.

        A notifier that just started looks back over the reorg window only: news is about what
        changes while it runs (a listing changed while no indexer ran is in the matches page,
        not in the notifications). A failure is logged and never fails the indexer; the next
        call covers these blocks again.
        """
        try:
            if self._notified_to is None:
                create_profile_schema(self._engine)  # the indexer may start before the web app
                after = block - self._window - 1
            else:
                after = min(self._notified_to, block) - self._window
            self.notify_blocks(after, block)
        except Exception:  # notifications are derived data: the next commit retries
            log.exception("notifying up to block %d failed; retrying after the next commit",
                          block)
            return
        self._notified_to = block

    def notify_blocks(self, after_block: int, up_to_block: int) -> int:
        """Record the notifications that blocks (`after_block`, `up_to_block`] bring; how many
        were new."""
        started = time.perf_counter()
        self.last = NotifyStats()
        consenting = set(self._repository.customers_with_consent(PERSONALISATION))
        if not consenting:  # the usual case: nothing more is read
            return 0
        stored = 0
        with self._engine.connect() as conn:
            changed = _changed_providers(conn, after_block, up_to_block)
            self.last.changed = sum(len(ids) for ids in changed.values())
            bookers = _bookings_by_customer(conn, sorted(changed), consenting)
            for category, ids in sorted(changed.items()):
                customers = bookers.get(category, {})
                if customers:
                    self.last.customers += len(customers)
                    stored += self._notify_category(conn, category, ids, customers,
                                                    after_block)
        self.last.stored = stored
        self.last.seconds = time.perf_counter() - started
        return stored

    def _notify_category(
        self,
        conn: Connection,
        category: int,
        changed: dict[int, int],
        customers: dict[str, list[int]],
        after_block: int,
    ) -> int:
        now_views = _category_views(conn, category)
        before_views = {pid: provider_at_block(conn, pid, after_block) for pid in changed}
        now_index = ProviderIndex.from_views(now_views.values())
        before_index = ProviderIndex.from_views(now_views.values())
        for pid in changed:
            earlier = before_views[pid]
            if earlier is not None:
                before_index.upsert(earlier)
            elif pid in before_index:
                before_index.set_active(pid, False)  # registered in this chunk
        stored = 0
        # `customers` all consented when this pass began (one read of the consents table).
        for customer, booked in sorted(customers.items()):
            criteria = _criteria(conn, customer, category)
            if criteria is None:
                continue
            affinity: Affinity | None = self._profiles.affinity(customer, criteria)
            now = rank(now_index, criteria, affinity=affinity, k=TOP).matches
            before = rank(before_index, criteria, affinity=affinity, k=TOP).matches
            news = [(TOP_KIND, m.provider_id, top_message(m, category))
                    for m in entered_top(changed, [m.provider_id for m in before], now)]
            for pid in sorted(relied_on(booked) & changed.keys()):
                reason = no_longer_meets(before_views[pid], now_views.get(pid), criteria)
                if reason is not None:
                    news.append((DROPPED_KIND, pid, dropped_message(pid, reason)))
            for kind, pid, message in news:
                if self._repository.add_notification(Notification(
                        customer, kind, pid, category, message, changed[pid], self._clock())):
                    stored += 1
        return stored


def _changed_providers(
    conn: Connection, after_block: int, up_to_block: int
) -> dict[int, dict[int, int]]:
    """Providers whose listing or score changed in the blocks, by category: each with the
    block of its last change there (a notification's block, so that a re-scanned reorg window
    finds the same notification, already stored)."""
    table = schema.provider_history
    rows = conn.execute(
        select(table.c.category, table.c.provider_id, func.max(table.c.block_number))
        .where(table.c.block_number > after_block, table.c.block_number <= up_to_block)
        .group_by(table.c.category, table.c.provider_id)
    ).all()
    out: dict[int, dict[int, int]] = {}
    for category, pid, block in rows:
        out.setdefault(int(category), {})[int(pid)] = int(block)
    return out


def _bookings_by_customer(
    conn: Connection, categories: list[int], consenting: set[str]
) -> dict[int, dict[str, list[int]]]:
    """Per category, the consenting customers who booked there and whom they booked, oldest
    first."""
    if not categories:
        return {}
    bookings, providers = schema.bookings, schema.providers
    out: dict[int, dict[str, list[int]]] = {}
    wanted = sorted(consenting)
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(providers.c.category, bookings.c.customer, bookings.c.provider_id)
            .join(providers, providers.c.provider_id == bookings.c.provider_id)
            .where(providers.c.category.in_(categories),
                   bookings.c.customer.in_(wanted[start:start + 500]))
            .order_by(bookings.c.requested_block, bookings.c.booking_id)
        ).all()
        for category, customer, pid in rows:
            out.setdefault(int(category), {}).setdefault(str(customer), []).append(int(pid))
    return out


def _category_views(conn: Connection, category: int) -> dict[int, ProviderView]:
    """Every listing of the category as it is now, with its attestations."""
    p, a = schema.providers, schema.attestations
    rows = conn.execute(
        select(p.c.provider_id, p.c.owner, p.c.category, p.c.region, p.c.attributes,
               p.c.currency, p.c.price, p.c.active, p.c.rating_weight, p.c.weighted_stars,
               p.c.completed, p.c.failures).where(p.c.category == category)
    ).all()
    attested: dict[int, dict[int, int]] = {}
    for pid, attestor, bits in conn.execute(
            select(a.c.provider_id, a.c.attestor_id, a.c.attributes)
            .join(p, p.c.provider_id == a.c.provider_id).where(p.c.category == category)):
        attested.setdefault(int(pid), {})[int(attestor)] = int(bits)
    return {int(r[0]): ProviderView(
        provider_id=int(r[0]), owner=str(r[1]), category=int(r[2]), region=int(r[3]),
        attributes=int(r[4]), currency=int(r[5]), price=int(r[6]), active=bool(r[7]),
        rating_weight=int(r[8]), weighted_stars=int(r[9]), completed=int(r[10]),
        failures=int(r[11]), attestations=attested.get(int(r[0]), {})) for r in rows}


def _criteria(conn: Connection, customer: str, category: int) -> CriteriaView | None:
    row = store_queries.current_criteria(conn, customer, category)
    if row is None or int(row["version"]) == 0:
        return None
    return view_of_criteria(row, category, row.get("blocked", ()))
