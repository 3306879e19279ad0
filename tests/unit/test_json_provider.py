"""orjson responses carry the same JSON values as Flask's own encoder, and fall back to it for
whatever orjson would write differently."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

from marketplace.web.json_provider import FastJSONProvider


@dataclass(frozen=True)
class Point:
    x: int
    label: str


VALUES: list[Any] = [
    {"matches": [{"rank": 1, "utility": 0.123456, "reasons": ("a", "b…")}], "n": None},
    {"big": 2**70, "negative": -(2**64)},  # beyond 64 bits: Flask's encoder
    {1: "int key", "s": True},  # a non-string key: Flask's encoder
    {"when": dt.datetime(2026, 12, 3, 13, 0, tzinfo=dt.UTC), "day": dt.date(2026, 1, 2)},
    {"amount": Decimal("0.10"), "point": Point(1, "ä")},
    [1e-05, 1e16, 2.5, -0.0, 12345678901234567890],
    "plain ✓ text",
]


def app_with(provider: type[DefaultJSONProvider]) -> Flask:
    app = Flask(__name__)
    json_provider = provider(app)
    json_provider.sort_keys = False
    app.json = json_provider
    return app


def body(app: Flask, value: Any) -> tuple[str | None, bytes]:
    """(mimetype, bytes) of `jsonify(value)` in `app`."""
    with app.app_context():
        response = app.json.response(value)
    assert isinstance(response, Response)
    return response.mimetype, response.get_data()


@pytest.mark.parametrize("value", VALUES)
def test_a_response_is_the_same_json_as_flasks(value: Any) -> None:
    (ours_type, ours), (theirs_type, theirs) = (body(app_with(FastJSONProvider), value),
                                                body(app_with(DefaultJSONProvider), value))
    assert ours_type == theirs_type == "application/json"
    assert json.loads(ours) == json.loads(theirs)
    assert ours.endswith(b"\n")


def test_key_order_is_kept_and_sorting_still_works() -> None:
    app = app_with(FastJSONProvider)
    assert body(app, {"b": 1, "a": 2})[1] == b'{"b":1,"a":2}\n'
    assert isinstance(app.json, FastJSONProvider)
    app.json.sort_keys = True
    assert body(app, {"b": 1, "a": 2})[1] == b'{"a":2,"b":1}\n'
