"""Load, fast profile: 60 s of mixed traffic against gunicorn with two workers, zero errors.

Latency is reported, never asserted: speed targets live in `make bench-reliability`.
"""

from __future__ import annotations

from typing import Any

from tests.support.load import load

FAST_SECONDS = 60.0


def test_sixty_seconds_of_mixed_load_is_served_without_a_single_error(
    record_property: Any,
) -> None:
    figures = load(FAST_SECONDS, threads=8)

    for key in ("load_requests", "load_errors", "load_p50_ms", "load_p99_ms"):
        record_property(key, figures[key])
    assert figures["load_errors"] == 0, figures["load_error_examples"]
    assert figures["load_requests"] > 1_000
