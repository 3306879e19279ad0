"""Where living profiles are kept: the repository interface and its in-memory implementation.

`marketplace.profile.sql` implements the same interface on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Protocol

from marketplace.profile.records import (
    ChoiceRecord,
    ConsentRecord,
    Dismissal,
    FeedbackText,
    Notification,
    RatingRecord,
)


class ProfileRepository(Protocol):
    """Storage of consent and feedback records, keyed by normalised customer address."""

    def add_consent(self, record: ConsentRecord) -> None:
        """Record an opt-in."""

    def revoke_consent(self, customer: str, purpose: str, at: datetime) -> bool:
        """Mark the customer's active consents for `purpose` revoked; whether any was active."""

    def consents(self, customer: str) -> list[ConsentRecord]:
        """Every opt-in of the customer, oldest first."""

    def customers_with_consent(self, purpose: str) -> list[str]:
        """Every customer whose consent to `purpose` is active, sorted."""

    def add_rating(self, record: RatingRecord) -> bool:
        """Store a rating; False (and nothing stored) if that booking's rating is already in."""

    def ratings(self, customer: str) -> list[RatingRecord]:
        """The customer's ratings in the order they were stored."""

    def add_choice(self, record: ChoiceRecord) -> None:
        """Store a choice."""

    def choices(self, customer: str) -> list[ChoiceRecord]:
        """The customer's choices in the order they were stored."""

    def add_dismissal(self, record: Dismissal) -> None:
        """Remember a dismissed proposal (idempotent)."""

    def dismissals(self, customer: str) -> list[Dismissal]:
        """The customer's dismissed proposals."""

    def put_feedback_text(self, record: FeedbackText) -> None:
        """Store the customer's words about a booking, replacing any earlier text for it."""

    def feedback_texts(self, customer: str) -> list[FeedbackText]:
        """The customer's feedback texts in the order they were stored."""

    def add_notification(self, record: Notification) -> bool:
        """Store a notification; False (nothing stored) if the same one is already in."""

    def notifications(self, customer: str, *, offset: int = 0,
                      limit: int | None = None) -> list[Notification]:
        """The customer's notifications, newest first."""

    def count_notifications(self, customer: str, *, unread: bool = False) -> int:
        """How many notifications the customer has (only unread ones if `unread`)."""

    def mark_read(self, customer: str, ids: list[int] | None = None) -> int:
        """Mark the customer's notifications `ids` (every one if None) read; how many changed."""

    def forget_learning(self, customer: str) -> None:
        """Delete every rating, choice, dismissal, feedback text and notification of the
        customer; keep consent records."""

    def erase(self, customer: str) -> None:
        """Delete everything about the customer, consent records included."""


