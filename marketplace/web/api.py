"""The JSON API under /api/v1 (documented at /api/v1/openapi.json) and /healthz.

Errors share one shape: `{"error": code, "message": sentence, "field": name or null}` with a 4xx
status for anything the client sent. Amounts are wei as decimal strings (JavaScript numbers
cannot hold them); booking ids are 0x hex. Transaction endpoints return the unsigned
transaction for a wallet (`eth_sendTransaction` parameters) and never sign anything.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import text as sql_text

from marketplace.catalogue import ATTRIBUTES, CATEGORIES, COMPLAINT_TAGS, REGIONS, Entry
from marketplace.matching.eligibility import CriteriaView
from marketplace.matching.explain import explain_exclusion
from marketplace.matching.index import PRICE_CAP
from marketplace.store import queries as store_queries
from marketplace.web import actions, forms, queries, ranking
from marketplace.web.auth import current_account, require_account
from marketplace.web.chainio import ChainGateway
from marketplace.web.context import services
from marketplace.web.errors import FieldError, NotFound, WebError
from marketplace.web.forms import Inputs
from marketplace.web.learning import learn_from_ratings
from marketplace.web.live_index import read_checkpoint
from marketplace.web.present import (
    booking_json,
    providers_json,
    timeline_json,
    view_of_row,
)
from marketplace.web.txflow import build_for_api, tx_status

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def body() -> Inputs:
    """The request's JSON object (an empty body counts as {})."""
    if not request.get_data(cache=True):
        return Inputs({})
    if not request.is_json:
        raise FieldError("Send a JSON object with Content-Type: application/json.", None,
                         status=415, code="unsupported_media_type")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting: the JSON parser gives up
        data = None
    if not isinstance(data, dict):
        raise FieldError("The body must be a JSON object.", None, code="invalid_json")
    return Inputs(data)


def query_inputs() -> Inputs:
    """The query string as inputs (repeated parameters become lists)."""
    return Inputs(request.args)


def _sender(inputs: Inputs) -> str:
    given = inputs.get("from")
    if given is not None:
        return forms.address(given, "from")
    account = current_account()
    if account is None:
        raise FieldError("Give the sending address as `from`, or sign in.", "from")
    return account


def _entries(entries: tuple[Entry, ...]) -> list[dict[str, Any]]:
    return [{"code": e.code, "key": e.key, "label": e.label} for e in entries]


# ------------------------------------------------------------------ catalogue and providers


@bp.get("/catalogue")
def catalogue() -> ResponseReturnValue:
    """Names of categories, regions, attribute bits and complaint tags."""
    return jsonify({
        "categories": _entries(CATEGORIES),
        "regions": _entries(REGIONS),
        "attributes": _entries(ATTRIBUTES),
        "complaint_tags": _entries(COMPLAINT_TAGS),
    })


@bp.get("/providers")
def providers() -> ResponseReturnValue:
    """Providers with filters (category, region, active, attributes, min_stars, max_price,
    owner) and paging (page, per_page)."""
    inputs = query_inputs()
    page, per_page = forms.page_args(inputs)
    svc = services()
    category = forms.category(inputs.get("category")) if inputs.has("category") else None
    region = forms.region(inputs.get("region")) if inputs.has("region") else None
    active = forms.boolean(inputs.get("active"), "active") if inputs.has("active") else None
    required = forms.attribute_mask(inputs.getlist("attributes"), "attributes")
    min_score = forms.min_stars(inputs.get("min_stars")) if inputs.has("min_stars") else None
    max_price = (forms.amount(inputs.get("max_price"), "max_price")
                 if inputs.has("max_price") else None)
    owner = forms.address(inputs.get("owner"), "owner") if inputs.has("owner") else None
    index = svc.index.current()
    with index.read() as columns:
        mask = np.ones(len(columns), np.bool_)
        if category is not None:
            mask &= columns.category == category
        if region:
            mask &= columns.region == region
        if active is not None:
            mask &= columns.active == active
        if required:
            mask &= (columns.attributes & np.uint64(required)) == np.uint64(required)
        if min_score is not None:
            mask &= columns.score >= min_score
        if max_price is not None:
            mask &= columns.price <= min(max_price, PRICE_CAP)
            for row, exact in columns.big_prices.items():
                mask[row] &= exact <= max_price
        ids = np.sort(columns.provider_id[mask]).tolist()
    if owner is not None:
        ids = [i for i in ids if (lst := svc.index.listing(i)) is not None and lst.owner == owner]
    total = len(ids)
    chosen = ids[(page - 1) * per_page: page * per_page]
    with svc.engine.connect() as conn:
        rows = queries.search_providers_by_ids(conn, chosen)
    return jsonify({
        "items": providers_json(svc.engine, rows),
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": (total + per_page - 1) // per_page,
    })


