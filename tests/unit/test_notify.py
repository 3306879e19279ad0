"""The decision rule of notifications: who enters a top three, whom a customer relies on, and
when a relied-on provider no longer meets their criteria."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from marketplace.matching.eligibility import CriteriaView, ProviderView
from marketplace.matching.index import ProviderIndex
from marketplace.matching.ranking import rank
from marketplace.profile.notify import (
    TOP,
    dropped_message,
    entered_top,
    no_longer_meets,
    relied_on,
    top_message,
)
from marketplace.profile.records import Notification
from marketplace.profile.repository import InMemoryProfileRepository

OWNER = "0x" + "0d" * 20

RIDES = 1
CRITERIA = CriteriaView(category=RIDES, max_price=100, version=1)


def provider(pid: int, price: int, *, active: bool = True, region: int = 1) -> ProviderView:
    return ProviderView(pid, OWNER, RIDES, region, 0, 0, price, active)


def top(providers: list[ProviderView]) -> list[int]:
    return [m.provider_id for m in rank(ProviderIndex.from_views(providers), CRITERIA,
                                        k=TOP).matches]


def test_a_changed_provider_that_enters_the_top_three_is_news() -> None:
    old = [provider(1, 50), provider(2, 60), provider(3, 70)]
    now = rank(ProviderIndex.from_views([*old, provider(4, 10)]), CRITERIA, k=TOP).matches

    news = entered_top({4}, top(old), now)

    assert [(m.provider_id, m.rank) for m in news] == [(4, 1)]
    assert top_message(news[0], RIDES).startswith("Provider #4 now ranks #1 for you in Rides: ")
    assert "price" in top_message(news[0], RIDES)


def test_an_unchanged_provider_pushed_up_and_one_already_in_the_top_are_not_news() -> None:
    before = [provider(1, 50), provider(2, 60), provider(3, 70), provider(5, 80)]
    now = rank(ProviderIndex.from_views([provider(1, 40), provider(2, 60), provider(5, 80)]),
               CRITERIA, k=TOP).matches  # 3 left: 5 moves up, 1 got cheaper

    assert entered_top({1, 3}, top(before), now) == []


def test_a_changed_provider_still_below_the_top_three_is_not_news() -> None:
    old = [provider(1, 10), provider(2, 20), provider(3, 30)]
    now = rank(ProviderIndex.from_views([*old, provider(4, 40)]), CRITERIA, k=TOP).matches

    assert entered_top({4}, top(old), now) == []


def test_relied_on_means_booked_twice_or_booked_last() -> None:
    assert relied_on([7, 8, 7, 9]) == {7, 9}
    assert relied_on([8]) == {8}
    assert relied_on([]) == set()


def test_a_relied_on_provider_over_the_ceiling_no_longer_meets_the_criteria() -> None:
    reason = no_longer_meets(provider(1, 50), provider(1, 150), CRITERIA)

    assert reason is not None and "ceiling" in reason
    assert dropped_message(1, reason).startswith("Provider #1 no longer meets your criteria: ")


def test_paused_or_moved_providers_say_why() -> None:
    paused = no_longer_meets(provider(1, 50), provider(1, 50, active=False), CRITERIA)
    moved = no_longer_meets(provider(1, 50), provider(1, 50, region=2),
                            CriteriaView(category=RIDES, region=1, max_price=100, version=1))

    assert paused is not None and "not taking bookings" in paused
    assert moved is not None and "region" in moved


def test_only_a_change_from_meeting_to_not_meeting_is_news() -> None:
    assert no_longer_meets(provider(1, 150), provider(1, 160), CRITERIA) is None  # never did
    assert no_longer_meets(provider(1, 50), provider(1, 60), CRITERIA) is None  # still does
    assert no_longer_meets(None, provider(1, 150), CRITERIA) is None  # new, never met
    assert no_longer_meets(provider(1, 50), None, CRITERIA) is None  # rolled back


def test_the_in_memory_repository_keeps_notifications_like_the_sql_one() -> None:
    repository = InMemoryProfileRepository()
    customer = "0x" + "ab" * 20
    first = Notification(customer, "top", 4, RIDES, "Provider #4 now ranks #1", 10,
                         datetime(2026, 1, 1, tzinfo=UTC))

    stored = [repository.add_notification(first), repository.add_notification(first),
              repository.add_notification(replace(first, kind="dropped", block=11))]

    assert stored == [True, False, True]
    assert [n.kind for n in repository.notifications(customer)] == ["dropped", "top"]
    assert [n.kind for n in repository.notifications(customer, offset=1, limit=1)] == ["top"]
    newest = repository.notifications(customer)[0].id
    assert repository.mark_read(customer, [newest]) == 1
    assert repository.count_notifications(customer, unread=True) == 1
    repository.forget_learning(customer)
    assert repository.count_notifications(customer) == 0
