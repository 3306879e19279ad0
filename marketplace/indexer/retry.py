"""Retrying what the node or the database refuses while they are away, with backoff and logs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from marketplace.chain.rpc import NodeUnavailable
from marketplace.store.engine import StoreUnreachable

log = logging.getLogger("marketplace.indexer")
T = TypeVar("T")
FIRST_DELAY = 0.5  # seconds before the first retry; each next wait doubles, up to MAX_DELAY
MAX_DELAY = 15.0


def with_retry(
    action: Callable[[], T],
    what: str,
    retry_for: float | None,
    stop: threading.Event | None = None,
) -> T:
    """Run `action`, retrying with backoff while the node or the database is unreachable.

    Gives up with NodeUnavailable after `retry_for` seconds (never if None), or as soon as
    `stop` is set. Each failure is logged as an error naming what could not be done; a recovery
    is logged too.
    """
    delay = FIRST_DELAY
    started = time.monotonic()
    failures = 0
    while True:
        try:
            result = action()
        except (NodeUnavailable, DBAPIError, StoreUnreachable) as exc:
            if not _worth_retrying(exc):
                raise
            failures += 1
            waited = time.monotonic() - started
            if retry_for is not None and waited >= retry_for:
                raise NodeUnavailable(
                    f"gave up trying to {what} after {waited:.0f} s: {_first_line(exc)}"
                ) from exc
            log.error(
                "cannot %s: %s; retrying in %.1f s (attempt %d)",
                what, _first_line(exc), delay, failures,
            )
            if stop is not None and stop.wait(delay):
                raise NodeUnavailable(
                    f"stopped while waiting to {what}: {_first_line(exc)}"
                ) from exc
            if stop is None:
                time.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
            continue
        if failures:
            log.warning("recovered: could %s again after %d failed attempts", what, failures)
        return result


def _worth_retrying(exc: BaseException) -> bool:
    """An unreachable node or store: an OperationalError, or any database error that cost the
    connection (a driver may report a connection dropped mid-statement as an InterfaceError)."""
    if isinstance(exc, DBAPIError):
        return isinstance(exc, OperationalError) or exc.connection_invalidated
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