class InMemoryProfileRepository:
    """A `ProfileRepository` in dictionaries: for tests, simulations and single-process demos."""

    def __init__(self) -> None:
        """An empty repository."""
        self._consents: dict[str, list[ConsentRecord]] = {}
        self._ratings: dict[str, dict[int, RatingRecord]] = {}
        self._choices: dict[str, list[ChoiceRecord]] = {}
        self._dismissals: dict[str, dict[str, Dismissal]] = {}
        self._texts: dict[str, dict[int, FeedbackText]] = {}
        self._notifications: dict[str, list[Notification]] = {}
        self._next_id = 1

    def add_consent(self, record: ConsentRecord) -> None:
        """Record an opt-in."""
        self._consents.setdefault(record.customer, []).append(record)

    def revoke_consent(self, customer: str, purpose: str, at: datetime) -> bool:
        """Mark the customer's active consents for `purpose` revoked; whether any was active."""
        records = self._consents.get(customer, [])
        revoked = False
        for i, record in enumerate(records):
            if record.purpose == purpose and record.active:
                records[i] = replace(record, revoked_at=at)
                revoked = True
        return revoked

    def consents(self, customer: str) -> list[ConsentRecord]:
        """Every opt-in of the customer, oldest first."""
        return list(self._consents.get(customer, []))

    def customers_with_consent(self, purpose: str) -> list[str]:
        """Every customer whose consent to `purpose` is active, sorted."""
        return sorted(customer for customer, records in self._consents.items()
                      if any(r.purpose == purpose and r.active for r in records))

    def add_rating(self, record: RatingRecord) -> bool:
        """Store a rating; False (and nothing stored) if that booking's rating is already in."""
        ratings = self._ratings.setdefault(record.customer, {})
        if record.booking_id in ratings:
            return False
        ratings[record.booking_id] = record
        return True

    def ratings(self, customer: str) -> list[RatingRecord]:
        """The customer's ratings in the order they were stored."""
        return list(self._ratings.get(customer, {}).values())

    def add_choice(self, record: ChoiceRecord) -> None:
        """Store a choice."""
        self._choices.setdefault(record.customer, []).append(record)

    def choices(self, customer: str) -> list[ChoiceRecord]:
        """The customer's choices in the order they were stored."""
        return list(self._choices.get(customer, []))

    def add_dismissal(self, record: Dismissal) -> None:
        """Remember a dismissed proposal (idempotent)."""
        self._dismissals.setdefault(record.customer, {}).setdefault(record.key, record)

    def dismissals(self, customer: str) -> list[Dismissal]:
        """The customer's dismissed proposals."""
        return list(self._dismissals.get(customer, {}).values())

    def put_feedback_text(self, record: FeedbackText) -> None:
        """Store the customer's words about a booking, replacing any earlier text for it."""
        texts = self._texts.setdefault(record.customer, {})
        texts.pop(record.booking_id, None)  # the replacement goes last, as in SQL
        texts[record.booking_id] = record

    def feedback_texts(self, customer: str) -> list[FeedbackText]:
        """The customer's feedback texts in the order they were stored."""
        return list(self._texts.get(customer, {}).values())

    def add_notification(self, record: Notification) -> bool:
        """Store a notification; False (nothing stored) if the same one is already in."""
        stored = self._notifications.setdefault(record.customer, [])
        key = (record.kind, record.provider_id, record.category, record.block)
        if any((n.kind, n.provider_id, n.category, n.block) == key for n in stored):
            return False
        stored.append(replace(record, id=self._next_id))
        self._next_id += 1
        return True

    def notifications(self, customer: str, *, offset: int = 0,
                      limit: int | None = None) -> list[Notification]:
        """The customer's notifications, newest first."""
        newest = list(reversed(self._notifications.get(customer, [])))[offset:]
        return newest if limit is None else newest[:limit]

    def count_notifications(self, customer: str, *, unread: bool = False) -> int:
        """How many notifications the customer has (only unread ones if `unread`)."""
        return sum(1 for n in self._notifications.get(customer, []) if not (unread and n.read))

    def mark_read(self, customer: str, ids: list[int] | None = None) -> int:
        """Mark the customer's notifications `ids` (every one if None) read; how many changed."""
        stored = self._notifications.get(customer, [])
        changed = 0
        for i, n in enumerate(stored):
            if not n.read and (ids is None or n.id in ids):
                stored[i] = replace(n, read=True)
                changed += 1
        return changed

    def forget_learning(self, customer: str) -> None:
        """Delete every rating, choice, dismissal, feedback text and notification of the
        customer; keep consent records."""
        for store in (self._ratings, self._choices, self._dismissals, self._texts,
                      self._notifications):
            store.pop(customer, None)

    def erase(self, customer: str) -> None:
        """Delete everything about the customer, consent records included."""
        self.forget_learning(customer)
        self._consents.pop(customer, None)

    def customers(self) -> set[str]:
        """Every customer with any record (used by tests to prove erasure)."""
        return set(self._consents) | set(self._ratings) | set(self._choices) | set(
            self._dismissals) | set(self._texts) | set(self._notifications)
