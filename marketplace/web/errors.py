"""One error shape for the JSON API and the pages: `{"error", "message", "field"}`.

`WebError` and its subclasses carry an HTTP status, a short machine code, a sentence for people
and, when one input is to blame, the field's name. The API returns them as JSON; pages show the
message next to the field (forms) or on an error page, rendered from the same dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from marketplace.chain.nodeerrors import KINDS, NodeError
from marketplace.chain.revert import ContractRevert, describe
from marketplace.errors import MarketplaceError


class WebError(MarketplaceError):
    """An error the web app reports to its user; `to_dict()` is the shared JSON shape."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        fields: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None and status != self.status:
            self.status = status
            # A status of its own without a code of its own: the status's code, so one code
            # always has one status (ERROR_CODES), never "invalid_field" with a 404.
            self.code = STATUS_CODES.get(status, "http_error")
        if code is not None:
            self.code = code
        self.fields = dict(fields or {})
        if field is not None and field not in self.fields:
            self.fields[field] = message
        self.details = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """`{"error": code, "message": text, "field": name or null}` plus `fields`/`details`
        when there is more than one field to blame or more to say."""
        body: dict[str, Any] = {"error": self.code, "message": self.message, "field": self.field}
        if len(self.fields) > 1:
            body["fields"] = self.fields
        if self.details:
            body["details"] = self.details
        return body


class FieldError(WebError):
    """One input is invalid; `field` names it as the form or JSON body does."""

    status = 400
    code = "invalid_field"


class FormErrors(FieldError):
    """Several inputs are invalid at once (a form shows each message next to its field)."""

    status = 400
    code = "invalid_field"

    def __init__(self, errors: Mapping[str, str]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first], first, fields=errors)


class NotFound(WebError):
    """The thing asked for does not exist."""

    status = 404
    code = "not_found"


class Unauthorized(WebError):
    """The request needs a signed-in account."""

    status = 401
    code = "sign_in_required"


class Forbidden(WebError):
    """The signed-in account may not do this."""

    status = 403
    code = "forbidden"


class Unavailable(WebError):
    """A service the request needs (chain node, store) does not answer."""

    status = 503
    code = "unavailable"


class TxRefused(WebError):
    """The contract would revert: the decoded custom error, in plain words."""

    status = 409
    code = "contract_revert"

    def __init__(self, revert: ContractRevert, field: str | None = None) -> None:
        details = revert.to_dict()
        super().__init__(revert.message, field, details=details)
        self.revert = revert


# Custom errors that one form field is to blame for, by field name as the forms and the JSON
# bodies use it; every other custom error concerns no field (the top of the form). Each key is
# an error of the marketplace's ABI (tests/web/test_error_codes_reach_pages.py checks it).
REVERT_FIELDS: dict[str, str] = {
    "MarketplaceInsufficientStake": "stake",
    "MarketplaceStakeTooLarge": "stake",
    "MarketplaceStakeLocked": "stake",
    "MarketplaceZeroPrice": "price",
    "MarketplacePriceBelowMinFee": "price",
    "MarketplaceInvalidCategory": "category",
    "MarketplaceInvalidCancelTerms": "late_cancel_pct",
    "MarketplaceInvalidMinScore": "min_stars",
    "MarketplaceInvalidMinReliability": "min_reliability",
    "MarketplaceInvalidWeights": "score_weight",
    "MarketplaceConflictingAttributes": "refused",
    "MarketplaceVerifiedNotRequired": "verified",
    "MarketplaceTooManyAttestors": "trusted_attestors",
    "MarketplaceInvalidStars": "stars",
    "MarketplaceInvalidRefundBps": "refund_percent",
    "MarketplaceCriteriaVersionMismatch": "criteria_version",
    # contract v2 (docs/contract-v2.md)
    "MarketplaceOfferChanged": "offer_version",
    "MarketplaceSlotInPast": "slot_date",
    "MarketplaceSlotTooFar": "slot_date",
    "MarketplaceInvalidDuration": "duration",
    "MarketplacePermitFailed": "permit",
    "ERC2612ExpiredSignature": "permit",
    "ERC2612InvalidSigner": "permit",
    "MarketplaceTokenShortfall": "currency",
    "MarketplaceCurrencyDisabled": "currency",
    "MarketplaceInvalidRecipient": "to",
}


def refused(revert: ContractRevert) -> TxRefused:
    """The TxRefused for a decoded revert, blaming the field the error is about (if any)."""
    return TxRefused(revert, REVERT_FIELDS.get(revert.error))


# Node refusals that one input is to blame for.
NODE_ERROR_FIELDS: dict[str, str] = {"insufficient_funds": "from"}


