"""Which provider attributes a customer dislikes: a Bayesian model of their ratings and tags.

The model, for one customer. Each attribute is a deal-breaker for them or not; a priori each is
with probability PRIOR_DISLIKE (a customer has about one deal-breaker among the catalogue's
twenty attributes), independently. Booking a provider with a disliked attribute ("a hit") spoils
the booking: its stars follow HIT_STARS, mostly one or two. Otherwise the stars follow the
customer's own distribution. On a hit the customer names each disliked attribute present, with
the complaint tag that implicates it (`traits.TAG_TRAITS`), with probability q; and any tag may
also be ticked for reasons that have nothing to do with attributes ("stray" complaints), each with
probability eps. q and eps are unknown: each has a small grid of values, a priori equally likely,
and is learned with the dislikes (a customer who rarely names what was wrong, or who ticks tags
freely, is recognised as such).

Inference is exact over the hypotheses "these (at most MAX_DISLIKES) attributes are disliked",
built from the attributes the customer has actually met (one never met changes no likelihood), so
co-accused attributes explain each other away: a complaint about an uncomfortable vehicle on a
compact electric car blames both, and a later good electric ride clears the electric one. Each
rating's evidence is weighted by how recent it is (`forgetting_weight`): a tempered likelihood, so
a complaint two years old counts a quarter of one made today and tastes may change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from itertools import combinations

import numpy as np
import numpy.typing as npt

from marketplace.catalogue import COMPLAINT_TAGS
from marketplace.profile.traits import bits, implicated

PRIOR_DISLIKE = 0.05  # about one deal-breaker among twenty attributes
MAX_DISLIKES = 3  # hypotheses with more deal-breakers than this are not considered ...
MAX_HYPOTHESES = 5_000  # ... nor with as many as the work allows, for customers who met many
# How a booking that hit a deal-breaker is rated: usually one or two stars, not always.
HIT_STARS = (0.45, 0.30, 0.13, 0.07, 0.05)
# The customer's ordinary stars: unknown, a priori a typical marketplace spread worth
# STARS_PRIOR_WEIGHT ratings (`_stars_log_likelihood`).
TYPICAL_STARS = (0.08, 0.12, 0.25, 0.30, 0.25)
STARS_PRIOR_WEIGHT = 5.0
NAMING = (0.05, 0.3, 0.6, 0.9)  # q: how often a hit is named with its tag (almost never ..
# almost always)
STRAY = (0.003, 0.01, 0.03)  # eps: how often a tag is ticked for no attribute, per booking

_TAGS = tuple(entry.code for entry in COMPLAINT_TAGS)
_TAG_MASKS = {tag: implicated(tag, (1 << 64) - 1) for tag in _TAGS}


@dataclass(frozen=True)
class Observation:
    """One rating as the dislike model sees it."""

    attributes: int  # the provider's 64-bit attribute mask
    complaints: int  # the 32-bit complaint tag mask
    stars: int  # 1..5
    weight: float  # how much it counts: 1 today, less as it ages (`forgetting_weight`)


@dataclass(frozen=True)
class Posterior:
    """What the ratings say: P(disliked) per attribute met, P(hit) per rating, q and eps."""

    dislike: dict[int, float]  # attribute bit -> posterior probability it is a deal-breaker
    hit: tuple[float, ...]  # per observation: probability it hit a deal-breaker
    naming: float  # posterior mean of q
    stray: float  # posterior mean of eps


def forgetting_weight(age_days: float, half_life_days: float) -> float:
    """How much evidence of this age counts: 1 now, 1/2 after one half-life, 1/4 after two."""
    return float(0.5 ** (max(age_days, 0.0) / half_life_days))


def infer(observations: list[Observation]) -> Posterior:
    """The posterior of the model (module docstring) given the customer's ratings."""
    union = 0
    for o in observations:
        union |= o.attributes
    met = bits(union)
    if not observations:
        return Posterior({}, (), _mean(NAMING), _mean(STRAY))
    hypotheses = _hypotheses(len(met))  # (H, m) 0/1: which met attributes each disliked set has
    q = np.asarray(NAMING)[None, :, None]
    eps = np.asarray(STRAY)[None, None, :]
    log_q_miss, log_eps, log_eps_miss = np.log1p(-q), np.log(eps), np.log1p(-eps)
    weight = np.asarray([o.weight for o in observations])
    complaints = np.asarray([o.complaints for o in observations], np.int64)
    stars = np.asarray([o.stars for o in observations]) - 1
    present = _matrix([o.attributes for o in observations], met)  # (N, m)

    hits = hypotheses @ present.T > 0  # (H, N): which ratings each hypothesis calls a hit

    unnamed = np.zeros(hypotheses.shape[0])  # weighted count of disliked ones met, not named
    named = np.zeros((hypotheses.shape[0], len(NAMING), len(STRAY)))  # log P of ticked tags
    stray_ticked = stray_unticked = 0.0  # weighted counts of tags no attribute explains
    for tag in _TAGS:
        ticked = (complaints >> tag & 1).astype(np.bool_)
        exposed = present * _matrix([_TAG_MASKS[tag]], met)  # (N, m): met attributes it names
        can_name = exposed.any(axis=1)
        stray_ticked += float(weight[ticked & ~can_name].sum())
        stray_unticked += float(weight[~ticked].sum())  # n = 0 terms; n > 0 ones below
        if not can_name.any():
            continue
        n = hypotheses @ exposed.T  # (H, N): disliked ones it names
        unnamed += n[:, ~ticked] @ weight[~ticked]
        # A ticked tag is named for one of the n, or a stray: P = 1 - (1 - eps) (1 - q)^n.
        named_here = ticked & can_name
        for k in range(MAX_DISLIKES + 1):
            times = (n[:, named_here] == k) @ weight[named_here]  # (H,): weight ticked with n = k
            if times.any():
                named += times[:, None, None] * np.log1p(-np.exp(log_eps_miss + k * log_q_miss))
    tags_ll = (
        unnamed[:, None, None] * log_q_miss
        + named
        + stray_ticked * log_eps
        + stray_unticked * log_eps_miss
        + hypotheses.sum(axis=1)[:, None, None] * math.log(PRIOR_DISLIKE / (1 - PRIOR_DISLIKE))
    )
    log_post = _stars_log_likelihood(hits, stars, weight)[:, None, None] + tags_ll
    post = np.exp(log_post - log_post.max())
    post /= post.sum()
    by_hypothesis = post.sum(axis=(1, 2))
    hit = hits.T.astype(np.float64) @ by_hypothesis
    dislike = hypotheses.T @ by_hypothesis
    return Posterior(
        dislike={bit: float(p) for bit, p in zip(met, dislike, strict=True)},
        hit=tuple(float(x) for x in hit),
        naming=float(post.sum(axis=(0, 2)) @ np.asarray(NAMING)),
        stray=float(post.sum(axis=(0, 1)) @ np.asarray(STRAY)),
    )


