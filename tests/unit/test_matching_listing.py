"""The directory's listing filters over the index columns (exact for every uint96 price)."""

from __future__ import annotations

from marketplace.matching.eligibility import ProviderView
from marketplace.matching.index import PRICE_CAP, ProviderIndex
from marketplace.matching.listing import ListingFilter, listed_provider_ids

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20
INDEX = ProviderIndex.from_views([
    ProviderView(1, A, category=1, region=1, attributes=0b101, currency=0, price=10,
                 active=True),
    ProviderView(2, A, category=1, region=2, attributes=0b001, currency=1, price=20,
                 active=False, completed=0, failures=5),
    ProviderView(3, B, category=2, region=1, attributes=0b100, currency=0, price=PRICE_CAP + 5,
                 active=True, rating_weight=4_000, weighted_stars=20_000),
    ProviderView(4, B, category=2, region=1, attributes=0, currency=0, price=PRICE_CAP + 50,
                 active=True),
])


def ids(wanted: ListingFilter) -> list[int]:
    with INDEX.read() as columns:
        return listed_provider_ids(columns, wanted)


def test_no_filter_lists_every_provider_in_id_order() -> None:
    assert ids(ListingFilter()) == [1, 2, 3, 4]


def test_each_filter_keeps_only_matching_providers() -> None:
    assert ids(ListingFilter(category=1)) == [1, 2]
    assert ids(ListingFilter(region=1)) == [1, 3, 4]
    assert ids(ListingFilter(region=0)) == [1, 2, 3, 4]  # 0 is any region
    assert ids(ListingFilter(active=False)) == [2]
    assert ids(ListingFilter(required_attributes=0b100)) == [1, 3]
    assert ids(ListingFilter(required_attributes=0b101)) == [1]
    assert ids(ListingFilter(currency=1)) == [2]
    assert ids(ListingFilter(owner=B.upper().replace("0X", "0x"))) == [3, 4]
    assert ids(ListingFilter(owner="0x" + "cc" * 20)) == []
    assert ids(ListingFilter(min_reliability=9_000)) == [1, 3, 4]
    assert ids(ListingFilter(min_rating_weight=1)) == [3]


def test_the_price_filter_is_exact_above_the_int64_cap() -> None:
    assert ids(ListingFilter(max_price=20)) == [1, 2]
    assert ids(ListingFilter(max_price=PRICE_CAP + 5)) == [1, 2, 3]
    assert ids(ListingFilter(max_price=PRICE_CAP + 4)) == [1, 2]


def test_the_score_filter_compares_basis_points() -> None:
    with INDEX.read() as columns:
        best = int(columns.score.max())

    assert ids(ListingFilter(min_score=best)) == [3]
    assert ids(ListingFilter(min_score=0)) == [1, 2, 3, 4]
