"""Security: headers, cookies, CSRF, body size, and no 500 for any input we could think of."""

from __future__ import annotations

import itertools
import random

import pytest

from marketplace.web import create_app
from marketplace.web.config import WebConfig
from tests.support.world import CUSTOMERS, HELSINKI, RIDES, Client, World


@pytest.fixture(scope="module")
def market(world: World) -> World:
    world.register("Aino's Rides", RIDES, HELSINKI, 0, 4 * 10**16)
    world.set_criteria(CUSTOMERS[0], RIDES)
    world.sync()
    return world


@pytest.mark.parametrize("path", ["/", "/api/v1/catalogue", "/nope", "/healthz"])
def test_every_response_carries_csp_and_the_usual_headers(market: World, path: str) -> None:
    headers = market.client().get(path).headers

    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_session_cookie_is_http_only_and_same_site(market: World) -> None:
    client = market.client()
    client.get("/")

    cookie = client.raw.get_cookie("mkt_session")

    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_outside_dev_mode_the_session_cookie_is_secure(market: World) -> None:
    settings = market.app.extensions["marketplace"].config.settings
    app = create_app(WebConfig(settings=settings, secret_key="s" * 40, testing=True))
    response = app.test_client().get("/", base_url="https://shop.example")

    assert "Secure" in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in response.headers
    app.extensions["marketplace"].close()


def test_outside_dev_mode_the_app_refuses_to_start_without_a_secret_key(market: World) -> None:
    settings = market.app.extensions["marketplace"].config.settings

    with pytest.raises(Exception, match="MARKETPLACE_SECRET_KEY"):
        create_app(WebConfig(settings=settings))


def test_a_request_body_above_the_limit_is_a_413_in_the_error_shape(market: World) -> None:
    response = market.client().raw.post("/api/v1/match", data=b"{" + b" " * 70_000 + b"}",
                                        content_type="application/json")

    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"


@pytest.mark.parametrize("path", ["/criteria", "/auth/dev", "/profile/consent", "/withdraw",
                                  "/provider/register", "/blocks"])
def test_every_state_changing_form_needs_the_csrf_token(market: World, path: str) -> None:
    client = market.client()
    client.sign_in(CUSTOMERS[0])

    response = client.post(path, {"account": "4"}, csrf=False)

    assert response.status_code == 403


def test_a_wrong_method_is_a_405_in_the_error_shape(market: World) -> None:
    response = market.client().raw.get("/api/v1/match")

    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"


def test_error_pages_share_the_json_shape_when_json_is_asked_for(market: World) -> None:
    response = market.client().raw.get("/providers/999", headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert set(response.get_json()) == {"error", "message", "field"}


NASTY = ["", " ", "0", "-1", "1e400", "NaN", "Infinity", "0x", "0xZZ", "9" * 90, "é", "\x00",
         "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "[]", "{}", "null",
         "true", "%00", "1.5", "0.1 ether", "5 parsecs"]
JSON_NASTY: list[object] = [None, True, False, 0, -1, 2**300, 1.5, float("1e308"), "", "x",
                            [], {}, [1, 2], {"a": 1}, "0x" + "f" * 64]


def _walk(client: Client, method: str, path: str, payload: object) -> int:
    if method == "GET":
        return client.raw.get(path).status_code
    return client.post(path, json=payload).status_code


API_POSTS = ["/api/v1/match", "/api/v1/match/count", "/api/v1/criteria/tx", "/api/v1/blocks/tx",
             "/api/v1/bookings/tx", "/api/v1/providers/tx", "/api/v1/withdraw/tx",
             "/api/v1/providers/1/tx/update", "/api/v1/providers/1/tx/deactivate",
             "/auth/nonce", "/auth/verify"]
FIELDS = ["category", "region", "min_stars", "max_price", "premium_per_star", "required",
          "refused", "score_weight", "price_weight", "k", "customer", "from", "provider_id",
          "expected_price", "criteria_version", "stars", "complaint_tags", "price", "stake",
          "name", "description", "attributes", "blocked", "address", "message", "signature",
          "explain", "personalise", "refund_percent"]


def test_no_json_input_causes_a_500(market: World) -> None:
    client = market.client()
    rng = random.Random(5)
    base = {"category": "rides", "max_price": "0.1 ether", "from": market.address(CUSTOMERS[0]),
            "provider_id": 1, "expected_price": "40000000000000000", "criteria_version": 1,
            "stake": "1000000000000000", "price": "1", "name": "n"}
    for path in API_POSTS:
        for _ in range(25):
            payload = dict(base)
            for name in rng.sample(FIELDS, 3):
                payload[name] = rng.choice(JSON_NASTY + NASTY)
            status = _walk(client, "POST", path, payload)
            assert status < 500, (path, payload, status)
        for junk in JSON_NASTY:
            assert _walk(client, "POST", path, junk) < 500, (path, junk)


def test_no_query_or_path_input_causes_a_500(market: World) -> None:
    client = market.client()
    client.sign_in(CUSTOMERS[0])
    templates = ["/api/v1/providers?{f}={v}", "/api/v1/providers/{v}", "/api/v1/bookings/{v}",
                 "/api/v1/bookings?customer={v}", "/api/v1/criteria/{v}",
                 "/api/v1/criteria/{v}/{v}", "/api/v1/tx/{v}", "/providers/{v}",
                 "/bookings/{v}", "/matches?category={v}", "/criteria?category={v}",
                 "/book/{v}", "/tx/{v}?next={v}", "/auth/signin?next={v}"]
    filters = ["category", "region", "active", "attributes", "min_stars", "max_price", "owner",
               "page", "per_page"]
    for template, value in itertools.product(templates, NASTY):
        for name in filters if "{f}" in template else [""]:
            path = template.format(f=name, v=value.replace("/", "%2F").replace("#", "%23"))
            assert client.raw.get(path).status_code < 500, path


def test_no_form_input_causes_a_500(market: World) -> None:
    client = market.client()
    client.sign_in(CUSTOMERS[0])
    rng = random.Random(9)
    forms = ["/criteria", "/book/1", "/blocks", "/profile/consent", "/profile/proposals/accept",
             "/profile/proposals/dismiss", "/profile/erase", "/provider/register",
             "/provider/listings/1/edit", "/auth/dev", "/withdraw"]
    for path in forms:
        for _ in range(15):
            data = {name: rng.choice(NASTY) for name in rng.sample(FIELDS + ["grant", "key",
                                                                             "confirm"], 6)}
            status = client.post(path, data).status_code
            assert status < 500, (path, data, status)
