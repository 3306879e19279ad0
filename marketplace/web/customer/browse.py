"""Home, the criteria editor, matches, provider pages and blocks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from marketplace.catalogue import key_of, label, names
from marketplace.domain import STAR, Status
from marketplace.matching.criteria import CriteriaInput
from marketplace.matching.eligibility import CriteriaView
from marketplace.matching.explain import explain_exclusion
from marketplace.store import queries as store_queries
from marketplace.units import ether_text
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
from marketplace.web.present import providers_json, score_path, view_of_row
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
    return {
        "category": actions.category_key(criteria.category),
        "region": key_of("region", criteria.region) or "any",
        "min_stars": str((Decimal(criteria.min_score) / STAR).normalize()),
        "max_price": ether_text(criteria.max_price),
        "premium_per_star": ether_text(criteria.premium_per_star),
        "required": names("attribute", criteria.required_attributes),
        "refused": names("attribute", criteria.refused_attributes),
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
    history: list[dict[str, Any]] = []
    if account:
        with services().engine.connect() as conn:
            current = store_queries.current_criteria(conn, account, category)
            if current is not None and current["blocked"]:
                rows = queries.providers_by_id(conn, current["blocked"])
                blocked = providers_json(services().engine, rows.values())
            history = [h for h in store_queries.criteria_history(conn, account, category)][-10:]
    if values is None:
        values = _values_of(current, category)
    return form_page(
        "criteria.html", status, category=category, values=values, errors=errors,
        current=current, blocked=blocked, history=history,
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
    if account:
        with svc.engine.connect() as conn:
            criteria_view = queries.criteria_view(conn, account, category)
        if criteria_view is not None:
            result_ranking, results = ranking.match(svc, criteria_view, customer=account, k=20)
            summary = ranking.exclusions(svc, criteria_view)
            proposals = len(svc.profiles.proposals(account, criteria_view))
    return render_template(
        "matches.html", category=category, criteria=criteria_view, matches=results,
        ranking=result_ranking, summary=summary, proposals=proposals,
        categories=ranking.category_entries(),
    )


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
    info = providers_json(svc.engine, [row])[0]
    exclusion = explain_exclusion(view_of_row(row), criteria_view) if account else None
    return render_template(
        "provider.html", provider=info, history=history, points=score_path(history),
        reviews=reviews, exclusion=exclusion, criteria=criteria_view, blocked=blocked,
        owner=bool(account and account == row["owner"]),
    )


@bp.post("/blocks")
def block() -> ResponseReturnValue:
    """Block or unblock a provider (setBlocked): a new criteria version."""
    require_account()
    intent = actions.block_intent(Inputs(request.form))
    return submit(intent)


