"""Amounts read the same on every page, in the API's labels, in reasons and in reports."""

from __future__ import annotations

from marketplace.domain import UINT96_MAX
from marketplace.units import ether_text, format_eth, format_wei


def test_a_label_picks_the_unit_that_reads_best() -> None:
    assert format_wei(10**17) == "0.1 ETH"
    assert format_wei(123_456_789_012_345_678) == "0.123457 ETH"
    assert format_wei(10**12) == "0.000001 ETH"
    assert format_wei(10**12 - 1) == "1000 gwei"
    assert format_wei(20 * 10**9) == "20 gwei"
    assert format_wei(1_234_567) == "0.001 gwei"
    assert format_wei(5) == "5 wei"


def test_zero_reads_as_zero_ether_everywhere() -> None:
    assert format_wei(0) == "0 ETH"
    assert format_eth(0) == "0 ETH"
    assert ether_text(0) == "0"


def test_a_form_input_round_trips_exactly_even_at_the_largest_price() -> None:
    assert ether_text(15 * 10**17) == "1.5"
    assert ether_text(2 * 10**18) == "2"
    assert ether_text(1) == "0.000000000000000001"
    # 29 significant digits: a 28-digit Decimal division would round the last one away.
    assert ether_text(UINT96_MAX) == "79228162514.264337593543950335"


def test_reports_round_half_up_to_fixed_places_and_keep_ether() -> None:
    assert format_eth(1_500_000_000_000_000_000) == "1.5 ETH"
    assert format_eth(250_000_000_000_000) == "0.00025 ETH"
    assert format_eth(123_456_789_012_345_678, places=4) == "0.1235 ETH"
    assert format_eth(5) == "0 ETH"
