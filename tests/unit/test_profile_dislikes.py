"""The deal-breaker model: evidence weighed by what it says, shrinkage, forgetting, stars alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.catalogue import COMPLAINT_TAGS, lookup, mask
from marketplace.domain import booking_id
from marketplace.matching.eligibility import CriteriaView, ProviderView
from marketplace.matching.index import ProviderIndex
from marketplace.matching.ranking import rank
from marketplace.profile import InMemoryProfileRepository, ProfileService
from marketplace.profile.dislikes import PRIOR_DISLIKE, Observation, forgetting_weight, infer
from marketplace.profile.learning import DISLIKE_COST, UNSURE_BELOW

OWNER = "0x" + "0d" * 20


def bid(customer: str, n: int) -> int:
    """The customer's n-th booking's id: listing 1, an hour-long slot n seconds apart."""
    return booking_id(customer, 1, 1_800_000_000 + n, 60)

CUSTOMER = "0x" + "ef" * 20
CRITERIA = CriteriaView(category=1, min_score=30_000, max_price=10**17, premium_per_star=10**16,
                        score_weight=5_000, price_weight=5_000, version=1)
COMPACT = 1 << lookup("attribute", "compact_car").code
ELECTRIC = 1 << lookup("attribute", "electric_vehicle").code
SMOKER = 1 << lookup("attribute", "smoker").code
INSURED = 1 << lookup("attribute", "insured").code
SMOKE = mask("complaint tag", ["smoke_smell"])
LATE = mask("complaint tag", ["late"])
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def seen(attributes: int, stars: int, complaints: int = 0, weight: float = 1.0) -> Observation:
    return Observation(attributes, complaints, stars, weight)


def p_smoker(observations: list[Observation]) -> float:
    return infer(observations).dislike[SMOKER.bit_length() - 1]


def test_without_ratings_nothing_is_believed() -> None:
    posterior = infer([])
    assert posterior.dislike == {} and posterior.hit == ()


def test_one_complaint_moves_the_belief_less_than_two_and_neither_to_certainty() -> None:
    one = p_smoker([seen(SMOKER, 1, SMOKE)])
    two = p_smoker([seen(SMOKER, 1, SMOKE), seen(SMOKER, 2, SMOKE)])
    assert PRIOR_DISLIKE < one < two < 1


def test_a_stray_complaint_among_good_bookings_with_the_trait_leaves_the_profile_unsure() -> None:
    good = [seen(SMOKER, 5) for _ in range(4)]
    assert p_smoker([*good, seen(SMOKER, 4, SMOKE)]) <= UNSURE_BELOW


def test_a_complaint_two_years_old_weighs_less_than_last_weeks() -> None:
    week = forgetting_weight(7, 365)
    two_years = forgetting_weight(730, 365)
    assert two_years == pytest.approx(0.25) and week > 0.98
    recent = p_smoker([seen(SMOKER, 1, SMOKE, week)])
    old = p_smoker([seen(SMOKER, 1, SMOKE, two_years)])
    assert PRIOR_DISLIKE < old < recent


def test_poor_stars_without_tags_are_evidence_when_the_other_bookings_went_well() -> None:
    good = [seen(INSURED, 5), seen(0, 4), seen(INSURED, 5), seen(0, 4)]
    poor = [seen(SMOKER | INSURED, 1), seen(SMOKER, 2), seen(SMOKER, 1)]
    posterior = infer([*good, *poor])
    assert posterior.dislike[SMOKER.bit_length() - 1] > UNSURE_BELOW
    assert posterior.dislike[INSURED.bit_length() - 1] < PRIOR_DISLIKE  # explained away
    harsh = [seen(INSURED, 1), seen(0, 2), seen(INSURED, 1), seen(0, 2)]
    # From a customer who rates everything poorly, the same poor ratings say less.
    assert p_smoker([*harsh, *poor]) < posterior.dislike[SMOKER.bit_length() - 1]


def test_a_customer_who_names_every_hit_makes_an_unnamed_poor_booking_weaker_evidence() -> None:
    namer = [seen(COMPACT, 1, mask("complaint tag", ["uncomfortable_vehicle"]))
             for _ in range(3)]
    silent = [seen(0, 1) for _ in range(3)]
    poor_smoky = [seen(SMOKER, 1), seen(SMOKER, 2)]
    good = [seen(0, 5) for _ in range(3)]
    assert p_smoker([*namer, *good, *poor_smoky]) < p_smoker([*silent, *good, *poor_smoky])


def test_customers_who_met_many_attributes_are_still_inferred() -> None:
    observations = [seen((1 << 40) - 1 & ~(1 << n), 1 + n % 5) for n in range(40)]
    posterior = infer(observations)
    assert len(posterior.dislike) == 40
    assert all(0 <= p <= 1 for p in posterior.dislike.values())


RATINGS = st.lists(
    st.tuples(
        st.integers(0, (1 << 20) - 1),  # the catalogue's attributes
        st.integers(1, 5),
        st.sets(st.sampled_from([entry.code for entry in COMPLAINT_TAGS]), max_size=2),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(RATINGS)
def test_probabilities_are_probabilities_and_weights_follow_them(
    ratings: list[tuple[int, int, set[int]]],
) -> None:
    service = service_with(ratings)
    profile = service.profile(CUSTOMER)
    assert profile is not None
    posterior = profile.posterior
    assert all(0 <= p <= 1 for p in posterior.hit)
    for belief in profile.traits.values():
        assert 0 <= belief.probability <= 1
        assert -DISLIKE_COST <= belief.weight <= 0
        assert (belief.weight == 0) == (belief.probability <= UNSURE_BELOW)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, (1 << 20) - 1), st.integers(3, 5)), max_size=12))
def test_without_complaints_or_poor_ratings_the_ranking_of_new_providers_is_the_baseline(
    ratings: list[tuple[int, int]],
) -> None:
    service = service_with([(attributes, stars, set()) for attributes, stars in ratings])
    fresh = ProviderIndex.from_views([
        ProviderView(100 + n, OWNER, 1, 1, (0x9_5A5A * (n + 1)) & ((1 << 20) - 1), 0,
                     (4 + n % 5) * 10**16, True, 40_000, 4_000 * (30 + n)) for n in range(12)
    ])
    affinity = service.affinity(CUSTOMER, CRITERIA)
    assert affinity is not None and affinity.traits == ()
    baseline = rank(fresh, CRITERIA)
    personal = rank(fresh, CRITERIA, affinity=affinity)
    assert [m.provider_id for m in personal.matches] == [m.provider_id for m in baseline.matches]


def test_the_reason_says_what_was_seen_and_how_sure_the_profile_is() -> None:
    service = service_with([(ELECTRIC, 5, set()), (0, 4, set()), (ELECTRIC, 5, set()),
                            (SMOKER, 1, set()), (SMOKER, 2, set()), (SMOKER, 1, set())])
    affinity = service.affinity(CUSTOMER, CRITERIA)
    assert affinity is not None
    (trait,) = affinity.traits
    assert trait.reason.startswith("you rated all three of your bookings with providers with "
                                   "'smoker' 2 stars or less, without saying why: ")
    assert trait.reason.endswith("% sure)")


def test_old_evidence_is_said_to_count_less() -> None:
    repository = InMemoryProfileRepository()
    then = ProfileService(repository, clock=lambda: T0)
    then.grant_consent(CUSTOMER)
    provider = ProviderView(1, OWNER, 1, 1, SMOKER, 0, 8 * 10**16, True, 40_000, 160_000)
    then.record_rating(CUSTOMER, bid(CUSTOMER, 1), provider, CRITERIA, 1, SMOKE)
    later = ProfileService(repository, clock=lambda: T0 + timedelta(days=730))
    profile_then, profile_later = then.profile(CUSTOMER), later.profile(CUSTOMER)
    assert profile_then is not None and profile_later is not None
    bit = SMOKER.bit_length() - 1
    assert profile_later.traits[bit].probability < profile_then.traits[bit].probability
    assert "(older ones count less)" in profile_later.trait_reason(bit)
    assert "older" not in profile_then.trait_reason(bit)


def service_with(ratings: list[tuple[int, int, set[int]]]) -> ProfileService:
    clock = iter(T0 + timedelta(hours=n) for n in range(10_000))
    service = ProfileService(InMemoryProfileRepository(), clock=lambda: next(clock))
    service.grant_consent(CUSTOMER)
    for n, (attributes, stars, tags) in enumerate(ratings):
        provider = ProviderView(n + 1, OWNER, 1, 1, attributes, 0, 8 * 10**16, True, 40_000,
                                160_000)
        service.record_rating(CUSTOMER, bid(CUSTOMER, n), provider, CRITERIA, stars,
                              sum(1 << tag for tag in tags))
    return service
