"""The living profile: what one customer's ratings, complaints and choices say about them.

Three things are learned, each with a plain-words reason:

- **traits**: a complaint blames the provider's attributes that its tag implicates
  (`traits.implicated`); a rating of 4+ stars without complaints praises every attribute of the
  provider. An attribute's weight is
  `0.1 * praise / (blame + praise + 1) - blame / (blame + 2 * praise + 1)`: one complaint gives
  -0.5, more than the gap between ordinary neighbours in the ranking, and praise of providers with
  the same attribute wears it away fast, so an innocent co-accused trait recovers;
- **providers**: the customer's own stars for a provider, and complaints about its service;
- **the score/price trade-off**: a ridge regression of the stars (of complaint-free ratings) on
  the ranking's score and price terms, plus each choice of a lower-ranked provider as a pairwise
  preference, shrunk toward the customer's stated weights.

The profile is a pure function of the records (`from_records`), updated one record at a time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from marketplace.domain import BPS
from marketplace.matching.eligibility import CriteriaView
from marketplace.matching.explain import attribute_name, count_words, tag_name
from marketplace.matching.ranking import (
    Affinity,
    ProviderAffinity,
    TraitAffinity,
    ranking_weights,
    score_term,
)
from marketplace.profile.records import ChoiceRecord, RatingRecord
from marketplace.profile.traits import OVERCHARGED_TAG, bits, implicated, tag_bits

PRAISE_WEIGHT = 0.1  # the most a liked trait can add
BLAME_WEIGHT = 1.0  # the most a disliked trait can take away
PRAISE_CLEARS = 2  # each good rating outweighs this many complaints' worth of blame
PROVIDER_WEIGHT = 0.3  # five stars adds this to the provider; one star takes it away
SERVICE_COMPLAINT_WEIGHT = 0.2  # each complaint about the service itself (late, rude, ...)
MIN_TRAIT_WEIGHT = 0.01  # smaller weights are noise: not shown, not used
GOOD_STARS = 4
POOR_STARS = 2

RIDGE = 0.05  # prior strength of the stated weights (sums of squared terms: ~0.05 a rating)
INTERCEPT_RIDGE = 3.0  # prior strength of "stars mean what they say" (1 a rating)
CHOICE_MARGIN = 0.25  # how much better the chosen provider is taken to be than the one passed
OVERCHARGED_SHIFT = 0.05  # each "overcharged" moves the prior this far toward price
MIN_TRADE_OFF_EVIDENCE = 3  # ratings plus choices before learned weights are used
MIN_WEIGHT_CHANGE = 0.05  # smaller differences from the stated weights are not worth a change


@dataclass
class TraitEvidence:
    """What the customer's feedback says about one attribute."""

    blame: int = 0  # complaints that implicated it, on providers that had it
    sole_blame: int = 0  # ... where it was the only implicated attribute present
    praise: int = 0  # ratings of 4+ stars without complaints, on providers that had it
    tags: Counter[int] = field(default_factory=Counter)  # which complaints implicated it
    blame_by_category: Counter[int] = field(default_factory=Counter)
    praised_providers: set[int] = field(default_factory=set)

    @property
    def weight(self) -> float:
        """The ranking adjustment for providers with this attribute."""
        evidence = self.blame + self.praise + 1
        blame = BLAME_WEIGHT * self.blame / (self.blame + PRAISE_CLEARS * self.praise + 1)
        return PRAISE_WEIGHT * self.praise / evidence - blame


@dataclass
class ProviderEvidence:
    """The customer's own experience with one provider."""

    category: int
    stars: list[int] = field(default_factory=list)
    service_complaints: Counter[int] = field(default_factory=Counter)

    @property
    def weight(self) -> float:
        """The ranking adjustment for this provider."""
        mean = sum(self.stars) / len(self.stars)
        penalty = SERVICE_COMPLAINT_WEIGHT * min(sum(self.service_complaints.values()), 3)
        return PROVIDER_WEIGHT * (mean - 3) / 2 - penalty


