"""orjson responses carry the same JSON values as Flask's own encoder, and fall back to it for
whatever orjson would write differently."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
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
    app.json = provider(app)
    app.json.sort_keys = False
    return app


@pytest.mark.parametrize("value", VALUES)
def test_a_response_is_the_same_json_as_flasks(value: Any) -> None:
    fast, plain = app_with(FastJSONProvider), app_with(DefaultJSONProvider)
    with fast.app_context():
        ours = fast.json.response(value)
    with plain.app_context():
        theirs = plain.json.response(value)
    assert ours.mimetype == theirs.mimetype == "application/json"
    assert json.loads(ours.get_data()) == json.loads(theirs.get_data())
    assert ours.get_data().endswith(b"\n")


def test_key_order_is_kept_and_sorting_still_works() -> None:
    app = app_with(FastJSONProvider)
    with app.app_context():
        assert app.json.response({"b": 1, "a": 2}).get_data() == b'{"b":1,"a":2}\n'
        app.json.sort_keys = True
        assert app.json.response({"b": 1, "a": 2}).get_data() == b'{"a":2,"b":1}\n'
