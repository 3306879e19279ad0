"""How things read on a page and in the API: providers, bookings, amounts, stars, times."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from flask import Flask
from sqlalchemy import Engine

from marketplace import domain
from marketplace.catalogue import key_of, label, labels, names
from marketplace.domain import Status
from marketplace.matching.eligibility import ProviderView
from marketplace.matching.explain import format_stars
from marketplace.units import ETHER_CURRENCY, Currency, format_amount, format_wei
from marketplace.web.db import cached_metadata_many
from marketplace.web.money import iso_time, local_time
from marketplace.web.pictures import (
    MAX_PICTURE_BYTES,
    is_digest,
    megabytes,
    picture_url,
    too_large,
)

STATUS_LABELS = {
    Status.REQUESTED: "Requested: waiting for the provider",
    Status.ACCEPTED: "Accepted: the provider will deliver",
    Status.COMPLETED: "Completed: confirm or dispute",
    Status.SETTLED: "Settled: the provider was paid",
    Status.CANCELLED: "Cancelled: refunded",
    Status.DECLINED: "Declined: refunded",
    Status.EXPIRED: "Expired: refunded",
    Status.DISPUTED: "Disputed: waiting for an arbiter",
    Status.RESOLVED: "Resolved by arbitration",
}

EVENT_LABELS = {
    "BookingRequested": "Booked, price escrowed",
    "BookingAccepted": "Accepted by the provider",
    "BookingDeclined": "Declined by the provider, refunded",
    "BookingCancelled": "Cancelled by the customer, refunded",
    "BookingExpired": "Expired, refunded",
    "BookingCompleted": "Marked completed by the provider",
    "BookingSettled": "Settled: payment released",
    "BookingDisputed": "Disputed by the customer",
    "DisputeResolved": "Dispute resolved",
    "BookingRated": "Rated",
}


def short_address(account: str | None) -> str:
    """0x1234…abcd."""
    if not account:
        return ""
    return f"{account[:6]}…{account[-4:]}"


def when(timestamp: int | float | None) -> str:
    """A block timestamp in UTC, to the minute."""
    if not timestamp:
        return ""
    return datetime.fromtimestamp(float(timestamp), UTC).strftime("%Y-%m-%d %H:%M UTC")


def provider_name(row: Mapping[str, Any], documents: Mapping[str, Mapping[str, Any]]) -> str:
    """The provider's name from its metadata, else 'Provider #id'."""
    document = documents.get(str(row.get("metadata_hash", "")).lower())
    name = document.get("name") if document else None
    return str(name) if isinstance(name, str) and name else f"Provider #{row['provider_id']}"