@bp.get("/providers/<pid:provider_id>")
def provider(provider_id: int) -> ResponseReturnValue:
    """One provider with score history and reviews; with `customer`, why it is (not) eligible."""
    inputs = query_inputs()
    customer = forms.address(inputs.get("customer"), "customer") if inputs.has(
        "customer") else None
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
    data["score_history"] = history
    data["reviews"] = [
        {"booking_id": hex(int(r["booking_id"])), "customer": r["customer"],
         "stars": r["stars"], "complaint_tags": forms_names(r["complaint_tags"]),
         "timestamp": r["timestamp"]}
        for r in reviews
    ]
    if customer is not None:
        exclusion = explain_exclusion(view_of_row(row), criteria)
        data["eligibility"] = {
            "customer": customer,
            "eligible": not exclusion.excluded,
            "criterion": exclusion.criterion.name.lower(),
            "reason": exclusion.reason,
            "detail": exclusion.detail,
        }
    return jsonify(data)


def forms_names(mask: Any) -> list[str]:
    """Complaint tag keys of a mask (None = none)."""
    from marketplace.catalogue import names

    return names("complaint tag", int(mask or 0))


# ------------------------------------------------------------------ matching


def _criteria_for_match(inputs: Inputs) -> tuple[CriteriaView, str | None, int | None]:
    """Criteria from the body, the customer's blocks, and the on-chain version if they match."""
    criteria = forms.parse_criteria_inputs(inputs)
    customer = forms.address(inputs.get("customer"), "customer") if inputs.has(
        "customer") else None
    blocked: list[int] = []
    version: int | None = None
    if customer is not None:
        with services().engine.connect() as conn:
            current = store_queries.current_criteria(conn, customer, criteria.category)
        if current is not None and int(current["version"]):
            blocked = list(current["blocked"])
            stored = queries.view_of_criteria(current, criteria.category, blocked)
            if _same(stored, criteria.to_view(stored.version, blocked)):
                version = stored.version
    view = criteria.to_view(version or 1, blocked)
    return view, customer, version


def _same(a: CriteriaView, b: CriteriaView) -> bool:
    return a == b


@bp.post("/match")
def match() -> ResponseReturnValue:
    """Criteria in, the top `k` eligible providers out, each with its reasons and quote."""
    inputs = body()
    k = forms.integer(inputs.get("k") if inputs.has("k") else 20, "k", low=1,
                      high=ranking.MAX_K)
    personalise = forms.boolean(inputs.get("personalise"), "personalise", default=True)
    explain = forms.boolean(inputs.get("explain"), "explain", default=False)
    view, customer, version = _criteria_for_match(inputs)
    svc = services()
    signed_in = current_account()
    result, matches = ranking.match(
        svc, view, customer=customer if customer and customer == signed_in else None,
        personalise=personalise, k=k)
    payload: dict[str, Any] = {
        "matches": matches,
        "eligible_count": result.eligible_count,
        "criteria_version": version,
        "notes": list(result.notes),
    }
    if version is None:
        payload["notes"].append(
            "these criteria are not your on-chain criteria: set them before booking")
    if explain:
        payload["summary"] = ranking.exclusions(svc, view)
    return jsonify(payload)


