"""The OpenAPI 3.1 document of the JSON API (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from marketplace import __version__
from marketplace.web.actions import BOOKING_ACTIONS, LISTING_ACTIONS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "404": {"$ref": "#/components/responses/NotFound"},
}
TX_ERRORS = {
    **ERRORS,
    "409": {"$ref": "#/components/responses/ContractRevert"},
    "503": {"$ref": "#/components/responses/Unavailable"},
}
AUTH_ERRORS = {"401": {"$ref": "#/components/responses/SignInRequired"}}

WEI = {"type": "string", "pattern": "^[0-9]+$", "description": "an amount in wei"}
AMOUNT = {
    "oneOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "description": "wei digits, or a decimal and a unit: '0.1 ether'"},
    ]
}
ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
BOOKING_ID = {"type": "string", "description": "0x hex (or decimal) booking id"}


def _param(name: str, where: str, schema: dict[str, Any], required: bool = False,
           description: str = "") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "required": required, "schema": schema}
    if description:
        param["description"] = description
    return param


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _tx_op(summary: str, body_schema: dict[str, Any] | None, params: list[dict[str, Any]] | None
           = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {"200": _json(_ref("UnsignedTransaction")), **TX_ERRORS},
    }
    if body_schema is not None:
        op["requestBody"] = _body(body_schema, required=False)
    if params:
        op["parameters"] = params
    return op


def document(server: str = "") -> dict[str, Any]:
    """The OpenAPI document, with `server` as its base URL."""
    criteria_props: dict[str, Any] = {
        "category": {"type": ["string", "integer"], "description": "catalogue key or code"},
        "region": {"type": ["string", "integer", "null"], "description": "key, code, or 'any'"},
        "min_stars": {"type": ["number", "string"], "minimum": 0, "maximum": 5},
        "max_price": AMOUNT,
        "premium_per_star": AMOUNT,
        "required": {"type": "array", "items": {"type": "string"}},
        "refused": {"type": "array", "items": {"type": "string"}},
        "score_weight": {"type": ["number", "string"], "minimum": 0},
        "price_weight": {"type": ["number", "string"], "minimum": 0},
    }
    schemas: dict[str, Any] = {
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
        "Criteria": {
            "type": "object",
            "required": ["category", "max_price"],
            "properties": criteria_props,
        },
        "MatchRequest": {
            "allOf": [_ref("Criteria"), {
                "type": "object",
                "properties": {
                    "customer": ADDRESS,
                    "k": {"type": "integer", "minimum": 1, "maximum": 100},
                    "personalise": {"type": "boolean"},
                    "explain": {"type": "boolean"},
                },
            }],
        },
        "Match": {
            "type": "object",
            "properties": {
                "rank": {"type": "integer"}, "provider_id": {"type": "integer"},
                "name": {"type": "string"}, "owner": {"type": ["string", "null"]},
                "score": {"type": "integer"}, "stars": {"type": "string"},
                "price": WEI, "ceiling": WEI, "utility": {"type": "number"},
                "reasons": {"type": "array", "items": {"type": "string"}},
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
                "price": WEI, "stake": WEI, "active": {"type": "boolean"},
                "score": {"type": "integer"}, "stars": {"type": "string"},
                "rating_count": {"type": "integer"},
            },
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
                "provider_id": {"type": "integer"}, "price": WEI,
                "status": {"type": "string"}, "deadline": {"type": "integer"},
                "rated": {"type": "boolean"}, "stars": {"type": ["integer", "null"]},
                "complaint_tags": {"type": "array", "items": {"type": "string"}},
                "timeline": {"type": "array", "items": {"type": "object"}},
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
        "Profile": {
            "type": "object",
            "properties": {
                "customer": ADDRESS, "consent": {"type": "boolean"},
                "learned": {"type": ["object", "null"]},
                "proposals": {"type": "array", "items": {"type": "object"}},
            },
        },
    }
    sender = {"from": ADDRESS}
    listing_props = {
        "region": {"type": ["string", "integer"]},
        "attributes": {"type": "array", "items": {"type": "string"}},
        "price": AMOUNT,
        "name": {"type": "string", "maxLength": 80},
        "description": {"type": "string", "maxLength": 1000},
    }
    paths: dict[str, Any] = {
        "/catalogue": {"get": {"summary": "Names of categories, regions, attributes and tags",
                               "responses": {"200": _json({"type": "object"})}}},
        "/providers": {"get": {
            "summary": "Providers, filtered and paged",
            "parameters": [
                _param("category", "query", {"type": "string"}),
                _param("region", "query", {"type": "string"}),
                _param("active", "query", {"type": "boolean"}),
                _param("attributes", "query", {"type": "array", "items": {"type": "string"}},
                       description="required attributes (repeat or comma-separate)"),
                _param("min_stars", "query", {"type": "number"}),
                _param("max_price", "query", {"type": "string"}),
                _param("owner", "query", ADDRESS),
                _param("page", "query", {"type": "integer", "minimum": 1}),
                _param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": 100}),
            ],
            "responses": {"200": _json(_ref("ProviderPage")), **ERRORS},
        }},
        "/providers/{provider_id}": {"get": {
            "summary": "One provider, its score history and reviews; eligibility for a customer",
            "parameters": [_param("provider_id", "path", {"type": "integer"}, True),
                           _param("customer", "query", ADDRESS)],
            "responses": {"200": _json(_ref("Provider")), **ERRORS},
        }},
        "/match": {"post": {
            "summary": "Criteria in, ranked eligible providers with reasons out",
            "requestBody": _body(_ref("MatchRequest")),
            "responses": {"200": _json(_ref("MatchResult")), **ERRORS},
        }},
        "/match/count": {"post": {
            "summary": "How many providers qualify, and why the others do not",
            "requestBody": _body(_ref("MatchRequest")),
            "responses": {"200": _json(_ref("MatchCount")), **ERRORS},
        }},
        "/criteria/{account}": {"get": {
            "summary": "A customer's criteria in every category",
            "parameters": [_param("account", "path", ADDRESS, True)],
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        }},
        "/criteria/{account}/{category}": {"get": {
            "summary": "A customer's criteria for one category",
            "parameters": [_param("account", "path", ADDRESS, True),
                           _param("category", "path", {"type": "string"}, True)],
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        }},
        "/criteria/tx": {"post": _tx_op(
            "Build setCriteria",
            {"allOf": [_ref("Criteria"), {"type": "object", "properties": sender}]})},
        "/blocks/tx": {"post": _tx_op(
            "Build setBlocked",
            {"type": "object", "properties": {**sender, "provider_id": {"type": "integer"},
                                              "blocked": {"type": "boolean"}}})},
        "/bookings": {"get": {
            "summary": "Bookings of a customer or a provider",
            "parameters": [_param("customer", "query", ADDRESS),
                           _param("provider_id", "query", {"type": "integer"}),
                           _param("page", "query", {"type": "integer"}),
                           _param("per_page", "query", {"type": "integer"})],
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        }},
        "/bookings/tx": {"post": _tx_op(
            "Build book (escrows the quoted price)",
            {"type": "object", "required": ["provider_id", "expected_price", "criteria_version"],
             "properties": {**sender, "provider_id": {"type": "integer"},
                            "expected_price": AMOUNT,
                            "criteria_version": {"type": "integer"}}})},
        "/bookings/{booking_id}": {"get": {
            "summary": "One booking and its timeline",
            "parameters": [_param("booking_id", "path", BOOKING_ID, True)],
            "responses": {"200": _json(_ref("Booking")), **ERRORS},
        }},
        "/bookings/{booking_id}/tx/{action}": {"post": _tx_op(
            "Build one booking action",
            {"type": "object", "properties": {
                **sender, "stars": {"type": "integer", "minimum": 1, "maximum": 5},
                "complaint_tags": {"type": "array", "items": {"type": "string"}},
                "refund_percent": {"type": ["number", "string"]}}},
            [_param("booking_id", "path", BOOKING_ID, True),
             _param("action", "path", {"enum": sorted(BOOKING_ACTIONS)}, True)])},
        "/providers/tx": {"post": _tx_op(
            "Build register (value = stake); stores the metadata off-chain",
            {"type": "object", "properties": {**sender, **listing_props,
                                              "category": {"type": ["string", "integer"]},
                                              "stake": AMOUNT}})},
        "/providers/{provider_id}/tx/{action}": {"post": _tx_op(
            "Build a listing change",
            {"type": "object", "properties": {**sender, **listing_props}},
            [_param("provider_id", "path", {"type": "integer"}, True),
             _param("action", "path", {"enum": sorted([*LISTING_ACTIONS, "update"])}, True)])},
        "/withdraw/tx": {"post": _tx_op("Build withdraw",
                                        {"type": "object", "properties": sender})},
        "/tx/{hash}": {"get": {
            "summary": "Where a transaction is: pending, mined, indexed, failed",
            "parameters": [_param("hash", "path", {"type": "string"}, True)],
            "responses": {"200": _json(_ref("TxStatus")), **ERRORS},
        }},
        "/profile": {
            "get": {"summary": "My consent, what was learned, suggested changes",
                    "responses": {"200": _json(_ref("Profile")), **AUTH_ERRORS}},
            "delete": {"summary": "Erase everything stored about me off-chain",
                       "responses": {"200": _json({"type": "object"}), **AUTH_ERRORS}},
        },
        "/profile/consent": {"put": {
            "summary": "Grant or withdraw consent to personalised matching",
            "requestBody": _body({"type": "object", "required": ["granted"],
                                  "properties": {"granted": {"type": "boolean"}}}),
            "responses": {"200": _json({"type": "object"}), **ERRORS, **AUTH_ERRORS},
        }},
        "/profile/export": {"get": {
            "summary": "Everything stored about me off-chain",
            "responses": {"200": _json({"type": "object"}), **AUTH_ERRORS},
        }},
    }
    responses = {
        name: {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
        for name, text in (
            ("BadRequest", "An input is invalid; `field` names it"),
            ("NotFound", "No such thing"),
            ("SignInRequired", "Sign in first (SIWE or a dev account)"),
            ("ContractRevert", "The contract would revert; the message says why"),
            ("Unavailable", "The chain node or the store does not answer"),
        )
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Curated marketplace API",
            "version": __version__,
            "description": (
                "Matching, criteria, bookings and profiles. Amounts are wei as decimal "
                "strings; transaction endpoints return unsigned transactions for a wallet. "
                "State-changing calls from a browser session need the X-CSRF-Token header "
                "(GET /auth/session)."
            ),
        },
        "servers": [{"url": f"{server}/api/v1"}],
        "paths": paths,
        "components": {"schemas": schemas, "responses": responses},
    }
