"""Criteria changes the living profile proposes, each with its reason and its transaction.

A proposal never changes anything by itself: it carries the complete new on-chain criteria
(`setCriteria(criteria.as_tuple())`) or the provider to block (`setBlocked(providerId, true)`),
which the customer signs, or dismisses so that it is not proposed again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from marketplace.domain import STAR, UINT96_MAX
from marketplace.matching.criteria import CriteriaInput
from marketplace.matching.eligibility import CriteriaView
from marketplace.matching.explain import attribute_name, count_words, format_stars
from marketplace.matching.ranking import ranking_weights
from marketplace.profile.learning import GOOD_STARS, POOR_STARS, LivingProfile

REFUSE_AT = 0.95  # P(deal-breaker) before refusing the attribute is proposed
MIN_REFUSAL_SUPPORT = 2  # ... and bookings with it that went wrong, in the criteria's category
MIN_BLOCK_POOR = 2  # poor ratings of one provider before blocking it is proposed
MIN_WEIGHTS_EVIDENCE = 5
MIN_WEIGHTS_CHANGE = 0.15
SCORE_STEP = 1_000  # proposed minimum scores are whole tenths of a star


class ProposalKind(StrEnum):
    """What a proposal changes."""

    REFUSE_ATTRIBUTE = "refuse_attribute"
    RAISE_MIN_SCORE = "raise_min_score"
    BLOCK_PROVIDER = "block_provider"
    ADJUST_WEIGHTS = "adjust_weights"


@dataclass(frozen=True)
class Proposal:
    """A criteria change the customer may accept (and sign) or dismiss."""

    key: str  # stable: dismissing it hides this proposal for good
    kind: ProposalKind
    title: str
    reason: str
    criteria: CriteriaInput | None = None  # the whole new criteria, for setCriteria
    provider_id: int | None = None  # for setBlocked(provider_id, true)

    def to_json(self) -> dict[str, Any]:
        """The proposal as JSON (amounts as decimal strings, as JavaScript cannot hold them)."""
        return {
            "key": self.key,
            "kind": self.kind.value,
            "title": self.title,
            "reason": self.reason,
            "criteria": None if self.criteria is None else [
                str(v) if v > 2**53 else v for v in self.criteria.as_tuple()
            ],
            "provider_id": self.provider_id,
        }


def propose(
    profile: LivingProfile, criteria: CriteriaView, dismissed: Collection[str] = ()
) -> list[Proposal]:
    """Changes to `criteria` that the profile's evidence supports, minus dismissed ones."""
    if criteria.version == 0:
        return []
    current = CriteriaInput.from_view(criteria)
    proposals = [
        *_refusals(profile, criteria, current),
        *_minimum_score(profile, criteria, current),
        *_blocks(profile, criteria),
        *_weights(profile, criteria, current),
    ]
    return [p for p in proposals if p.key not in dismissed]


def _refusals(profile: LivingProfile, c: CriteriaView, current: CriteriaInput) -> list[Proposal]:
    """Refuse an attribute only when the profile is almost certain it is a deal-breaker."""
    proposals = []
    for bit, belief in sorted(profile.traits.items()):
        taken = (c.refused_attributes | c.required_attributes) >> bit & 1
        strong = (belief.probability >= REFUSE_AT
                  and belief.support_by_category[c.category] >= MIN_REFUSAL_SUPPORT)
        if taken or not strong:
            continue
        name = attribute_name(bit)
        proposals.append(Proposal(
            key=f"{ProposalKind.REFUSE_ATTRIBUTE}:{c.category}:{bit}",
            kind=ProposalKind.REFUSE_ATTRIBUTE,
            title=f"Refuse '{name}'",
            reason=profile.trait_reason(bit),
            criteria=current.changed(refused_attributes=c.refused_attributes | 1 << bit),
        ))
    return proposals


def _minimum_score(
    profile: LivingProfile, c: CriteriaView, current: CriteriaInput
) -> list[Proposal]:
    rated = zip(profile.ratings, profile.posterior.hit, strict=True)
    here = [(r, hit) for r, hit in rated if r.category == c.category]
    good = [r for r, _ in here if r.stars >= GOOD_STARS and r.complaints == 0]
    # Poor experiences that no deal-breaker probably explains: the provider was just not good.
    poor = [r for r, hit in here if r.stars <= POOR_STARS and hit < 0.5]
    if len(poor) < 2 or not good:
        return []
    threshold = min(r.score for r in good) // SCORE_STEP * SCORE_STEP
    if threshold <= c.min_score or any(r.score >= threshold for r in poor):
        return []
    # maxPrice applies at minScore: raise it with the minimum, so ceilings above stay the same.
    max_price = min(c.max_price + c.premium_per_star * (threshold - c.min_score) // STAR,
                    UINT96_MAX)
    stars = format_stars(threshold)
    return [Proposal(
        key=f"{ProposalKind.RAISE_MIN_SCORE}:{c.category}:{threshold}",
        kind=ProposalKind.RAISE_MIN_SCORE,
        title=f"Raise your minimum score to {stars}",
        reason=(f"your {count_words(len(poor))} poor experiences were all with providers scoring "
                f"below {stars}, and every provider you rated {GOOD_STARS}+ stars scored at "
                f"least {stars}"),
        criteria=current.changed(min_score=threshold, max_price=max_price),
    )]


def _blocks(profile: LivingProfile, c: CriteriaView) -> list[Proposal]:
    proposals = []
    for pid, evidence in sorted(profile.providers.items()):
        if evidence.category != c.category or pid in c.blocked:
            continue
        poor = sum(1 for stars in evidence.stars if stars <= POOR_STARS)
        if poor >= MIN_BLOCK_POOR:  # one poor rating, even with a complaint, may be noise
            proposals.append(Proposal(
                key=f"{ProposalKind.BLOCK_PROVIDER}:{pid}",
                kind=ProposalKind.BLOCK_PROVIDER,
                title=f"Block provider {pid}",
                reason=profile.provider_reason(pid),
                provider_id=pid,
            ))
    return proposals


def _weights(profile: LivingProfile, c: CriteriaView, current: CriteriaInput) -> list[Proposal]:
    learned = profile.learned_weights(c)
    if learned is None or profile.trade_off.evidence < MIN_WEIGHTS_EVIDENCE:
        return []
    score_weight, price_weight = ranking_weights(c, None)
    stated = score_weight / (score_weight + price_weight)
    if abs(learned[0] / (learned[0] + learned[1]) - stated) < MIN_WEIGHTS_CHANGE:
        return []
    share = round(100 * learned[0] / (learned[0] + learned[1]))
    leaning = "score" if learned[0] / (learned[0] + learned[1]) > stated else "price"
    return [Proposal(
        key=f"{ProposalKind.ADJUST_WEIGHTS}:{c.category}",
        kind=ProposalKind.ADJUST_WEIGHTS,
        title=f"Weigh score {share}% and price {100 - share}%",
        reason=(f"your ratings and choices over {count_words(profile.trade_off.evidence)} "
                f"bookings favour {leaning} more than your weights say "
                f"({round(100 * stated)}/{100 - round(100 * stated)})"),
        criteria=current.changed(score_weight=learned[0], price_weight=learned[1]),
    )]