@bp.post("/match/count")
def match_count() -> ResponseReturnValue:
    """How many providers qualify under the criteria, and how many each criterion excludes."""
    view, _customer, _version = _criteria_for_match(body())
    return jsonify(ranking.exclusions(services(), view))


# ------------------------------------------------------------------ criteria


def _criteria_row_json(row: dict[str, Any]) -> dict[str, Any]:
    from marketplace.matching.criteria import CriteriaInput, InvalidCriteria

    out: dict[str, Any] = {
        "category": int(row["category"]),
        "version": int(row["version"]),
        "blocked": list(row.get("blocked", [])),
        "raw": {
            "region": int(row["region"]), "min_score": int(row["min_score"]),
            "max_price": str(int(row["max_price"])),
            "premium_per_star": str(int(row["premium_per_star"])),
            "required_attributes": str(int(row["required_attributes"])),
            "refused_attributes": str(int(row["refused_attributes"])),
            "score_weight": int(row["score_weight"]), "price_weight": int(row["price_weight"]),
        },
    }
    try:
        criteria = CriteriaInput(
            category=int(row["category"]), region=int(row["region"]),
            min_score=int(row["min_score"]), max_price=int(row["max_price"]),
            premium_per_star=int(row["premium_per_star"]),
            required_attributes=int(row["required_attributes"]),
            refused_attributes=int(row["refused_attributes"]),
            score_weight=int(row["score_weight"]), price_weight=int(row["price_weight"]))
    except InvalidCriteria:  # a block-only row (never set) has no valid criteria
        return out
    if int(row["version"]):
        out["criteria"] = forms.criteria_json(criteria)
    return out


@bp.get("/criteria/<account>")
def criteria_all(account: str) -> ResponseReturnValue:
    """A customer's current criteria in every category they set (on-chain data, public)."""
    customer = forms.address(account, "account")
    with services().engine.connect() as conn:
        rows = [store_queries.current_criteria(conn, customer, int(r["category"]))
                for r in queries.criteria_of(conn, customer)]
    return jsonify({"customer": customer,
                    "criteria": [_criteria_row_json(r) for r in rows if r is not None]})


@bp.get("/criteria/<account>/<category>")
def criteria_one(account: str, category: str) -> ResponseReturnValue:
    """A customer's current criteria for one category, with blocks and version."""
    customer = forms.address(account, "account")
    code = forms.category(category)
    with services().engine.connect() as conn:
        row = store_queries.current_criteria(conn, customer, code)
    if row is None:
        raise NotFound("This customer has no criteria for that category.", "category")
    data = _criteria_row_json(row)
    data["customer"] = customer
    return jsonify(data)


@bp.post("/criteria/tx")
def criteria_tx() -> ResponseReturnValue:
    """The unsigned setCriteria transaction for the criteria in the body."""
    inputs = body()
    sender = _sender(inputs)
    intent, _criteria = actions.criteria_intent(inputs)
    return jsonify(build_for_api(intent, sender))


@bp.post("/blocks/tx")
def block_tx() -> ResponseReturnValue:
    """The unsigned setBlocked(providerId, blocked) transaction."""
    inputs = body()
    sender = _sender(inputs)
    return jsonify(build_for_api(actions.block_intent(inputs), sender))


# ------------------------------------------------------------------ bookings


def _booking_id(ref: str) -> int:
    return forms.big_id(ref, "booking_id")


@bp.post("/bookings/tx")
def book_tx() -> ResponseReturnValue:
    """The unsigned book(providerId, expectedPrice, criteriaVersion) transaction (value = price)."""
    inputs = body()
    sender = _sender(inputs)
    return jsonify(build_for_api(actions.book_intent(inputs), sender))


