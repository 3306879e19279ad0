"""The living profile: what one customer's ratings, complaints and choices say about them.

Three things are learned, each weighed by how much its evidence says, each with a plain-words
reason that states the evidence and how sure the profile is:

- **deal-breakers** (traits): the Bayesian model of `dislikes` gives, for every attribute the
  customer has met, the probability that it spoils their bookings, from stars and complaint tags
  together. Below UNSURE_BELOW the profile is unsure and the attribute changes nothing: the ranking
  is the baseline's. Above it, providers with the attribute lose DISLIKE_COST times the excess
  certainty: the expected loss of a spoilt booking, counted only once the evidence is there;
- **providers**: the customer's own stars for a provider, relative to how they rate in general,
  shrunk toward "no opinion" by PROVIDER_PRIOR ratings' worth;
- **the score/price trade-off**: `trade_off.TradeOff`, a ridge regression of stars on the
  ranking's terms plus each choice of a lower-ranked provider.

Evidence fades: every rating and choice counts `0.5 ** (age / HALF_LIFE_DAYS)`, so a complaint two
years old weighs a quarter of last week's. The profile is a pure function of the stored records
and the time (`from_records`): nothing learned is stored, so the stored format never changes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
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
from marketplace.profile.dislikes import Observation, Posterior, forgetting_weight, infer
from marketplace.profile.records import ChoiceRecord, RatingRecord
from marketplace.profile.trade_off import TradeOff
from marketplace.profile.traits import OVERCHARGED_TAG, bits, implicated, tag_bits

HALF_LIFE_DAYS = 365.0  # evidence a year old counts half
UNSURE_BELOW = 0.2  # P(deal-breaker) below this (four times the prior) changes no ranking
DISLIKE_COST = 0.5  # what a spoilt booking costs on the ranking's 0..1 scale: ordinary -> poor
PROVIDER_PRIOR = 2.0  # ratings' worth of "this provider is like any other" in its estimate
GENEROSITY_PRIOR = 3.0  # ratings' worth of "three stars is the middle" in the customer's mean
GOOD_STARS = 4
POOR_STARS = 2
MIN_TRADE_OFF_EVIDENCE = 3  # ratings plus choices before learned weights are used
MIN_WEIGHT_CHANGE = 0.05  # smaller differences from the stated weights are not worth a change
WEIGHTS_SURE_SD = 2.0  # ... nor ones within this many posterior standard deviations


@dataclass
class TraitBelief:
    """What the customer's feedback says about one attribute they have met."""

    attribute: int
    probability: float = 0.0  # posterior probability that it is a deal-breaker
    bookings: int = 0  # rated bookings with it
    complaints: int = 0  # ... where a complaint named it (a tag that implicates it)
    poor: int = 0  # ... rated POOR_STARS or less
    fresh: float = 0.0  # complaints and poor ratings, weighted by age
    tags: Counter[int] = field(default_factory=Counter)  # which complaints named it
    support_by_category: Counter[int] = field(default_factory=Counter)  # complained or poor

    @property
    def weight(self) -> float:
        """The ranking adjustment for providers with this attribute: 0 while unsure."""
        if self.probability <= UNSURE_BELOW:
            return 0.0
        return -DISLIKE_COST * (self.probability - UNSURE_BELOW) / (1.0 - UNSURE_BELOW)

    @property
    def support(self) -> int:
        """Bookings with it that went wrong: a complaint named it, or poor stars."""
        return sum(self.support_by_category.values())


@dataclass
class ProviderEvidence:
    """The customer's own experience with one provider."""

    category: int
    stars: list[int] = field(default_factory=list)
    service_complaints: Counter[int] = field(default_factory=Counter)
    weight: float = 0.0  # the ranking adjustment, set when the profile is fitted


