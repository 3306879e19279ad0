"""The `/audit` blueprint on a minimal Flask app over a crafted chain: pages, filters, exports."""

from __future__ import annotations

import csv
import io
import json
from functools import cache

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.audit import AuditTarget
from marketplace.audit.service import AuditService
from marketplace.audit.web import bp, init_app
from marketplace.chain.scan import marketplace_abi
from marketplace.domain import ChangeKind, booking_id
from tests.support.crafted_chain import DAY, ZERO, CraftedChain, CraftedMarket, LogCrafter

OPERATOR, P1, P2, C1, C2, ARBITER = ("0x" + f"{i:02x}" * 20 for i in range(1, 7))
BOOKINGS: dict[str, int] = {}


@cache
def crafter() -> LogCrafter:
    return LogCrafter(marketplace_abi())


class Clock:
    """A clock the test moves: the service refreshes when it is stale."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def chain() -> CraftedChain:
    chain = CraftedChain(crafter=crafter())
    m = CraftedMarket(chain, OPERATOR, arbiter=ARBITER)
    m.register(P1, price=10**16)
    m.register(P2, price=30_000_000, currency=1, instant=True)
    m.set_criteria(C1)
    m.set_criteria(C2, currency=1)
    BOOKINGS["first"] = m.lifecycle(C1, 1, stars=5)
    chain.advance(DAY)
    BOOKINGS["token"] = m.lifecycle(C2, 2, stars=3)
    m.cancel(m.book(C1, 1, salt=1))
    disputed = BOOKINGS["disputed"] = m.book(C1, 1, salt=2)
    m.accept(disputed)
    m.to_start(disputed)
    m.complete(disputed)
    m.dispute(disputed)
    m.resolve(disputed, 7_000)
    m.change(ChangeKind.FEE_RATE, ZERO, 1_500)  # one violation to show
    return chain


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(chain: CraftedChain, clock: Clock) -> Flask:
    app = Flask("audit-test")
    app.config["TESTING"] = True
    service = AuditService(
        chain, AuditTarget(chain.chain_id, chain.address, 1), refresh_seconds=5, clock=clock
    )
    init_app(app, service)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_the_blueprint_is_named_audit_under_slash_audit() -> None:
    assert (bp.name, bp.url_prefix) == ("audit", "/audit")


def test_the_overview_shows_the_result_totals_charts_and_violations(client: FlaskClient) -> None:
    page = client.get("/audit/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "1 violation" in html
    assert "fee rate set to 1500 bps, above the 1000 bps cap" in html
    assert html.count("<svg") == 5  # solvency, volume, fees, token volume, scores
    assert "30 DUSD" in html
    assert 'href="/audit/static/audit.css"' in html
    assert "style=" not in html and "<script" not in html  # works under style-src 'self'


def test_the_overview_exports_the_whole_report_as_json_and_violations_as_csv(
    client: FlaskClient,
) -> None:
    data = client.get("/audit/?format=json").get_json()
    rows = list(csv.DictReader(io.StringIO(client.get("/audit/?format=csv").get_data(True))))

    assert [v["invariant"] for v in data["violations"]] == ["fee_cap"]
    assert data["totals"]["bookings"] == 4
    assert [r["invariant"] for r in rows] == ["fee_cap"]


def test_the_event_explorer_filters_by_booking_customer_provider_type_and_blocks(
    client: FlaskClient, chain: CraftedChain
) -> None:
    def rows(query: str) -> list[dict[str, object]]:
        body = client.get(f"/audit/events?format=json&{query}").get_json()
        assert body["count"] == len(body["rows"])
        return list(body["rows"])

    first = BOOKINGS["first"]
    assert [r["event"] for r in rows(f"booking={first}")] == [
        "BookingRequested", "BookingAccepted", "BookingCompleted", "BookingSettled",
        "BookingRated"]
    assert [r["event"] for r in rows(f"booking={hex(first)}")][0] == "BookingRequested"
    assert rows(f"booking={first}")[0]["booking_id"] == f"0x{first:064x}"
    assert {r["customer"] for r in rows(f"customer={C2}&event=BookingRequested")} == {C2}
    assert {r["provider_id"] for r in rows("provider=2")} == {2}
    assert {r["event"] for r in rows("event=DisputeResolved")} == {"DisputeResolved"}
    in_range = rows("from_block=5&to_block=7")
    assert {r["block"] for r in in_range} == {5, 6, 7}
    [flagged] = [r for r in rows("event=ChangeApplied") if r["violations"]]
    assert flagged["invariants"] == ["fee_cap"]
    [token] = rows(f"booking={BOOKINGS['token']}&event=BookingRequested")
    assert "price=30 DUSD" in str(token["summary"])
    assert "respondBy=20" in str(token["summary"]) and "UTC" in str(token["summary"])


def test_the_event_explorer_exports_every_match_as_csv(client: FlaskClient) -> None:
    response = client.get("/audit/events?event=BookingRequested&format=csv")

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 4
    assert json.loads(rows[0]["args"])["price"] == 10**16
    assert rows[0]["booking_id"].startswith("0x") and "UTC" in rows[0]["time"]


def test_the_event_explorer_pages_long_results(client: FlaskClient) -> None:
    html = client.get("/audit/events?page=1").get_data(as_text=True)

    assert "row" in html and "<table" in html


@pytest.mark.parametrize(
    "query",
    ["booking=abc", "customer=0x123", "provider=-1", "event=Nope", "from_block=x", "format=xml"],
)
def test_the_event_explorer_refuses_a_bad_filter_with_a_clear_400(
    client: FlaskClient, query: str
) -> None:
    response = client.get(f"/audit/events?{query}")

    assert response.status_code == 400
    assert "Cannot show this" in response.get_data(as_text=True)


def test_a_filter_value_is_escaped_in_the_page(client: FlaskClient) -> None:
    html = client.get('/audit/violations?booking=<script>x</script>').get_data(as_text=True)

    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_a_booking_timeline_shows_each_event_and_the_state_after_it(
    client: FlaskClient,
) -> None:
    disputed = BOOKINGS["disputed"]

    html = client.get(f"/audit/bookings/{disputed}").get_data(as_text=True)
    data = client.get(f"/audit/bookings/{disputed}?format=json").get_json()

    assert "BookingDisputed</strong> → disputed" in html
    assert [r["status_after"] for r in data["rows"]] == [
        "REQUESTED", "ACCEPTED", "COMPLETED", "DISPUTED", "RESOLVED"]
    assert data["booking"]["refund_bps"] == 7_000
    assert data["booking"]["price"] == "0.01 ETH"
    assert data["booking"]["start"].endswith(" UTC")
    assert client.get(f"/audit/bookings/{disputed:#x}").status_code == 200


def test_an_unknown_booking_is_a_404(client: FlaskClient) -> None:
    assert client.get(f"/audit/bookings/{booking_id(C1, 1, 10**9, 60, 9)}").status_code == 404


def test_bookings_providers_and_customers_list_their_figures(client: FlaskClient) -> None:
    settled = client.get("/audit/bookings?status=settled&format=json").get_json()
    providers = client.get("/audit/providers?format=json").get_json()
    customers = client.get("/audit/customers?format=csv").get_data(as_text=True)

    assert settled["count"] == 2
    assert {r["price"] for r in settled["rows"]} == {"0.01 ETH", "30 DUSD"}
    assert [p["provider_id"] for p in providers["rows"]] == [1, 2]
    assert providers["rows"][0]["disputes_lost"] == 1
    assert providers["rows"][1]["volume"] == "30 DUSD"
    assert customers.splitlines()[0].startswith("customer,bookings,volume")
    for page in ("/audit/bookings", "/audit/providers", "/audit/customers",
                 "/audit/violations?invariant=fee_cap"):
        assert client.get(page).status_code == 200, page


def test_chart_series_export_as_json_and_csv(client: FlaskClient) -> None:
    data = client.get("/audit/charts?format=json").get_json()
    daily = client.get("/audit/charts?series=daily&format=csv").get_data(as_text=True)

    assert data["solvency"][-1]["owed"] == data["solvency"][-1]["balance"]
    assert sum(d["bookings"] for d in data["daily"]) == 3  # in ether; one in the token
    assert sum(s["providers"] for s in data["scores"]) == 2
    assert daily.splitlines()[0] == "day,bookings,volume,fees,refunds,payouts"
    assert client.get("/audit/charts").status_code == 200
    assert client.get("/audit/charts?series=nope&format=csv").status_code == 400


def test_the_pages_follow_the_chain_after_the_refresh_interval(
    client: FlaskClient, chain: CraftedChain, clock: Clock
) -> None:
    assert client.get("/audit/?format=json").get_json()["totals"]["bookings"] == 4
    chain.send([("ListingRegistered", {
        "providerId": 3, "owner": P2, "category": 2, "offerVersion": 1, "stake": 10**16,
        "listing": {"category": 2, "region": 0, "attributes": 0, "currency": 0,
                    "price": 10**15, "metadataHash": "0x" + "00" * 32, "instant": False,
                    "freeCancelHours": 0, "lateCancelPct": 0}})], value=10**16)

    cached = client.get("/audit/?format=json").get_json()
    clock.now = 10
    fresh = client.get("/audit/?format=json").get_json()

    assert cached["audit"]["to_block"] < fresh["audit"]["to_block"] == chain.head
    assert fresh["totals"]["providers"] == 3


def test_a_reorganised_chain_is_audited_again_from_the_start(
    client: FlaskClient, chain: CraftedChain, clock: Clock
) -> None:
    client.get("/audit/")
    chain.reorganise(chain.head - 3)
    clock.now = 10

    data = client.get("/audit/?format=json").get_json()

    assert data["audit"]["to_block"] == chain.head
    assert [v["invariant"] for v in data["violations"]] == ["fee_cap"]


def test_an_unreachable_node_is_a_503_that_names_the_problem() -> None:
    chain = CraftedChain(crafter=crafter(), chain_id=5)
    app = Flask("audit-down")
    init_app(app, AuditService(chain, AuditTarget(31337, chain.address, 1)))

    response = app.test_client().get("/audit/")
    as_json = app.test_client().get("/audit/?format=json")

    assert response.status_code == 503
    assert "serves chain 5" in response.get_data(as_text=True)
    assert as_json.status_code == 503 and "error" in as_json.get_json()


def test_without_a_service_the_blueprint_builds_one_from_the_config() -> None:
    app = Flask("audit-config")
    app.config["AUDIT_RPC_URL"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    app.config["AUDIT_DEPLOYMENT"] = "/nonexistent/31337.json"
    app.register_blueprint(bp)

    response = app.test_client().get("/audit/")

    assert response.status_code == 503
    assert "no deployment record" in response.get_data(as_text=True)


def test_a_warmed_up_service_serves_the_first_page_without_auditing_again(
    chain: CraftedChain,
) -> None:
    service = AuditService(chain, AuditTarget(chain.chain_id, chain.address, 1))
    app = Flask("audit-warm")
    init_app(app, service, warm_up=False)
    warm_up = service.warm_up()
    warm_up.join(timeout=120)  # a bound for a hang, not a pace
    assert not warm_up.is_alive()
    scans = chain.calls.count("eth_getLogs")

    assert app.test_client().get("/audit/").status_code == 200
    assert chain.calls.count("eth_getLogs") == scans
