"""Gas per operation stays within 2% of the committed baseline and within the issue's targets."""

from __future__ import annotations

import json

from tests.support.gas import BASELINE, TARGETS, measure_fresh, regressions


def test_no_operation_costs_more_than_two_percent_over_the_committed_baseline() -> None:
    baseline = json.loads(BASELINE.read_text())
    gas = measure_fresh()
    assert regressions(gas, baseline) == {}, (
        "gas regression; if intended, run `python -m bench.gas --update-baseline` and commit it"
    )
    assert set(baseline) <= set(gas)


def test_gas_targets_hold() -> None:
    gas = measure_fresh()
    assert {k: gas[k] for k in TARGETS if gas[k] > TARGETS[k]} == {}


def test_regression_detection_flags_only_growth_beyond_the_tolerance() -> None:
    baseline = {"book": 100_000, "rate": 50_000}
    assert regressions({"book": 102_000, "rate": 40_000}, baseline) == {}
    assert regressions({"book": 102_001, "rate": 50_000}, baseline) == {"book": (100_000, 102_001)}
