"""ProviderState.facts: the last facts again while nothing they hold changed, fresh ones after."""

from __future__ import annotations

from typing import Any

import pytest

from marketplace.audit.state import Offer, ProviderState


def _offer(version: int = 1, **change: Any) -> Offer:
    listing = {"region": 1, "attributes": 5, "currency": 0, "price": 10**16,
               "metadataHash": "0x" + "00" * 32, "instant": False, "freeCancelHours": 24,
               "lateCancelPct": 50, **change}
    return Offer(version, listing, 7)


def _provider() -> ProviderState:
    p = ProviderState(3, "0x" + "ab" * 20, 1, _offer())
    p.attested[2] = 4
    return p


def test_unchanged_listings_give_the_same_facts() -> None:
    p = _provider()

    assert p.facts() is p.facts()


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.add_rating(5, 100),
        lambda p: setattr(p, "completed", p.completed + 1),
        lambda p: setattr(p, "failures", p.failures + 1),
        lambda p: setattr(p, "active", False),
        lambda p: setattr(p, "owner", "0x" + "cd" * 20),
        lambda p: setattr(p, "offer", _offer(2, price=2 * 10**16)),
        lambda p: setattr(p, "offer", _offer(2, attributes=7)),
        lambda p: p.attested.__setitem__(2, 6),  # changed in place: the same dict
        lambda p: p.attested.pop(2),
    ],
)
def test_any_change_a_listing_s_facts_hold_gives_new_facts(change: Any) -> None:
    p = _provider()
    before = p.facts()

    change(p)
    after = p.facts()

    assert after is not before and after != before
    fresh = ProviderState(p.provider_id, p.owner, p.category, p.offer)
    for name in ("rating_weight", "weighted_stars", "completed", "failures", "active"):
        setattr(fresh, name, getattr(p, name))
    fresh.attested.update(p.attested)
    assert after == fresh.facts()  # what an uncached listing would say
