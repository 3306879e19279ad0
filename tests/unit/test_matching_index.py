"""The columnar provider index: built in bulk or one by one, updated in place from events."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from marketplace.domain import UINT96_MAX, Criterion
from marketplace.matching.eligibility import CriteriaView, ProviderView, first_failed_criterion
from marketplace.matching.index import (
    DENSE_IDS,
    PRICE_CAP,
    InvalidProvider,
    ProviderIndex,
    ProviderNotIndexed,
)
from marketplace.matching.partition import FRONT_DEPTH
from marketplace.matching.vectorised import eligible_rows, first_failed_criteria

OWNER = "0x" + "0a" * 20
RIDE = ProviderView(provider_id=1, owner=OWNER, category=1, region=1, attributes=0b101,
                    currency=0, price=10**17, active=True, rating_weight=4_000,
                    weighted_stars=18_000, completed=3, failures=1, attestations={2: 0b100})
CRITERIA = CriteriaView(category=1, region=1, min_score=30_000, max_price=10**17,
                        premium_per_star=10**16, version=1)


def eligible_ids(index: ProviderIndex, criteria: CriteriaView) -> list[int]:
    with index.read() as columns:
        return [int(pid) for pid in columns.provider_id[eligible_rows(columns, criteria)]]


def test_an_upserted_provider_reads_back_exactly() -> None:
    index = ProviderIndex()
    index.upsert(RIDE)
    assert index.view(1) == RIDE
    assert 1 in index and 2 not in index and len(index) == 1


def test_upserting_a_known_id_overwrites_its_row_instead_of_adding_one() -> None:
    index = ProviderIndex.from_views([RIDE])
    index.upsert(replace(RIDE, price=5 * 10**16, attributes=0))
    assert len(index) == 1
    assert index.view(1) == replace(RIDE, price=5 * 10**16, attributes=0)


def test_the_index_grows_past_its_capacity_without_losing_rows() -> None:
    index = ProviderIndex(capacity=2)
    providers = [replace(RIDE, provider_id=i, price=i) for i in range(1, 1_001)]
    for provider in providers:
        index.upsert(provider)
    assert [index.view(p.provider_id) for p in providers] == providers
    assert index.provider_ids() == list(range(1, 1_001))


def test_listing_changes_ratings_and_pauses_update_single_rows() -> None:
    index = ProviderIndex()
    index.upsert(ProviderView(9, OWNER, 1, 2, 3, 0, 10**17, True))
    index.update_listing(9, region=4, attributes=8, price=2 * 10**17, currency=1)
    assert index.view(9) == ProviderView(9, OWNER, 1, 4, 8, 1, 2 * 10**17, True)
    index.add_rating(9, 5, 20_000)  # as much weight as the prior: halfway to five stars
    assert index.view(9).score == 42_500
    index.add_rating(9, 1, 20_000)  # a lost dispute is a one-star rating at its weight
    assert (index.view(9).rating_weight, index.view(9).weighted_stars) == (40_000, 120_000)
    index.record_outcome(9, failure=False)
    index.record_outcome(9, failure=True)
    assert (index.view(9).completed, index.view(9).failures) == (1, 1)
    assert index.view(9).reliability == 10 * 10_000 // 12
    index.attest(9, 3, 0b1000)
    assert index.view(9).attestations == {3: 0b1000}
    index.attest(9, 3, 0)  # revoked
    assert index.view(9).attestations == {}
    index.set_active(9, False)
    assert not index.view(9).active
    index.set_active(9, True)
    assert index.view(9).active


def test_a_rating_changes_eligibility_without_a_rebuild() -> None:
    index = ProviderIndex.from_views([replace(RIDE, rating_weight=0, weighted_stars=0)])
    strict = replace(CRITERIA, min_score=40_000)
    assert eligible_ids(index, strict) == []
    for _ in range(5):
        index.add_rating(1, 5, 4_000)
    assert index.view(1).score == 42_500
    assert eligible_ids(index, strict) == [1]


def test_bulk_columns_and_single_upserts_build_the_same_index() -> None:
    rng = np.random.default_rng(1)
    n = 300
    weights = rng.integers(0, 50, n) * 1_000
    owners = [f"0x{int(o):040x}" for o in rng.integers(1, 20, n)]
    columns = {
        "provider_id": np.arange(1, n + 1), "category": rng.integers(1, 3, n),
        "region": rng.integers(1, 4, n), "attributes": rng.integers(0, 64, n),
        "currency": rng.integers(0, 2, n),
        "price": rng.integers(1, 10**18, n), "active": rng.random(n) > 0.2,
        "rating_weight": weights, "weighted_stars": weights * rng.integers(1, 6, n),
        "completed": rng.integers(0, 100, n), "failures": rng.integers(0, 10, n),
    }
    bulk = ProviderIndex.from_columns(owner=owners, **columns)
    views = [
        ProviderView(
            provider_id=int(columns["provider_id"][i]), owner=owners[i],
            category=int(columns["category"][i]),
            region=int(columns["region"][i]), attributes=int(columns["attributes"][i]),
            currency=int(columns["currency"][i]),
            price=int(columns["price"][i]), active=bool(columns["active"][i]),
            rating_weight=int(weights[i]), weighted_stars=int(columns["weighted_stars"][i]),
            completed=int(columns["completed"][i]), failures=int(columns["failures"][i]),
        )
        for i in range(n)
    ]
    single = ProviderIndex.from_views(views)
    assert [bulk.view(v.provider_id) for v in views] == views
    with bulk.read() as a, single.read() as b:
        assert first_failed_criteria(a, CRITERIA).tolist() == first_failed_criteria(
            b, CRITERIA).tolist()
    bulk.upsert(replace(views[0], provider_id=n + 1))  # a bulk index still takes appends
    assert len(bulk) == n + 1


def test_ids_far_beyond_the_contracts_counter_are_still_indexed() -> None:
    far = [replace(RIDE, provider_id=pid, attestations={}) for pid in (2**32 - 1, DENSE_IDS, 5)]
    for index in (ProviderIndex.from_views(far), ProviderIndex.from_columns(
            provider_id=[p.provider_id for p in far], owner=[OWNER] * 3, category=[1] * 3,
            region=[1] * 3, attributes=[RIDE.attributes] * 3, currency=[0] * 3,
            price=[RIDE.price] * 3, active=[True] * 3, rating_weight=[4_000] * 3,
            weighted_stars=[18_000] * 3, completed=[3] * 3, failures=[1] * 3)):
        assert [index.view(p.provider_id) for p in far] == far
        assert 2**32 - 1 in index and DENSE_IDS - 1 not in index
        assert eligible_ids(index, replace(CRITERIA, blocked=frozenset({DENSE_IDS}))) == [
            2**32 - 1, 5]


def test_prices_beyond_int64_are_compared_exactly() -> None:
    criteria = replace(CRITERIA, max_price=PRICE_CAP + 10, premium_per_star=0)
    at_ceiling = replace(RIDE, provider_id=1, price=PRICE_CAP + 10)
    one_over = replace(RIDE, provider_id=2, price=PRICE_CAP + 11)
    huge = replace(RIDE, provider_id=3, price=UINT96_MAX)
    index = ProviderIndex.from_views([at_ceiling, one_over, huge])
    assert eligible_ids(index, criteria) == [1]
    with index.read() as columns:
        assert first_failed_criteria(columns, criteria).tolist() == [
            first_failed_criterion(p, criteria) for p in (at_ceiling, one_over, huge)
        ]
    index.update_listing(2, price=PRICE_CAP - 1)  # back below the cap: the column holds it again
    assert eligible_ids(index, criteria) == [1, 2]
    assert index.view(2).price == PRICE_CAP - 1


def test_every_provider_is_excluded_as_criteria_not_set_without_criteria() -> None:
    index = ProviderIndex.from_views([RIDE, replace(RIDE, provider_id=2, active=False)])
    with index.read() as columns:
        assert first_failed_criteria(columns, None).tolist() == [
            Criterion.CRITERIA_NOT_SET, Criterion.PROVIDER_INACTIVE]
        assert eligible_rows(columns, replace(CRITERIA, version=0)).size == 0


@pytest.mark.parametrize(
    "bad",
    [
        replace(RIDE, provider_id=0),
        replace(RIDE, price=UINT96_MAX + 1),
        replace(RIDE, attributes=2**64),
        replace(RIDE, rating_weight=2, weighted_stars=11),
        replace(RIDE, category=-1),
        replace(RIDE, currency=256),
        replace(RIDE, completed=65_536),
        replace(RIDE, attestations={33: 1}),
    ],
)
def test_data_the_contract_could_not_hold_is_refused(bad: ProviderView) -> None:
    with pytest.raises(InvalidProvider):
        ProviderIndex().upsert(bad)


def test_updates_to_an_unknown_provider_raise() -> None:
    index = ProviderIndex.from_views([RIDE])
    with pytest.raises(ProviderNotIndexed):
        index.update_listing(2, price=1)
    with pytest.raises(ProviderNotIndexed):
        index.add_rating(2, 5, 1_000)
    with pytest.raises(InvalidProvider):
        index.add_rating(1, 6, 1_000)
    with pytest.raises(ProviderNotIndexed):
        index.attest(2, 1, 1)


def test_owner_history_sums_the_owners_other_listings() -> None:
    other = replace(RIDE, provider_id=2, rating_weight=6_000, weighted_stars=30_000,
                    completed=7, failures=0)
    new = replace(RIDE, provider_id=3, rating_weight=0, weighted_stars=0, completed=0,
                  failures=0)
    stranger = replace(RIDE, provider_id=4, owner="0x" + "0b" * 20)
    index = ProviderIndex.from_views([RIDE, other, new, stranger])
    with index.read() as columns:
        history = columns.owner_history(OWNER.upper().replace("0X", "0x"), excluding=3)
    assert (history.listings, history.rating_weight, history.completed, history.failures) == (
        2, 10_000, 10, 1)
    assert history.score == (20_000 * 35_000 + 48_000 * 10_000) // 30_000
    assert history.reliability == 19 * 10_000 // 21


def test_a_frozen_index_is_read_only_and_its_copy_is_independent() -> None:
    other = replace(RIDE, provider_id=2, price=RIDE.price + 1)
    index = ProviderIndex.from_views([RIDE, other])
    index.freeze()
    assert index.frozen
    with pytest.raises(RuntimeError):
        index.set_active(1, False)
    with pytest.raises(RuntimeError):
        index.upsert(replace(RIDE, provider_id=3))
    staged = index.copy()
    assert not staged.frozen and [staged.view(p) for p in (1, 2)] == [RIDE, other]
    staged.add_rating(1, 5, 4_000)
    staged.set_active(2, False)
    staged.upsert(replace(RIDE, provider_id=3, owner="0x" + "0b" * 20))
    assert [index.view(p) for p in (1, 2)] == [RIDE, other] and 3 not in index
    with index.read() as before, staged.read() as after:
        assert before.owner_history(RIDE.owner).listings == 2
        assert after.owner_history(RIDE.owner).rating_weight == (
            RIDE.rating_weight + other.rating_weight + 4_000)
        assert before.partitions is not None and after.partitions is not None
        key = (RIDE.category, RIDE.currency)
        assert len(before.partitions.get(key) or ()) == 2
        assert len(after.partitions.get(key) or ()) == 2  # 2 paused, 3 added
    assert staged.view(1).rating_weight == RIDE.rating_weight + 4_000


def test_a_partition_reads_in_score_order_and_its_front_holds_every_listing_few_beat() -> None:
    """Read (or frozen), a partition is in ascending score order with its positions recorded;
    every listing outside its front has FRONT_DEPTH others with a higher score at no higher
    price, also after writes disordered it."""
    rng = np.random.default_rng(7)
    n = 3_000
    index = ProviderIndex.from_columns(
        provider_id=np.arange(1, n + 1), owner=[OWNER] * n, category=np.ones(n, np.int64),
        region=np.ones(n, np.int64), attributes=np.zeros(n, np.uint64),
        currency=np.zeros(n, np.int64), price=rng.integers(20, 60, n) * 10**15,
        active=np.ones(n, np.bool_), rating_weight=np.full(n, 40_000, np.uint64),
        weighted_stars=rng.integers(40_000, 200_001, n).astype(np.uint64),
        completed=np.zeros(n, np.int64), failures=np.zeros(n, np.int64))
    for pid in rng.choice(np.arange(1, n + 1), 200, replace=False).tolist():
        index.update_listing(pid, price=int(rng.integers(10, 70)) * 10**15)
        index.add_rating(pid, int(rng.integers(1, 6)), 4_000)
    for freeze in (False, True):
        if freeze:
            index.freeze()
        with index.read() as columns:
            assert columns.partitions is not None
            part = columns.partitions.get((1, 0))
            assert part is not None and len(part) == n
            assert np.all(np.diff(part.score) >= 0)
            assert np.array_equal(part.slot_of[part.row], np.arange(n))
            assert np.array_equal(part.score, columns.score[part.row])
            assert np.array_equal(part.price, columns.price[part.row])
            outside = np.setdiff1d(np.arange(n), part.front)
            assert 0 < part.front.shape[0] < n // 4 and outside.shape[0]
            for position in outside.tolist():
                beaten = (part.price <= part.price[position]) & (
                    part.score > part.score[position])
                assert np.count_nonzero(beaten) >= FRONT_DEPTH
