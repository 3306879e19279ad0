"""`with_retry`: which failures mean "the node or the store is away, try again" and which not."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from marketplace.chain.rpc import NodeUnavailable
from marketplace.indexer import retry
from marketplace.store import StoreUnreachable


def _failing(errors: Sequence[BaseException]) -> Callable[[], str]:
    """An action that raises each of `errors` in turn, then answers "done"."""
    pending = list(errors)

    def action() -> str:
        if pending:
            raise pending.pop(0)
        return "done"

    return action


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "FIRST_DELAY", 0.0)
    monkeypatch.setattr(retry, "MAX_DELAY", 0.0)


def test_an_away_node_or_store_is_retried_until_it_answers() -> None:
    dropped = InterfaceError("SELECT 1", None, Exception("connection already closed"),
                             connection_invalidated=True)
    errors: list[BaseException] = [
        NodeUnavailable("no node answers"),
        OperationalError("SELECT 1", None, Exception("server closed the connection")),
        dropped,
        StoreUnreachable("cannot reach the store"),
    ]
    assert retry.with_retry(_failing(errors), "read", retry_for=None) == "done"


@pytest.mark.parametrize("error", [
    IntegrityError("INSERT", None, Exception("duplicate key")),
    InterfaceError("SELECT 1", None, Exception("bad parameter")),  # the connection is fine
    ValueError("a bug"),
])
def test_other_failures_are_not_retried(error: BaseException) -> None:
    with pytest.raises(type(error)):
        retry.with_retry(_failing([error]), "write", retry_for=None)


def test_a_retry_gives_up_after_retry_for_and_when_stopped() -> None:
    away = [NodeUnavailable("no node answers")] * 3
    with pytest.raises(NodeUnavailable, match="gave up trying to read after 0 s"):
        retry.with_retry(_failing(away), "read", retry_for=0.0)
    stop = threading.Event()
    stop.set()
    with pytest.raises(NodeUnavailable, match="stopped while waiting to read"):
        retry.with_retry(_failing(away), "read", retry_for=None, stop=stop)
