"""`POST /api/v1/match` answers what the reference says: the brute-force ranking
(`rank_reference`) of the store's listings, each match worded from the listing's own record
(an owner's history summed listing by listing), field by field as the API documents it."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert

from marketplace.catalogue import key_of, labels
from marketplace.domain import STAR
from marketplace.matching.eligibility import CriteriaView, ProviderView, price_ceiling
from marketplace.matching.explain import format_stars
from marketplace.matching.index import OwnerHistory
from marketplace.matching.ranking import (
    owner_history_reason,
    price_reason,
    reliability_reason,
    score_reason,
    verified_attributes,
    verified_reason,
)
from marketplace.matching.reference import rank_reference
from marketplace.store import schema
from marketplace.units import ETHER_CURRENCY, format_amount
from marketplace.web.present import reliability_label, weight_label
from tests.unit.test_matching_agreement import owner_history_by_scan
from tests.web.test_api import _row

OWNERS = [f"0x{i:040x}" for i in (0xA1, 0xB2, 0xC3)]
ATTESTOR, ATTESTOR_ACCOUNT = 1, "0x" + "12" * 19 + "ab"
FINNEY = 10**15


def listings(rng: random.Random) -> list[ProviderView]:
    out = []
    for pid in range(1, 81):
        count = rng.choice([0, 0, 1, 3, 10, 40])  # a quarter without ratings: owner histories
        weight = count * rng.choice([1_000, 4_000])
        out.append(ProviderView(
            provider_id=pid, owner=rng.choice(OWNERS), category=rng.choice([1, 1, 1, 2]),
            region=rng.randint(1, 3), attributes=rng.getrandbits(4), currency=0,
            price=rng.randint(20, 120) * FINNEY, active=rng.random() > 0.1,
            rating_weight=weight, weighted_stars=rng.randint(weight, 5 * weight),
            completed=rng.choice([0, 5, 48]), failures=rng.choice([0, 1, 3]),
            attestations={ATTESTOR: rng.getrandbits(4)} if rng.random() < 0.3 else {}))
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, list[ProviderView]]:
    from marketplace.config import Settings
    from marketplace.web import create_app
    from marketplace.web.config import WebConfig

    tmp: Path = tmp_path_factory.mktemp("reference")
    app = create_app(WebConfig(
        settings=Settings(rpc_url="http://127.0.0.1:9", database_url=f"sqlite:///{tmp}/s.db",
                          retry_for=0.1),
        secret_key="k" * 40, testing=True, secure_cookies=False))
    providers = listings(random.Random(16))
    engine = app.extensions["marketplace"].engine
    with engine.begin() as conn:
        for p in providers:
            conn.execute(insert(schema.providers).values(_row(
                schema.providers, provider_id=p.provider_id, owner=p.owner, category=p.category,
                region=p.region, attributes=p.attributes, currency=0, price=p.price,
                active=p.active, offer_version=1, metadata_hash="0x" + "00" * 32,
                rating_weight=p.rating_weight, weighted_stars=p.weighted_stars,
                score=p.score, completed=p.completed, failures=p.failures,
                reliability=p.reliability)))
            for attestor, bits in p.attestations.items():
                conn.execute(insert(schema.attestations).values(_row(
                    schema.attestations, provider_id=p.provider_id, attestor_id=attestor,
                    attributes=bits)))
        conn.execute(insert(schema.attestors).values(_row(
            schema.attestors, attestor_id=ATTESTOR, attestor=ATTESTOR_ACCOUNT, allowed=True)))
    return app, providers


def history_json(history: OwnerHistory) -> dict[str, Any]:
    return {"owner": history.owner, "listings": history.listings,
            "rating_weight": history.rating_weight, "score": history.score,
            "stars": format_stars(history.score), "reliability": history.reliability,
            "completed": history.completed, "failures": history.failures}


def expected_match(rank: int, utility: float, p: ProviderView, c: CriteriaView,
                   providers: list[ProviderView]) -> dict[str, Any]:
    """A match as the API documents it, from the listing's own record."""
    ceiling = price_ceiling(c, p.score)
    verified = verified_attributes(p.attributes, p.attestations, frozenset({ATTESTOR}),
                                   c.trusted_attestors)
    history = (owner_history_by_scan(providers, p.owner, p.provider_id)
               if p.rating_weight == 0 else None)
    reasons = [score_reason(p.rating_weight, p.score, c.min_score),
               price_reason(p.price, ceiling, 0, None),
               reliability_reason(p.reliability, p.completed, p.failures)]
    if verified:
        reasons.append(verified_reason(verified, {ATTESTOR: ATTESTOR_ACCOUNT}))
    if history is not None:
        reasons.append(owner_history_reason(history))
    return {
        "rank": rank, "provider_id": p.provider_id, "name": f"Provider #{p.provider_id}",
        "owner": p.owner, "category": key_of("category", p.category),
        "region": key_of("region", p.region), "attributes": labels("attribute", p.attributes),
        "score": p.score, "stars": format_stars(p.score), "rating_weight": p.rating_weight,
        "weight_label": weight_label(p.rating_weight), "reliability": p.reliability,
        "reliability_label": reliability_label(p.reliability, p.completed, p.failures),
        "currency_id": 0,
        "verified": [{"attribute": key_of("attribute", v.attribute) or str(v.attribute),
                      "attestors": [{"id": a, "account": ATTESTOR_ACCOUNT} for a in v.attestors],
                      "trusted": v.trusted} for v in verified],
        "price": str(p.price), "price_label": format_amount(p.price, ETHER_CURRENCY),
        "ceiling": str(ceiling), "utility": round(utility, 6), "reasons": reasons,
        "picture": None, "picture_url": None,
        "adjusted_price": str(p.price - c.premium_per_star * (p.score - c.min_score) // STAR),
        "owner_history": history_json(history) if history is not None else None,
    }


BODIES: list[dict[str, Any]] = [
    {"category": "rides", "max_price": "0.1 ether", "k": 100},
    {"category": "rides", "max_price": "0.08 ether", "premium_per_star": "0.01 ether",
     "min_stars": "3", "score_weight": 1, "price_weight": 9, "k": 7},
    {"category": "rides", "max_price": "0.12 ether", "region": "helsinki", "score_weight": 9,
     "price_weight": 1, "trusted_attestors": [1]},
    {"category": "cleaning", "max_price": "0.1 ether", "min_stars": "2.5"},
]


@pytest.mark.parametrize("body", BODIES)
def test_the_api_answers_the_reference_ranking_and_explanations(
        world: tuple[Flask, list[ProviderView]], body: dict[str, Any]) -> None:
    from marketplace.web.api.contract import validate
    from marketplace.web.api.directory import criteria_view_of
    from marketplace.web.api.models import MatchBody

    app, providers = world
    with app.test_request_context():
        criteria, _version = criteria_view_of(validate(MatchBody, body), None)
    response = app.test_client().post("/api/v1/match", json=body)
    assert response.status_code == 200
    got = response.get_json()
    by_id = {p.provider_id: p for p in providers}
    reference = rank_reference(providers, criteria, None, body.get("k", 20),
                               frozenset({ATTESTOR}))
    assert reference  # every body ranks someone
    assert got["matches"] == [
        expected_match(rank, utility, by_id[pid], criteria, providers)
        for rank, (pid, utility) in enumerate(reference, 1)]
    assert got["eligible_count"] == len(rank_reference(providers, criteria, None, 10**6,
                                                       frozenset({ATTESTOR})))
    assert any(m["owner_history"] for m in got["matches"]) or body["category"] == "cleaning"
