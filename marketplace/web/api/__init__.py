"""The JSON API under /api/v1 (documented at /api/v1/openapi.json) and /healthz.

Errors share one shape: `{"error": code, "message": sentence, "field": name or null}` with a 4xx
status for anything the client sent: 400 when the request breaks the document's schema, 422
when it matches the schema but breaks a rule the schema cannot state. Amounts are wei as decimal
strings (JavaScript numbers cannot hold them); booking ids are 0x hex. Transaction endpoints
return the unsigned transaction for a wallet (`eth_sendTransaction` parameters) and never sign
anything.

Requests are validated by the pydantic models of `models`, which also generate the OpenAPI
document (`document`): one schema, so validation and documentation cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from marketplace.web.api.contract import CONVERTERS

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _install_converters(state: Any) -> None:
    # Recorded before any route, so the rules below find their converters when registered.
    state.app.url_map.converters.update(CONVERTERS)


bp.record_once(_install_converters)


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this API."""
    from marketplace.web.api.document import document

    return jsonify(document(request.host_url.rstrip("/")))


from marketplace.web.api import (  # noqa: E402
    availability,
    booking,
    bookings,
    directory,
    interpret,
    notifications,
    pictures,
    profile,
    transactions,
)
from marketplace.web.api.health import healthz  # noqa: E402

__all__ = ["availability", "booking", "bookings", "bp", "directory", "healthz", "interpret",
           "notifications", "pictures", "profile", "transactions"]
