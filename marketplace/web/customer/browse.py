"""Home, the criteria editor, matches, provider pages and blocks."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from marketplace.catalogue import key_of, label, names
from marketplace.domain import RATING_WEIGHT_UNIT, STAR, UINT96_MAX, Status, attestor_ids
from marketplace.matching.criteria import CriteriaInput
from marketplace.matching.eligibility import CriteriaView
from marketplace.matching.explain import explain_exclusion
from marketplace.store import queries as store_queries
from marketplace.web import actions, forms, queries, ranking
from marketplace.web.auth import current_account, require_account
from marketplace.web.context import services
from marketplace.web.customer import bp, criteria_sentence
from marketplace.web.customer.common import (
    category_arg,
    errors_of,
    form_page,
    form_values_from,
    safe_category,
)
from marketplace.web.errors import FieldError, Forbidden, NotFound, TxRefused, Unauthorized
from marketplace.web.forms import Inputs
from marketplace.web.money import amount_text, currencies, currency_or_default
from marketplace.web.present import providers_json, score_path, verified_json, view_of_row
from marketplace.web.review import simple_review
from marketplace.web.txflow import submit

DEFAULT_CRITERIA = CriteriaInput(category=1, min_score=30_000, max_price=10**17,
                                 premium_per_star=2 * 10**16, score_weight=6_000,
                                 price_weight=4_000)



# ------------------------------------------------------------------ home


@bp.get("/")
def index() -> ResponseReturnValue:
    """The home page: what the marketplace is, and the signed-in customer's overview."""
    account = current_account()
    overview: dict[str, Any] = {}
    if account:
        with services().engine.connect() as conn:
            overview["criteria"] = [
                {"category": label("category", int(r["category"])),
                 "key": actions.category_key(int(r["category"])), "version": int(r["version"])}
                for r in queries.criteria_of(conn, account) if int(r["version"])
            ]
            mine = store_queries.bookings_of(conn, customer=account)
            overview["open_bookings"] = sum(1 for b in mine if not Status(b["status"]).is_terminal)
            overview["bookings"] = len(mine)
            overview["credit"] = store_queries.credit_of(conn, account)
            overview["listings"] = len(queries.providers_of_owner(conn, account))
    return render_template("index.html", overview=overview,
                           categories=ranking.category_entries())


# ------------------------------------------------------------------ criteria


def _criteria_form_values(criteria: CriteriaInput) -> dict[str, Any]:
    score_share, price_share = forms.weights_percent(criteria)
    with services().engine.connect() as conn:
        known = currencies(conn)
    currency = currency_or_default(known, criteria.currency)
    return {
        "category": actions.category_key(criteria.category),
        "region": key_of("region", criteria.region) or "any",
        "currency": str(criteria.currency),
        "min_stars": str((Decimal(criteria.min_score) / STAR).normalize()),
        "max_price": amount_text(criteria.max_price, currency),
        "premium_per_star": amount_text(criteria.premium_per_star, currency),
        "required": names("attribute", criteria.required_attributes),
        "refused": names("attribute", criteria.refused_attributes),
        "verified": names("attribute", criteria.verified_attributes),
        "trusted_attestors": [str(i) for i in attestor_ids(criteria.trusted_attestors)],
        "min_track_record": f"{Decimal(criteria.min_rating_weight) / RATING_WEIGHT_UNIT:f}"
        .rstrip("0").rstrip(".") if criteria.min_rating_weight else "0",
        "min_reliability": f"{criteria.min_reliability / 100:g}",
        "score_weight": score_share,
        "price_weight": price_share,
    }




def _values_of(current: dict[str, Any] | None, category: int) -> dict[str, Any]:
    """The criteria form's values for a stored criteria row (the defaults without one)."""
    if current is not None and int(current["version"]):
        return _criteria_form_values(
            CriteriaInput.from_view(queries.view_of_criteria(current, category)))
    return _criteria_form_values(DEFAULT_CRITERIA.changed(category=category))


def _current_values(category: int) -> dict[str, Any]:
    """The criteria form's values for the signed-in customer's current criteria in a category
    (the defaults when there are none, or nobody is signed in)."""
    account = current_account()
    if not account:
        return _values_of(None, category)
    with services().engine.connect() as conn:
        return _values_of(store_queries.current_criteria(conn, account, category), category)


