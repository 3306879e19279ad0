"""Amounts read the same on every page, in the API's labels, in reasons and in reports."""

from __future__ import annotations

import pytest

from marketplace.domain import UINT96_MAX
from marketplace.units import (
    ETHER_CURRENCY,
    Currency,
    ether_text,
    format_amount,
    format_eth,
    format_wei,
    parse_units,
    units_text,
)


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


DUSD = Currency(1, "DUSD", 6, "0x" + "11" * 20)


def test_a_token_amount_reads_with_its_symbol_and_decimals() -> None:
    assert format_amount(12_500_000, DUSD) == "12.5 DUSD"
    assert format_amount(1, DUSD) == "0.000001 DUSD"
    assert format_amount(0, DUSD) == "0 DUSD"
    assert format_amount(10**17, ETHER_CURRENCY) == "0.1 ETH"
    eighteen = Currency(2, "DAI", 18)
    assert format_amount(123_456_789_012_345_678, eighteen) == "0.123457 DAI"


def test_units_round_trip_exactly() -> None:
    assert units_text(12_500_000, 6) == "12.5"
    assert parse_units("12.5", 6) == 12_500_000
    assert parse_units(" 3 ", 0) == 3
    assert parse_units(units_text(2**88 - 1, 18), 18) == 2**88 - 1


@pytest.mark.parametrize("text", ["abc", "-1", "0.0000001", "inf", "NaN"])
def test_a_bad_amount_is_refused_in_words(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text).replace("(", r"\(")):
        parse_units(text, 6)
