"""One error shape for the JSON API and the pages: `{"error", "message", "field"}`.

`WebError` and its subclasses carry an HTTP status, a short machine code, a sentence for people
and, when one input is to blame, the field's name. The API returns them as JSON; pages show the
message next to the field (forms) or on an error page, rendered from the same dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marketplace.chain.nodeerrors import NodeError
from marketplace.chain.revert import ContractRevert
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
        if status is not None:
            self.status = status
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


# Custom errors that one form field is to blame for, by field name as the forms use it.
REVERT_FIELDS: dict[str, str] = {
    "MarketplaceInsufficientStake": "stake",
    "MarketplaceStakeTooLarge": "stake",
    "MarketplaceZeroPrice": "price",
    "MarketplaceInvalidCategory": "category",
    "MarketplaceInvalidMinScore": "min_stars",
    "MarketplaceInvalidWeights": "score_weight",
    "MarketplaceConflictingAttributes": "refused",
    "MarketplaceInvalidStars": "stars",
    "MarketplaceInvalidRefundBps": "refund_bps",
    "MarketplaceValueMismatch": "expected_price",
    "MarketplacePriceChanged": "expected_price",
    "MarketplaceCriteriaVersionMismatch": "criteria_version",
    # contract v2 (docs/contract-v2.md)
    "MarketplaceOfferChanged": "offer_version",
    "MarketplaceSlotInPast": "slot_date",
    "MarketplaceSlotTooFar": "slot_date",
    "MarketplaceInvalidDuration": "duration",
    "MarketplacePermitFailed": "permit",
    "MarketplaceTokenShortfall": "currency",
    "MarketplaceCurrencyDisabled": "currency",
    "MarketplaceUnknownCurrency": "currency",
    "MarketplaceCurrencyNotAllowed": "currency",
    "MarketplacePriceBelowMinFee": "price",
    "MarketplaceTooManyAttestors": "trusted_attestors",
    "MarketplaceInvalidLateCancelPct": "late_cancel_pct",
    "MarketplaceInvalidRecipient": "to",
    "MarketplaceStakeLocked": "stake",
    "MarketplaceInvalidAttributes": "verified",
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
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