def _criteria_page(category: int, values: dict[str, Any] | None, errors: dict[str, str],
                   status: int = 200, *, sentence: str = "",
                   sentence_category: str | None = None,
                   reading: criteria_sentence.Reading | None = None) -> ResponseReturnValue:
    account = current_account()
    current = None
    blocked: list[dict[str, Any]] = []
    blocked_owners: list[str] = []
    history: list[dict[str, Any]] = []
    with services().engine.connect() as conn:
        known = currencies(conn)
        attestor_rows = sorted(queries.attestors(conn).values(), key=lambda a: a["attestor_id"])
        if account:
            current = store_queries.current_criteria(conn, account, category)
            if current is not None and current["blocked"]:
                rows = queries.providers_by_id(conn, current["blocked"])
                blocked = providers_json(services().engine, rows.values())
            blocked_owners = store_queries.blocked_owners(conn, account)
            history = [h for h in store_queries.criteria_history(conn, account, category)][-10:]
    if values is None:
        values = _values_of(current, category)
    return form_page(
        "criteria.html", status, category=category, values=values, errors=errors,
        current=current, blocked=blocked, history=history, blocked_owners=blocked_owners,
        currencies=sorted(known.values(), key=lambda c: c.id),
        attestors=[a for a in attestor_rows if a["allowed"]],
        categories=ranking.category_entries(), sentence=sentence, reading=reading,
        sentence_category=(actions.category_key(category) if sentence_category is None
                           else sentence_category),
    )


@bp.get("/criteria")
def criteria() -> ResponseReturnValue:
    """The criteria editor for one category, with a live count of qualifying providers."""
    return _criteria_page(category_arg(), None, {})


@bp.post("/criteria")
def criteria_save() -> ResponseReturnValue:
    """Validate the criteria and set them on-chain (setCriteria)."""
    inputs = Inputs(request.form)
    category_code = safe_category(request.form.get("category"))
    try:
        require_account()
        intent, _criteria = actions.criteria_intent(inputs)
        return submit(intent)
    except (FieldError, TxRefused, Unauthorized, Forbidden) as exc:
        values = form_values_from(request.form)
        return _criteria_page(category_code, values, errors_of(exc), exc.status)


@bp.post("/criteria/describe")
def criteria_describe() -> ResponseReturnValue:
    """Read "Describe what you want" into the criteria form for review; nothing is signed here.

    The page shows each understood phrase with the field it set, the words that set nothing,
    and the form pre-filled with the draft over the current criteria; saving that form is the
    usual setCriteria transaction (`criteria_save`).
    """
    page_category = category_arg()
    sentence = request.form.get(criteria_sentence.SENTENCE_FIELD, "")
    chosen = request.form.get(criteria_sentence.CATEGORY_FIELD, "").strip()
    try:
        reading = criteria_sentence.read_sentence(sentence, chosen, _current_values)
    except FieldError as exc:
        return _criteria_page(page_category, None, errors_of(exc), exc.status,
                              sentence=sentence, sentence_category=chosen)
    return _criteria_page(reading.category, reading.values, {}, sentence=sentence,
                          sentence_category=chosen, reading=reading)






# ------------------------------------------------------------------ matches


@bp.get("/matches")
def matches() -> ResponseReturnValue:
    """Ranked providers for the customer's criteria in a category, with reasons and quotes."""
    category = category_arg()
    account = current_account()
    svc = services()
    criteria_view: CriteriaView | None = None
    results: list[dict[str, Any]] = []
    result_ranking = None
    summary: dict[str, Any] = {}
    proposals = 0
    shown = _shown_arg()
    if account:
        with svc.engine.connect() as conn:
            criteria_view = queries.criteria_view(conn, account, category)
        if criteria_view is not None:
            result_ranking, results = ranking.match(svc, criteria_view, customer=account,
                                                    k=shown)
            summary = ranking.exclusions(svc, criteria_view)
            proposals = len(svc.profiles.proposals(account, criteria_view))
    else:
        # Signed out: browse every active listing of the category priced in ether, ranked by
        # score and price as a new customer's would be; booking asks to sign in.
        # (version 1: a set of criteria, as the rule requires; nothing is stored)
        browse = CriteriaView(category=category, max_price=UINT96_MAX, version=1)
        result_ranking, results = ranking.match(svc, browse, k=shown)
        summary = ranking.exclusions(svc, browse)
    return render_template(
        "matches.html", category=category, criteria=criteria_view, matches=results,
        ranking=result_ranking, summary=summary, proposals=proposals,
        categories=ranking.category_entries(), shown=shown, step=MATCHES_STEP,
    )


