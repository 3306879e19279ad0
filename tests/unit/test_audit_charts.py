"""Server-side SVG charts: escaped text, no style attributes, something sensible when empty."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from marketplace.audit.charts import Series, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_a_line_chart_draws_one_polyline_per_series_with_a_legend() -> None:
    svg = line_chart(
        "Owed <vs> balance",
        [Series("owed", [(1, 1.0), (2, 2.0)]), Series("balance", [(1, 1.0), (2, 3.0)], True)],
        x_label="block",
    )

    root = ET.fromstring(str(svg))
    assert len(root.findall(f"{SVG}polyline")) == 2
    assert root.findtext(f"{SVG}title") == "Owed <vs> balance"
    assert "&lt;vs&gt;" in svg and "style=" not in svg
    assert 'stroke-dasharray="6 4"' in svg


def test_a_bar_chart_has_one_bar_per_value_with_its_exact_value_in_a_tooltip() -> None:
    svg = bar_chart("Volume", ["a", "b", "c"], [0, 5, 10], y_format=lambda v: f"{v:.0f} wei")

    root = ET.fromstring(str(svg))
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 3
    assert [b.findtext(f"{SVG}title") for b in bars] == [
        "a: 0 wei", "b: 5 wei", "c: 10 wei"]
    assert float(bars[2].get("height", 0)) == 2 * float(bars[1].get("height", 0))


def test_charts_without_data_say_so() -> None:
    assert "no data yet" in line_chart("Solvency", [Series("owed", [])], x_label="block")
    assert "no data yet" in bar_chart("Fees", [], [])
