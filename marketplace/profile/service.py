"""The living profile as the web app and the indexer use it: consent first, then learning.

Without an active consent nothing is stored and nothing is learned: `record_rating` and
`record_choice` return without touching the repository, and `affinity` is None, so the ranking is
the plain one. Revoking consent deletes what was learned (there is no longer a reason to keep it)
and keeps the consent record as proof of what was agreed and when; `erase` deletes that too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from marketplace.domain import MAX_SCORE, customer_of
from marketplace.language.errors import MAX_TEXT_CHARS
from marketplace.matching.eligibility import CriteriaView, ProviderView, price_ceiling
from marketplace.matching.ranking import Affinity, Match
from marketplace.profile.learning import LivingProfile
from marketplace.profile.proposals import Proposal, propose
from marketplace.profile.records import (
    PERSONALISATION,
    ChoiceRecord,
    ConsentRecord,
    Dismissal,
    FeedbackText,
    ProfileError,
    RatingRecord,
    normalise_customer,
)
from marketplace.profile.repository import ProfileRepository


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ProfileService:
    """Consent, learning, proposals, export and erasure of living profiles."""

    def __init__(
        self, repository: ProfileRepository, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        """Keep profiles in `repository`; `clock` gives the (timezone-aware) current time."""
        self._repository = repository
        self._clock = clock

    # ------------------------------------------------------------------ consent

    def grant_consent(self, customer: str, purpose: str = PERSONALISATION) -> ConsentRecord:
        """Record the customer's opt-in to `purpose` (the active one, if already given)."""
        customer = normalise_customer(customer)
        for record in self._repository.consents(customer):
            if record.purpose == purpose and record.active:
                return record
        record = ConsentRecord(customer, purpose, self._clock())
        self._repository.add_consent(record)
        return record

    def revoke_consent(self, customer: str, purpose: str = PERSONALISATION) -> bool:
        """Withdraw consent and delete what was learned under it; whether consent was active."""
        customer = normalise_customer(customer)
        revoked = self._repository.revoke_consent(customer, purpose, self._clock())
        if purpose == PERSONALISATION:
            self._repository.forget_learning(customer)
        return revoked

    def has_consent(self, customer: str, purpose: str = PERSONALISATION) -> bool:
        """Whether the customer's consent to `purpose` is active."""
        customer = normalise_customer(customer)
        return any(r.purpose == purpose and r.active for r in self._repository.consents(customer))

    # ------------------------------------------------------------------ learning

    def record_rating(
        self,
        customer: str,
        booking_id: int,
        provider: ProviderView,
        criteria: CriteriaView,
        stars: int,
        complaints: int = 0,
    ) -> bool:
        """Learn from a rating; `provider` and `criteria` as they were at booking.

        Returns whether anything was learned: False without consent, or when this booking's
        rating was learned before (replays are harmless).
        """
        customer = normalise_customer(customer)
        if customer_of(booking_id) != customer:
            raise ProfileError(f"booking {booking_id:#x} is not {customer}'s")
        if not 1 <= stars <= 5:
            raise ProfileError(f"a rating has 1 to 5 stars, not {stars}")
        if not 0 <= complaints < 1 << 32:
            raise ProfileError("complaint tags are a 32-bit mask")
        if criteria.category != provider.category:
            raise ProfileError("the criteria are for another category than the provider's")
        if not self.has_consent(customer):
            return False
        score = provider.score
        record = RatingRecord(
            customer=customer, booking_id=booking_id, provider_id=provider.provider_id,
            category=provider.category, stars=stars, complaints=complaints,
            attributes=provider.attributes, score=score, price=provider.price,
            min_score=min(criteria.min_score, MAX_SCORE),
            ceiling=price_ceiling(criteria, score), rated_at=self._clock(),
        )
        return self._repository.add_rating(record)

    def record_feedback_text(self, customer: str, booking_id: int, text: str) -> bool:
        """Keep what the customer wrote about a booking, if they consent; whether it was kept.

        Without consent the text is not stored (the caller used it only to suggest tags). A
        later text for the same booking replaces the earlier one.
        """
        customer = normalise_customer(customer)
        if customer_of(booking_id) != customer:
            raise ProfileError(f"booking {booking_id:#x} is not {customer}'s")
        text = text.strip()
        if not text or len(text) > MAX_TEXT_CHARS:
            raise ProfileError(f"a feedback text has 1 to {MAX_TEXT_CHARS} characters")
        if not self.has_consent(customer):
            return False
        self._repository.put_feedback_text(
            FeedbackText(customer, booking_id, text, self._clock()))
        return True

    def feedback_texts(self, customer: str) -> list[FeedbackText]:
        """What the customer wrote on rating steps (empty without consent: none is kept)."""
        customer = normalise_customer(customer)
        return self._repository.feedback_texts(customer)

    def record_choice(
        self, customer: str, category: int, chosen: Match, passed_over: Sequence[Match]
    ) -> int:
        """Learn from booking `chosen` over the providers ranked above it; how many pairs."""
        customer = normalise_customer(customer)
        if not self.has_consent(customer):
            return 0
        now = self._clock()
        pairs = [p for p in passed_over if p.rank < chosen.rank]
        for passed in pairs:
            self._repository.add_choice(ChoiceRecord(
                customer, category, chosen.provider_id, passed.provider_id,
                chosen.score_term, chosen.price_term, passed.score_term, passed.price_term, now,
            ))
        return len(pairs)

    # ------------------------------------------------------------------ using the profile

    def profile(self, customer: str) -> LivingProfile | None:
        """The customer's living profile, or None without consent."""
        customer = normalise_customer(customer)
        if not self.has_consent(customer):
            return None
        return LivingProfile.from_records(customer, self._repository.ratings(customer),
                                          self._repository.choices(customer), self._clock())

    def affinity(self, customer: str, criteria: CriteriaView) -> Affinity | None:
        """What the profile adds to a ranking under `criteria` (None: rank without it)."""
        profile = self.profile(customer)
        return None if profile is None else profile.affinity(criteria)

    def proposals(self, customer: str, criteria: CriteriaView) -> list[Proposal]:
        """Criteria changes the profile supports and the customer has not dismissed."""
        profile = self.profile(customer)
        if profile is None:
            return []
        dismissed = {d.key for d in self._repository.dismissals(profile.customer)}
        return propose(profile, criteria, dismissed)

    def dismiss(self, customer: str, key: str) -> None:
        """Never propose `key` again (kept only while consent lasts)."""
        customer = normalise_customer(customer)
        if self.has_consent(customer):
            self._repository.add_dismissal(Dismissal(customer, key, self._clock()))

    # ------------------------------------------------------------------ the customer's rights

    def export(self, customer: str) -> dict[str, Any]:
        """Everything stored and learned about the customer, as JSON-serialisable data."""
        customer = normalise_customer(customer)
        profile = self.profile(customer)
        return {
            "customer": customer,
            "exported_at": self._clock().isoformat(),
            "consents": [_jsonable(asdict(r)) for r in self._repository.consents(customer)],
            "ratings": [_jsonable(asdict(r)) for r in self._repository.ratings(customer)],
            "choices": [_jsonable(asdict(r)) for r in self._repository.choices(customer)],
            "dismissed_proposals": [
                _jsonable(asdict(d)) for d in self._repository.dismissals(customer)
            ],
            "feedback_texts": [
                _jsonable(asdict(t)) for t in self._repository.feedback_texts(customer)
            ],
            "notifications": [
                _jsonable(asdict(n)) for n in self._repository.notifications(customer)
            ],
            "learned": None if profile is None else profile.to_json(),
        }

    def erase(self, customer: str) -> None:
        """Delete everything stored about the customer, consent history included."""
        self._repository.erase(normalise_customer(customer))


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    """Timestamps as ISO 8601; integers beyond 2**53 as decimal strings (JavaScript-safe)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            out[key] = str(value)
        else:
            out[key] = value
    return out