MATCHES_STEP = 20  # results per "Show more"
MATCHES_MAX = 10_000


def _shown_arg() -> int:
    """How many matches the page lists (`?show=`, a multiple of the step; every result is
    reachable by "Show more", issue 14)."""
    raw = request.args.get("show", "")
    try:
        wanted = int(raw) if raw.strip() else MATCHES_STEP
    except ValueError:
        wanted = MATCHES_STEP
    wanted = max(MATCHES_STEP, min(wanted, MATCHES_MAX))
    return -(-wanted // MATCHES_STEP) * MATCHES_STEP


# ------------------------------------------------------------------ providers


@bp.get("/providers/<pid:provider_id>")
def provider(provider_id: int) -> ResponseReturnValue:
    """A provider: attributes, score history, reviews with complaint tags, and eligibility."""
    svc = services()
    account = current_account()
    with svc.engine.connect() as conn:
        row = store_queries.get_provider(conn, provider_id)
        if row is None:
            raise NotFound(f"There is no provider #{provider_id} (yet).", None)
        history = queries.score_history(conn, provider_id)
        reviews = queries.reviews(conn, provider_id)
        criteria_view = (queries.criteria_view(conn, account, int(row["category"]))
                         if account else None)
        blocked = bool(account and provider_id in (criteria_view.blocked if criteria_view
                                                   else ()))
        attestor_rows = queries.attestors(conn)
        attested = queries.attestations(conn, provider_id)
        owner_row = store_queries.owner_history(conn, str(row["owner"]))
        owner_blocked = bool(account and str(row["owner"]).lower() in
                             store_queries.blocked_owners(conn, account))
    info = providers_json(svc.engine, [row])[0]
    exclusion = explain_exclusion(view_of_row(row), criteria_view) if account else None
    others = [r for r in (owner_row or {}).get("listings_detail", [])
              if int(r["provider_id"]) != provider_id]
    return render_template(
        "provider.html", provider=info, history=history, points=score_path(history),
        reviews=reviews, exclusion=exclusion, criteria=criteria_view, blocked=blocked,
        owner=bool(account and account == row["owner"]),
        verified=verified_json(int(row["attributes"]), attested, attestor_rows),
        owner_listings=providers_json(svc.engine, others), owner_summary=owner_row,
        owner_blocked=owner_blocked, is_new=int(row.get("rating_weight") or 0) == 0,
    )


@bp.post("/blocks")
def block() -> ResponseReturnValue:
    """Block or unblock a listing (setBlocked) or an owner (setOwnerBlocked: every listing it
    owns, present and future): a new criteria version, after the review."""
    require_account()
    inputs = Inputs(request.form)
    if inputs.get("owner"):
        intent = actions.owner_block_intent(inputs)
        owner, blocked = intent.args
        facts = [("Owner", str(owner).lower()),
                 ("Effect", "Every listing this owner has or registers later, in every category, "
                  "is excluded for you" if blocked else "This owner's listings can match again")]
        final = [] if not blocked else ["You can unblock later; bookings already made stay."]
        return submit(dataclasses.replace(intent, review=simple_review(
            facts, final, request.referrer or url_for("customer.criteria"))))
    intent = actions.block_intent(inputs)
    provider_id, blocked = intent.args
    facts = [("Listing", f"#{provider_id}"),
             ("Effect", "Excluded from your matches and bookings in its category" if blocked
              else "Can match again if it meets your criteria")]
    return submit(dataclasses.replace(intent, review=simple_review(
        facts, [], url_for("customer.provider", provider_id=provider_id))))


