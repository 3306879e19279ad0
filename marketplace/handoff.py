"""Handing items from a producer thread to its consumer through a bounded queue."""

from __future__ import annotations

import queue
import threading
from typing import TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.1
"""How long a producer waits for room before it looks at the stop event again."""


def put_unless_stopped(out: queue.Queue[T], item: T, stop: threading.Event) -> bool:
    """Put `item` in the bounded queue `out`, waiting for room until `stop` is set (a consumer
    that has gone away sets it, so the producer does not wait for ever); whether it was put."""
    while not stop.is_set():
        try:
            out.put(item, timeout=POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False
