"""One pause of Python's cyclic garbage collector, shared by every long scan of the process.

The indexer's backfill and the auditor's replay allocate a few container objects per event
(decoded logs, row images, replay records), nearly all acyclic and freed at once by reference
counting. With the collector on, its automatic passes re-walk that growing heap again and
again and find next to nothing: about a sixth of a backfill's CPU time (1.3 of 7.7 CPU seconds
on the benchmark chain) and a tenth of an audit's. The few cycles made meanwhile wait for the
collector's next pass once it runs again.

Scans in several threads (a web process auditing while another request audits) share one
counted pause: the collector is restored, as it was when the first began, when the last ends.
A collector the application had turned off stays off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0  # scans running with the collector paused
_was_enabled = False


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (counted across threads), then restore
    it as it was, also when the block raises."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
