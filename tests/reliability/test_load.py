"""Load, fast profile: 2,000 mixed requests against gunicorn with two workers, zero errors.

Bounded by count, not by time, so a slow or busy machine does the same work, only longer.
Latency is reported, never asserted: speed targets live in `make bench-reliability`.
"""

from __future__ import annotations

from typing import Any

from tests.support.load import load

REQUESTS = 2_000


def test_two_thousand_mixed_requests_are_served_without_a_single_error(
    record_property: Any,
) -> None:
    figures = load(requests=REQUESTS, threads=8)

    for key in ("load_requests", "load_errors", "load_p50_ms", "load_p99_ms"):
        record_property(key, figures[key])
    assert figures["load_errors"] == 0, figures["load_error_examples"]
    assert figures["load_requests"] == REQUESTS
