"""Waiting for a condition, never for a clock: the one bound every test uses for a hang.

`HANG` only ends a test that would otherwise hang; nothing is tuned to it, and a test's verdict
never depends on how fast the machine reaches the condition (see docs/testing.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable

HANG = 120.0  # seconds


def wait_for(condition: Callable[[], object], what: str = "the condition",
             timeout: float = HANG) -> None:
    """Polls `condition` until it is truthy; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)
