"""Catalogue, provider directory, matching and customers' criteria (read-only endpoints)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from marketplace.catalogue import (
    ATTRIBUTES,
    CATEGORIES,
    COMPLAINT_TAGS,
    REGIONS,
    Entry,
    key_of,
    names,
)
from marketplace.domain import RATING_WEIGHT_UNIT, STAR
from marketplace.matching.eligibility import CriteriaView
from marketplace.matching.explain import explain_exclusion, format_stars
from marketplace.matching.index import OwnerHistory
from marketplace.matching.listing import ListingFilter, listed_provider_ids
from marketplace.matching.ranking import Match, Verified, verified_attributes
from marketplace.store import queries as store_queries
from marketplace.web import forms, queries, ranking
from marketplace.web.api import bp
from marketplace.web.api.contract import (
    CategoryText,
    any_of,
    inputs_of,
    parse_body,
    parse_query,
    schema_of,
    semantic,
)
from marketplace.web.api.models import CriteriaBody, MatchBody, ProviderQuery, ProvidersQuery
from marketplace.web.auth import current_account
from marketplace.web.context import services
from marketplace.web.errors import FieldError, NotFound
from marketplace.web.present import providers_json, view_of_row

# Path values of a category: its key or its code, as the document's enum says.
CATEGORY_PATH = any_of(schema_of(CategoryText)["enum"])


def _entries(entries: tuple[Entry, ...]) -> list[dict[str, Any]]:
    return [{"code": e.code, "key": e.key, "label": e.label} for e in entries]


@bp.get("/catalogue")
def catalogue() -> ResponseReturnValue:
    """Names of categories, regions, attribute bits and complaint tags."""
    return jsonify({
        "categories": _entries(CATEGORIES),
        "regions": _entries(REGIONS),
        "attributes": _entries(ATTRIBUTES),
        "complaint_tags": _entries(COMPLAINT_TAGS),
    })


def _page(items: list[Any], page: int, per_page: int, total: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": (total + per_page - 1) // per_page}


@bp.get("/providers")
def providers() -> ResponseReturnValue:
    """Providers with filters (category, region, active, attributes, min_stars, max_price,
    owner) and paging (page, per_page)."""
    query = parse_query(ProvidersQuery)
    wanted = ListingFilter(
        category=forms.category(query.category) if query.category is not None else None,
        region=forms.region(query.region) if query.region is not None else None,
        active=query.active,
        required_attributes=forms.attribute_mask(query.attributes or [], "attributes"),
        # Finer than a ten-thousandth of a star cannot matter: round up to the next score.
        min_score=math.ceil(query.min_stars * STAR) if query.min_stars is not None else None,
        max_price=(forms.amount(query.max_price, "max_price")
                   if query.max_price is not None else None),
        currency=query.currency,
        min_reliability=(math.ceil(query.min_reliability * 100)
                         if query.min_reliability is not None else None),
        min_rating_weight=(math.ceil(query.min_track_record * RATING_WEIGHT_UNIT)
                           if query.min_track_record is not None else None),
        owner=query.owner.lower() if query.owner is not None else None,
    )
    svc = services()
    with svc.index.current().read() as columns:
        ids = listed_provider_ids(columns, wanted)
    chosen = ids[(query.page - 1) * query.per_page: query.page * query.per_page]
    with svc.engine.connect() as conn:
        rows = queries.search_providers_by_ids(conn, chosen)
    return jsonify(_page(providers_json(svc.engine, rows), query.page, query.per_page, len(ids)))


@bp.get("/providers/<pid:provider_id>")
def provider(provider_id: int) -> ResponseReturnValue:
    """One provider with score history and reviews; with `customer`, why it is (not) eligible."""
    customer = parse_query(ProviderQuery).customer
    customer = customer.lower() if customer else None
    svc = services()
    with svc.engine.connect() as conn:
        row = store_queries.get_provider(conn, provider_id)
        if row is None:
            raise NotFound(f"There is no provider #{provider_id}.", "provider_id")
        history = queries.score_history(conn, provider_id)
        reviews = queries.reviews(conn, provider_id)
        criteria = (queries.criteria_view(conn, customer, int(row["category"]))
                    if customer else None)
    data = providers_json(svc.engine, [row])[0]
    data.update(listing_signals(provider_id))
    data["score_history"] = history
    data["reviews"] = [
        {"booking_id": hex(int(r["booking_id"])), "customer": r["customer"],
         "stars": r["stars"],
         "complaint_tags": names("complaint tag", int(r["complaint_tags"] or 0)),
         "timestamp": r["timestamp"]}
        for r in reviews
    ]
    if customer is not None:
        index = svc.index.current()
        listing = index.view(provider_id) if provider_id in index else view_of_row(row)
        exclusion = explain_exclusion(listing, criteria, named_attestors=index.named_attestors())
        data["eligibility"] = {
            "customer": customer,
            "eligible": not exclusion.excluded,
            "criterion": exclusion.criterion.name.lower(),
            "reason": exclusion.reason,
            "detail": exclusion.detail,
        }
    return jsonify(data)


# ------------------------------------------------------------------ matching


def criteria_view_of(body: CriteriaBody, customer: str | None
                     ) -> tuple[CriteriaView, int | None]:
    """Criteria from the body, the customer's blocks, and the on-chain version if they match."""
    if body.score_weight is not None and body.price_weight is not None and (
            float(body.score_weight) == 0 and float(body.price_weight) == 0):
        raise FieldError("Score and price weights cannot both be zero.", "score_weight",
                         status=422, code="unprocessable")
    with semantic():  # the currencies as the matching index knows them: no store read
        criteria = forms.parse_criteria_inputs(inputs_of(body), services().index.currencies())
    blocked: list[int] = []
    owners: list[str] = []
    version: int | None = None
    if customer is not None:
        with services().engine.connect() as conn:
            current = store_queries.current_criteria(conn, customer, criteria.category)
            owners = store_queries.blocked_owners(conn, customer)
        if current is not None and int(current["version"]):
            blocked = list(current["blocked"])
            stored = queries.view_of_criteria(current, criteria.category, blocked, owners)
            if stored == criteria.to_view(stored.version, blocked, owners):
                version = stored.version
    return criteria.to_view(version or 1, blocked, owners), version


