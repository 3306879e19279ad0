"""How the customer trades score against price, learned from ratings and choices.

The customer's satisfaction with a booking is modelled as the ranking's own base value,
`theta * score_term + (1 - theta) * price_term`, plus an intercept for how generous their stars
are: `y - p = c + theta * (s - p)`. A choice of a provider ranked below another says the chosen one
was better by CHOICE_MARGIN: `margin - dp = theta * (ds - dp)`, without intercept. A ridge
regression (a Gaussian prior) shrinks theta toward the customer's stated share and the intercept
toward 0. Each rating counts with a weight: less as it ages, and less when a deal-breaker probably
spoilt it (its stars then say nothing about score and price).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RIDGE = 0.05  # prior strength of the stated weights (sums of squared terms: ~0.05 a rating)
INTERCEPT_RIDGE = 3.0  # prior strength of "stars mean what they say" (1 a rating)
CHOICE_MARGIN = 0.25  # how much better the chosen provider is taken to be than the one passed
OVERCHARGED_SHIFT = 0.05  # each "overcharged" moves the prior this far toward price
RATING_NOISE = 0.15  # a rating's scatter around the model, on the 0..1 scale: over half a star


@dataclass
class TradeOff:
    """Weighted sufficient statistics for the score share, from ratings and pairwise choices."""

    n: int = 0  # ratings used (however much each counts)
    w: float = 0.0  # their total weight; sums below are weighted, over x = s - p, z = y - p
    x: float = 0.0
    z: float = 0.0
    xx: float = 0.0
    xz: float = 0.0
    choices: int = 0
    choice_xx: float = 0.0
    choice_xz: float = 0.0
    overcharged: int = 0

    def add_rating(self, s: float, p: float, y: float, weight: float = 1.0) -> None:
        """One complaint-free rating: score term, price term, satisfaction 0..1."""
        x, z = s - p, y - p
        self.n += 1
        self.w += weight
        self.x += weight * x
        self.z += weight * z
        self.xx += weight * x * x
        self.xz += weight * x * z

    def add_choice(self, ds: float, dp: float, weight: float = 1.0) -> None:
        """Chosen minus passed-over terms: the chosen one was preferred by CHOICE_MARGIN."""
        x, z = ds - dp, CHOICE_MARGIN - dp
        self.choices += 1
        self.choice_xx += weight * x * x
        self.choice_xz += weight * x * z

    @property
    def evidence(self) -> int:
        """Ratings and choices behind the estimate."""
        return self.n + self.choices

    def score_share(self, stated: float) -> float:
        """The estimated share of the score term in the customer's weights (0..1).

        Theta shrinks toward the stated share (moved toward price by each "overcharged"
        complaint), the intercept toward 0, so a few ratings of one provider already say something
        and many ratings of different providers free the intercept.
        """
        prior = self.prior(stated)
        a11, a12, a22 = self._normal_matrix()
        b1, b2 = self.z, self.xz + self.choice_xz + RIDGE * prior
        theta = (a11 * b2 - a12 * b1) / (a11 * a22 - a12 * a12)
        return min(max(theta, 0.0), 1.0)

    def prior(self, stated: float) -> float:
        """The prior score share: the stated one, moved toward price by "overcharged"."""
        return min(max(stated - OVERCHARGED_SHIFT * self.overcharged, 0.0), 1.0)

    def score_share_sd(self) -> float:
        """The posterior standard deviation of the score share (RATING_NOISE per rating)."""
        a11, a12, a22 = self._normal_matrix()
        return RATING_NOISE * math.sqrt(a11 / (a11 * a22 - a12 * a12))

    def _normal_matrix(self) -> tuple[float, float, float]:
        """The ridge regression's normal matrix [[a11, a12], [a12, a22]]."""
        return self.w + INTERCEPT_RIDGE, self.x, self.xx + self.choice_xx + RIDGE
