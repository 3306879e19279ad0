"""The living profile learns from ratings, complaint tags and choices, and only with consent."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.catalogue import lookup, mask
from marketplace.domain import booking_id
from marketplace.matching.eligibility import CriteriaView, ProviderView
from marketplace.matching.index import ProviderIndex
from marketplace.matching.ranking import rank
from marketplace.profile import (
    PERSONALISATION,
    InMemoryProfileRepository,
    ProfileError,
    ProfileService,
)

OWNER = "0x" + "0d" * 20


def bid(customer: str, n: int) -> int:
    """The customer's n-th booking's id: listing 1, an hour-long slot n seconds apart."""
    return booking_id(customer, 1, 1_800_000_000 + n, 60)

CUSTOMER = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
CRITERIA = CriteriaView(category=1, min_score=30_000, max_price=10**17, premium_per_star=10**16,
                        score_weight=5_000, price_weight=5_000, version=1)
COMPACT = lookup("attribute", "compact_car").code
ELECTRIC = lookup("attribute", "electric_vehicle").code
SMOKER = lookup("attribute", "smoker").code
UNCOMFORTABLE = mask("complaint tag", ["uncomfortable_vehicle"])
SMOKE = mask("complaint tag", ["smoke_smell"])
LATE = mask("complaint tag", ["late"])
OVERCHARGED = mask("complaint tag", ["overcharged"])


class Clock:
    """A clock that moves one minute per reading."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def ride(pid: int, attributes: int = 0, price: int = 8 * 10**16, stars: int = 4) -> ProviderView:
    return ProviderView(pid, OWNER, 1, 1, attributes, 0, price, True, 40_000, 40_000 * stars)


@pytest.fixture
def service() -> ProfileService:
    return ProfileService(InMemoryProfileRepository(), clock=Clock())


@pytest.fixture
def consenting(service: ProfileService) -> ProfileService:
    service.grant_consent(CUSTOMER)
    return service


def rate(service: ProfileService, n: int, provider: ProviderView, stars: int,
         complaints: int = 0, customer: str = CUSTOMER) -> bool:
    return service.record_rating(customer, bid(customer, n), provider, CRITERIA, stars,
                                 complaints)


def test_nothing_is_learned_or_stored_without_consent(service: ProfileService) -> None:
    assert not rate(service, 1, ride(1, 1 << SMOKER), 1, SMOKE)
    assert service.profile(CUSTOMER) is None
    assert service.affinity(CUSTOMER, CRITERIA) is None
    assert service.proposals(CUSTOMER, CRITERIA) == []
    assert service.export(CUSTOMER)["ratings"] == []


def test_consent_is_recorded_with_its_purpose_and_time(service: ProfileService) -> None:
    record = service.grant_consent(CUSTOMER.upper().replace("0X", "0x"))
    assert record.customer == CUSTOMER and record.purpose == PERSONALISATION
    assert record.granted_at == datetime(2026, 3, 1, 12, 1, tzinfo=UTC)
    assert service.grant_consent(CUSTOMER) == record  # granting twice keeps the first opt-in
    assert service.has_consent(CUSTOMER) and not service.has_consent(OTHER)


def test_revoking_consent_stops_learning_and_deletes_what_was_learned(
    consenting: ProfileService,
) -> None:
    assert rate(consenting, 1, ride(1, 1 << SMOKER), 1, SMOKE)
    assert consenting.revoke_consent(CUSTOMER)
    assert not consenting.revoke_consent(CUSTOMER)  # nothing active any more
    assert consenting.profile(CUSTOMER) is None
    assert not rate(consenting, 2, ride(2, 1 << SMOKER), 1, SMOKE)
    exported = consenting.export(CUSTOMER)
    assert exported["ratings"] == [] and exported["learned"] is None
    (consent,) = exported["consents"]
    assert consent["revoked_at"] is not None
    consenting.grant_consent(CUSTOMER)  # opting in again starts from nothing
    fresh = consenting.profile(CUSTOMER)
    assert fresh is not None
    assert fresh.ratings == []