def listing_signals(provider_id: int) -> dict[str, Any]:
    """Who verified which claimed attribute (named attestors only) and the owner's record on
    its other listings, from the matching index (empty before the index has the listing)."""
    index = services().index.current()
    if provider_id not in index:
        return {"verified_by": [], "owner_history": None}
    with index.read() as columns:
        row = columns.row_of.get(provider_id)
        assert row is not None
        listing = columns.view(row)
        verified = verified_attributes(listing.attributes, listing.attestations,
                                       columns.named_attestors)
        history = columns.owner_history(listing.owner, excluding=provider_id)
        accounts = dict(columns.attestor_accounts)
    return {"verified_by": _verified_json(verified, accounts),
            "owner_history": _history_json(history)}


def _verified_json(verified: tuple[Verified, ...], accounts: Mapping[int, str]
                   ) -> list[dict[str, Any]]:
    return [{"attribute": key_of("attribute", v.attribute) or str(v.attribute),
             "attestors": [{"id": a, "account": accounts.get(a)} for a in v.attestors],
             "trusted": v.trusted} for v in verified]


def _history_json(history: OwnerHistory | None) -> dict[str, Any] | None:
    if history is None:
        return None
    return {"owner": history.owner, "listings": history.listings,
            "rating_weight": history.rating_weight, "score": history.score,
            "stars": format_stars(history.score), "reliability": history.reliability,
            "completed": history.completed, "failures": history.failures}