class LivingProfile:
    """One customer's learned preferences; build it with `from_records`."""

    def __init__(self, customer: str, now: datetime | None = None) -> None:
        """An empty profile: it changes no ranking. Evidence ages relative to `now`."""
        self.customer = customer
        self.now = now
        self.ratings: list[RatingRecord] = []
        self.choices: list[ChoiceRecord] = []
        self._fitted: _Fit | None = None

    @classmethod
    def from_records(
        cls, customer: str, ratings: list[RatingRecord], choices: list[ChoiceRecord],
        now: datetime | None = None,
    ) -> LivingProfile:
        """The profile learned from every record; evidence ages relative to `now`.

        Without `now`, ages are measured from the newest record.
        """
        profile = cls(customer, now)
        for rating in ratings:
            profile.learn_rating(rating)
        for choice in choices:
            profile.learn_choice(choice)
        return profile

    def learn_rating(self, r: RatingRecord) -> None:
        """Learn from one rating and its complaint tags."""
        self.ratings.append(r)
        self._fitted = None

    def learn_choice(self, c: ChoiceRecord) -> None:
        """Learn from booking a provider ranked below another."""
        self.choices.append(c)
        self._fitted = None

    # ------------------------------------------------------------------ what was learned

    @property
    def traits(self) -> dict[int, TraitBelief]:
        """Every attribute met, with what the evidence says about it."""
        return self._fit().traits

    @property
    def providers(self) -> dict[int, ProviderEvidence]:
        """Every provider rated, with the customer's experience of it."""
        return self._fit().providers

    @property
    def trade_off(self) -> TradeOff:
        """The score/price trade-off statistics."""
        return self._fit().trade_off

    @property
    def posterior(self) -> Posterior:
        """The deal-breaker model's posterior (per-rating hit probabilities, q, eps)."""
        return self._fit().posterior

    def learned_weights(self, criteria: CriteriaView) -> tuple[int, int] | None:
        """(score, price) weights in basis points, when the evidence moves them enough."""
        score_weight, price_weight = ranking_weights(criteria, None)
        stated = score_weight / (score_weight + price_weight)
        trade_off = self.trade_off
        if trade_off.evidence < MIN_TRADE_OFF_EVIDENCE and not trade_off.overcharged:
            return None
        share = trade_off.score_share(stated)
        # What the ratings say beyond the prior, within two standard deviations (~95%), may be
        # noise: keep the prior (the stated share, moved only by "overcharged" complaints).
        if abs(share - trade_off.prior(stated)) < WEIGHTS_SURE_SD * trade_off.score_share_sd():
            share = trade_off.prior(stated)
        if abs(share - stated) < MIN_WEIGHT_CHANGE:
            return None
        learned = round(share * BPS)
        return learned, BPS - learned

    def affinity(self, criteria: CriteriaView) -> Affinity:
        """What this profile adds to a ranking under `criteria`."""
        traits = tuple(
            TraitAffinity(bit, belief.weight, self.trait_reason(bit))
            for bit, belief in sorted(self.traits.items()) if belief.weight != 0
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

    # ------------------------------------------------------------------ reasons

    def trait_reason(self, bit: int) -> str:
        """Why providers with attribute `bit` move in the ranking: the evidence, and how sure."""
        b = self.traits[bit]
        trait = f"'{attribute_name(bit)}'"
        unnamed_poor = b.support - b.complaints
        if b.complaints:
            tags = " and ".join(f"'{tag_name(tag)}'" for tag, _ in b.tags.most_common())
            times = "" if b.complaints == 1 else f" {_times(b.complaints)}"
            said = (f"you complained about {tags}{times} on providers with {trait}, in "
                    f"{_among(b.complaints, b.bookings)}")
            if unnamed_poor:
                said += f", and rated {count_words(unnamed_poor)} more {POOR_STARS} stars or less"
        elif unnamed_poor:
            said = (f"you rated {_among(unnamed_poor, b.bookings, f'a provider with {trait}')} "
                    f"{POOR_STARS} stars or less, without saying why")
        else:
            said = f"your bookings with {trait} went well"
        if b.support and b.fresh < 0.75 * b.support:
            said += " (older ones count less)"
        return f"{said}: {_certainty(b.probability)}"

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
        posterior = self.posterior
        return {
            "traits": [
                {"attribute": attribute_name(bit), "bit": bit, "weight": round(b.weight, 4),
                 "probability": round(b.probability, 4), "bookings": b.bookings,
                 "complaints": b.complaints, "poor_ratings": b.poor,
                 "reason": self.trait_reason(bit)}
                for bit, b in sorted(self.traits.items()) if b.weight != 0
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
            "how_you_rate": {
                "names_what_went_wrong": round(posterior.naming, 4),
                "stray_complaint_rate_per_tag": round(posterior.stray, 4),
                "half_life_days": HALF_LIFE_DAYS,
            },
        }

    # ------------------------------------------------------------------ fitting

    def _fit(self) -> _Fit:
        if self._fitted is None:
            self._fitted = _fit(self.ratings, self.choices, self.now)
        return self._fitted


@dataclass
class _Fit:
    traits: dict[int, TraitBelief]
    providers: dict[int, ProviderEvidence]
    trade_off: TradeOff
    posterior: Posterior


def _fit(ratings: list[RatingRecord], choices: list[ChoiceRecord], now: datetime | None) -> _Fit:
    times = [r.rated_at for r in ratings] + [c.chosen_at for c in choices]
    reference = now if now is not None else max(times, default=None)

    def fading(at: datetime) -> float:
        if reference is None:
            return 1.0
        return forgetting_weight((reference - at).total_seconds() / 86_400, HALF_LIFE_DAYS)

    weights = [fading(r.rated_at) for r in ratings]
    posterior = infer([Observation(r.attributes, r.complaints, r.stars, w)
                       for r, w in zip(ratings, weights, strict=True)])
    traits = {bit: TraitBelief(bit, p) for bit, p in posterior.dislike.items()}
    providers: dict[int, ProviderEvidence] = {}
    trade_off = TradeOff()
    for r, w, hit in zip(ratings, weights, posterior.hit, strict=True):
        provider = providers.setdefault(r.provider_id, ProviderEvidence(r.category))
        provider.stars.append(r.stars)
        named: set[int] = set()
        for tag in tag_bits(r.complaints):
            if tag == OVERCHARGED_TAG:
                trade_off.overcharged += 1
            blamed = bits(implicated(tag, r.attributes))
            if not blamed and tag != OVERCHARGED_TAG:
                provider.service_complaints[tag] += 1
            for bit in blamed:
                traits[bit].tags[tag] += 1
                named.add(bit)
        for bit in bits(r.attributes):
            belief = traits[bit]
            belief.bookings += 1
            belief.complaints += bit in named
            belief.poor += r.stars <= POOR_STARS
            if bit in named or r.stars <= POOR_STARS:
                belief.support_by_category[r.category] += 1
                belief.fresh += w
        if r.complaints == 0:
            s = score_term(r.score, r.min_score)
            p = max(1.0 - r.price / r.ceiling, 0.0) if r.ceiling > 0 else 1.0
            trade_off.add_rating(s, p, _satisfaction(r.stars), w * (1.0 - hit))
    for c in choices:
        trade_off.add_choice(c.chosen_score_term - c.passed_score_term,
                             c.chosen_price_term - c.passed_price_term, fading(c.chosen_at))
    _fit_providers(ratings, weights, providers)
    return _Fit(traits, providers, trade_off, posterior)


def _fit_providers(
    ratings: list[RatingRecord], weights: list[float], providers: dict[int, ProviderEvidence]
) -> None:
    """Each provider's weight: its ratings' mean above the customer's own, shrunk toward 0."""
    total = sum(w * _satisfaction(r.stars) for r, w in zip(ratings, weights, strict=True))
    mean = (total + GENEROSITY_PRIOR * 0.5) / (sum(weights) + GENEROSITY_PRIOR)
    above: dict[int, float] = defaultdict(float)
    counted: dict[int, float] = defaultdict(float)
    for r, w in zip(ratings, weights, strict=True):
        above[r.provider_id] += w * (_satisfaction(r.stars) - mean)
        counted[r.provider_id] += w
    for pid, evidence in providers.items():
        evidence.weight = above[pid] / (counted[pid] + PROVIDER_PRIOR)


def _satisfaction(stars: int) -> float:
    """Stars on the ranking's 0..1 scale."""
    return (stars - 1) / 4


def _certainty(probability: float) -> str:
    """How sure the profile is that an attribute is a deal-breaker, in words and percent."""
    sure = f"{min(round(100 * probability), 99)}% sure"
    if probability >= 0.95:
        return f"almost certainly a dislike ({sure})"
    if probability >= 0.8:
        return f"probably a dislike ({sure})"
    if probability >= 0.5:
        return f"more likely than not a dislike ({sure})"
    return f"perhaps a dislike ({sure})"


def _among(k: int, n: int, what: str = "one") -> str:
    """'two of your five bookings with one', 'all three of ...', 'your only booking with one'."""
    if n == 1:
        return f"your only booking with {what}"
    plural = what if what == "one" else what.replace("a provider", "providers")
    if k == n:
        every = "both" if n == 2 else f"all {count_words(n)}"
        return f"{every} of your bookings with {plural}"
    return f"{count_words(k)} of your {count_words(n)} bookings with {plural}"


def _times(n: int) -> str:
    return {2: "twice", 3: "three times"}.get(n, f"{n} times")
