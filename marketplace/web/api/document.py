"""The OpenAPI 3.1 document of the JSON API (served at /api/v1/openapi.json).

Request parameters and bodies come from the pydantic models that validate them
(`marketplace.web.api.models`), path parameters from the same types the URL converters match;
the response shapes below describe what the handlers return.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from marketplace import __version__
from marketplace.catalogue import ATTRIBUTES, CATEGORIES, COMPLAINT_TAGS, REGIONS
from marketplace.web.actions import BOOKING_ACTIONS, LISTING_ACTIONS
from marketplace.web.api import models
from marketplace.web.api.contract import (
    Address,
    BookingId,
    CategoryText,
    ProviderId,
    Sender,
    TxHash,
    schema_of,
)
from marketplace.web.pictures import CONTENT_TYPES, MAX_PICTURE_BYTES, megabytes


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


WEI = {"type": "string", "pattern": "^[0-9]+$", "description": "an amount in wei"}
UNITS = {"type": "string", "pattern": "^[0-9]+$",
         "description": "an amount in the smallest unit of its currency"}
CURRENCY = {"type": "object", "properties": {
    "id": {"type": "integer"}, "symbol": {"type": "string"}, "decimals": {"type": "integer"},
    "token": {"type": ["string", "null"]}}}
TERMS = {"type": "object", "properties": {
    "free_cancel_hours": {"type": "integer"}, "late_cancel_pct": {"type": "integer"}}}
SCHEDULE = {"type": "object", "properties": {
    "time_zone": {"type": "string"},
    "hours": {"type": "array", "items": {"type": "object", "properties": {
        "day": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
        "from": {"type": "string"}, "to": {"type": "string"}}}}}}
ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
OBJECT = {"type": "object"}
STRINGS = {"type": "array", "items": {"type": "string"}}
ATTRIBUTE_KEYS = {"type": "array", "items": {"enum": [e.key for e in ATTRIBUTES]}}
PICTURE = {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$",
           "description": "the SHA-256 of the listing's picture (named in its metadata)"}
PICTURE_URL = {"type": ["string", "null"], "description": "where the picture is served"}

RESPONSE_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message", "field"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "field": {"type": ["string", "null"]},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "details": {"type": "object"},
        },
    },
    "Match": {
        "type": "object",
        "properties": {
            "rank": {"type": "integer"}, "provider_id": {"type": "integer"},
            "name": {"type": "string"}, "owner": {"type": ["string", "null"]},
            "category": {"type": ["string", "null"]},
            "score": {"type": "integer"}, "stars": {"type": "string"},
            "rating_weight": {"type": "integer", "description": (
                "the track record behind the stars: 1,000 = one minimum-fee rating")},
            "weight_label": {"type": "string"},
            "reliability": {"type": ["integer", "null"], "description": "basis points"},
            "reliability_label": {"type": "string"},
            "currency_id": {"type": "integer"},
            "price": UNITS, "price_label": {"type": "string"}, "ceiling": UNITS,
            "adjusted_price": {"type": "string", "pattern": "^-?[0-9]+$", "description": (
                "the price less the premium your criteria accept for the score above your "
                "minimum (smallest units; may be negative)")},
            "verified": {"type": "array", "items": _ref("Verified")},
            "owner_history": {"oneOf": [{"type": "null"}, _ref("OwnerHistory")],
                              "description": "a listing without ratings: its owner's record"},
            "utility": {"type": "number"},
            "reasons": {"type": "array", "items": {"type": "string"}},
            "picture": PICTURE, "picture_url": PICTURE_URL,
        },
    },
    "Verified": {
        "type": "object",
        "properties": {
            "attribute": {"type": "string"},
            "attestors": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "account": {"type": ["string", "null"]}}}},
            "trusted": {"type": "boolean", "description": "one of them is trusted by you"},
        },
    },
    "OwnerHistory": {
        "type": "object",
        "properties": {
            "owner": ADDRESS, "listings": {"type": "integer"},
            "rating_weight": {"type": "integer"}, "score": {"type": "integer"},
            "stars": {"type": "string"}, "reliability": {"type": "integer"},
            "completed": {"type": "integer"}, "failures": {"type": "integer"},
        },
    },
    "MatchResult": {
        "type": "object",
        "properties": {
            "matches": {"type": "array", "items": _ref("Match")},
            "eligible_count": {"type": "integer"},
            "criteria_version": {"type": ["integer", "null"]},
            "notes": {"type": "array", "items": {"type": "string"}},
            "summary": _ref("MatchCount"),
        },
    },
    "MatchCount": {
        "type": "object",
        "properties": {
            "eligible": {"type": "integer"},
            "in_category": {"type": "integer"},
            "excluded": {"type": "object"},
        },
    },
    "Provider": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "owner": ADDRESS, "category": {"type": ["string", "null"]},
            "region": {"type": ["string", "null"]},
            "attributes": {"type": "array", "items": {"type": "string"}},
            "price": UNITS, "stake": WEI, "active": {"type": "boolean"},
            "score": {"type": "integer"}, "stars": {"type": "string"},
            "rating_count": {"type": "integer"},
            "rating_weight": {"type": ["integer", "null"]},
            "reliability": {"type": ["integer", "null"]},
            "currency_id": {"type": "integer"}, "offer_version": {"type": ["integer", "null"]},
            "verified_by": {"type": "array", "items": _ref("Verified"), "description": (
                "claimed attributes verified by attestors the operator names (one provider)")},
            "owner_history": {"oneOf": [{"type": "null"}, _ref("OwnerHistory")],
                              "description": "the owner's other listings (one provider)"},
            "instant": {"type": ["boolean", "null"]},
            "free_cancel_hours": {"type": ["integer", "null"]},
            "late_cancel_pct": {"type": ["integer", "null"]},
            "picture": PICTURE, "picture_url": PICTURE_URL,
        },
    },
    "PictureStored": {
        "type": "object",
        "required": ["picture", "url", "content_type", "width", "height", "bytes"],
        "properties": {
            "picture": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": (
                "the SHA-256 of the bytes: give it as `picture` to /providers/tx or "
                "/providers/{provider_id}/tx/update")},
            "url": {"type": "string", "description": "where it is served (/media/<sha256>)"},
            "content_type": {"enum": sorted(CONTENT_TYPES.values())},
            "width": {"type": "integer"}, "height": {"type": "integer"},
            "bytes": {"type": "integer"},
        },
    },
    "Availability": {
        "type": "object",
        "required": ["provider_id", "schedule", "description", "bookable_any_time"],
        "properties": {
            "provider_id": {"type": "integer"},
            "schedule": {"oneOf": [{"type": "null"}, SCHEDULE]},
            "description": {"type": "string"},
            "bookable_any_time": {"type": "boolean"},
        },
    },
    "Slots": {
        "type": "object",
        "required": ["provider_id", "slots"],
        "properties": {
            "provider_id": {"type": "integer"}, "time_zone": {"type": ["string", "null"]},
            "from": {"type": "integer"}, "to": {"type": "integer"},
            "duration": {"type": "integer"}, "bookable_any_time": {"type": "boolean"},
            "slots": {"type": "array", "items": {"type": "object", "properties": {
                "start": {"type": "integer"}, "end": {"type": "integer"},
                "start_utc": {"type": "string", "format": "date-time"}}}},
            "booked": {"type": "array", "items": {"type": "object", "properties": {
                "start": {"type": "integer"}, "end": {"type": "integer"}}}},
            "truncated": {"type": "boolean"},
        },
    },
    "BookingPreparation": {
        "type": "object",
        "required": ["kind", "booking_id", "request", "price", "currency"],
        "properties": {
            "kind": {"enum": ["transaction", "permit", "approve"], "description": (
                "transaction: sign and send `tx`; permit: sign `typed_data` with "
                "eth_signTypedData_v4, then POST `then`; approve: send `approve`, then POST "
                "`then`")},
            "booking_id": {"type": "string"},
            "request": {"type": "object", "description": "BookingRequest fields"},
            "start_utc": {"type": "string"}, "end_utc": {"type": "string"},
            "price": UNITS, "price_label": {"type": "string"}, "currency": CURRENCY,
            "instant": {"type": "boolean"}, "terms": TERMS,
            "tx": {"type": "object"}, "function": {"type": "string"}, "args": {"type": "array"},
            "value": WEI, "label": {"type": "string"}, "next": {"type": "string"},
            "typed_data": {"type": "object", "description": "EIP-712 typed data (EIP-2612)"},
            "deadline": {"type": "integer"},
            "approve": _ref("UnsignedTransaction"),
            "then": {"type": "object", "properties": {"path": {"type": "string"},
                                                      "body": {"type": "object"}}},
        },
    },
    "CancellationPreview": {
        "type": "object",
        "required": ["booking_id", "status", "cancellable", "terms", "message"],
        "properties": {
            "booking_id": {"type": "string"}, "status": {"type": "string"},
            "at": {"type": "integer"}, "cancellable": {"type": "boolean"},
            "terms": TERMS, "free_until": {"type": "integer"}, "currency": CURRENCY,
            "refund": UNITS, "compensation": UNITS, "free": {"type": "boolean"},
            "message": {"type": "string"},
        },
    },
    "OperatorChanges": {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "kind": {"type": "string"}, "account": ADDRESS, "value": {"type": "string"},
            "status": {"enum": ["scheduled", "applied", "cancelled"]},
            "eta": {"type": "integer"}, "scheduled_block": {"type": "integer"},
            "done_block": {"type": ["integer", "null"]}}}}},
    },
    "ProviderPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref("Provider")},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "total": {"type": "integer"}, "pages": {"type": "integer"},
        },
    },
    "Booking": {
        "type": "object",
        "properties": {
            "id": {"type": "string"}, "customer": ADDRESS,
            "provider_id": {"type": "integer"}, "price": UNITS,
            "status": {"type": "string"}, "deadline": {"type": "integer"},
            "rated": {"type": "boolean"}, "stars": {"type": ["integer", "null"]},
            "complaint_tags": {"type": "array", "items": {"type": "string"}},
            "timeline": {"type": "array", "items": {"type": "object"}},
        },
    },
    "BookingPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref("Booking")},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "total": {"type": "integer"}, "pages": {"type": "integer"},
        },
    },
    "UnsignedTransaction": {
        "type": "object",
        "properties": {
            "tx": {
                "type": "object",
                "description": "eth_sendTransaction parameters (hex quantities, type 0x2)",
            },
            "function": {"type": "string"},
            "args": {"type": "array"},
            "value": WEI,
            "label": {"type": "string"},
            "next": {"type": "string"},
            "refund_preview": _ref("CancellationPreview"),
        },
    },
    "TxStatus": {
        "type": "object",
        "properties": {
            "hash": {"type": "string"},
            "status": {"enum": ["unknown", "pending", "failed", "mined", "indexed"]},
            "block": {"type": ["integer", "null"]},
            "indexed_block": {"type": "integer"},
            "message": {"type": "string"},
            "booking_id": {"type": "string"},
            "provider_id": {"type": "integer"},
        },
    },
    "FeedbackTags": {
        "type": "object",
        "required": ["tags", "model"],
        "properties": {
            "tags": {
                "type": "array",
                "description": "most confident first; empty when the text states no complaint",
                "items": {
                    "type": "object",
                    "required": ["key", "label", "confidence"],
                    "properties": {
                        "key": {"enum": [e.key for e in COMPLAINT_TAGS]},
                        "label": {"type": "string"},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                },
            },
            "model": {"type": "string"},
        },
    },
    "CriteriaDraft": {
        "type": "object",
        "required": ["criteria", "phrases", "unparsed"],
        "properties": {
            "criteria": {
                "type": "object",
                "description": "only the fields the sentence states (category also from the "
                               "request); review before setting them",
                "additionalProperties": False,
                "properties": {
                    "category": {"enum": [e.key for e in CATEGORIES]},
                    "region": {"enum": [e.key for e in REGIONS]},
                    "required": ATTRIBUTE_KEYS, "refused": ATTRIBUTE_KEYS,
                    "min_stars": {"type": "number", "exclusiveMinimum": 0, "maximum": 5},
                    "max_price": WEI,
                },
            },
            "phrases": {
                "type": "array",
                "description": "the stretch of the sentence behind each field, in order",
                "items": {
                    "type": "object",
                    "required": ["text", "field", "value"],
                    "properties": {
                        "text": {"type": "string"},
                        "field": {"enum": ["category", "region", "required", "refused",
                                           "min_stars", "max_price"]},
                        "value": {"type": "string"},
                    },
                },
            },
            "unparsed": {**STRINGS, "description": "words that set nothing"},
        },
    },
    "Profile": {
        "type": "object",
        "properties": {
            "customer": ADDRESS, "consent": {"type": "boolean"},
            "learned": {"type": ["object", "null"]},
            "proposals": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Notification": {
        "type": "object",
        "required": ["id", "kind", "provider_id", "category", "message", "block", "created_at",
                     "read"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"enum": ["top", "dropped"], "description": (
                "top: a changed listing entered your top three in a category you book; "
                "dropped: a provider you rely on no longer meets your criteria")},
            "provider_id": {"type": "integer"},
            "category": {"type": ["string", "null"]},
            "message": {"type": "string", "description": "what happened and why"},
            "block": {"type": "integer", "description": "the block that brought the change"},
            "created_at": {"type": "string", "format": "date-time"},
            "read": {"type": "boolean"},
        },
    },
    "NotificationPage": {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages", "unread"],
        "properties": {
            "items": {"type": "array", "items": _ref("Notification")},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "total": {"type": "integer"}, "pages": {"type": "integer"},
            "unread": {"type": "integer", "description": "unread notifications in all"},
        },
    },
    "NotificationsRead": {
        "type": "object",
        "required": ["marked", "unread"],
        "properties": {"marked": {"type": "integer"}, "unread": {"type": "integer"}},
    },
}
ERROR_TEXTS = {
    "400": "The request breaks this document's schema; `field` names the input",
    "401": "Sign in first (SIWE or a dev account), or give `from`",
    "403": "A browser session's state-changing call without its X-CSRF-Token header",
    "404": "No such thing",
    "409": "The contract would revert; the message says why, `details` has the custom error",
    "413": f"The request body is too large (a picture: over {megabytes(MAX_PICTURE_BYTES)})",
    "415": "The body is not JSON (send Content-Type: application/json); for /pictures, a form "
           "or JSON instead of the picture's bytes",
    "422": "The request matches the schema but breaks a rule it cannot state (a catalogue or "
           "market rule, two fields that conflict, or bytes that are no acceptable picture); "
           "`field` names the input",
    "503": "The chain node or the store does not answer",
}


@dataclass(frozen=True)
class Op:
    """One documented operation: its inputs are the models that validate them."""

    method: str
    path: str
    summary: str
    response: dict[str, Any]
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    errors: tuple[str, ...] = ()
    raw_body: dict[str, Any] | None = None  # a non-JSON body: its media types' content map
    status: str = "200"


PROVIDER_ID = schema_of(ProviderId)
BOOKING = {"booking_id": schema_of(BookingId)}
INPUT_ERRORS = ("400", "422", "503")
BODY_ERRORS = ("400", "403", "413", "415", "422", "503")
TX_ERRORS = (*BODY_ERRORS, "401", "409")
AUTH_ERRORS = ("401", "503")
# 503: the language model is missing on this server. Nothing here is a 422: the schema states
# every rule (a blank or too long text, an unknown category).
TEXT_ERRORS = ("400", "403", "413", "415", "503")
PLAIN_BOOKING_ACTIONS = sorted(set(BOOKING_ACTIONS) - {"rate", "resolve", "confirm_and_rate"})
PROVIDER = {"provider_id": PROVIDER_ID}
OWNER_ERRORS = ("400", "401", "403", "404", "413", "415", "422", "503")

OPERATIONS: tuple[Op, ...] = (
    Op("get", "/catalogue", "Names of categories, regions, attributes and tags", OBJECT,
       errors=("503",)),
    Op("get", "/providers", "Providers, filtered and paged", _ref("ProviderPage"),
       query=models.ProvidersQuery, errors=INPUT_ERRORS),
    Op("get", "/providers/{provider_id}",
       "One provider, its score history and reviews; eligibility for a customer",
       _ref("Provider"), {"provider_id": PROVIDER_ID}, query=models.ProviderQuery,
       errors=(*INPUT_ERRORS, "404")),
    Op("post", "/match", "Criteria in, ranked eligible providers with reasons out",
       _ref("MatchResult"), body=models.MatchBody, errors=BODY_ERRORS),
    Op("post", "/match/count", "How many providers qualify, and why the others do not",
       _ref("MatchCount"), body=models.MatchBody, errors=BODY_ERRORS),
    Op("get", "/criteria/{account}", "A customer's criteria in every category", OBJECT,
       {"account": schema_of(Address)}, errors=(*INPUT_ERRORS, "404")),
    Op("get", "/criteria/{account}/{category}", "A customer's criteria for one category",
       OBJECT, {"account": schema_of(Address),
                "category": schema_of(CategoryText)},
       errors=(*INPUT_ERRORS, "404")),
    Op("post", "/criteria/tx", "Build setCriteria", _ref("UnsignedTransaction"),
       body=models.CriteriaTxBody, errors=TX_ERRORS),
    Op("post", "/blocks/tx", "Build setBlocked (provider_id) or setOwnerBlocked (owner)",
       _ref("UnsignedTransaction"),
       body=models.BlockTxBody, errors=TX_ERRORS),
    Op("get", "/bookings", "Bookings of a customer and/or a provider, newest first",
       _ref("BookingPage"), query=models.BookingsQuery, errors=INPUT_ERRORS),
    Op("post", "/bookings/tx",
       "Prepare a booking of a slot: the book transaction (ether), or the permit to sign or "
       "the approve transaction (a token)", _ref("BookingPreparation"),
       body=models.BookTxBody, errors=(*TX_ERRORS, "404")),
    Op("post", "/bookings/permit/tx",
       "Build bookWithPermit from the signed permit (a token listing)",
       _ref("BookingPreparation"), body=models.PermitBookTxBody, errors=(*TX_ERRORS, "404")),
    Op("get", "/bookings/{booking_id}/cancellation",
       "What cancelling would refund under the booking's locked terms",
       _ref("CancellationPreview"), BOOKING, query=models.CancellationQuery,
       errors=(*INPUT_ERRORS, "404")),
    Op("get", "/bookings/{booking_id}", "One booking and its timeline", _ref("Booking"),
       BOOKING, errors=(*INPUT_ERRORS, "404")),
    Op("post", "/bookings/{booking_id}/tx/{action}", "Build one booking action",
       _ref("UnsignedTransaction"), {**BOOKING, "action": {"enum": PLAIN_BOOKING_ACTIONS}},
       body=Sender, errors=(*TX_ERRORS, "404")),
    Op("post", "/bookings/{booking_id}/tx/rate", "Build rate (stars and complaint tags)",
       _ref("UnsignedTransaction"), BOOKING, body=models.RateTxBody,
       errors=(*TX_ERRORS, "404")),
    Op("post", "/bookings/{booking_id}/tx/confirm_and_rate",
       "Build confirmAndRate (confirm and rate in one call)",
       _ref("UnsignedTransaction"), BOOKING, body=models.RateTxBody,
       errors=(*TX_ERRORS, "404")),
    Op("post", "/bookings/{booking_id}/tx/resolve",
       "Build resolve (the arbiter's refund share)", _ref("UnsignedTransaction"), BOOKING,
       body=models.ResolveTxBody, errors=(*TX_ERRORS, "404")),
    Op("post", "/pictures",
       "Store a listing picture (the raw bytes as the body: PNG, JPEG or WebP, told from the "
       f"bytes, at most {megabytes(MAX_PICTURE_BYTES)}; signed in); its SHA-256 goes "
       "in register or update as `picture`", _ref("PictureStored"),
       raw_body={kind: {"schema": {"type": "string", "format": "binary"}}
                 for kind in sorted(CONTENT_TYPES.values())},
       errors=("400", "401", "403", "413", "415", "422", "503"), status="201"),
    Op("post", "/providers/tx", "Build register (value = stake); stores the metadata off-chain",
       _ref("UnsignedTransaction"), body=models.RegisterTxBody, errors=TX_ERRORS),
    Op("post", "/providers/{provider_id}/tx/update", "Build updateProvider",
       _ref("UnsignedTransaction"), {"provider_id": PROVIDER_ID}, body=models.UpdateTxBody,
       errors=(*TX_ERRORS, "404")),
    Op("post", "/providers/{provider_id}/tx/top_up", "Build topUpStake (value = amount)",
       _ref("UnsignedTransaction"), PROVIDER, body=models.TopUpTxBody,
       errors=(*TX_ERRORS, "404")),
    Op("get", "/providers/{provider_id}/availability",
       "The listing's weekly hours (null: bookable at any time)", _ref("Availability"),
       PROVIDER, errors=(*INPUT_ERRORS, "404")),
    Op("put", "/providers/{provider_id}/availability",
       "Publish the listing's weekly hours (its owner)", _ref("Availability"), PROVIDER,
       body=models.AvailabilityBody, errors=OWNER_ERRORS),
    Op("delete", "/providers/{provider_id}/availability",
       "Withdraw the weekly hours: bookable at any time (its owner)", _ref("Availability"),
       PROVIDER, errors=("401", "403", "404", "503")),
    Op("get", "/providers/{provider_id}/slots",
       "Free start times: inside the weekly hours, after now, clear of open bookings",
       _ref("Slots"), PROVIDER, query=models.SlotsQuery, errors=(*INPUT_ERRORS, "404")),
    Op("post", "/attestations/tx", "Build attest (an attestor's verified attributes)",
       _ref("UnsignedTransaction"), body=models.AttestTxBody, errors=TX_ERRORS),
    Op("post", "/operator/changes/tx",
       "Build scheduleChange, applyChange or cancelChange (timelocked operator changes)",
       _ref("UnsignedTransaction"), body=models.ChangeTxBody, errors=TX_ERRORS),
    Op("get", "/operator/changes", "Timelocked changes: scheduled, applied, cancelled",
       _ref("OperatorChanges"), query=models.ChangesQuery, errors=INPUT_ERRORS),
    Op("post", "/providers/{provider_id}/tx/{action}", "Build a listing change",
       _ref("UnsignedTransaction"),
       {"provider_id": PROVIDER_ID, "action": {"enum": sorted(LISTING_ACTIONS)}},
       body=Sender, errors=(*TX_ERRORS, "404")),
    Op("post", "/withdraw/tx", "Build withdraw(currency)", _ref("UnsignedTransaction"),
       body=models.WithdrawTxBody, errors=TX_ERRORS),
    Op("get", "/tx/{hash}", "Where a transaction is: pending, mined, indexed, failed",
       _ref("TxStatus"), {"hash": schema_of(TxHash)}, errors=(*INPUT_ERRORS, "404")),
    Op("get", "/profile", "My consent, what was learned, suggested changes",
       _ref("Profile"), errors=AUTH_ERRORS),
    Op("delete", "/profile", "Erase everything stored about me off-chain", OBJECT,
       errors=(*AUTH_ERRORS, "403")),
    Op("put", "/profile/consent",
       "Grant or withdraw consent to personalised matching (granting learns from past "
       "ratings)", OBJECT, body=models.ConsentBody, errors=(*BODY_ERRORS, "401")),
    Op("get", "/profile/export", "Everything stored about me off-chain", OBJECT,
       errors=AUTH_ERRORS),
    Op("get", "/notifications",
       "My notifications, newest first: listings that entered my top three in a category I "
       "book, or that I rely on and no longer meet my criteria (with consent)",
       _ref("NotificationPage"), query=models.NotificationsQuery,
       errors=(*INPUT_ERRORS, "401")),
    Op("post", "/notifications/read", "Mark my notifications read (some ids, or all)",
       _ref("NotificationsRead"), body=models.ReadNotificationsBody,
       errors=(*BODY_ERRORS, "401")),
    Op("post", "/interpret/feedback",
       "Complaint tags (with confidences) understood in a rating's free text",
       _ref("FeedbackTags"), body=models.FeedbackTextBody, errors=TEXT_ERRORS),
    Op("post", "/interpret/criteria",
       "A criteria draft read from a sentence, with the phrase behind each field",
       _ref("CriteriaDraft"), body=models.CriteriaTextBody, errors=TEXT_ERRORS),
)


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or text, never JSON null: drop pydantic's null branch."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [o for o in options if o != {"type": "null"}]
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**rest, **kept[0]} if len(kept) == 1 else {**rest, "anyOf": kept}
    return {k: v for k, v in schema.items() if k != "default"}


def _query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    params = []
    for name, prop in schema["properties"].items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": False,
                                 "schema": _without_null(prop)}
        if param["schema"].get("type") == "array":
            param.update(style="form", explode=True)
        if "description" in prop:
            param["description"] = prop["description"]
        params.append(param)
    return params


def _body_schemas() -> tuple[dict[type[BaseModel], dict[str, Any]], dict[str, Any]]:
    bodies = sorted({op.body for op in OPERATIONS if op.body is not None},
                    key=lambda m: m.__name__)
    refs, top = models_json_schema([(m, "validation") for m in bodies],
                                   ref_template="#/components/schemas/{model}")
    return {m: refs[(m, "validation")] for m in bodies}, top.get("$defs", {})


def _operation(op: Op, body_refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": re.sub(r"[^a-z_]", "", f"{op.method}{op.path}".replace("/", "_")),
        "summary": op.summary,
        "responses": {
            op.status: {"description": "OK" if op.status == "200" else "Created",
                        "content": {"application/json": {"schema": op.response}}},
            **{code: {"$ref": f"#/components/responses/E{code}"} for code in sorted(op.errors)},
        },
    }
    params = [{"name": name, "in": "path", "required": True, "schema": schema}
              for name, schema in op.path_params.items()]
    if op.query is not None:
        params += _query_params(op.query)
    if params:
        spec["parameters"] = params
    if op.body is not None:
        media: dict[str, Any] = {"schema": body_refs[op.body]}
        extra = op.body.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        if isinstance(examples, list) and examples:
            media["example"] = examples[0]
        required = any(f.is_required() for f in op.body.model_fields.values())
        spec["requestBody"] = {"required": required, "content": {"application/json": media}}
    if op.raw_body is not None:
        spec["requestBody"] = {"required": True, "content": op.raw_body}
    return spec


def document(server: str = "") -> dict[str, Any]:
    """The OpenAPI document, with `server` as its base URL."""
    body_refs, defs = _body_schemas()
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, body_refs)
    responses = {
        f"E{code}": {"description": text,
                     "content": {"application/json": {"schema": _ref("Error")}}}
        for code, text in ERROR_TEXTS.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Curated marketplace API",
            "version": __version__,
            "description": (
                "Matching, criteria, availability, bookings and profiles (contract v2). "
                "Amounts are decimal strings in the smallest unit of their currency (wei for "
                "ether); times are Unix seconds; transaction endpoints return unsigned "
                "transactions for a wallet (a token booking: EIP-2612 typed data to sign with "
                "eth_signTypedData_v4). "
                "State-changing calls from a browser session need the X-CSRF-Token header "
                "(GET /auth/session). A request that breaks a schema below is a 400; one that "
                "matches it but breaks a rule no schema can state is a 422. Unknown paths are "
                "404 and unsupported methods 405 with an Allow header, in the same error shape."
            ),
        },
        "servers": [{"url": f"{server}/api/v1"}],
        "paths": paths,
        "components": {"schemas": {**RESPONSE_SCHEMAS, **defs}, "responses": responses},
    }