def signals_json(found: Match, accounts: Mapping[int, str]) -> dict[str, Any]:
    """What a match adds to its listing's facts: who verified which attribute, the owner's
    history for a listing without ratings, the score-adjusted price."""
    return {
        "adjusted_price": str(found.adjusted_price),
        "verified": _verified_json(found.verified, accounts),
        "owner_history": _history_json(found.owner_history),
    }


@bp.post("/match")
def match() -> ResponseReturnValue:
    """Criteria in, the top `k` eligible providers out, each with its reasons and quote."""
    body = parse_body(MatchBody)
    customer = body.customer.lower() if body.customer else None
    view, version = criteria_view_of(body, customer)
    svc = services()
    result, matches = ranking.match(
        svc, view, customer=customer if customer and customer == current_account() else None,
        personalise=body.personalise, k=body.k)
    accounts: Mapping[int, str] = {}
    if any(found.verified for found in result.matches):  # whose accounts to show
        with svc.index.current().read() as columns:
            accounts = dict(columns.attestor_accounts)
    for found, out in zip(result.matches, matches, strict=True):
        out.update(signals_json(found, accounts))
    payload: dict[str, Any] = {
        "matches": matches,
        "eligible_count": result.eligible_count,
        "criteria_version": version,
        "notes": list(result.notes),
    }
    if version is None:
        payload["notes"].append(
            "these criteria are not your on-chain criteria: set them before booking")
    if body.explain:
        payload["summary"] = ranking.exclusions(svc, view)
    return jsonify(payload)


@bp.post("/match/count")
def match_count() -> ResponseReturnValue:
    """How many providers qualify under the criteria, and how many each criterion excludes."""
    body = parse_body(MatchBody)
    view, _version = criteria_view_of(body, body.customer.lower() if body.customer else None)
    return jsonify(ranking.exclusions(services(), view))


# ------------------------------------------------------------------ criteria


_RAW_NUMBERS = ("region", "currency", "min_score", "min_reliability", "score_weight",
                "price_weight")
_RAW_AMOUNTS = ("max_price", "premium_per_star", "required_attributes", "refused_attributes",
                "verified_attributes", "trusted_attestors", "min_rating_weight")


def _criteria_row_json(row: dict[str, Any]) -> dict[str, Any]:
    from marketplace.matching.criteria import CriteriaInput, InvalidCriteria

    raw: dict[str, Any] = {name: int(row.get(name) or 0) for name in _RAW_NUMBERS}
    raw.update({name: str(int(row.get(name) or 0)) for name in _RAW_AMOUNTS})
    out: dict[str, Any] = {
        "category": int(row["category"]),
        "version": int(row["version"]),
        "blocked": list(row.get("blocked", [])),
        "blocked_owners": list(row.get("blocked_owners", [])),
        "raw": raw,
    }
    try:
        criteria = CriteriaInput.from_view(queries.view_of_criteria(row, int(row["category"])))
    except InvalidCriteria:  # a block-only row (never set) has no valid criteria
        return out
    if int(row["version"]):
        out["criteria"] = forms.criteria_json(criteria)
    return out


@bp.get("/criteria/<address:account>")
def criteria_all(account: str) -> ResponseReturnValue:
    """A customer's current criteria in every category they set (on-chain data, public)."""
    customer = account.lower()
    with services().engine.connect() as conn:
        rows = [store_queries.current_criteria(conn, customer, int(r["category"]))
                for r in queries.criteria_of(conn, customer)]
    return jsonify({"customer": customer,
                    "criteria": [_criteria_row_json(r) for r in rows if r is not None]})


@bp.get(f"/criteria/<address:account>/<{CATEGORY_PATH}:category>")
def criteria_one(account: str, category: str) -> ResponseReturnValue:
    """A customer's current criteria for one category, with blocks and version."""
    customer = account.lower()
    code = forms.category(category)
    with services().engine.connect() as conn:
        row = store_queries.current_criteria(conn, customer, code)
    if row is None:
        raise NotFound("This customer has no criteria for that category.", "category")
    data = _criteria_row_json(row)
    data["customer"] = customer
    return jsonify(data)