def _stars_log_likelihood(
    hits: npt.NDArray[np.bool_], stars: npt.NDArray[np.int64], weight: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """log P(every rating's stars | hypothesis), one per hypothesis (row of `hits`).

    Hits follow HIT_STARS. The other ratings follow the customer's own star distribution, which
    is unknown: a Dirichlet prior, TYPICAL_STARS worth STARS_PRIOR_WEIGHT ratings, integrated out
    (the Dirichlet-multinomial), so a customer whose other bookings went well makes a poor rating
    of a suspect booking strong evidence, and one who rates everything poorly makes it weak.
    """
    onehot = np.zeros((stars.shape[0], len(TYPICAL_STARS)))
    onehot[np.arange(stars.shape[0]), stars] = weight
    hit_ll = hits @ (weight * np.log(np.asarray(HIT_STARS))[stars])
    counts = (~hits).astype(np.float64) @ onehot  # the ordinary ratings' stars, per hypothesis
    distinct, which = np.unique(counts, axis=0, return_inverse=True)  # few distinct ones
    prior = STARS_PRIOR_WEIGHT * np.asarray(TYPICAL_STARS)
    ordinary_ll = (_lgamma(prior + distinct) - _lgamma(prior)).sum(axis=1) + (
        math.lgamma(STARS_PRIOR_WEIGHT) - _lgamma(STARS_PRIOR_WEIGHT + distinct.sum(axis=1)))
    result: npt.NDArray[np.float64] = hit_ll + ordinary_ll[which.reshape(-1)]
    return result


_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])


@cache
def _hypotheses(m: int) -> npt.NDArray[np.float64]:
    """Every set of at most MAX_DISLIKES of m attributes (fewer if that would be too many)."""
    size = MAX_DISLIKES
    while size > 1 and sum(math.comb(m, k) for k in range(size + 1)) > MAX_HYPOTHESES:
        size -= 1
    rows = [combo for k in range(size + 1) for combo in combinations(range(m), k)]
    matrix = np.zeros((len(rows), m))  # 0/1 as floats: matrix products go to BLAS
    for r, combo in enumerate(rows):
        matrix[r, list(combo)] = 1
    matrix.flags.writeable = False  # shared between calls (cached)
    return matrix


def _matrix(masks: list[int], met: list[int]) -> npt.NDArray[np.float64]:
    """(len(masks), len(met)) 0/1: which of the met attributes each mask has."""
    return np.asarray([[mask >> bit & 1 for bit in met] for mask in masks], np.float64).reshape(
        len(masks), len(met))


def _mean(values: tuple[float, ...]) -> float:
    return sum(values) / len(values)