@bp.get("/bookings/<booking_ref>")
def booking(booking_ref: str) -> ResponseReturnValue:
    """One booking with its timeline."""
    booking_id = _booking_id(booking_ref)
    with services().engine.connect() as conn:
        row = store_queries.get_booking(conn, booking_id)
        if row is None:
            raise NotFound("There is no such booking.", "booking_id")
        events = store_queries.booking_timeline(conn, booking_id)
    data = booking_json(row)
    data["timeline"] = timeline_json(events)
    return jsonify(data)


@bp.get("/bookings")
def bookings() -> ResponseReturnValue:
    """Bookings of a customer (`customer`) or of a provider (`provider_id`)."""
    inputs = query_inputs()
    customer = forms.address(inputs.get("customer"), "customer") if inputs.has(
        "customer") else None
    provider_id = forms.optional_integer(inputs.get("provider_id"), "provider_id", low=1,
                                         high=2**32 - 1)
    if customer is None and provider_id is None:
        raise FieldError("Give `customer` or `provider_id`.", "customer")
    page, per_page = forms.page_args(inputs)
    with services().engine.connect() as conn:
        rows = store_queries.bookings_of(conn, customer=customer, provider_id=provider_id)
    rows.reverse()
    total = len(rows)
    chosen = rows[(page - 1) * per_page: page * per_page]
    return jsonify({"items": [booking_json(r) for r in chosen], "page": page,
                    "per_page": per_page, "total": total,
                    "pages": (total + per_page - 1) // per_page})


@bp.post("/bookings/<booking_ref>/tx/<action>")
def booking_tx(booking_ref: str, action: str) -> ResponseReturnValue:
    """The unsigned transaction of one booking action (cancel, accept, decline, complete,
    confirm, dispute, settle, expire, resolve_by_default, rate, resolve)."""
    booking_id = _booking_id(booking_ref)
    inputs = body()
    sender = _sender(inputs)
    intent = actions.booking_action_intent(booking_id, action, inputs)
    return jsonify(build_for_api(intent, sender))


# ------------------------------------------------------------------ listings and money


@bp.post("/providers/tx")
def register_tx() -> ResponseReturnValue:
    """The unsigned register transaction (value = stake); stores the metadata off-chain."""
    inputs = body()
    sender = _sender(inputs)
    return jsonify(build_for_api(actions.register_intent(inputs), sender))


@bp.post("/providers/<pid:provider_id>/tx/<action>")
def listing_tx(provider_id: int, action: str) -> ResponseReturnValue:
    """update (region, attributes, price, name, description), deactivate, reactivate,
    release_stake."""
    inputs = body()
    sender = _sender(inputs)
    if action == "update":
        intent = actions.update_intent(provider_id, inputs)
    else:
        intent = actions.listing_action_intent(provider_id, action)
    return jsonify(build_for_api(intent, sender))


@bp.post("/withdraw/tx")
def withdraw_tx() -> ResponseReturnValue:
    """The unsigned withdraw() transaction."""
    inputs = body()
    return jsonify(build_for_api(actions.withdraw_intent(), _sender(inputs)))


@bp.get("/tx/<tx_hash>")
def tx(tx_hash: str) -> ResponseReturnValue:
    """Where a transaction is: unknown, pending, failed, mined, or indexed (with what it made)."""
    checked = forms.tx_hash(tx_hash)
    with services().engine.connect() as conn:
        return jsonify(tx_status(conn, checked))


# ------------------------------------------------------------------ profile


@bp.get("/profile")
def profile() -> ResponseReturnValue:
    """My consent, what was learned, and suggested criteria changes (signed in)."""
    account = require_account()
    svc = services()
    with svc.engine.connect() as conn:
        learn_from_ratings(conn, svc, account)
        views = [queries.criteria_view(conn, account, int(r["category"]))
                 for r in queries.criteria_of(conn, account)]
    learned = svc.profiles.profile(account)
    proposals = [p.to_json() for v in views if v is not None
                 for p in svc.profiles.proposals(account, v)]
    return jsonify({
        "customer": account,
        "consent": svc.profiles.has_consent(account),
        "learned": learned.to_json() if learned else None,
        "proposals": proposals,
    })


@bp.route("/profile/consent", methods=["PUT", "POST"])
def profile_consent() -> ResponseReturnValue:
    """Grant (`{"granted": true}`) or withdraw consent to personalised matching."""
    account = require_account()
    granted = forms.boolean(body().get("granted"), "granted")
    svc = services()
    if granted:
        svc.profiles.grant_consent(account)
    else:
        svc.profiles.revoke_consent(account)
    return jsonify({"customer": account, "consent": svc.profiles.has_consent(account)})


@bp.get("/profile/export")
def profile_export() -> ResponseReturnValue:
    """Everything stored about me off-chain."""
    account = require_account()
    return jsonify(services().profiles.export(account))


@bp.delete("/profile")
def profile_erase() -> ResponseReturnValue:
    """Erase everything stored about me off-chain, consent history included."""
    account = require_account()
    services().profiles.erase(account)
    return jsonify({"customer": account, "erased": True})


# ------------------------------------------------------------------ documentation and health


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3 document of this API."""
    from marketplace.web.openapi import document

    return jsonify(document(request.host_url.rstrip("/")))


def healthz() -> ResponseReturnValue:
    """Chain, store and indexer: up or not, head, last indexed block, lag in blocks/seconds."""
    svc = services()
    report: dict[str, Any] = {"status": "ok"}
    head: int | None = None
    try:
        head = svc.chain.head()
        report["chain"] = {"ok": True, "head": head, "rpc": _redact(svc.config.settings.rpc_url)}
    except Exception as exc:  # any failure means: down
        report["chain"] = {"ok": False, "error": str(exc).splitlines()[0][:200]}
    report["payouts"] = _payouts(svc.chain) if head is not None else {
        "ok": False, "error": "the chain node does not answer"}
    try:
        with svc.engine.connect() as conn:
            conn.execute(sql_text("select 1"))
            checkpoint = read_checkpoint(conn)
        report["store"] = {"ok": True}
        if checkpoint is None:
            report["indexer"] = {"ok": False, "error": "the indexer has not run yet"}
        else:
            lag = None if head is None else max(head - checkpoint.last_block, 0)
            with svc.engine.connect() as conn:
                state = store_queries.status(conn)
            updated = float(state["updated_at"]) if state else 0.0
            report["indexer"] = {
                "ok": lag is not None and lag <= max(checkpoint.confirmations, 5),
                "chain_id": checkpoint.chain_id,
                "address": checkpoint.address,
                "last_block": checkpoint.last_block,
                "lag_blocks": lag,
                "seconds_since_commit": round(max(time.time() - updated, 0.0), 3),
            }
    except WebError:
        raise
    except Exception as exc:
        report["store"] = {"ok": False, "error": str(exc).splitlines()[0][:200]}
        report.setdefault("indexer", {"ok": False, "error": "the store does not answer"})
    index_checkpoint = svc.index.checkpoint
    report["matching"] = {
        "providers": len(svc.index.current()) if report["store"].get("ok") else None,
        "at_block": index_checkpoint.last_block if index_checkpoint else None,
    }
    healthy = all(report[part]["ok"] for part in ("chain", "payouts", "store", "indexer"))
    report["status"] = "ok" if healthy else "degraded"
    return jsonify(report), 200 if healthy else 503


def _payouts(chain: ChainGateway) -> dict[str, Any]:
    """Can the contract pay out on this chain? A chain without the EVM features it is compiled
    for (Cancun's transient storage) takes stakes and escrows it can never release."""
    try:
        support = chain.evm_support()
    except Exception as exc:  # the node went away between the two calls
        return {"ok": False, "error": str(exc).splitlines()[0][:200]}
    report = support.to_dict()
    if not support.ok:
        report["error"] = support.sentence()
    return report


def _redact(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"