def provider_json(
    row: Mapping[str, Any], documents: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """A provider for the API and the templates (amounts as decimal strings)."""
    document = documents.get(str(row["metadata_hash"]).lower()) or {}
    score = int(row["score"])
    return {
        "id": int(row["provider_id"]),
        "name": provider_name(row, documents),
        "description": str(document.get("description", "")) if document else "",
        "owner": row["owner"],
        "category": key_of("category", int(row["category"])),
        "category_label": label("category", int(row["category"])),
        "region": key_of("region", int(row["region"])),
        "region_label": label("region", int(row["region"])) if row["region"] else "Anywhere",
        "attributes": names("attribute", int(row["attributes"])),
        "attribute_labels": labels("attribute", int(row["attributes"])),
        "price": str(int(row["price"])),
        "price_label": format_wei(int(row["price"])),
        "stake": str(int(row["stake"])),
        "active": bool(row["active"]),
        "score": score,
        "stars": format_stars(score),
        "rating_count": int(row.get("rating_count") or 0),
        "disputes_lost": int(row.get("disputes_lost", 0)),
        "metadata_hash": row["metadata_hash"],
        "metadata_known": bool(document),
        **picture_json(document),
        **listing_v2(row),
    }


def picture_json(document: Mapping[str, Any] | None) -> dict[str, str | None]:
    """The picture a listing's metadata names: its digest and where it is served (None, None
    without one, or when the document's value is not a digest)."""
    digest = document.get("picture") if document else None
    if not is_digest(digest):
        return {"picture": None, "picture_url": None}
    return {"picture": str(digest), "picture_url": picture_url(str(digest))}


def listing_v2(row: Mapping[str, Any]) -> dict[str, Any]:
    """What contract v2 adds to a listing (docs/contract-v2.md), read from the store row when
    it has the column: currency, offer version, instant booking, cancellation terms, rating
    weight and reliability. A v1 row reads as ether, no terms, weight unknown."""
    currency = int(row.get("currency") or 0)
    weight = row.get("rating_weight")
    completed = row.get("completed")
    failures = row.get("failures")
    reliability = row.get("reliability")
    if reliability is None and completed is not None and failures is not None:
        rule = getattr(domain, "reliability", None)
        reliability = rule(int(completed), int(failures)) if rule is not None else None
    free_hours = row.get("free_cancel_hours")
    late_pct = row.get("late_cancel_pct")
    return {
        "currency_id": currency,
        "offer_version": int(row["offer_version"]) if row.get("offer_version") else None,
        "instant": bool(row.get("instant") or False),
        "free_cancel_hours": int(free_hours) if free_hours is not None else None,
        "late_cancel_pct": int(late_pct) if late_pct is not None else None,
        "terms_label": terms_label(free_hours, late_pct),
        "rating_weight": int(weight) if weight is not None else None,
        "weight_label": weight_label(int(weight)) if weight is not None else "",
        "completed": int(completed) if completed is not None else None,
        "failures": int(failures) if failures is not None else None,
        "reliability": int(reliability) if reliability is not None else None,
        "reliability_label": reliability_label(reliability, completed, failures),
        "v2": row.get("offer_version") is not None,
    }


def weight_label(weight: int) -> str:
    """A rating weight beside the stars: 1,000 is one minimum-fee rating."""
    if weight <= 0:
        return "no ratings yet"
    ratings = weight / 1_000
    shown = f"{ratings:,.1f}".rstrip("0").rstrip(".") if ratings < 100 else f"{ratings:,.0f}"
    return (f"weight {shown} (as much as {shown} minimum-fee rating"
            f"{'' if shown == '1' else 's'})")


def reliability_label(reliability: Any, completed: Any, failures: Any) -> str:
    """'92% reliable (45 completed, 2 failed)'; '' when unknown."""
    if reliability is None:
        return ""
    text = f"{int(reliability) / 100:g}% reliable"
    if completed is not None and failures is not None:
        text += f" ({int(completed)} completed, {int(failures)} failed)"
    return text


def terms_label(free_hours: Any, late_pct: Any) -> str:
    """A listing's cancellation terms in words; '' when the listing has none (v1)."""
    if free_hours is None or late_pct is None:
        return ""
    from marketplace.web.review import terms_text

    return terms_text(int(free_hours), int(late_pct))


def verified_json(listing_attributes: int, attestations: Iterable[Mapping[str, Any]],
                  attestors: Mapping[int, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each verified attribute and who verified it. Only bits the listing still claims count
    (`verified = attested & listing.attributes`), and only attestors still named."""
    by_attribute: dict[str, list[str]] = {}
    for record in attestations:
        attestor = attestors.get(int(record["attestor_id"]))
        if attestor is None or not attestor.get("allowed", True):
            continue
        verified = int(record["attributes"]) & listing_attributes
        who = f"attestor #{int(record['attestor_id'])} ({short_address(attestor['account'])})"
        for name in labels("attribute", verified):
            by_attribute.setdefault(name, []).append(who)
    return [{"attribute": name, "by": by} for name, by in sorted(by_attribute.items())]


def providers_json(engine: Engine, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Several providers, their metadata fetched in one query."""
    listed = list(rows)
    documents = cached_metadata_many(engine, [str(r["metadata_hash"]) for r in listed])
    out = [provider_json(r, documents) for r in listed]
    if any(p["currency_id"] for p in out):
        from marketplace.units import format_amount
        from marketplace.web.money import currencies, currency_or_default

        with engine.connect() as conn:
            known = currencies(conn)
        for item in out:
            currency = currency_or_default(known, item["currency_id"])
            item["price_label"] = format_amount(int(item["price"]), currency)
            item["currency_symbol"] = currency.symbol
    for item in out:
        item.setdefault("currency_symbol", "ETH")
    return out


def view_of_row(row: Mapping[str, Any]) -> ProviderView:
    """A provider row (`store.queries.get_provider`) as the eligibility rule takes it."""
    attestations = row.get("attestations") or {}
    return ProviderView(
        provider_id=int(row["provider_id"]), owner=str(row["owner"]),
        category=int(row["category"]), region=int(row["region"]),
        attributes=int(row["attributes"]), currency=int(row.get("currency") or 0),
        price=int(row["price"]), active=bool(row["active"]),
        rating_weight=int(row.get("rating_weight") or 0),
        weighted_stars=int(row.get("weighted_stars") or 0),
        completed=int(row.get("completed") or 0), failures=int(row.get("failures") or 0),
        attestations={int(k): int(v) for k, v in attestations.items()},
    )


def booking_json(row: Mapping[str, Any], currency: Currency | None = None,
                 zone: tzinfo = UTC) -> dict[str, Any]:
    """A booking for the API and the templates: amounts in the booking's currency, times in the
    viewer's zone (`zone`; UTC for the API), the slot, the terms locked at booking, the
    arbiter fixed at booking and each deadline."""
    status = Status(int(row["status"]))
    money = currency or (ETHER_CURRENCY if not int(row.get("currency") or 0) else
                         Currency(int(row["currency"]), f"currency #{int(row['currency'])}", 18))

    def amount(name: str) -> str | None:
        value = row.get(name)
        return None if value is None else format_amount(int(value), money)

    def at(name: str) -> str:
        value = row.get(name)
        return local_time(int(value), zone) if value else ""

    start = int(row.get("start") or 0)
    minutes = int(row.get("duration_minutes") or 0)
    free_hours, late_pct = row.get("free_cancel_hours"), row.get("late_cancel_pct")
    return {
        "id": hex(int(row["booking_id"])),
        "id_decimal": str(int(row["booking_id"])),
        "customer": row["customer"],
        "provider_id": int(row["provider_id"]),
        "currency": money.id,
        "currency_symbol": money.symbol,
        "price": str(int(row["price"])),
        "price_label": format_amount(int(row["price"]), money),
        "fee_label": amount("fee") or "",
        "criteria_version": int(row["criteria_version"]),
        "offer_version": int(row["offer_version"]) if row.get("offer_version") else None,
        "status": status.name.lower(),
        "status_label": STATUS_LABELS.get(status, status.name.title()),
        "terminal": status.is_terminal,
        "start": start,
        "start_label": local_time(start, zone) if start else "",
        "start_iso": iso_time(start) if start else "",
        "duration_minutes": minutes,
        "instant": bool(row.get("instant") or False),
        "terms_label": terms_label(free_hours, late_pct),
        "arbiter": row.get("arbiter"),
        "deadline": int(row["deadline"]),
        "deadline_label": at("deadline"),
        "respond_by_label": at("respond_by"),
        "service_by_label": at("service_by"),
        "confirm_by_label": at("confirm_by"),
        "arbitrate_by_label": at("arbitrate_by"),
        "requested_at": int(row["requested_at"]),
        "requested_label": at("requested_at"),
        "refund": _opt(row.get("refund")),
        "refund_label": amount("refund"),
        "payout": _opt(row.get("payout")),
        "payout_label": amount("payout"),
        "compensation_label": amount("compensation"),
        "fee": _opt(row.get("fee")),
        "bond_label": format_wei(int(row["bond"])) if row.get("bond") else None,
        "rated": bool(row["rated"]),
        # A dispute the provider lost is the booking's rating (one star), not the customer's.
        "rated_by_ruling": bool(row.get("failure")) and not row.get("by_default")
        and row.get("refund_bps") is not None,
        "stars": row.get("stars"),
        "weight_label": weight_label(int(row["weight"])) if row.get("weight") else "",
        "complaint_tags": names("complaint tag", int(row.get("complaint_tags") or 0)),
        "complaint_labels": labels("complaint tag", int(row.get("complaint_tags") or 0)),
    }


def _opt(value: Any) -> str | None:
    return None if value is None else str(int(value))


def timeline_json(events: Iterable[Mapping[str, Any]], currency: Currency | None = None,
                  zone: tzinfo = UTC) -> list[dict[str, Any]]:
    """A booking's events as steps people read: amounts in the booking's currency (bonds in
    ether), times in the viewer's zone."""
    money = currency or ETHER_CURRENCY

    def amount(args: Mapping[str, Any], name: str) -> str:
        return format_amount(int(args.get(name) or 0), money)

    steps = []
    for event in events:
        args = event["args"]
        detail = ""
        name = event["event"]
        label_text = EVENT_LABELS.get(name, name)
        if name == "BookingRated":
            tags = labels("complaint tag", int(args.get("complaintTags", 0)))
            detail = f"{args['stars']} stars" + (f"; complaints: {', '.join(tags)}" if tags else "")
            if args.get("weight"):
                detail += f"; {weight_label(int(args['weight']))}"
        elif name == "BookingCancelled":
            detail = f"refund {amount(args, 'refund')}"
            if int(args.get("compensation") or 0):
                detail += f", {amount(args, 'compensation')} kept by the provider (late)"
        elif name == "BookingDeclined":
            detail = f"refund {amount(args, 'refund')}"
            if args.get("afterAcceptance"):
                label_text = "Cancelled by the provider after accepting, refunded"
                detail += "; counts against the listing's reliability"
        elif name == "BookingExpired":
            detail = f"refund {amount(args, 'refund')}"
            if args.get("noShow"):
                label_text = "No-show: the provider did not deliver, refunded"
                detail += "; part of the provider's stake goes to the customer"
        elif name == "BookingSettled":
            detail = f"provider paid {amount(args, 'payout')}, fee {amount(args, 'fee')}"
        elif name == "BookingDisputed":
            detail = (f"bond {format_wei(int(args.get('bond') or 0))}; the arbiter rules by "
                      f"{local_time(int(args.get('arbitrateBy') or 0), zone)}")
        elif name == "DisputeResolved":
            detail = (f"refund {amount(args, 'refund')} to the customer, "
                      f"{amount(args, 'payout')} to the provider")
        elif name == "BookingRequested":
            detail = f"{amount(args, 'price')} escrowed"
        elif name == "BookingAccepted" and args.get("serviceBy"):
            detail = f"to be delivered by {local_time(int(args['serviceBy']), zone)}"
        elif name == "BookingCompleted" and args.get("confirmBy"):
            detail = f"confirm or dispute by {local_time(int(args['confirmBy']), zone)}"
        steps.append({
            "event": name,
            "label": label_text,
            "detail": detail,
            "block": int(event["block_number"]),
            "tx_hash": event["tx_hash"],
            "timestamp": int(event["timestamp"]),
            "when": local_time(int(event["timestamp"]), zone),
        })
    return steps


def score_path(history: list[dict[str, Any]], width: int = 320, height: int = 60) -> str:
    """An SVG polyline's points for a score history (0 to 5 stars, oldest at the left)."""
    if not history:
        return ""
    scores = [35_000] + [int(h["score"]) for h in history]
    step = width / max(len(scores) - 1, 1)
    points = []
    for i, score in enumerate(scores):
        y = height - (score / 50_000) * height
        points.append(f"{i * step:.1f},{y:.1f}")
    return " ".join(points)


def install_filters(app: Flask) -> None:
    """Register the template filters."""
    app.jinja_env.filters.update(
        eth=lambda wei: "" if wei is None else format_wei(int(wei)),
        money=lambda amount, currency: "" if amount is None else format_amount(int(amount),
                                                                                 currency),
        stars=lambda score: format_stars(int(score)),
        short=short_address,
        when=when,
        attributes=lambda mask: labels("attribute", int(mask or 0)),
        tags=lambda mask: labels("complaint tag", int(mask or 0)),
    )
    app.jinja_env.filters.update(picture_url=picture_url)
    app.jinja_env.tests.update(digest=is_digest)
    app.jinja_env.globals.update(now=lambda: int(time.time()), picture_limits={
        "bytes": MAX_PICTURE_BYTES, "label": megabytes(MAX_PICTURE_BYTES),
        "too_large": too_large().message})