def test_a_complaint_about_a_trait_ranks_every_provider_sharing_it_lower_next_time(
    consenting: ProfileService,
) -> None:
    booked = ride(1, 1 << COMPACT, price=6 * 10**16)
    others = [ride(2, 1 << COMPACT, price=6 * 10**16), ride(3, 0, price=7 * 10**16)]
    index = ProviderIndex.from_views(others)
    assert [m.provider_id for m in rank(index, CRITERIA).matches] == [2, 3]
    rate(consenting, 1, booked, 2, UNCOMFORTABLE)
    ranking = rank(index, CRITERIA, affinity=consenting.affinity(CUSTOMER, CRITERIA))
    assert [m.provider_id for m in ranking.matches] == [3, 2]
    assert ("ranked lower: you complained about 'uncomfortable vehicle' on providers with "
            "'compact car', in your only booking with one: probably a dislike (82% sure)"
            ) in ranking.matches[1].reasons


def test_a_complaint_blames_only_the_traits_its_tag_is_about(consenting: ProfileService) -> None:
    rate(consenting, 1, ride(1, 1 << COMPACT | 1 << ELECTRIC | 1 << SMOKER), 1, UNCOMFORTABLE)
    profile = consenting.profile(CUSTOMER)
    assert profile is not None
    assert set(profile.traits) == {COMPACT, ELECTRIC, SMOKER}  # every attribute met ...
    assert profile.traits[SMOKER].weight == 0  # ... but only the vehicle ones are suspects
    assert profile.traits[COMPACT].probability == pytest.approx(
        profile.traits[ELECTRIC].probability)
    assert profile.traits[COMPACT].probability > 4 * profile.traits[SMOKER].probability


def test_good_rides_with_a_co_accused_trait_clear_it(consenting: ProfileService) -> None:
    rate(consenting, 1, ride(1, 1 << COMPACT | 1 << ELECTRIC), 1, UNCOMFORTABLE)
    for n in range(2, 5):
        rate(consenting, n, ride(n, 1 << ELECTRIC), 5)
    profile = consenting.profile(CUSTOMER)
    assert profile is not None
    assert profile.traits[ELECTRIC].weight == 0  # explained away: unsure again
    assert profile.traits[ELECTRIC].probability < 0.01
    assert profile.traits[COMPACT].probability > 0.8 and profile.traits[COMPACT].weight < -0.3
    affinity = profile.affinity(CRITERIA)
    assert [t.attribute for t in affinity.traits] == [COMPACT]


def test_good_ratings_alone_change_no_trait(consenting: ProfileService) -> None:
    rate(consenting, 1, ride(1, 1 << ELECTRIC), 5)
    rate(consenting, 2, ride(2, 1 << ELECTRIC), 4)
    affinity = consenting.affinity(CUSTOMER, CRITERIA)
    assert affinity is not None
    assert affinity.traits == ()  # a liked attribute is one to require in the criteria


def test_complaints_about_the_service_itself_count_against_that_provider_only(
    consenting: ProfileService,
) -> None:
    rate(consenting, 1, ride(7, 1 << COMPACT), 2, LATE)
    affinity = consenting.affinity(CUSTOMER, CRITERIA)
    assert affinity is not None
    assert affinity.traits == ()
    (personal,) = affinity.providers
    assert personal.provider_id == 7 and personal.weight < 0
    assert personal.reason == "you rated this provider 2 stars and complained about 'late'"


def test_a_replayed_rating_is_learned_once(consenting: ProfileService) -> None:
    assert rate(consenting, 1, ride(1), 5)
    assert not rate(consenting, 1, ride(1), 5)
    profile = consenting.profile(CUSTOMER)
    assert profile is not None and len(profile.ratings) == 1


def test_ratings_are_checked_before_anything_is_stored(consenting: ProfileService) -> None:
    with pytest.raises(ProfileError, match="not"):
        consenting.record_rating(CUSTOMER, bid(OTHER, 1), ride(1), CRITERIA, 5)
    with pytest.raises(ProfileError):
        rate(consenting, 1, ride(1), 6)
    with pytest.raises(ProfileError):
        consenting.record_rating(CUSTOMER, bid(CUSTOMER, 1), replace(ride(1), category=2),
                                 CRITERIA, 5)
    with pytest.raises(ProfileError):
        consenting.grant_consent("alice")