@dataclass
class TradeOff:
    """Sufficient statistics for the score share, from ratings and pairwise choices.

    The customer's satisfaction with a booking is modelled as the ranking's own base value,
    `theta * score_term + (1 - theta) * price_term`, plus an intercept for how generous their
    stars are: `y - p = c + theta * (s - p)`. A choice of a provider ranked below another says the
    chosen one was better by CHOICE_MARGIN: `margin - dp = theta * (ds - dp)`, without intercept.
    """

    n: int = 0
    x: float = 0.0  # sums over ratings of x = s - p, z = y - p
    z: float = 0.0
    xx: float = 0.0
    xz: float = 0.0
    choices: int = 0
    choice_xx: float = 0.0
    choice_xz: float = 0.0
    overcharged: int = 0

    def add_rating(self, s: float, p: float, y: float) -> None:
        """One complaint-free rating: score term, price term, satisfaction 0..1."""
        x, z = s - p, y - p
        self.n += 1
        self.x += x
        self.z += z
        self.xx += x * x
        self.xz += x * z

    def add_choice(self, ds: float, dp: float) -> None:
        """Chosen minus passed-over terms: the chosen one was preferred by CHOICE_MARGIN."""
        x, z = ds - dp, CHOICE_MARGIN - dp
        self.choices += 1
        self.choice_xx += x * x
        self.choice_xz += x * z

    @property
    def evidence(self) -> int:
        """Ratings and choices behind the estimate."""
        return self.n + self.choices

    def score_share(self, stated: float) -> float:
        """The estimated share of the score term in the customer's weights (0..1).

        Ridge regression: theta shrinks toward the stated share (moved toward price by each
        "overcharged" complaint), the intercept toward 0, so a few ratings of one provider already
        say something and many ratings of different providers free the intercept.
        """
        prior = min(max(stated - OVERCHARGED_SHIFT * self.overcharged, 0.0), 1.0)
        a11, a12 = self.n + INTERCEPT_RIDGE, self.x
        a22 = self.xx + self.choice_xx + RIDGE
        b1, b2 = self.z, self.xz + self.choice_xz + RIDGE * prior
        theta = (a11 * b2 - a12 * b1) / (a11 * a22 - a12 * a12)
        return min(max(theta, 0.0), 1.0)