def node_refused(error: NodeError) -> WebError:
    """A node's refusal in the shared shape: the product's code, status and sentence; the
    node's own first line (never its stack trace) under `details.node`."""
    return WebError(
        error.message,
        NODE_ERROR_FIELDS.get(error.code),
        status=error.status,
        code=error.code,
        details={"node": error.node_said},
    )


STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "sign_in_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


# ------------------------------------------------------------------ the catalogue (issue 14)

ANY_FIELD = "*"
"""`ErrorCode.field` of a code whose field is the input it names (`invalid_field`, ...)."""


@dataclass(frozen=True)
class ErrorCode:
    """One error the API can answer: its code (for a decoded revert, the custom error's name,
    carried as `details.error` of a `contract_revert`), HTTP status, plain-words message (for a
    revert: rendered with sample arguments) and the form field it belongs to (None: no field,
    the top of the form; ANY_FIELD: the field the error names)."""

    code: str
    status: int
    message: str
    field: str | None
    source: str  # "web" (WebError codes), "node" (nodeerrors.KINDS), "contract" (custom errors)


# Every code the web app itself answers with, by the class or call that raises it.
WEB_CODES: tuple[ErrorCode, ...] = (
    ErrorCode("bad_request", 400, "The request could not be read.", None, "web"),
    ErrorCode("invalid_field", 400, "The message of the input to fix (forms.py).", ANY_FIELD,
              "web"),
    ErrorCode("invalid_json", 400, "The body must be a JSON object.", None, "web"),
    ErrorCode("sign_in_required", 401, "Sign in first: with your wallet, or pick a dev account.",
              None, "web"),
    ErrorCode("sign_in_failed", 401, "This sign-in request was already used or has expired; "
              "start again.", ANY_FIELD, "web"),
    ErrorCode("forbidden", 403, "The signed-in account may not do this.", None, "web"),
    ErrorCode("csrf_failed", 403, "This form has expired; reload the page and try again.", None,
              "web"),
    ErrorCode("not_owner", 403, "Only the listing's owner can change its availability.", None,
              "web"),
    ErrorCode("not_found", 404, "There is no such page.", ANY_FIELD, "web"),
    ErrorCode("method_not_allowed", 405, "This address does not take that method.", None, "web"),
    ErrorCode("conflict", 409, "This cannot be done now.", None, "web"),
    ErrorCode("stake_locked", 409, "The stake is locked until the given time.", "stake", "web"),
    ErrorCode("contract_revert", 409, "The contract would refuse: its custom error in plain "
              "words (the `contract` entries).", ANY_FIELD, "web"),
    ErrorCode("too_large", 413, "The request is too large.", None, "web"),
    ErrorCode("unsupported_media_type", 415, "Send a JSON object with Content-Type: "
              "application/json.", None, "web"),
    ErrorCode("unprocessable", 422, "Valid by the schema but against a rule it cannot state.",
              ANY_FIELD, "web"),
    ErrorCode("too_many_requests", 429, "Too many requests; try again soon.", None, "web"),
    ErrorCode("internal_error", 500, "Something went wrong on our side.", None, "web"),
    ErrorCode("unavailable", 503, "The chain node or the store does not answer; try again soon.",
              None, "web"),
    ErrorCode("http_error", 400, "Any other HTTP error, with werkzeug's description.", None,
              "web"),
)

# Sample arguments to render a revert's sentence: by name (times), else by type (an account,
# 0.01 ether for amounts), else 1.
_SAMPLE_ARGS: dict[str, Any] = {"deadline": 1_800_000_000, "address": "0x" + "ab" * 20,
                                "bool": True, "uint256": 10**16}


@cache
def error_catalogue() -> dict[str, ErrorCode]:
    """Every error code the API can return, in one place: the web app's own (`WEB_CODES`), the
    node's refusals (`nodeerrors.KINDS`, their field from `NODE_ERROR_FIELDS`) and every custom
    error of the marketplace's ABI as decoded (`revert.describe`, its field from
    `REVERT_FIELDS`). Keyed by code; a revert's code is its error name."""
    from marketplace.chain.scan import revert_abi

    entries = list(WEB_CODES)
    entries += [ErrorCode(kind.code, kind.status, kind.sentence,
                          NODE_ERROR_FIELDS.get(kind.code), "node") for kind in KINDS]
    for item in revert_abi():
        args = {i["name"]: _SAMPLE_ARGS.get(i["name"], _SAMPLE_ARGS.get(i["type"], 1))
                for i in item["inputs"]}
        entries.append(ErrorCode(item["name"], TxRefused.status, describe(item["name"], args),
                                 REVERT_FIELDS.get(item["name"]), "contract"))
    return {entry.code: entry for entry in entries}
