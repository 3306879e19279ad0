"""The `/audit` pages: a Flask blueprint that needs nothing of the main app.

    from marketplace.audit.web import bp as audit_bp, init_app as init_audit
    app.register_blueprint(audit_bp)        # or init_audit(app, service) to choose the node

Pages (all GET, read-only): overview with charts, violations, event explorer (filter by booking,
customer or any account, provider, event type, block range), bookings and each booking's
timeline, providers, customers, charts. Every page takes `?format=csv` or `?format=json` and
then returns its whole table (not only the page shown) as a download.

The audit itself is an `AuditService` in `app.extensions["marketplace_audit"]`: set by
`init_app(app, service)`, or built on first use from `app.config["AUDIT_RPC_URL"]` and
`app.config["AUDIT_DEPLOYMENT"]` (a path), falling back to the environment's settings
(`MARKETPLACE_RPC_URL`, `MARKETPLACE_DEPLOYMENT`, `deployments/<chainId>.json`).
Templates extend `audit/base.html`; an app can override that one template to use its own layout.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from marketplace.audit import views
from marketplace.audit.auditor import AuditTarget
from marketplace.audit.exports import format_int, to_csv, to_json
from marketplace.audit.model import hex_id
from marketplace.audit.report import (
    CUSTOMER_COLUMNS,
    PROVIDER_COLUMNS,
    VIOLATION_COLUMNS,
    booking_row,
)
from marketplace.audit.service import AuditService, AuditState, AuditUnavailable
from marketplace.errors import MarketplaceError
from marketplace.units import format_eth

EXTENSION = "marketplace_audit"
FORMATS = ("html", "csv", "json")

bp = Blueprint(
    "audit",
    __name__,
    url_prefix="/audit",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
_create_lock = threading.Lock()


def init_app(app: Flask, service: AuditService | None = None, *, warm_up: bool = False) -> None:
    """Register the blueprint (once) and, if given, the service the pages read; with `warm_up`,
    start the first audit now on a background thread instead of on the first page view."""
    if service is not None:
        app.extensions[EXTENSION] = service
    if "audit" not in app.blueprints:
        app.register_blueprint(bp)
    if warm_up and service is not None:
        service.warm_up()


def service_from_config(config: Mapping[str, Any]) -> AuditService:
    """An AuditService for the node and deployment the app's config (or environment) names."""
    from marketplace.chain.deployment import load_deployment
    from marketplace.chain.rpc import RpcClient
    from marketplace.config import load_settings

    settings = load_settings(
        rpc_url=config.get("AUDIT_RPC_URL"),
        deployment_path=Path(config["AUDIT_DEPLOYMENT"]) if config.get("AUDIT_DEPLOYMENT")
        else None,
    )
    rpc = RpcClient(settings.rpc_url, timeout=float(config.get("AUDIT_RPC_TIMEOUT", 30)))
    try:
        if settings.deployment_path is not None:
            deployment = load_deployment(path=settings.deployment_path)
        else:
            deployment = load_deployment(rpc.chain_id())
    except BaseException:
        rpc.close()  # no service will own it
        raise
    return AuditService(
        rpc,
        AuditTarget.from_deployment(deployment),
        refresh_seconds=float(config.get("AUDIT_REFRESH_SECONDS", 5.0)),
    )


def get_service() -> AuditService:
    """The app's AuditService, built from its config on first use."""
    app = current_app
    service = app.extensions.get(EXTENSION)
    if service is None:
        with _create_lock:
            service = app.extensions.get(EXTENSION)
            if service is None:
                try:
                    service = service_from_config(app.config)
                except MarketplaceError as exc:
                    raise AuditUnavailable(str(exc)) from exc
                app.extensions[EXTENSION] = service
    assert isinstance(service, AuditService)
    return service


# ---------------------------------------------------------------- helpers


def _format() -> str:
    fmt = request.args.get("format", "html").lower()
    if fmt not in FORMATS:
        raise views.BadFilter(f"format must be one of {', '.join(FORMATS)}")
    return fmt


def _page() -> int:
    raw = request.args.get("page", "1")
    return max(1, views.parse_int(raw, "page")) if raw.strip() else 1