class LivingProfile:
    """One customer's learned preferences; build it with `from_records`."""

    def __init__(self, customer: str) -> None:
        """An empty profile: it changes no ranking."""
        self.customer = customer
        self.traits: dict[int, TraitEvidence] = {}
        self.providers: dict[int, ProviderEvidence] = {}
        self.trade_off = TradeOff()
        self.ratings: list[RatingRecord] = []

    @classmethod
    def from_records(
        cls, customer: str, ratings: list[RatingRecord], choices: list[ChoiceRecord]
    ) -> LivingProfile:
        """The profile learned from every record, in order."""
        profile = cls(customer)
        for rating in ratings:
            profile.learn_rating(rating)
        for choice in choices:
            profile.learn_choice(choice)
        return profile

    def learn_rating(self, r: RatingRecord) -> None:
        """Learn from one rating and its complaint tags."""
        self.ratings.append(r)
        provider = self.providers.setdefault(r.provider_id, ProviderEvidence(r.category))
        provider.stars.append(r.stars)
        for tag in tag_bits(r.complaints):
            if tag == OVERCHARGED_TAG:
                self.trade_off.overcharged += 1
            blamed = bits(implicated(tag, r.attributes))
            if not blamed:
                if tag != OVERCHARGED_TAG:
                    provider.service_complaints[tag] += 1
                continue
            for bit in blamed:
                trait = self.traits.setdefault(bit, TraitEvidence())
                trait.blame += 1
                trait.sole_blame += len(blamed) == 1
                trait.tags[tag] += 1
                trait.blame_by_category[r.category] += 1
        if r.complaints == 0:
            if r.stars >= GOOD_STARS:
                for bit in bits(r.attributes):
                    trait = self.traits.setdefault(bit, TraitEvidence())
                    trait.praise += 1
                    trait.praised_providers.add(r.provider_id)
            s = score_term(r.score, r.min_score)
            p = max(1.0 - r.price / r.ceiling, 0.0) if r.ceiling > 0 else 1.0
            self.trade_off.add_rating(s, p, (r.stars - 1) / 4)

    def learn_choice(self, c: ChoiceRecord) -> None:
        """Learn from booking a provider ranked below another."""
        self.trade_off.add_choice(c.chosen_score_term - c.passed_score_term,
                                  c.chosen_price_term - c.passed_price_term)

    def learned_weights(self, criteria: CriteriaView) -> tuple[int, int] | None:
        """(score, price) weights in basis points, when the evidence moves them enough."""
        score_weight, price_weight = ranking_weights(criteria, None)
        stated = score_weight / (score_weight + price_weight)
        if self.trade_off.evidence < MIN_TRADE_OFF_EVIDENCE and not self.trade_off.overcharged:
            return None
        share = self.trade_off.score_share(stated)
        if abs(share - stated) < MIN_WEIGHT_CHANGE:
            return None
        learned = round(share * BPS)
        return learned, BPS - learned

    def affinity(self, criteria: CriteriaView) -> Affinity:
        """What this profile adds to a ranking under `criteria`."""
        traits = tuple(
            TraitAffinity(bit, evidence.weight, self.trait_reason(bit))
            for bit, evidence in sorted(self.traits.items())
            if abs(evidence.weight) >= MIN_TRAIT_WEIGHT
        )
        providers = tuple(
            ProviderAffinity(pid, evidence.weight, self.provider_reason(pid))
            for pid, evidence in sorted(self.providers.items())
            if evidence.category == criteria.category and evidence.weight != 0
        )
        learned = self.learned_weights(criteria)
        if learned is None:
            return Affinity(traits, providers)
        score_weight, price_weight = ranking_weights(criteria, None)
        share = round(100 * score_weight / (score_weight + price_weight))
        reason = (f"learned from your ratings and choices (your criteria say {share}/"
                  f"{100 - share})")
        return Affinity(traits, providers, learned[0], learned[1], reason)

    def trait_reason(self, bit: int) -> str:
        """Why providers with attribute `bit` move in the ranking."""
        evidence = self.traits[bit]
        trait = f"'{attribute_name(bit)}'"
        if evidence.weight >= 0:
            liked = len(evidence.praised_providers)
            noun = "provider" if liked == 1 else "providers"
            return f"you rated {count_words(liked)} similar {noun} highly ({trait})"
        tags = " and ".join(f"'{tag_name(tag)}'" for tag, _ in evidence.tags.most_common())
        times = "" if evidence.blame == 1 else f" {_times(evidence.blame)}"
        reason = f"you complained about {tags}{times} on providers with {trait}"
        if evidence.praise:
            reason += f", though you also rated {count_words(evidence.praise)} of them highly"
        return reason

    def provider_reason(self, provider_id: int) -> str:
        """Why this provider moves in the ranking."""
        evidence = self.providers[provider_id]
        stars = evidence.stars
        if len(stars) == 1:
            said = f"you rated this provider {stars[0]} star{'s' if stars[0] != 1 else ''}"
        else:
            mean = sum(stars) / len(stars)
            said = (f"you rated this provider {mean:.1f} stars on average over "
                    f"{count_words(len(stars))} bookings")
        if evidence.service_complaints:
            tags = " and ".join(f"'{tag_name(t)}'" for t, _ in
                                evidence.service_complaints.most_common())
            said += f" and complained about {tags}"
        return said

    def to_json(self) -> dict[str, Any]:
        """What the profile has learned, for the customer to read (JSON-serialisable)."""
        return {
            "traits": [
                {"attribute": attribute_name(bit), "bit": bit, "weight": round(e.weight, 4),
                 "complaints": e.blame, "praised": e.praise, "reason": self.trait_reason(bit)}
                for bit, e in sorted(self.traits.items()) if abs(e.weight) >= MIN_TRAIT_WEIGHT
            ],
            "providers": [
                {"provider_id": pid, "category": e.category, "stars": e.stars,
                 "weight": round(e.weight, 4), "reason": self.provider_reason(pid)}
                for pid, e in sorted(self.providers.items())
            ],
            "trade_off": {
                "ratings_used": self.trade_off.n,
                "choices_used": self.trade_off.choices,
                "overcharged_complaints": self.trade_off.overcharged,
                "score_share_from_an_equal_prior": round(self.trade_off.score_share(0.5), 4),
            },
        }


def _times(n: int) -> str:
    return {2: "twice", 3: "three times"}.get(n, f"{n} times")