def test_ratings_reveal_a_customer_who_cares_about_score_more_than_their_weights_say(
    consenting: ProfileService,
) -> None:
    # Better providers cost more; this customer is happy with them and not with cheap ones.
    for n, (stars_of_provider, price, given) in enumerate(
        [(5, 11 * 10**16, 5), (3, 6 * 10**16, 2), (5, 10 * 10**16, 5), (3, 5 * 10**16, 2),
         (4, 9 * 10**16, 4), (3, 6 * 10**16, 2)], start=1):
        rate(consenting, n, ride(n, price=price, stars=stars_of_provider), given)
    profile = consenting.profile(CUSTOMER)
    assert profile is not None
    learned = profile.learned_weights(CRITERIA)
    assert learned is not None and learned[0] > 6_000 and sum(learned) == 10_000
    affinity = profile.affinity(CRITERIA)
    assert affinity.score_weight == learned[0]
    assert affinity.weights_reason.startswith("learned from your ratings and choices")


def test_choosing_cheaper_providers_over_better_ones_reveals_price_sensitivity(
    consenting: ProfileService,
) -> None:
    index = ProviderIndex.from_views([ride(1, price=9 * 10**16, stars=5),
                                      ride(2, price=5 * 10**16, stars=3)])
    by_score = replace(CRITERIA, score_weight=9_000, price_weight=1_000)
    for _ in range(4):
        first, second = rank(index, by_score).matches
        assert consenting.record_choice(CUSTOMER, 1, second, [first]) == 1
    profile = consenting.profile(CUSTOMER)
    assert profile is not None
    learned = profile.learned_weights(by_score)
    assert learned is not None and learned[0] < 9_000
    assert rank(index, by_score, affinity=profile.affinity(by_score)).matches[0].provider_id == 2


def test_overcharged_complaints_move_the_weights_toward_price(consenting: ProfileService) -> None:
    for n in range(1, 4):
        rate(consenting, n, ride(n), 3, OVERCHARGED)
    profile = consenting.profile(CUSTOMER)
    assert profile is not None
    learned = profile.learned_weights(CRITERIA)
    assert learned is not None and learned[0] < 5_000
    assert profile.traits == {}  # "overcharged" is about price, not a trait


def test_the_export_is_json_with_everything_stored_and_learned(consenting: ProfileService) -> None:
    rate(consenting, 1, ride(1, 1 << SMOKER, price=2**70), 1, SMOKE)
    exported = consenting.export(CUSTOMER)
    decoded = json.loads(json.dumps(exported))
    assert decoded["customer"] == CUSTOMER
    (rating,) = decoded["ratings"]
    assert rating["booking_id"] == str(bid(CUSTOMER, 1))
    assert rating["price"] == str(2**70)
    assert rating["complaints"] == SMOKE
    assert decoded["consents"][0]["purpose"] == PERSONALISATION
    (trait,) = decoded["learned"]["traits"]
    assert trait["attribute"] == "smoker" and trait["weight"] < 0
    assert (trait["bookings"], trait["complaints"], trait["poor_ratings"]) == (1, 1, 1)
    assert 0.5 < trait["probability"] < 1
    assert trait["reason"].startswith("you complained about 'smelled of smoke'")


def test_erase_forgets_the_customer_and_only_that_customer(consenting: ProfileService) -> None:
    consenting.grant_consent(OTHER)
    rate(consenting, 1, ride(1), 5)
    rate(consenting, 1, ride(1), 4, customer=OTHER)
    consenting.erase(CUSTOMER)
    exported = consenting.export(CUSTOMER)
    assert exported["consents"] == exported["ratings"] == exported["choices"] == []
    assert exported["learned"] is None
    assert len(consenting.export(OTHER)["ratings"]) == 1