def _url_with(**changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params: dict[str, Any] = dict(request.args.items())
    params.update(changes)
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return url_for(str(request.endpoint), **(request.view_args or {}), **params)


def _export(name: str, columns: Sequence[str], rows: list[dict[str, Any]],
            extra: Mapping[str, Any] | None = None) -> Response | None:
    """The CSV or JSON download of a table when asked for, else None."""
    fmt = _format()
    if fmt == "csv":
        return Response(
            to_csv(columns, rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="audit-{name}.csv"'},
        )
    if fmt == "json":
        body = {**(extra or {}), "count": len(rows), "rows": rows}
        return Response(
            to_json(body),
            mimetype="application/json",
            headers={"Content-Disposition": f'inline; filename="audit-{name}.json"'},
        )
    return None


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "eth": format_eth,
        "num": lambda v: "-" if v is None else format_int(v) if isinstance(v, int) else v,
        "short": lambda text, n=10: text if text is None or len(str(text)) <= n + 4
        else f"{str(text)[:n]}…",
        "url_with": _url_with,
        "invariant_codes": views.INVARIANT_CODES,
        "status_names": views.STATUS_NAMES,
        "app_url": _app_url,
    }


def _app_url(endpoint: str, **values: Any) -> str | None:
    """A page of the marketplace app this blueprint is mounted in (issue 14: links between the
    app and /audit), None when the audit runs on its own."""
    if endpoint.split(".", 1)[0] not in current_app.blueprints:
        return None
    return url_for(endpoint, **values)


@bp.errorhandler(views.BadFilter)
def _bad_filter(exc: views.BadFilter) -> ResponseReturnValue:
    if request.args.get("format", "").lower() == "json":
        return Response(to_json({"error": str(exc)}), status=400, mimetype="application/json")
    return render_template("audit/error.html", message=str(exc), status=400), 400


@bp.errorhandler(AuditUnavailable)
def _unavailable(exc: AuditUnavailable) -> ResponseReturnValue:
    if request.args.get("format", "").lower() == "json":
        return Response(to_json({"error": str(exc)}), status=503, mimetype="application/json")
    return render_template("audit/error.html", message=str(exc), status=503), 503


def _render(template: str, state: AuditState, **context: Any) -> str:
    return render_template(
        template, state=state, report=state.report, meta=state.report.meta, **context
    )


# ---------------------------------------------------------------- pages


@bp.get("/")
def overview() -> ResponseReturnValue:
    """Result, invariants, totals, ledger, charts and the latest violations."""
    with get_service().view() as state:
        report = state.report
        fmt = _format()
        if fmt == "json":
            return Response(to_json(report.to_dict()), mimetype="application/json")
        if fmt == "csv":
            return Response(
                report.to_csv(),
                mimetype="text/csv",
                headers={"Content-Disposition": 'attachment; filename="audit-violations.csv"'},
            )
        return _render(
            "audit/overview.html",
            state,
            charts=views.charts(state),
            latest=views.violation_rows(report.violations[-20:][::-1]),
        )


@bp.get("/violations")
def violations() -> ResponseReturnValue:
    """Every violation, optionally of one invariant, booking or provider."""
    invariant = request.args.get("invariant", "").strip() or None
    if invariant is not None and invariant not in views.INVARIANT_CODES:
        raise views.BadFilter(f"unknown invariant {invariant!r}")
    booking = request.args.get("booking", "").strip()
    provider = request.args.get("provider", "").strip()
    with get_service().view() as state:
        rows = views.violation_rows(
            state.report.violations,
            invariant,
            views.parse_booking_id(booking) if booking else None,
            views.parse_int(provider, "provider") if provider else None,
        )
        exported = _export("violations", (*VIOLATION_COLUMNS, "title"), rows,
                           {"filters": {"invariant": invariant}})
        if exported is not None:
            return exported
        shown, pages = views.page_of(rows, _page())
        return _render("audit/violations.html", state, rows=shown, total=len(rows),
                       pages=pages, page=min(_page(), pages), invariant=invariant)


@bp.get("/events")
def events() -> ResponseReturnValue:
    """The event explorer."""
    with get_service().view() as state:
        names = sorted({spec.name for spec in state.auditor.decoder.specs.values()})
        flt = views.EventFilter.parse(request.args, names)
        found = views.filter_events(state, flt)
        fmt = _format()
        if fmt != "html":
            rows = [views.event_row(ev, state) for ev in found]
            exported = _export("events", (*views.EVENT_COLUMNS, "args"), rows,
                               {"filters": flt.as_params()})
            assert exported is not None
            return exported
        shown, pages = views.page_of(found, _page())
        rows = [views.event_row(ev, state) for ev in shown]
        return _render("audit/events.html", state, rows=rows, total=len(found), pages=pages,
                       page=min(_page(), pages), flt=flt, names=names)


@bp.get("/bookings")
def bookings() -> ResponseReturnValue:
    """Bookings of the audited range, newest first."""
    status = request.args.get("status", "").strip().upper() or None
    if status is not None and status not in views.STATUS_NAMES:
        raise views.BadFilter(f"unknown status {status!r}")
    customer = request.args.get("customer", "").strip()
    provider = request.args.get("provider", "").strip()
    with get_service().view() as state:
        rows = views.booking_rows(
            state,
            status,
            views.parse_address(customer) if customer else None,
            views.parse_int(provider, "provider") if provider else None,
        )
        exported = _export("bookings", views.BOOKING_COLUMNS, rows)
        if exported is not None:
            return exported
        shown, pages = views.page_of(rows, _page())
        return _render("audit/bookings.html", state, rows=shown, total=len(rows), pages=pages,
                       page=min(_page(), pages), status=status)


@bp.get("/bookings/<booking_id>")
def booking(booking_id: str) -> ResponseReturnValue:
    """One booking's timeline, figures and violations."""
    number = views.parse_booking_id(booking_id)
    with get_service().view() as state:
        found = state.replay.bookings.get(number)
        if found is None:
            return render_template(
                "audit/error.html", status=404,
                message=f"no booking {booking_id} in the audited history",
            ), 404
        rows = views.timeline(state, found)
        related = views.violation_rows(state.report.violations, booking=number)
        figures = booking_row(found, views.money_of(state))
        exported = _export(f"booking-{hex_id(number)}", views.TIMELINE_COLUMNS, rows,
                           {"booking": figures, "violations": related})
        if exported is not None:
            return exported
        return _render("audit/booking.html", state, booking=figures, rows=rows,
                       related=related)


@bp.get("/providers")
def providers() -> ResponseReturnValue:
    """Per-provider figures."""
    with get_service().view() as state:
        rows = state.report.providers
        exported = _export("providers", PROVIDER_COLUMNS, rows)
        if exported is not None:
            return exported
        return _render("audit/providers.html", state, rows=rows)


@bp.get("/customers")
def customers() -> ResponseReturnValue:
    """Per-customer figures."""
    with get_service().view() as state:
        rows = state.report.customers
        exported = _export("customers", CUSTOMER_COLUMNS, rows)
        if exported is not None:
            return exported
        shown, pages = views.page_of(rows, _page())
        return _render("audit/customers.html", state, rows=shown, total=len(rows),
                       pages=pages, page=min(_page(), pages))


SERIES = {
    "solvency": ("block", "time", "currency", "owed_label", "balance_label", "owed", "balance",
                 "difference", "escrow", "credits", "accrued_fees", "stakes", "bonds"),
    "daily": ("day", "bookings", "volume", "fees", "refunds", "payouts"),
    "scores": ("band", "low", "high", "providers"),
}


@bp.get("/charts")
def charts() -> ResponseReturnValue:
    """Solvency over time, volume and fees per day, the score distribution; `?series=` with
    `?format=csv|json` exports one series (JSON without `series` exports all three)."""
    series = request.args.get("series", "").strip() or None
    if series is not None and series not in SERIES:
        raise views.BadFilter(f"series must be one of {', '.join(SERIES)}")
    with get_service().view() as state:
        data = {
            "solvency": views.solvency_series(state),
            "daily": views.daily_series(state),
            "scores": views.score_series(state),
        }
        fmt = _format()
        if fmt == "json" and series is None:
            return Response(to_json(data), mimetype="application/json")
        if fmt != "html":
            name = series or "solvency"
            exported = _export(f"series-{name}", SERIES[name], data[name])
            assert exported is not None
            return exported
        return _render("audit/charts.html", state, charts=views.charts(state), data=data)
